//! What became of every segment of an image pair under panopticapi's rules, and the image's own
//! scores: the per-image and per-segment results, computed from the same histogram as the totals.

use std::collections::{HashMap, HashSet};

use crate::error::Side;
use crate::eval::boundary::{BandIou, Bands};
use crate::eval::breakdown::{Cause, ImageErrors};
use crate::eval::categories::{Categories, CategoryInfo};
use crate::eval::histogram::PairHistogram;
use crate::eval::matching::ImageResult;
use crate::eval::segments::{GtSegment, PredSegment};
use crate::eval::stats::PqStats;
use crate::VOID;

/// A segment's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Matched with IoU > 0.5 to a segment of its category.
    TruePositive,
    /// A ground-truth segment nothing matched.
    FalseNegative,
    /// A predicted segment that matched nothing and was counted.
    FalsePositive,
    /// A predicted segment that matched nothing, not counted: mostly on VOID or on a crowd
    /// region of its category.
    Ignored,
    /// A ground-truth crowd region: never matched, never counted.
    Crowd,
}

impl Fate {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Fate::TruePositive => "tp",
            Fate::FalseNegative => "fn",
            Fate::FalsePositive => "fp",
            Fate::Ignored => "ignored",
            Fate::Crowd => "crowd",
        }
    }
}

/// The segment of the other side that overlaps one segment most.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overlap {
    pub segment_id: u32,
    pub category_id: i64,
    /// Intersection over union of the two segments' pixels (VOID and crowd play no part).
    pub iou: f64,
}

/// One segment's record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentRecord {
    pub side: Side,
    pub segment_id: u32,
    pub category_id: i64,
    /// Pixels of the segment in its PNG.
    pub area: u64,
    pub fate: Fate,
    /// The matched segment for a true positive (IoU as counted, with panopticapi's VOID rule),
    /// else the most overlapping segment of the other side, if any overlaps: a segment of
    /// another category tells a wrong class, a same-category one with IoU ≤ 0.5 a split or merge.
    pub other: Option<Overlap>,
    /// Under Boundary PQ, the boundary IoU of this segment and `other` (for a true positive,
    /// `other`'s IoU is the smaller of this and the mask IoU).
    pub boundary_iou: Option<f64>,
    /// With the error breakdown, the cause of a false negative or false positive
    /// ([`crate::eval::breakdown`]).
    pub cause: Option<Cause>,
}

/// One image's summary: PQ, SQ, RQ averaged over the categories it holds (as `pq_compute` on a
/// one-image dataset), and its counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageRow {
    pub pq: f64,
    pub sq: f64,
    pub rq: f64,
    pub n: usize,
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
}

/// The summary of an image from its result, averaged over `infos` in their order (categories
/// the image does not hold are left out of the mean).
#[must_use]
pub fn image_row(stats: &PqStats, infos: &[CategoryInfo]) -> ImageRow {
    let mean = stats.average(infos, None);
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (_, s) in stats.iter() {
        (tp, fp, fn_) = (tp + s.tp, fp + s.fp, fn_ + s.fn_);
    }
    ImageRow { pq: mean.pq, sq: mean.sq, rq: mean.rq, n: mean.n, tp, fp, fn_ }
}

/// [`image_row`] over the classes the image holds that `categories` averages over, in the order
/// its statistics list them.
#[must_use]
pub fn image_scores(result: &ImageResult, categories: &Categories) -> ImageRow {
    let mut averaged = PqStats::new();
    for (id, s) in result.stats.iter().filter(|&(id, _)| categories.is_averaged(id)) {
        averaged.insert(id, *s);
    }
    let infos: Vec<CategoryInfo> =
        averaged.iter().map(|(id, _)| CategoryInfo { id, isthing: false }).collect();
    image_row(&averaged, &infos)
}

/// One image's scores and segment records.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageDetail {
    pub scores: ImageRow,
    pub segments: Vec<SegmentRecord>,
}

impl ImageDetail {
    /// The details of an image from its histogram, segments and result, and its band histogram
    /// under Boundary PQ.
    #[must_use]
    pub fn new(
        histogram: &PairHistogram,
        gt: &[GtSegment],
        pred: &[PredSegment],
        result: &ImageResult,
        bands: Option<&Bands>,
        categories: &Categories,
    ) -> Self {
        Self {
            scores: image_scores(result, categories),
            segments: segment_records(histogram, gt, pred, result, bands),
        }
    }
}

impl ImageDetail {
    /// Sets the cause of every false negative and false positive among the records, from the
    /// error breakdown of the same image (`gt` and `pred` its segments).
    pub fn label(&mut self, errors: &ImageErrors, gt: &[GtSegment], pred: &[PredSegment]) {
        let mut causes: HashMap<(Side, u32), Cause> = HashMap::new();
        for &(g, cause, _) in &errors.false_negatives {
            causes.insert((Side::GroundTruth, gt[g].id), cause);
        }
        for &(p, cause) in &errors.false_positives {
            causes.insert((Side::Prediction, pred[p].id), cause);
        }
        for record in &mut self.segments {
            if matches!(record.fate, Fate::FalseNegative | Fate::FalsePositive) {
                record.cause = causes.get(&(record.side, record.segment_id)).copied();
            }
        }
    }
}

/// Every segment's record, ground truth first, each side in its `segments_info` order; with
/// `bands` (Boundary PQ's band histogram), each with its boundary IoU.
#[must_use]
pub fn segment_records(
    histogram: &PairHistogram,
    gt: &[GtSegment],
    pred: &[PredSegment],
    result: &ImageResult,
    bands: Option<&Bands>,
) -> Vec<SegmentRecord> {
    let bands = bands.map(BandIou::new);
    let mut gt_area: HashMap<u32, u64> = HashMap::new();
    let mut pred_area: HashMap<u32, u64> = HashMap::new();
    for (g, p, pixels) in histogram.iter() {
        *gt_area.entry(g).or_default() += pixels;
        *pred_area.entry(p).or_default() += pixels;
    }
    let gt_category: HashMap<u32, i64> = gt.iter().map(|s| (s.id, s.category_id)).collect();
    let pred_category: HashMap<u32, i64> = pred.iter().map(|s| (s.id, s.category_id)).collect();
    // Best overlap of each segment with the other side, ties to the smaller id.
    let mut best_for_gt: HashMap<u32, Overlap> = HashMap::new();
    let mut best_for_pred: HashMap<u32, Overlap> = HashMap::new();
    for (g, p, pixels) in histogram.iter() {
        if g == VOID || p == VOID {
            continue;
        }
        let (Some(&gc), Some(&pc)) = (gt_category.get(&g), pred_category.get(&p)) else { continue };
        let union = gt_area[&g] + pred_area[&p] - pixels;
        let iou = pixels as f64 / union as f64;
        let better = |old: Option<&Overlap>, id: u32| {
            old.is_none_or(|o| match iou.total_cmp(&o.iou) {
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Equal => id < o.segment_id,
                std::cmp::Ordering::Less => false,
            })
        };
        if better(best_for_gt.get(&g), p) {
            best_for_gt.insert(g, Overlap { segment_id: p, category_id: pc, iou });
        }
        if better(best_for_pred.get(&p), g) {
            best_for_pred.insert(p, Overlap { segment_id: g, category_id: gc, iou });
        }
    }
    let gt_match: HashMap<u32, Overlap> = result
        .matches
        .iter()
        .map(|m| {
            (m.gt_id, Overlap { segment_id: m.pred_id, category_id: pred_category[&m.pred_id], iou: m.iou })
        })
        .collect();
    let pred_match: HashMap<u32, Overlap> = result
        .matches
        .iter()
        .map(|m| (m.pred_id, Overlap { segment_id: m.gt_id, category_id: gt_category[&m.gt_id], iou: m.iou }))
        .collect();
    let ignored: HashSet<u32> = result.ignored.iter().copied().collect();
    let mut records = Vec::with_capacity(gt.len() + pred.len());
    let mut push = |side: Side, segment_id: u32, category_id: i64, fate: Fate, other: Option<Overlap>| {
        // The band histogram is keyed (ground truth, prediction) whichever side the segment is on.
        let (area, pair) = match side {
            Side::GroundTruth => (gt_area.get(&segment_id), other.map(|o| (segment_id, o.segment_id))),
            Side::Prediction => (pred_area.get(&segment_id), other.map(|o| (o.segment_id, segment_id))),
        };
        let boundary_iou = bands.as_ref().zip(pair).map(|(b, (g, p))| b.iou(g, p));
        let area = area.copied().unwrap_or(0);
        records.push(SegmentRecord {
            side,
            segment_id,
            category_id,
            area,
            fate,
            other,
            boundary_iou,
            cause: None,
        });
    };
    for s in gt {
        let (fate, other) = match gt_match.get(&s.id) {
            Some(&m) => (Fate::TruePositive, Some(m)),
            None if s.iscrowd => (Fate::Crowd, best_for_gt.get(&s.id).copied()),
            None => (Fate::FalseNegative, best_for_gt.get(&s.id).copied()),
        };
        push(Side::GroundTruth, s.id, s.category_id, fate, other);
    }
    for s in pred {
        let (fate, other) = match pred_match.get(&s.id) {
            Some(&m) => (Fate::TruePositive, Some(m)),
            None if ignored.contains(&s.id) => (Fate::Ignored, best_for_pred.get(&s.id).copied()),
            None => (Fate::FalsePositive, best_for_pred.get(&s.id).copied()),
        };
        push(Side::Prediction, s.id, s.category_id, fate, other);
    }
    records
}

// Scores are compared with the exact fractions they must equal.
#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::eval::categories::Categories;
    use crate::eval::histogram::MapView;
    use crate::eval::matching::evaluate_maps;
    use crate::eval::segments::fixtures::{gt, pred};
    use crate::runtime::parallel::Cancel;

    fn view(ids: &[u32]) -> MapView<'_> {
        MapView { ids, height: 1, width: ids.len() }
    }

    #[test]
    fn fates_and_best_overlaps() {
        // gt: 1 (cat 1) on 0..4, 2 (cat 2) on 4..8, 3 (crowd, cat 1) on 8..10, VOID on 10..12.
        // pred: 5 (cat 1) on 0..4 → TP; 6 (cat 1) on 4..8 → wrong class for gt 2 → FP, gt 2 FN;
        // 7 (cat 1) on 8..10 → on the crowd region → ignored; 8 (cat 2) on 10..12 → on VOID → ignored.
        let gt_map = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 0, 0];
        let pred_map = [5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 8, 8];
        let g = [gt(1, 1, false, 4), gt(2, 2, false, 4), gt(3, 1, true, 2)];
        let p = [pred(5, 1), pred(6, 1), pred(7, 1), pred(8, 2)];
        let cats = Categories::new([1, 2]);
        let result =
            evaluate_maps("1", view(&gt_map), view(&pred_map), &g, &p, &cats, &Cancel::new()).unwrap();
        let histogram = crate::eval::histogram::histogram_of(&gt_map, &pred_map, &Cancel::new()).unwrap();
        let records = segment_records(&histogram, &g, &p, &result, None);
        let fates: Vec<(u32, Fate)> = records.iter().map(|r| (r.segment_id, r.fate)).collect();
        assert_eq!(
            fates,
            [
                (1, Fate::TruePositive),
                (2, Fate::FalseNegative),
                (3, Fate::Crowd),
                (5, Fate::TruePositive),
                (6, Fate::FalsePositive),
                (7, Fate::Ignored),
                (8, Fate::Ignored),
            ]
        );
        assert_eq!(records[1].other, Some(Overlap { segment_id: 6, category_id: 1, iou: 1.0 }));
        assert_eq!(records[4].other, Some(Overlap { segment_id: 2, category_id: 2, iou: 1.0 }));
        assert_eq!(records[6].other, None); // only VOID under it
        assert!(records.iter().all(|r| r.area == if r.segment_id == 3 || r.segment_id >= 7 { 2 } else { 4 }));
        let scores = image_scores(&result, &Categories::new([1, 2]));
        // Category 1: TP 1 (IoU 1), FP 1 → PQ 1 / 1.5; category 2: FN 1 → 0.
        assert_eq!((scores.tp, scores.fp, scores.fn_, scores.n), (1, 1, 1, 2));
        assert_eq!(scores.pq, (1.0 / 1.5) / 2.0);
    }
}
