//! An exact sum of IoUs: a fixed-point integer, so partial sums merge in any order, on any
//! number of threads, processes or machines, into the same bits.
//!
//! Floating-point addition is not associative: panopticapi's sums change in their last bits with
//! the number of worker processes. Every IoU is a non-negative `f64` below 2^64 whose lowest set
//! bit is worth at least 2^-128 (an IoU is `intersection / union` with `union < 2^64` pixels, so
//! it is at least 2^-64 and a multiple of its own ulp, ≥ 2^-116), so a 256-bit integer counting
//! units of 2^-128 holds any sum of them exactly. It is rounded to `f64` once, correctly
//! (to nearest, ties to even): the result is `math.fsum` of the same IoUs.

use std::fmt;

/// Bits below the binary point.
const FRACTION_BITS: i32 = 128;
const LIMBS: usize = 4;

/// A sum of non-negative `f64`s kept exactly, in units of 2^-128.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ExactSum {
    /// Little-endian 64-bit limbs of the count of units.
    limbs: [u64; LIMBS],
}

impl ExactSum {
    pub const ZERO: Self = Self { limbs: [0; LIMBS] };

    /// Adds `x`, a finite `x ≥ 0` below 2^64. Bits of `x` worth less than 2^-128 — none for an
    /// IoU, see the module comment — would be dropped.
    pub fn add_f64(&mut self, x: f64) {
        debug_assert!((0.0..18_446_744_073_709_551_616.0).contains(&x), "{x}");
        if x == 0.0 || !x.is_finite() || x < 0.0 {
            return;
        }
        let bits = x.to_bits();
        let biased = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
        let fraction = bits & ((1 << 52) - 1);
        // x = mantissa × 2^exponent, with the implicit leading bit of normal numbers.
        let (mantissa, exponent) =
            if biased == 0 { (fraction, -1074) } else { (fraction | (1 << 52), biased - 1075) };
        let shift = exponent + FRACTION_BITS;
        let (mantissa, shift) = if shift < 0 {
            (mantissa.checked_shr(shift.unsigned_abs()).unwrap_or(0), 0)
        } else {
            (mantissa, shift.unsigned_abs())
        };
        let (limb, offset) = ((shift / 64) as usize, shift % 64);
        let wide = u128::from(mantissa) << offset;
        // Truncation is the point: the low and high 64 bits go to two limbs.
        #[allow(clippy::cast_possible_truncation)]
        let parts = [wide as u64, (wide >> 64) as u64];
        self.add_at(limb, parts);
    }

    /// Adds another exact sum.
    pub fn add(&mut self, other: &Self) {
        let mut carry = false;
        for (mine, &theirs) in self.limbs.iter_mut().zip(&other.limbs) {
            let (sum, c1) = mine.overflowing_add(theirs);
            let (sum, c2) = sum.overflowing_add(u64::from(carry));
            *mine = sum;
            carry = c1 || c2;
        }
    }

    fn add_at(&mut self, limb: usize, parts: [u64; 2]) {
        let mut carry = 0u64;
        for (i, slot) in self.limbs.iter_mut().enumerate().skip(limb) {
            let part = parts.get(i - limb).copied().unwrap_or(0);
            let (sum, c1) = slot.overflowing_add(part);
            let (sum, c2) = sum.overflowing_add(carry);
            *slot = sum;
            carry = u64::from(c1) + u64::from(c2);
            if carry == 0 && i + 1 - limb >= parts.len() {
                break;
            }
        }
    }

    /// The sum rounded to the nearest `f64`, ties to even.
    #[must_use]
    pub fn to_f64(&self) -> f64 {
        let Some(top) = self.limbs.iter().rposition(|&l| l != 0) else {
            return 0.0;
        };
        // The highest set bit, then a 128-bit window ending there; `u128 as f64` rounds to
        // nearest-even, and a sticky bit for anything below the window keeps that correct.
        let high_bit = top * 64 + 63 - self.limbs[top].leading_zeros() as usize;
        let drop = high_bit.saturating_sub(127);
        let mut window = self.shifted_right(drop);
        if drop > 0 && self.any_bit_below(drop) {
            window |= 1;
        }
        // drop ≤ 128, so the scale lies within [2^-128, 2^0]: an exact power of two.
        let scale = i32::try_from(drop).unwrap_or(0) - FRACTION_BITS;
        window as f64 * power_of_two(scale)
    }

    fn shifted_right(&self, drop: usize) -> u128 {
        let (limb, offset) = (drop / 64, drop % 64);
        let word = |i: usize| u128::from(self.limbs.get(i).copied().unwrap_or(0));
        let low = word(limb) | (word(limb + 1) << 64);
        if offset == 0 {
            low
        } else {
            (low >> offset) | (word(limb + 2) << (128 - offset))
        }
    }

    fn any_bit_below(&self, position: usize) -> bool {
        let (limb, offset) = (position / 64, position % 64);
        self.limbs[..limb].iter().any(|&l| l != 0)
            || (offset > 0 && self.limbs[limb] & ((1 << offset) - 1) != 0)
    }

    /// The count of 2^-128 units as lowercase hexadecimal, without a prefix: a portable,
    /// lossless text form (JSON numbers would lose digits in most readers).
    #[must_use]
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    /// Parses [`to_hex`](Self::to_hex)'s form; `None` for anything else or a value too large.
    #[must_use]
    pub fn from_hex(text: &str) -> Option<Self> {
        let digits = text.trim_start_matches('0');
        if text.is_empty() || digits.len() > LIMBS * 16 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut limbs = [0u64; LIMBS];
        for (i, chunk) in digits.as_bytes().rchunks(16).enumerate() {
            limbs[i] = u64::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
        }
        Some(Self { limbs })
    }
}

/// 2^k for k within the normal range of `f64`.
fn power_of_two(k: i32) -> f64 {
    let biased = u64::try_from(k + 1023).unwrap_or(0);
    f64::from_bits(biased << 52)
}

impl fmt::Display for ExactSum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(top) = self.limbs.iter().rposition(|&l| l != 0) else {
            return f.write_str("0");
        };
        write!(f, "{:x}", self.limbs[top])?;
        for limb in self.limbs[..top].iter().rev() {
            write!(f, "{limb:016x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ExactSum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExactSum({} = 0x{self})", self.to_f64())
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    fn sum(values: &[f64]) -> ExactSum {
        let mut s = ExactSum::ZERO;
        for &v in values {
            s.add_f64(v);
        }
        s
    }

    #[test]
    fn small_sums_are_exact() {
        assert_eq!(sum(&[0.5, 0.25, 1.0]).to_f64(), 1.75);
        assert_eq!(sum(&[]).to_f64(), 0.0);
        assert_eq!(sum(&[2.0 / 3.0]).to_f64(), 2.0 / 3.0);
    }

    #[test]
    fn order_does_not_matter_where_floats_do() {
        let values = [1e-16, 1.0, -0.0, 1e-16, 3.0 / 7.0, 2f64.powi(-60)];
        let forward = sum(&values);
        let mut reversed = values;
        reversed.reverse();
        assert_eq!(forward, sum(&reversed));
        // 1 + 1e-16 + 1e-16 in floats loses both small terms; the exact sum keeps them.
        assert_eq!(sum(&[1.0, 1e-16, 1e-16]).to_f64(), 1.0 + 2e-16);
    }

    #[test]
    fn rounds_to_nearest_even() {
        // 1 + 2^-53 is exactly halfway between 1 and the next float: ties to even gives 1.
        assert_eq!(sum(&[1.0, 2f64.powi(-53)]).to_f64(), 1.0);
        // A little more than halfway rounds up: the sticky bit must see 2^-120.
        let up = sum(&[1.0, 2f64.powi(-53), 2f64.powi(-120)]).to_f64();
        assert_eq!(up, 1.0 + f64::EPSILON);
    }

    #[test]
    fn merging_equals_adding_and_large_values_fit() {
        let (mut a, b) = (sum(&[0.75, 1e-9]), sum(&[2f64.powi(62), 0.6]));
        a.add(&b);
        assert_eq!(a, sum(&[0.75, 1e-9, 2f64.powi(62), 0.6]));
        assert_eq!(a.to_f64(), 2f64.powi(62));
    }

    #[test]
    fn hex_round_trips() {
        for s in [ExactSum::ZERO, sum(&[0.6]), sum(&[1e-30, 3e9, 0.7])] {
            assert_eq!(ExactSum::from_hex(&s.to_hex()), Some(s));
        }
        assert_eq!(sum(&[1.0]).to_hex(), format!("1{}", "0".repeat(32)));
        for bad in ["", "0x1", "g", &"1".repeat(65)] {
            assert_eq!(ExactSum::from_hex(bad), None, "{bad}");
        }
    }
}
