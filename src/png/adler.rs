//! Adler-32, zlib's checksum, from repeats instead of bytes: a pattern repeated n times adds a
//! closed-form amount, so a PNG written from runs is checksummed at the cost of its runs.

/// Adler-32's modulus.
const MOD: u64 = 65_521;

/// The Adler-32 state: `a` is one plus the sum of the bytes, `b` the sum of the `a`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adler {
    a: u64,
    b: u64,
}

impl Adler {
    pub const START: Adler = Adler { a: 1, b: 0 };
    /// What a sequence adds when started from nothing: [`Adler::then`] appends it.
    pub const EMPTY: Adler = Adler { a: 0, b: 0 };

    /// The state after `pattern` repeated `times` times. Appending bytes x_1..x_L adds their sum
    /// to `a` and L·a + Σ (L - i + 1)·x_i to `b`; for a repeated pattern of k bytes the weights
    /// sum per pattern byte t to k·n(n+1)/2 - n·t.
    #[must_use]
    pub fn repeat(self, pattern: &[u8], times: usize) -> Adler {
        let n = times as u64;
        let count = n % MOD;
        // n(n+1)/2 mod MOD, halving the even factor first: every product stays below 2^32.
        let triangle =
            if n % 2 == 0 { (n / 2 % MOD) * ((n + 1) % MOD) } else { count * (n.div_ceil(2) % MOD) } % MOD;
        let width = pattern.len() as u64 % MOD;
        let (mut sum, mut weighted) = (0u64, 0u64);
        for (t, &p) in (0u64..).zip(pattern) {
            let p = u64::from(p);
            sum += p;
            // k·n(n+1)/2 - n·t, kept non-negative before the modulus.
            let weight = (width * triangle + MOD * MOD - count * (t % MOD)) % MOD;
            weighted = (weighted + p * weight) % MOD;
        }
        let len = width * count % MOD;
        Adler { a: (self.a + sum % MOD * count) % MOD, b: (self.b + len * self.a + weighted) % MOD }
    }

    /// The state after the bytes that took [`Adler::EMPTY`] to `part` (`len` of them).
    #[must_use]
    pub fn then(self, part: Adler, len: usize) -> Adler {
        let len = len as u64 % MOD;
        Adler { a: (self.a + part.a) % MOD, b: (self.b + len * self.a % MOD + part.b) % MOD }
    }

    #[must_use]
    pub fn value(self) -> u32 {
        // Both halves are below the modulus, under 2^16.
        #[allow(clippy::cast_possible_truncation)]
        let v = ((self.b as u32) << 16) | self.a as u32;
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adler_of(bytes: &[u8]) -> u32 {
        let (mut a, mut b) = (1u64, 0u64);
        for &x in bytes {
            a = (a + u64::from(x)) % MOD;
            b = (b + a) % MOD;
        }
        u32::try_from((b << 16) | a).unwrap()
    }

    #[test]
    fn closed_form_checksum_equals_the_bytes() {
        let pattern = [200u8, 17, 255];
        for times in [0, 1, 2, 5, 1000, 70_000] {
            let bytes: Vec<u8> = pattern.iter().copied().cycle().take(3 * times).collect();
            let prefix = Adler::START.repeat(&[9, 9], 1);
            let mut all = vec![9, 9];
            all.extend_from_slice(&bytes);
            assert_eq!(prefix.repeat(&pattern, times).value(), adler_of(&all), "{times}");
            let part = Adler::EMPTY.repeat(&pattern, times);
            assert_eq!(prefix.then(part, bytes.len()).value(), adler_of(&all), "{times}");
        }
    }
}
