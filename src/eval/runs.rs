//! Rows of an id map as runs of equal ids, and rows of (ground truth, prediction) id pairs.
//!
//! Panoptic maps are long horizontal runs; the fast pipeline never materialises ids pixel by
//! pixel, it finds run boundaries in the decoded bytes and hands runs to the histogram.

use crate::eval::histogram::PairHistogram;

/// One row as runs: run `i` covers columns `ends()[i - 1]..ends()[i]` (from 0 for the first)
/// and has segment id `ids()[i]`.
#[derive(Debug, Clone, Default)]
pub struct RowRuns {
    /// The runs are the first `len` entries; `update_spans` keeps the buffers longer than that,
    /// so that it can store before it knows whether an entry is kept.
    ends: Vec<u32>,
    ids: Vec<u32>,
    len: usize,
    /// The previous `ends` and `ids` allocations, reused by `update_spans`.
    spare_ends: Vec<u32>,
    spare_ids: Vec<u32>,
}

impl PartialEq for RowRuns {
    fn eq(&self, other: &Self) -> bool {
        self.ends() == other.ends() && self.ids() == other.ids()
    }
}

impl Eq for RowRuns {}

#[inline]
fn load8(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// The id of `pixel` in a row of `C`-byte pixels. `C` is a constant so that pixel and byte
/// offsets convert with shifts and multiplies, never a division.
#[inline]
fn rgb_at<const C: usize>(row: &[u8], pixel: usize) -> u32 {
    let p = pixel * C;
    u32::from(row[p]) | u32::from(row[p + 1]) << 8 | u32::from(row[p + 2]) << 16
}

impl RowRuns {
    /// Where each run ends (exclusive); the last is the row's width.
    #[must_use]
    pub fn ends(&self) -> &[u32] {
        &self.ends[..self.len]
    }

    /// Each run's segment id.
    #[must_use]
    pub fn ids(&self) -> &[u32] {
        &self.ids[..self.len]
    }

    /// A row of `width` VOID pixels, what PNG rows are unfiltered against before the first.
    #[must_use]
    pub fn void(width: usize) -> Self {
        let mut runs = Self::default();
        runs.set_void(width);
        runs
    }

    pub fn set_void(&mut self, width: usize) {
        self.ends.clear();
        self.ids.clear();
        if width > 0 {
            self.ends.push(to_u32(width));
            self.ids.push(0);
        }
        self.len = self.ends.len();
    }

    /// Runs of a decoded row of `channels`-byte pixels (R, G, B first; a fourth byte is alpha and
    /// ignored).
    pub fn set_from_pixels<const C: usize>(&mut self, row: &[u8]) {
        self.ends.clear();
        self.ids.clear();
        let width = row.len() / C;
        self.len = 0;
        if width == 0 {
            return;
        }
        if C == 3 {
            self.rgb_boundaries(row);
        } else {
            for pixel in 1..width {
                if rgb_at::<C>(row, pixel) != rgb_at::<C>(row, pixel - 1) {
                    self.ends.push(to_u32(pixel));
                }
            }
        }
        self.ends.push(to_u32(width));
        self.set_ids::<C>(row);
        self.len = self.ends.len();
    }

    /// `ids` from `ends`: the id of each run's first pixel.
    fn set_ids<const C: usize>(&mut self, row: &[u8]) {
        self.ids.clear();
        self.ids.reserve(self.ends.len());
        let mut start = 0;
        for &end in &self.ends {
            self.ids.push(rgb_at::<C>(row, start));
            start = end as usize;
        }
    }

    /// Boundaries of a 3-byte-pixel row: byte `k + 3` differs from byte `k` exactly where a pixel
    /// differs from its left neighbour, and comparing eight bytes at a time skips long runs fast.
    fn rgb_boundaries(&mut self, row: &[u8]) {
        let len = row.len();
        let mut k = 0;
        let push = |ends: &mut Vec<u32>, byte: usize| {
            let pixel = to_u32((byte + 3) / 3);
            if ends.last() != Some(&pixel) {
                ends.push(pixel);
            }
        };
        while k + 35 <= len {
            // Four words at once: most of a row equals itself shifted by one pixel.
            let same = ((load8(row, k) ^ load8(row, k + 3))
                | (load8(row, k + 8) ^ load8(row, k + 11))
                | (load8(row, k + 16) ^ load8(row, k + 19))
                | (load8(row, k + 24) ^ load8(row, k + 27)))
                == 0;
            if !same {
                break_words(row, k, &mut self.ends, push);
            }
            k += 32;
        }
        while k + 11 <= len {
            let mut diff = load8(row, k) ^ load8(row, k + 3);
            while diff != 0 {
                push(&mut self.ends, k + diff.trailing_zeros() as usize / 8);
                diff &= diff - 1;
            }
            k += 8;
        }
        while k + 3 < len {
            if row[k] != row[k + 3] {
                push(&mut self.ends, k);
            }
            k += 1;
        }
    }

    /// Updates the runs after the bytes in `spans` (sorted, disjoint byte ranges) changed and
    /// nothing else did: boundaries are recomputed only next to the changed pixels, and runs
    /// that start on an unchanged pixel keep their id.
    pub fn update_spans<const C: usize>(&mut self, row: &[u8], spans: &[(usize, usize)]) {
        let width = row.len() / C;
        let old_ends = std::mem::replace(&mut self.ends, std::mem::take(&mut self.spare_ends));
        let old_ids = std::mem::replace(&mut self.ids, std::mem::take(&mut self.spare_ids));
        // Old boundary j starts run j + 1; the last end is the width, not a boundary.
        let boundaries = self.len.saturating_sub(1);
        // Room for every kept boundary and one entry per pixel looked at: the pixel loop below
        // stores unconditionally and only advances on a boundary, with no branch to mispredict.
        let looked_at: usize = spans.iter().map(|&(start, end)| (end - start) / C + 3).sum();
        let capacity = boundaries + looked_at.min(width) + 2;
        let (ends, ids) = (&mut self.ends, &mut self.ids);
        if ends.len() < capacity {
            ends.resize(capacity, 0);
            ids.resize(capacity, 0);
        }
        ids[0] = rgb_at::<C>(row, 0);
        let mut n = 0; // boundaries written
        let mut i = 0; // old boundaries consumed
        let mut next_free = 1; // boundaries below this pixel are already decided
        for &(start, end) in spans {
            // Pixels first..last changed; boundaries first..=last+1 may have moved.
            let first = (start / C).max(next_free);
            let last = ((end - 1) / C + 1).min(width - 1);
            if first > last {
                continue;
            }
            while i < boundaries && (old_ends[i] as usize) < first {
                ends[n] = old_ends[i];
                ids[n + 1] = old_ids[i + 1];
                n += 1;
                i += 1;
            }
            while i < boundaries && (old_ends[i] as usize) <= last {
                i += 1;
            }
            let mut previous = rgb_at::<C>(row, first - 1);
            for pixel in first..=last {
                let id = rgb_at::<C>(row, pixel);
                ends[n] = to_u32(pixel);
                ids[n + 1] = id;
                n += usize::from(id != previous);
                previous = id;
            }
            next_free = last + 1;
        }
        let rest = boundaries - i;
        ends[n..n + rest].copy_from_slice(&old_ends[i..boundaries]);
        ids[n + 1..=n + rest].copy_from_slice(&old_ids[i + 1..=boundaries]);
        ends[n + rest] = to_u32(width);
        self.len = n + rest + 1;
        self.spare_ends = old_ends;
        self.spare_ids = old_ids;
    }

    /// Replaces the runs with those `build` makes from a first run of id `first`, while it reads
    /// the current ones (ends, ids: the row above); `true` if they changed. The new runs are
    /// built in the spare buffers, which the old ones then become.
    pub fn rebuild(
        &mut self,
        width: usize,
        first: u32,
        build: impl FnOnce(&[u32], &[u32], &mut RunBuilder),
    ) -> bool {
        let (mut ends, mut ids) = (std::mem::take(&mut self.spare_ends), std::mem::take(&mut self.spare_ids));
        ends.clear();
        ids.clear();
        ids.push(first);
        let mut builder = RunBuilder { ends, ids };
        build(self.ends(), self.ids(), &mut builder);
        let RunBuilder { mut ends, ids } = builder;
        ends.push(to_u32(width));
        let changed = ends[..] != *self.ends() || ids[..] != *self.ids();
        self.spare_ends = std::mem::replace(&mut self.ends, ends);
        self.spare_ids = std::mem::replace(&mut self.ids, ids);
        self.len = self.ends.len();
        changed
    }

    /// Sets the runs from `(end, id)` pairs, in order.
    pub fn set_runs(&mut self, runs: impl IntoIterator<Item = (u32, u32)>) {
        self.ends.clear();
        self.ids.clear();
        for (end, id) in runs {
            self.ends.push(end);
            self.ids.push(id);
        }
        self.len = self.ends.len();
    }

    /// Runs of a row of ids.
    pub fn set_from_ids(&mut self, row: &[u32]) {
        self.ends.clear();
        self.ids.clear();
        self.len = 0;
        let Some(&first) = row.first() else { return };
        let mut current = first;
        for (x, &id) in row.iter().enumerate().skip(1) {
            if id != current {
                self.ends.push(to_u32(x));
                self.ids.push(current);
                current = id;
            }
        }
        self.ends.push(to_u32(row.len()));
        self.ids.push(current);
        self.len = self.ends.len();
    }
}

/// Runs being built by [`RowRuns::rebuild`], left to right.
pub struct RunBuilder {
    ends: Vec<u32>,
    ids: Vec<u32>,
}

impl RunBuilder {
    /// From pixel `at` (after the last pixel given, and > 0) on, the row has `id`: a new run,
    /// unless the run before has that id too.
    #[inline]
    pub fn set(&mut self, at: usize, id: u32) {
        if self.ids.last() != Some(&id) {
            self.ends.push(to_u32(at));
            self.ids.push(id);
        }
    }
}

/// Pushes the boundaries found in the 32 bytes at `k` (see `rgb_boundaries`).
#[inline]
fn break_words(row: &[u8], k: usize, ends: &mut Vec<u32>, push: impl Fn(&mut Vec<u32>, usize)) {
    for word in (k..k + 32).step_by(8) {
        let mut diff = load8(row, word) ^ load8(row, word + 3);
        while diff != 0 {
            push(ends, word + diff.trailing_zeros() as usize / 8);
            diff &= diff - 1;
        }
    }
}

/// Row widths come from a PNG header, which stores them as u32.
pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The (gt id, pred id, length) runs of one row pair, and how many consecutive rows repeat it.
///
/// Rows often repeat the row above in both images; then nothing but the repeat count changes,
/// and the histogram sees the row once, weighted.
#[derive(Debug, Default)]
pub struct PairRows {
    runs: Vec<(u32, u32, u32)>,
    repeat: u64,
}

impl PairRows {
    /// Starts a new row pair, after adding the previous one to `histogram`.
    pub fn start(&mut self, gt: &RowRuns, pred: &RowRuns, histogram: &mut PairHistogram) {
        self.flush(histogram);
        self.repeat = 1;
        let (mut i, mut j, mut start) = (0, 0, 0u32);
        let (gt_ends, gt_ids, pred_ends, pred_ids) = (gt.ends(), gt.ids(), pred.ends(), pred.ids());
        while i < gt_ends.len() && j < pred_ends.len() {
            let end = gt_ends[i].min(pred_ends[j]);
            self.runs.push((gt_ids[i], pred_ids[j], end - start));
            start = end;
            i += usize::from(gt_ends[i] == end);
            j += usize::from(pred_ends[j] == end);
        }
    }

    /// Forgets any pending row pair, as at the start of an image.
    pub fn reset(&mut self) {
        self.runs.clear();
        self.repeat = 0;
    }

    /// The current row pair occurs once more.
    pub fn repeat(&mut self) {
        self.repeat += 1;
    }

    /// Adds the pending row pair to `histogram`.
    pub fn flush(&mut self, histogram: &mut PairHistogram) {
        for &(gt, pred, len) in &self.runs {
            histogram.add_run(gt, pred, u64::from(len) * self.repeat);
        }
        self.runs.clear();
        self.repeat = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixels(ids: &[u32], channels: usize) -> Vec<u8> {
        ids.iter().flat_map(|id| id.to_le_bytes()[..channels].to_vec()).collect()
    }

    #[test]
    fn runs_from_pixels_equal_runs_from_ids() {
        let rows: [&[u32]; 4] = [
            &[5],
            &[1, 1, 1, 2, 2, 0x01_00_00, 0x01_00_00, 7],
            &[3; 40],
            &(0..37).map(|i| (i / 3) * 0x01_01_01).collect::<Vec<_>>(),
        ];
        for ids in rows {
            let mut expected = RowRuns::default();
            expected.set_from_ids(ids);
            for channels in [3, 4] {
                let mut runs = RowRuns::default();
                if channels == 3 {
                    runs.set_from_pixels::<3>(&pixels(ids, 3));
                } else {
                    runs.set_from_pixels::<4>(&pixels(ids, 4));
                }
                assert_eq!(runs, expected, "{ids:?} with {channels} channels");
            }
        }
    }

    #[test]
    fn alpha_is_ignored() {
        let mut runs = RowRuns::default();
        runs.set_from_pixels::<4>(&[1, 0, 0, 9, 1, 0, 0, 200]);
        assert_eq!((runs.ends(), runs.ids()), (&[2][..], &[1][..]));
    }

    #[test]
    fn pair_rows_count_repeats() {
        let (mut gt, mut pred) = (RowRuns::default(), RowRuns::default());
        gt.set_from_ids(&[1, 1, 2, 2]);
        pred.set_from_ids(&[7, 8, 8, 8]);
        let mut h = PairHistogram::new();
        let mut rows = PairRows::default();
        rows.start(&gt, &pred, &mut h);
        rows.repeat();
        rows.flush(&mut h);
        assert_eq!((h.get(1, 7), h.get(1, 8), h.get(2, 8)), (2, 2, 4));
    }
}
