//! Boundary PQ (Cheng et al., CVPR 2021, boundary-iou-api): every segment's boundary band, and the
//! (ground truth, prediction) histogram of the bands that gives each pair its boundary IoU.
//!
//! A segment's band is its pixels within chessboard distance `d` of a pixel of another id or of
//! the image's edge: the segment minus its `d`-fold erosion by a 3x3 square. The bands are found
//! from the rows' runs (see [`interior`]), never pixel by pixel, and counted as pairs of runs in
//! which interior pixels carry the id [`INTERIOR`].

mod interior;

use crate::histogram::PairHistogram;
use crate::parallel::Cancel;
use crate::runs::{PairRows, RowRuns};
use crate::PqError;

use interior::{horizontal, vertical, Interval};

/// The id interior pixels carry in the band histogram: above every segment id (ids are < 2^24).
pub const INTERIOR: u32 = u32::MAX;

/// Rows between two looks at the cancel flag.
const ROWS_PER_CHECK: usize = 256;

/// boundary-iou-api's band width: `dilation_ratio` times the image's diagonal, rounded half to
/// even as Python's `round`, at least 1.
#[must_use]
pub fn dilation(ratio: f64, height: usize, width: usize) -> usize {
    #[allow(clippy::cast_precision_loss)] // image sides are far below 2^52
    let diagonal = ((height * height + width * width) as f64).sqrt();
    let d = (ratio * diagonal).round_ties_even();
    // Non-negative and finite for a valid ratio; the cast saturates otherwise.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let d = d as usize;
    d.max(1)
}

/// One side of an image pair as rows of runs, consecutive equal rows stored once.
#[derive(Debug, Default)]
pub struct RunImage {
    /// Row `y` is `distinct[rows[y]]`.
    rows: Vec<usize>,
    distinct: Vec<(Vec<u32>, Vec<u32>)>,
}

impl RunImage {
    /// Forgets the rows, keeping the allocations.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.distinct.clear();
    }

    /// Appends a row; `same` says it equals the previous row (what the decoder reports).
    pub fn push(&mut self, runs: &RowRuns, same: bool) {
        if same && !self.distinct.is_empty() {
            self.rows.push(self.distinct.len() - 1);
        } else {
            self.distinct.push((runs.ends().to_vec(), runs.ids().to_vec()));
            self.rows.push(self.distinct.len() - 1);
        }
    }

    /// Appends a row given pixel by pixel.
    pub fn push_ids(&mut self, row: &[u32]) {
        let mut runs = RowRuns::default();
        runs.set_from_ids(row);
        self.push(&runs, false);
    }

    #[must_use]
    pub fn height(&self) -> usize {
        self.rows.len()
    }

    /// Each row's runs with the interior columns of width-`d` bands of the segments `listed`
    /// given the id [`INTERIOR`]; consecutive equal rows share an index, as in `rows`.
    fn band_rows(&self, d: usize, listed: &dyn Fn(u32) -> bool) -> (Vec<usize>, Vec<RowRuns>) {
        let d32 = u32::try_from(d).unwrap_or(u32::MAX);
        let across: Vec<Vec<Interval>> = self
            .distinct
            .iter()
            .map(|(ends, ids)| {
                let mut out = Vec::new();
                horizontal(ends, ids, d32, &mut out);
                out.retain(|i| listed(i.id));
                out
            })
            .collect();
        let per_row: Vec<&[Interval]> = self.rows.iter().map(|&r| across[r].as_slice()).collect();
        let interior = vertical(&per_row, d);
        let mut index = Vec::with_capacity(self.rows.len());
        let mut bands: Vec<RowRuns> = Vec::new();
        let mut previous: Option<(usize, &[Interval])> = None;
        for (y, &r) in self.rows.iter().enumerate() {
            let kept = interior[y].as_slice();
            if previous.is_some_and(|(pr, pk)| pr == r && pk == kept) {
                index.push(bands.len() - 1);
                continue;
            }
            let (ends, ids) = &self.distinct[r];
            let mut runs = RowRuns::default();
            runs.set_runs(cut_out(ends, ids, kept));
            bands.push(runs);
            index.push(bands.len() - 1);
            previous = Some((r, kept));
        }
        (index, bands)
    }
}

/// The runs `(end, id)` of a row with the interior intervals (each inside one run of its id)
/// given the id [`INTERIOR`].
fn cut_out(ends: &[u32], ids: &[u32], interior: &[Interval]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(ends.len() + 2 * interior.len());
    let (mut start, mut k) = (0u32, 0usize);
    for (&end, &id) in ends.iter().zip(ids) {
        let mut at = start;
        while k < interior.len() && interior[k].end <= end {
            let i = interior[k];
            if i.start > at {
                out.push((i.start, id));
            }
            out.push((i.end, INTERIOR));
            at = i.end;
            k += 1;
        }
        if end > at {
            out.push((end, id));
        }
        start = end;
    }
    out
}

/// Counts the (ground truth, prediction) pairs of band pixels of two equal-sized images into
/// `histogram`, interior pixels of the segments each side lists as [`INTERIOR`]: a pair's
/// boundary intersection is its count, a segment's band area the sum of its row, the prediction's
/// band on ground-truth VOID the `(VOID, id)` count. Ids a side does not list (VOID among them)
/// keep all their pixels, as boundary-iou-api leaves them in its boundary maps.
pub fn band_histogram(
    gt: &RunImage,
    pred: &RunImage,
    d: usize,
    listed: [&dyn Fn(u32) -> bool; 2],
    histogram: &mut PairHistogram,
    cancel: &Cancel,
) -> Result<(), PqError> {
    let (gt_index, gt_bands) = gt.band_rows(d, listed[0]);
    cancel.check()?;
    let (pred_index, pred_bands) = pred.band_rows(d, listed[1]);
    let mut pairs = PairRows::default();
    for y in 0..gt_index.len().min(pred_index.len()) {
        if y % ROWS_PER_CHECK == 0 {
            cancel.check()?;
        }
        if y > 0 && gt_index[y] == gt_index[y - 1] && pred_index[y] == pred_index[y - 1] {
            pairs.repeat();
        } else {
            pairs.start(&gt_bands[gt_index[y]], &pred_bands[pred_index[y]], histogram);
        }
    }
    pairs.flush(histogram);
    Ok(())
}

#[cfg(test)]
mod tests;
