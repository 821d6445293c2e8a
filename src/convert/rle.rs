//! COCO run-length encoding: masks as alternating runs of 0s and 1s in column-major order, and
//! the compressed string form pycocotools writes (`maskApi.c`'s `rleToString`).
//!
//! Every function gives pycocotools' answer on the masks pycocotools makes; where pycocotools
//! reads past its buffers or wraps silently (counts that do not sum to the image, negative
//! deltas), these refuse with an error instead.

use crate::PqError;

/// One mask of `height` x `width` pixels as runs: `counts[0]` zeros (possibly none), then
/// alternately ones and zeros, down the columns (column-major, as COCO stores masks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rle {
    pub height: usize,
    pub width: usize,
    pub counts: Vec<u32>,
}

fn bad(message: String) -> PqError {
    PqError::BadMask { message }
}

impl Rle {
    /// Runs from a list of counts (COCO's "uncompressed RLE"), checked to cover the image.
    pub fn from_counts(counts: Vec<u32>, height: usize, width: usize) -> Result<Self, PqError> {
        let rle = Rle { height, width, counts };
        rle.check()?;
        Ok(rle)
    }

    /// Parses pycocotools' compressed string: each count is a signed little-endian number in
    /// 5-bit groups (a continuation bit on top, characters 48..=111), and from the fourth count
    /// on it is stored as the difference to the count two places before it.
    pub fn from_string(text: &[u8], height: usize, width: usize) -> Result<Self, PqError> {
        let mut counts: Vec<u32> = Vec::with_capacity(text.len());
        let mut at = 0;
        while at < text.len() {
            let mut value: i64 = 0;
            let mut shift = 0u32;
            loop {
                let Some(&byte) = text.get(at) else {
                    return Err(bad(format!("the RLE string ends inside a count (at character {at})")));
                };
                if !(48..=111).contains(&byte) {
                    return Err(bad(format!(
                        "the RLE string holds {:?} at character {at}; COCO RLE uses characters '0' to 'o'",
                        char::from(byte)
                    )));
                }
                // More than 7 groups (35 bits) cannot be a count of a mask below 2^32 pixels.
                if shift >= 35 {
                    return Err(bad(format!("the RLE string has a count too long at character {at}")));
                }
                let group = i64::from(byte - 48);
                value |= (group & 0x1f) << shift;
                shift += 5;
                at += 1;
                if group & 0x20 == 0 {
                    if group & 0x10 != 0 {
                        value |= -1i64 << shift;
                    }
                    break;
                }
            }
            if counts.len() > 2 {
                value += i64::from(counts[counts.len() - 2]);
            }
            let count = u32::try_from(value).map_err(|_| {
                bad(format!(
                    "the RLE string gives count {} the value {value}; counts cannot be negative",
                    counts.len()
                ))
            })?;
            counts.push(count);
        }
        let rle = Rle { height, width, counts };
        rle.check()?;
        Ok(rle)
    }

    /// The compressed string of these counts, byte for byte pycocotools' `rleToString`.
    #[must_use]
    pub fn to_string_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.counts.len() * 2);
        for (i, &count) in self.counts.iter().enumerate() {
            let mut value = i64::from(count);
            if i > 2 {
                value -= i64::from(self.counts[i - 2]);
            }
            loop {
                // Masked to 5 bits, so the cast cannot truncate.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let mut group = (value & 0x1f) as u8;
                value >>= 5;
                let more = if group & 0x10 != 0 { value != -1 } else { value != 0 };
                if more {
                    group |= 0x20;
                }
                out.push(group + 48);
                if !more {
                    break;
                }
            }
        }
        out
    }

    /// The compressed string as text (always ASCII).
    #[must_use]
    pub fn to_compressed(&self) -> String {
        // Characters 48..=111 only.
        String::from_utf8(self.to_string_bytes()).unwrap_or_default()
    }

    fn check(&self) -> Result<(), PqError> {
        let pixels = self.height as u64 * self.width as u64;
        let total: u64 = self.counts.iter().map(|&c| u64::from(c)).sum();
        if total != pixels {
            return Err(bad(format!(
                "the RLE counts sum to {total} pixels but the mask is {}x{} = {pixels} pixels (height x width)",
                self.height, self.width
            )));
        }
        Ok(())
    }

    /// The number of 1 pixels (`rleArea`).
    #[must_use]
    pub fn area(&self) -> u64 {
        self.counts.iter().skip(1).step_by(2).map(|&c| u64::from(c)).sum()
    }

    /// `[x, y, width, height]` of the 1 pixels as pycocotools' `toBbox` gives it (since its 2021
    /// fix, in every pycocotools from 2.0.3): a run of ones crossing a column boundary spans the
    /// full height; empty runs are skipped; `[0, 0, 0, 0]` when there are no ones.
    #[must_use]
    pub fn bbox(&self) -> [u64; 4] {
        let h = self.height as u64;
        if h == 0 {
            return [0; 4];
        }
        let (mut xs, mut ys, mut xe, mut ye) = (u64::MAX, u64::MAX, 0u64, 0u64);
        let mut end = 0u64;
        for (j, &count) in self.counts.iter().enumerate() {
            let start = end;
            end += u64::from(count);
            if j % 2 == 0 || count == 0 {
                continue;
            }
            let (x_start, y_start) = (start / h, start % h);
            let (x_end, y_end) = ((end - 1) / h, (end - 1) % h);
            xs = xs.min(x_start);
            xe = xe.max(x_end);
            if x_start < x_end {
                ys = 0;
                ye = h - 1;
            } else {
                ys = ys.min(y_start);
                ye = ye.max(y_end);
            }
        }
        if xs == u64::MAX {
            return [0; 4];
        }
        [xs, ys, xe - xs + 1, ye - ys + 1]
    }

    /// The same mask with empty runs folded away (a leading empty run of zeros stays): the form
    /// pycocotools makes, and the only one its merge walks correctly.
    #[must_use]
    pub fn canonical(&self) -> Rle {
        let mut counts: Vec<u32> = Vec::with_capacity(self.counts.len());
        for (j, &count) in self.counts.iter().enumerate() {
            let value = j % 2;
            // The value of the last run written is its position's parity.
            match counts.len() {
                0 if value == 1 => {
                    counts.push(0);
                    counts.push(count);
                }
                0 => counts.push(count),
                n if (n - 1) % 2 == value => counts[n - 1] += count,
                _ if count == 0 => {}
                _ => counts.push(count),
            }
        }
        Rle { height: self.height, width: self.width, counts }
    }

    /// Calls `visit(start, end)` for every run of ones, as column-major pixel ranges
    /// (pixel (x, y) is `x * height + y`).
    pub fn for_each_run(&self, mut visit: impl FnMut(usize, usize)) {
        let mut at = 0usize;
        for (j, &count) in self.counts.iter().enumerate() {
            let count = count as usize;
            if j % 2 == 1 && count > 0 {
                visit(at, at + count);
            }
            at += count;
        }
    }

    /// Calls `visit` with the row-major index (`y * width + x`) of every 1 pixel, column by
    /// column.
    pub fn for_each_one(&self, mut visit: impl FnMut(usize)) {
        let (height, width) = (self.height, self.width);
        let mut at = 0usize;
        for (j, &count) in self.counts.iter().enumerate() {
            let count = count as usize;
            if j % 2 == 1 {
                let mut pixel = at;
                let end = at + count;
                while pixel < end {
                    let (column, row) = (pixel / height, pixel % height);
                    let rows = (height - row).min(end - pixel);
                    let mut index = row * width + column;
                    for _ in 0..rows {
                        visit(index);
                        index += width;
                    }
                    pixel += rows;
                }
            }
            at += count;
        }
    }

    /// The mask as row-major 0/1 bytes.
    pub fn decode(&self) -> Result<Vec<u8>, PqError> {
        let mut out = crate::runtime::memory::filled_vec(self.height * self.width, 0u8, "a decoded mask")?;
        self.for_each_one(|i| out[i] = 1);
        Ok(out)
    }

    /// The canonical runs of a column-major 0/1 mask: what `rleEncode` gives.
    #[must_use]
    pub fn encode_column_major(mask: &[u8], height: usize, width: usize) -> Self {
        let mut counts = Vec::new();
        let mut previous = 0u8;
        let mut run = 0u32;
        for &pixel in mask {
            let pixel = u8::from(pixel != 0);
            if pixel != previous {
                counts.push(run);
                run = 0;
                previous = pixel;
            }
            run += 1;
        }
        counts.push(run);
        Rle { height, width, counts }
    }

    /// Union (or intersection) of masks of one size, with the canonical runs pycocotools'
    /// `rleMerge` gives: maximal runs, the first one of zeros.
    pub fn merge(masks: &[Rle], intersect: bool) -> Result<Rle, PqError> {
        let Some(first) = masks.first() else {
            return Ok(Rle { height: 0, width: 0, counts: Vec::new() });
        };
        if masks.len() == 1 {
            return Ok(first.clone());
        }
        let mut acc = first.canonical();
        for other in &masks[1..] {
            let other = &other.canonical();
            if (other.height, other.width) != (acc.height, acc.width) {
                return Err(bad(format!(
                    "cannot merge a {}x{} mask with a {}x{} one",
                    acc.height, acc.width, other.height, other.width
                )));
            }
            acc = merge_two(&acc, other, intersect);
        }
        Ok(acc)
    }
}

/// One merge step, `rleMerge`'s walk: both run lists advance by the shorter remaining run, and
/// a count is written whenever the combined value changes (so zero-length runs in the input
/// show up in the output exactly as they do in pycocotools').
fn merge_two(a: &Rle, b: &Rle, intersect: bool) -> Rle {
    let mut counts = Vec::with_capacity(a.counts.len() + b.counts.len());
    let (Some(&first_a), Some(&first_b)) = (a.counts.first(), b.counts.first()) else {
        return Rle { height: a.height, width: a.width, counts };
    };
    let (mut left_a, mut left_b) = (u64::from(first_a), u64::from(first_b));
    let (mut ia, mut ib) = (1usize, 1usize);
    let (mut va, mut vb, mut value) = (false, false, false);
    let mut run = 0u64;
    loop {
        let step = left_a.min(left_b);
        run += step;
        left_a -= step;
        if left_a == 0 && ia < a.counts.len() {
            left_a = u64::from(a.counts[ia]);
            ia += 1;
            va = !va;
        }
        left_b -= step;
        if left_b == 0 && ib < b.counts.len() {
            left_b = u64::from(b.counts[ib]);
            ib += 1;
            vb = !vb;
        }
        let previous = value;
        value = if intersect { va && vb } else { va || vb };
        let rest = left_a + left_b;
        if value != previous || rest == 0 {
            push_count(&mut counts, run);
            run = 0;
        }
        if rest == 0 {
            break;
        }
    }
    Rle { height: a.height, width: a.width, counts }
}

fn push_count(counts: &mut Vec<u32>, run: u64) {
    // Runs are parts of a checked mask below 2^32 pixels.
    counts.push(u32::try_from(run).unwrap_or(u32::MAX));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip() {
        let rle = Rle { height: 4, width: 5, counts: vec![0, 3, 2, 7, 1, 5, 2] };
        let text = rle.to_string_bytes();
        assert_eq!(Rle::from_string(&text, 4, 5).unwrap(), rle);
    }

    #[test]
    fn known_string() {
        // A 2x2 mask with its second column set: column-major runs 2 zeros, 2 ones.
        let rle = Rle { height: 2, width: 2, counts: vec![2, 2] };
        assert_eq!(rle.to_compressed(), "22");
        assert_eq!(rle.bbox(), [1, 0, 1, 2]);
        assert_eq!(rle.area(), 2);
        assert_eq!(rle.decode().unwrap(), vec![0, 1, 0, 1]);
    }

    #[test]
    fn bad_strings_are_errors() {
        assert!(Rle::from_string(b"22", 3, 3).is_err()); // sums to 4, not 9
        assert!(Rle::from_string(b"2~", 2, 2).is_err()); // not a COCO RLE character
        assert!(Rle::from_string(b"2R", 2, 2).is_err()); // ends inside a count ('R' = 34 | 0x20)
    }

    #[test]
    fn empty_runs_fold_away() {
        let rle = Rle { height: 2, width: 2, counts: vec![2, 0, 0, 2] };
        assert_eq!(rle.canonical().counts, [2, 2]);
        let rle = Rle { height: 2, width: 3, counts: vec![0, 2, 0, 1, 3] };
        assert_eq!(rle.canonical().counts, [0, 3, 3]);
        let a = Rle { height: 2, width: 2, counts: vec![2, 0, 0, 2] };
        let b = Rle { height: 2, width: 2, counts: vec![1, 3] };
        assert_eq!(Rle::merge(&[a.clone(), a.clone(), b], false).unwrap().counts, [1, 3]);
        assert_eq!(Rle::merge(&[a.clone(), a], false).unwrap().counts, [2, 2]);
    }

    #[test]
    fn merge_is_union_and_intersection() {
        let a = Rle::encode_column_major(&[1, 1, 0, 0, 1, 0], 3, 2);
        let b = Rle::encode_column_major(&[0, 1, 1, 0, 0, 0], 3, 2);
        let union = Rle::merge(&[a.clone(), b.clone()], false).unwrap();
        assert_eq!(union, Rle::encode_column_major(&[1, 1, 1, 0, 1, 0], 3, 2));
        let both = Rle::merge(&[a, b], true).unwrap();
        assert_eq!(both, Rle::encode_column_major(&[0, 1, 0, 0, 0, 0], 3, 2));
    }
}
