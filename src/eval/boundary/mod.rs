//! Boundary PQ (Cheng et al., CVPR 2021, boundary-iou-api): every segment's boundary band, and the
//! (ground truth, prediction) histogram of the bands that gives each pair its boundary IoU.
//!
//! A segment's band is its pixels within chessboard distance `d` of a pixel of another id or of
//! the image's edge: the segment minus its `d`-fold erosion by a 3x3 square. The bands are found
//! from the rows' runs (see [`interior`]), never pixel by pixel, and counted as pairs of runs in
//! which interior pixels carry the id [`INTERIOR`] — or, in boundary-iou-api's compatibility
//! mode, its marker id when a segment has that id (see [`band_histogram`]).

mod interior;

use std::collections::{HashMap, HashSet};

use crate::eval::histogram::PairHistogram;
use crate::eval::runs::{PairRows, RowRuns};
use crate::runtime::parallel::Cancel;
use crate::PqError;

use interior::{horizontal, vertical, Interval, Lists, Window};

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

/// Boundary PQ's counts of an image pair, from [`band_histogram`].
#[derive(Debug, Default)]
pub struct Bands {
    /// (ground truth, prediction) pairs of band pixels.
    pub histogram: PairHistogram,
    /// Per side, the segment whose id is boundary-iou-api's interior marker, with its band area:
    /// its histogram row also counts the other segments' interiors.
    marker_bands: [Option<(u32, u64)>; 2],
}

impl Bands {
    pub fn clear(&mut self) {
        self.histogram.clear();
        self.marker_bands = [None; 2];
    }
}

/// Boundary IoUs of segment pairs, from the counts of [`band_histogram`].
#[derive(Debug)]
pub struct BandIou<'a> {
    histogram: &'a PairHistogram,
    gt_area: HashMap<u32, u64>,
    pred_area: HashMap<u32, u64>,
}

impl<'a> BandIou<'a> {
    #[must_use]
    pub fn new(bands: &'a Bands) -> Self {
        let (mut gt_area, mut pred_area) = (HashMap::new(), HashMap::new());
        for (g, p, pixels) in bands.histogram.iter() {
            *gt_area.entry(g).or_default() += pixels;
            *pred_area.entry(p).or_default() += pixels;
        }
        let [gt_marker, pred_marker] = bands.marker_bands;
        if let Some((id, area)) = gt_marker {
            gt_area.insert(id, area);
        }
        if let Some((id, area)) = pred_marker {
            pred_area.insert(id, area);
        }
        Self { histogram: &bands.histogram, gt_area, pred_area }
    }

    /// boundary-iou-api's boundary IoU of a pair: band intersection over the union of the bands,
    /// less the predicted band on ground-truth VOID; 0 when neither segment has a band pixel.
    #[must_use]
    pub fn iou(&self, gt_id: u32, pred_id: u32) -> f64 {
        let intersection = self.histogram.get(gt_id, pred_id);
        let gt_band = self.gt_area.get(&gt_id).copied().unwrap_or(0);
        let pred_band = self.pred_area.get(&pred_id).copied().unwrap_or(0);
        // The intersection and the part on VOID are disjoint parts of the predicted band.
        let union =
            (pred_band + gt_band).saturating_sub(intersection + self.histogram.get(crate::VOID, pred_id));
        if union == 0 {
            return 0.0;
        }
        intersection as f64 / union as f64
    }
}

/// One side of an image pair as rows of runs, consecutive equal rows stored once, all in flat
/// buffers kept from image to image.
#[derive(Debug, Default)]
pub struct RunImage {
    /// Row `y` is distinct row `rows[y]`.
    rows: Vec<usize>,
    /// Distinct row `k` is runs `offsets[k]..offsets[k + 1]` of `ends` and `ids`.
    offsets: Vec<usize>,
    ends: Vec<u32>,
    ids: Vec<u32>,
}

impl RunImage {
    /// Forgets the rows, keeping the allocations.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.offsets.clear();
        self.ends.clear();
        self.ids.clear();
    }

    /// Appends a row; `same` says it equals the previous row (what the decoder reports).
    pub fn push(&mut self, runs: &RowRuns, same: bool) {
        if !(same && self.offsets.len() > 1) {
            if self.offsets.is_empty() {
                self.offsets.push(0);
            }
            self.ends.extend_from_slice(runs.ends());
            self.ids.extend_from_slice(runs.ids());
            self.offsets.push(self.ends.len());
        }
        self.rows.push(self.offsets.len() - 2);
    }

    /// Sets the image from runs over its flattened pixels (`(end, id)`, ends increasing to
    /// `height * width`), cut into rows `width` long.
    pub fn set_flat_runs(&mut self, runs: &[(usize, u32)], width: usize) {
        self.clear();
        if width == 0 {
            return;
        }
        let mut row = RowRuns::default();
        let mut cut = Vec::new();
        let (mut row_start, mut k) = (0usize, 0usize);
        while k < runs.len() {
            let row_end = row_start + width;
            cut.clear();
            while k < runs.len() {
                let (end, id) = runs[k];
                let at = u32::try_from(end.min(row_end) - row_start).unwrap_or(u32::MAX);
                cut.push((at, id));
                if end > row_end {
                    break;
                }
                k += 1;
                if end == row_end {
                    break;
                }
            }
            row.set_runs(cut.iter().copied());
            self.push(&row, false);
            row_start = row_end;
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

    fn distinct(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The runs of distinct row `k`: their ends and ids.
    fn runs(&self, k: usize) -> (&[u32], &[u32]) {
        let range = self.offsets[k]..self.offsets[k + 1];
        (&self.ends[range.clone()], &self.ids[range])
    }
}

/// One side's interiors: horizontal ones per distinct row, then per row.
#[derive(Debug, Default)]
struct SideInteriors {
    across: Lists,
    interior: Lists,
    window: Window,
}

impl SideInteriors {
    /// Finds every row's interior of the segments `listed`, bands `d` wide.
    fn find(&mut self, image: &RunImage, d: usize, listed: &dyn Fn(u32) -> bool) {
        let d32 = u32::try_from(d).unwrap_or(u32::MAX);
        self.across.clear();
        for k in 0..image.distinct() {
            let (ends, ids) = image.runs(k);
            self.across.push_with(|out| horizontal(ends, ids, d32, listed, out));
        }
        let across = &self.across;
        vertical(image.height(), |y| across.get(image.rows[y]), d, &mut self.window, &mut self.interior);
    }

    /// Whether row `y` (> 0) has the runs and the interior of row `y - 1`.
    fn repeats(&self, image: &RunImage, y: usize) -> bool {
        image.rows[y] == image.rows[y - 1] && self.interior.get(y) == self.interior.get(y - 1)
    }

    /// Row `y`'s runs with its interior columns given the id `marker`, into `out`.
    fn band_row(
        &self,
        image: &RunImage,
        y: usize,
        marker: u32,
        cut: &mut Vec<(u32, u32)>,
        out: &mut RowRuns,
    ) {
        let (ends, ids) = image.runs(image.rows[y]);
        cut_out(ends, ids, self.interior.get(y), marker, cut);
        out.set_runs(cut.iter().copied());
    }

    /// The interior pixels of every row.
    fn interior_area(&self, height: usize) -> u64 {
        (0..height).flat_map(|y| self.interior.get(y)).map(|i| u64::from(i.end - i.start)).sum()
    }
}

/// One side's ids in its segments_info order, and the id its interiors carry.
#[derive(Debug, Default)]
struct SideIds {
    listed: HashSet<u32>,
    /// Ids listed before boundary-iou-api's marker, when the side lists the marker.
    before_marker: HashSet<u32>,
    marker: Option<u32>,
}

impl SideIds {
    fn set(&mut self, ids: &[u32], marker: Option<u32>) {
        self.listed.clear();
        self.listed.extend(ids);
        self.before_marker.clear();
        self.marker = marker.filter(|m| self.listed.contains(m));
        if let Some(m) = self.marker {
            self.before_marker.extend(ids.iter().take_while(|&&id| id != m));
            // The marker's pixels keep their id, as pixels of unlisted ids do.
            self.listed.remove(&m);
        }
    }

    fn interior_id(&self) -> u32 {
        self.marker.unwrap_or(INTERIOR)
    }
}

/// Buffers for the marker segment's band area.
#[derive(Debug, Default)]
struct MarkerScratch {
    image: RunImage,
    side: SideInteriors,
    covered: Vec<(u32, u32)>,
    runs: Vec<(u32, u32)>,
    row: RowRuns,
}

impl MarkerScratch {
    /// boundary-iou-api's band area of the segment whose id is its marker `m`. The reference
    /// paints the listed segments one by one in segments_info order, each one's interior with
    /// `m`, and takes each segment's mask from the painted map: the marker segment's mask is its
    /// own pixels and the interiors of the segments listed before it, its band that mask's.
    fn band_area(&mut self, image: &RunImage, interiors: &SideInteriors, ids: &SideIds, d: usize) -> u64 {
        let Some(m) = ids.marker else { return 0 };
        self.image.clear();
        let mut mask_area = 0u64;
        for y in 0..image.height() {
            let (ends, run_ids) = image.runs(image.rows[y]);
            self.covered.clear();
            let mut start = 0u32;
            for (&end, &id) in ends.iter().zip(run_ids) {
                if id == m {
                    self.covered.push((start, end));
                }
                start = end;
            }
            let width = start;
            // Interiors lie inside runs of other ids: the two lists are disjoint.
            let earlier = interiors.interior.get(y).iter().filter(|i| ids.before_marker.contains(&i.id));
            self.covered.extend(earlier.map(|i| (i.start, i.end)));
            self.covered.sort_unstable();
            mask_area += self.covered.iter().map(|&(s, e)| u64::from(e - s)).sum::<u64>();
            let mut at = 0u32;
            self.runs.clear();
            for &(s, e) in &self.covered {
                if s > at {
                    self.runs.push((s, 0));
                }
                self.runs.push((e, 1));
                at = e;
            }
            if width > at {
                self.runs.push((width, 0));
            }
            self.row.set_runs(self.runs.iter().copied());
            self.image.push(&self.row, false);
        }
        self.side.find(&self.image, d, &|id| id == 1);
        mask_area - self.side.interior_area(self.image.height())
    }
}

/// Buffers of [`band_histogram`], kept from image to image.
#[derive(Debug, Default)]
pub struct BandScratch {
    gt: SideInteriors,
    pred: SideInteriors,
    ids: [SideIds; 2],
    marker: MarkerScratch,
    gt_row: RowRuns,
    pred_row: RowRuns,
    pairs: PairRows,
    cut: Vec<(u32, u32)>,
}

/// The runs `(end, id)` of a row with the interior intervals (each inside one run of its id)
/// given the id `marker`, into `out`.
fn cut_out(ends: &[u32], ids: &[u32], interior: &[Interval], marker: u32, out: &mut Vec<(u32, u32)>) {
    out.clear();
    let mut k = 0usize;
    for (&end, &id) in ends.iter().zip(ids) {
        let mut at = None;
        while k < interior.len() && interior[k].end <= end {
            let i = interior[k];
            if at.is_none_or(|a| i.start > a) {
                out.push((i.start, id));
            }
            out.push((i.end, marker));
            at = Some(i.end);
            k += 1;
        }
        if at.is_none_or(|a| end > a) {
            out.push((end, id));
        }
    }
}

/// Counts the (ground truth, prediction) pairs of band pixels of two equal-sized images `[gt,
/// pred]` into
/// `bands`, interior pixels of the segments each side lists (`listed`, in segments_info order) as
/// [`INTERIOR`]: a pair's boundary intersection is its count, a segment's band area the sum of
/// its row, the prediction's band on ground-truth VOID the `(VOID, id)` count. Ids a side does
/// not list (VOID among them) keep all their pixels, as boundary-iou-api leaves them in its
/// boundary maps.
///
/// With `marker` (boundary-iou-api's compatibility mode: its interior id, the largest category
/// id + 1), a side that lists a segment with that id has its interiors counted under that id, and
/// that segment's band area is the reference's (see [`MarkerScratch::band_area`]); a side that
/// does not is counted as without `marker`, which the reference's numbers then equal.
pub fn band_histogram(
    [gt, pred]: [&RunImage; 2],
    d: usize,
    listed: [&[u32]; 2],
    marker: Option<u32>,
    scratch: &mut BandScratch,
    bands: &mut Bands,
    cancel: &Cancel,
) -> Result<(), PqError> {
    let BandScratch {
        gt: gt_side,
        pred: pred_side,
        ids,
        marker: marker_scratch,
        gt_row,
        pred_row,
        pairs,
        cut,
    } = scratch;
    let [gt_ids, pred_ids] = ids;
    gt_ids.set(listed[0], marker);
    pred_ids.set(listed[1], marker);
    bands.clear();
    gt_side.find(gt, d, &|id| gt_ids.listed.contains(&id));
    cancel.check()?;
    pred_side.find(pred, d, &|id| pred_ids.listed.contains(&id));
    cancel.check()?;
    for (k, (image, side, side_ids)) in
        [(gt, &*gt_side, &*gt_ids), (pred, &*pred_side, &*pred_ids)].into_iter().enumerate()
    {
        if let Some(m) = side_ids.marker {
            bands.marker_bands[k] = Some((m, marker_scratch.band_area(image, side, side_ids, d)));
        }
    }
    let (gt_marker, pred_marker) = (gt_ids.interior_id(), pred_ids.interior_id());
    let histogram = &mut bands.histogram;
    pairs.reset();
    for y in 0..gt.height().min(pred.height()) {
        if y % ROWS_PER_CHECK == 0 {
            cancel.check()?;
        }
        let (gt_same, pred_same) = (y > 0 && gt_side.repeats(gt, y), y > 0 && pred_side.repeats(pred, y));
        if gt_same && pred_same {
            pairs.repeat();
            continue;
        }
        if !gt_same {
            gt_side.band_row(gt, y, gt_marker, cut, gt_row);
        }
        if !pred_same {
            pred_side.band_row(pred, y, pred_marker, cut, pred_row);
        }
        pairs.start(gt_row, pred_row, histogram);
    }
    pairs.flush(histogram);
    Ok(())
}

#[cfg(test)]
mod tests;
