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

    /// The state after `bytes`, a byte at a time: what the closed forms are checked against.
    #[cfg(test)]
    #[must_use]
    pub fn of(bytes: &[u8]) -> Adler {
        let (mut a, mut b) = (1u64, 0u64);
        for &x in bytes {
            a = (a + u64::from(x)) % MOD;
            b = (b + a) % MOD;
        }
        Adler { a, b }
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

/// A row's checksum share gathered run by run with plain arithmetic, one modulus per row: a
/// pattern of k bytes with sum S and position-weighted sum T (Σ t·p_t) repeated n times from byte
/// s of a row of L bytes adds n·S to the sum and n·(L - s)·S - n·T - k·S·n(n-1)/2 to the weighted
/// sum. Both stay below 765·L², within 64 bits for rows up to [`NARROW_ROW`] bytes; longer rows
/// (over 44 million RGB pixels) take each run in 128 bits and keep the sums reduced.
#[derive(Debug, Clone, Copy)]
pub struct RowSums {
    len: u64,
    sum: u64,
    weighted: u64,
}

/// The longest row whose sums [`RowSums`] keeps in 64 bits unreduced: 765·L² < 2^64.
const NARROW_ROW: u64 = 1 << 27;

/// A pattern's S (the sum of its bytes) and T (Σ t·p_t).
fn pattern_sums(pattern: &[u8]) -> (u64, u64) {
    (0u64..)
        .zip(pattern)
        .fold((0, 0), |(sum, positioned), (i, &p)| (sum + u64::from(p), positioned + i * u64::from(p)))
}

impl RowSums {
    /// The sums of a row of `len` bytes, none added yet.
    #[must_use]
    pub fn new(len: usize) -> Self {
        RowSums { len: len as u64, sum: 0, weighted: 0 }
    }

    /// `pattern` repeated `times` times from byte `start` of the row.
    #[inline]
    pub fn repeat(&mut self, start: usize, pattern: &[u8], times: usize) {
        if self.len > NARROW_ROW {
            self.repeat_wide(start, pattern, times);
            return;
        }
        let (sum, positioned) = pattern_sums(pattern);
        let (times, width, from_end) = (times as u64, pattern.len() as u64, self.len - start as u64);
        self.sum += times * sum;
        self.weighted +=
            times * from_end * sum - times * positioned - width * sum * (times * times.saturating_sub(1) / 2);
    }

    /// [`RowSums::repeat`] in 128 bits, the sums kept reduced: for rows over [`NARROW_ROW`].
    fn repeat_wide(&mut self, start: usize, pattern: &[u8], times: usize) {
        let (sum, positioned) = pattern_sums(pattern);
        let [times, width, sum, positioned, from_end] =
            [times as u64, pattern.len() as u64, sum, positioned, self.len - start as u64].map(u128::from);
        let weighted =
            times * from_end * sum - times * positioned - width * sum * (times * times.saturating_sub(1) / 2);
        let m = u128::from(MOD);
        // Both below the modulus.
        #[allow(clippy::cast_possible_truncation)]
        {
            self.sum = ((u128::from(self.sum) + times * sum) % m) as u64;
            self.weighted = ((u128::from(self.weighted) + weighted) % m) as u64;
        }
    }

    /// The row's share, as [`Adler::then`] appends it.
    #[must_use]
    pub fn share(self) -> Adler {
        Adler { a: self.sum % MOD, b: self.weighted % MOD }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_sums_equal_the_bytes() {
        // A filter byte, then runs of 1- and 3-byte pixels, long enough to pass the modulus many
        // times over.
        for (pixel, runs) in [(1usize, [1usize, 7, 70_000, 3]), (3, [2, 1, 30_000, 9])] {
            let len = 1 + pixel * runs.iter().sum::<usize>();
            let (mut narrow, mut wide) = (RowSums::new(len), RowSums::new(len));
            let mut bytes = vec![0u8];
            for (i, &times) in runs.iter().enumerate() {
                let pattern: Vec<u8> =
                    (0..pixel).map(|j| u8::try_from(255 - (i * 50 + j * 31) % 256).unwrap()).collect();
                narrow.repeat(bytes.len(), &pattern, times);
                wide.repeat_wide(bytes.len(), &pattern, times);
                for _ in 0..times {
                    bytes.extend_from_slice(&pattern);
                }
            }
            let prefix = Adler::of(&[4, 5, 6]);
            let mut all = vec![4, 5, 6];
            all.extend_from_slice(&bytes);
            for sums in [narrow, wide] {
                assert_eq!(prefix.then(sums.share(), len).value(), Adler::of(&all).value(), "{pixel}");
            }
        }
    }
}
