//! panopticapi's per-image rules: prediction sanity checks, IoU > 0.5 matching, crowd and VOID
//! handling, and the TP / FP / FN counts they produce.

use std::collections::HashMap;

use crate::error::Side;
use crate::eval::boundary::{BandIou, Bands};
use crate::eval::categories::Categories;
use crate::eval::histogram::{map_histogram, MapView, PairHistogram};
use crate::eval::segments::{index_ids, GtSegment, PredSegment};
use crate::eval::stats::{CategoryStats, PqStats};
use crate::runtime::parallel::Cancel;
use crate::{PqError, VOID};

/// A ground-truth segment matched to a predicted one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    pub gt_id: u32,
    pub pred_id: u32,
    pub category_id: i64,
    pub iou: f64,
}

/// What one image contributes: its matches, in ascending (gt id, pred id) order as panopticapi
/// visits them, and its per-category statistics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageResult {
    pub matches: Vec<Match>,
    pub stats: PqStats,
    /// Unmatched predicted segments not counted as false positives: mostly on VOID or on a crowd
    /// region of their category.
    pub ignored: Vec<u32>,
    /// The same statistics per size slice (see [`Categories::with_size_edges`]), each count in
    /// the slice of one segment's area: the ground truth's for a match (whatever the size of its
    /// partner) and a false negative, the prediction's for a false positive. Empty without
    /// slices or when the image counted nothing.
    pub by_size: Vec<PqStats>,
    /// With the error breakdown, the statistics with every error of one kind fixed, one table
    /// per kind (see [`crate::eval::breakdown::fixed_stats`]); empty otherwise.
    pub fixed: Vec<PqStats>,
}

impl ImageResult {
    /// Puts the matches in (gt id, pred id) order and counts each as a true positive of its
    /// category, with its IoU.
    pub(crate) fn count_matches(&mut self) {
        self.matches.sort_unstable_by_key(|m| (m.gt_id, m.pred_id));
        for m in &self.matches {
            let s = self.stats.entry(m.category_id);
            s.tp += 1;
            s.iou.add_f64(m.iou);
        }
    }

    /// The statistics of `class` in the size slice of `area`, `None` without slices. A negative
    /// JSON area (which panopticapi accepts for a segment nothing matches) is in the first slice.
    fn sized(
        &mut self,
        categories: &Categories,
        area: impl TryInto<u64>,
        class: i64,
    ) -> Option<&mut CategoryStats> {
        let slice = categories.size_slice(area.try_into().unwrap_or(0))?;
        if self.by_size.is_empty() {
            self.by_size = vec![PqStats::new(); categories.size_edges().len() + 1];
        }
        Some(self.by_size[slice].entry(class))
    }
}

/// Adds the size slices of `part` into `total` (either may be empty: nothing counted yet).
pub fn merge_slices(total: &mut Vec<PqStats>, part: &[PqStats]) {
    if total.len() < part.len() {
        total.resize_with(part.len(), PqStats::new);
    }
    for (t, p) in total.iter_mut().zip(part) {
        t.merge(p);
    }
}

/// Evaluates one image from its two id maps; stops early once `cancel` is set.
pub fn evaluate_maps(
    image_id: &str,
    gt_map: MapView<'_>,
    pred_map: MapView<'_>,
    gt: &[GtSegment],
    pred: &[PredSegment],
    categories: &Categories,
    cancel: &Cancel,
) -> Result<ImageResult, PqError> {
    let histogram = map_histogram(image_id, gt_map, pred_map, cancel)?;
    evaluate_image(image_id, &histogram, gt, pred, categories)
}

/// Which IoU matches segments and fills the sums.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum IouType {
    /// Mask IoU, panopticapi's.
    #[default]
    Mask,
    /// Boundary PQ's `min(mask IoU, boundary IoU)`, bands `dilation_ratio` of the image's
    /// diagonal wide (see [`crate::eval::boundary`]); with `reference_marker`, boundary-iou-api's
    /// numbers for a segment whose id is its interior marker (see
    /// [`crate::eval::boundary::band_histogram`]).
    Boundary { dilation_ratio: f64, reference_marker: bool },
}

/// Applies panopticapi's per-image rules to an intersection histogram.
///
/// The checks run in panopticapi's order, so the same bad input raises the same error: predicted
/// ids are visited in ascending order and the first one that is not listed in `pred`, or whose
/// category is unknown, fails; then any listed id absent from the PNG fails.
pub fn evaluate_image(
    image_id: &str,
    histogram: &PairHistogram,
    gt: &[GtSegment],
    pred: &[PredSegment],
    categories: &Categories,
) -> Result<ImageResult, PqError> {
    evaluate_image_with(image_id, histogram, gt, pred, categories, None)
}

/// [`evaluate_image`] with Boundary PQ's IoU when `bands` (the band histogram of
/// [`crate::eval::boundary::band_histogram`]) is given: each candidate pair's IoU is the smaller of
/// its mask IoU and its boundary IoU, for matching and for the sums; FP and FN counting is
/// unchanged.
pub fn evaluate_image_with(
    image_id: &str,
    histogram: &PairHistogram,
    gt: &[GtSegment],
    pred: &[PredSegment],
    categories: &Categories,
    bands: Option<&Bands>,
) -> Result<ImageResult, PqError> {
    let gt_index = index_ids(image_id, Side::GroundTruth, gt.iter().map(|s| s.id))?;
    let pred_index = index_ids(image_id, Side::Prediction, pred.iter().map(|s| s.id))?;

    let (pred_area, void_overlap) = predicted_areas(image_id, histogram, pred, &pred_index, categories)?;
    let bands = bands.map(BandIou::new);

    let threshold = categories.iou_threshold();
    let mut result = ImageResult::default();
    let mut gt_matched = vec![false; gt.len()];
    let mut pred_matched = vec![false; pred.len()];
    for (gt_id, pred_id, intersection) in histogram.iter() {
        let (Some(&g), Some(&p)) = (gt_index.get(&gt_id), pred_index.get(&pred_id)) else {
            continue;
        };
        let (gs, ps) = (&gt[g], &pred[p]);
        // Segments are matched and counted by class: their category, or its group.
        let class = categories.class_of(gs.category_id);
        if gs.iscrowd || class != categories.class_of(ps.category_id) {
            continue;
        }
        // Pixels of the prediction on ground-truth VOID are not part of the union.
        let union = i128::from(pred_area[p]) + i128::from(gs.area)
            - i128::from(intersection)
            - i128::from(void_overlap[p]);
        // A JSON area below the pixels it covers gives an empty union or an IoU above 1:
        // panopticapi counts the nonsense, mcahny/vps asserts; here it is an error.
        if union <= 0 || union < i128::from(intersection) {
            return Err(PqError::EmptyUnion {
                image_id: image_id.to_owned(),
                gt_id,
                gt_area: gs.area,
                pred_id,
                intersection,
                union: i64::try_from(union).unwrap_or(i64::MIN),
            });
        }
        let mut iou = intersection as f64 / union as f64;
        if let Some(bands) = &bands {
            iou = iou.min(bands.iou(gt_id, pred_id));
        }
        if categories.is_modified_stuff(class) {
            result.stats.entry(class).iou.add_f64(iou);
            if let Some(s) = result.sized(categories, gs.area, class) {
                s.iou.add_f64(iou);
            }
        } else if iou > threshold {
            if let Some(s) = result.sized(categories, gs.area, class) {
                s.tp += 1;
                s.iou.add_f64(iou);
            }
            // IoU > 0.5 makes every match unique on both sides: no assignment search is needed.
            result.matches.push(Match { gt_id, pred_id, category_id: class, iou });
            gt_matched[g] = true;
            pred_matched[p] = true;
        }
    }
    result.count_matches();

    // Only the last crowd segment of each class is remembered, as panopticapi's dict does.
    let mut crowd_of_class: HashMap<i64, u32> = HashMap::new();
    for (s, _) in gt.iter().zip(&gt_matched).filter(|(_, &matched)| !matched) {
        let class = categories.class_of(s.category_id);
        if s.iscrowd {
            crowd_of_class.insert(class, s.id);
        } else if categories.is_modified_stuff(class) {
            result.stats.entry(class).tp += 1;
            if let Some(s) = result.sized(categories, s.area, class) {
                s.tp += 1;
            }
        } else {
            result.stats.entry(class).fn_ += 1;
            if let Some(s) = result.sized(categories, s.area, class) {
                s.fn_ += 1;
            }
        }
    }

    for (p, s) in pred.iter().enumerate().filter(|&(p, _)| !pred_matched[p]) {
        let class = categories.class_of(s.category_id);
        if categories.is_modified_stuff(class) {
            continue;
        }
        let crowd = crowd_of_class.get(&class).map_or(0, |&c| histogram.get(c, s.id));
        // A prediction lying mostly on VOID or on a crowd region of its class is not penalised;
        // this half does not move with the matching threshold.
        if (void_overlap[p] + crowd) as f64 / pred_area[p] as f64 > 0.5 {
            result.ignored.push(s.id);
            continue;
        }
        result.stats.entry(class).fp += 1;
        if let Some(s) = result.sized(categories, pred_area[p], class) {
            s.fp += 1;
        }
    }
    Ok(result)
}

/// panopticapi's sanity checks of one image's prediction against its PNG, alone.
pub(crate) fn check_prediction(
    image_id: &str,
    histogram: &PairHistogram,
    pred: &[PredSegment],
    categories: &Categories,
) -> Result<(), PqError> {
    let pred_index = index_ids(image_id, Side::Prediction, pred.iter().map(|s| s.id))?;
    predicted_areas(image_id, histogram, pred, &pred_index, categories).map(drop)
}

/// Pixel area of every predicted segment and the part of it on ground-truth VOID, after
/// panopticapi's sanity checks of the prediction against its PNG.
fn predicted_areas(
    image_id: &str,
    histogram: &PairHistogram,
    pred: &[PredSegment],
    pred_index: &HashMap<u32, usize>,
    categories: &Categories,
) -> Result<(Vec<u64>, Vec<u64>), PqError> {
    let mut area = vec![0u64; pred.len()];
    let mut void_overlap = vec![0u64; pred.len()];
    let mut first_unlisted: Option<u32> = None;
    for (gt_id, pred_id, pixels) in histogram.iter() {
        if pred_id == VOID {
            continue;
        }
        if let Some(&p) = pred_index.get(&pred_id) {
            area[p] += pixels;
            if gt_id == VOID {
                void_overlap[p] += pixels;
            }
        } else {
            first_unlisted = Some(first_unlisted.map_or(pred_id, |id| id.min(pred_id)));
        }
    }
    let first_unknown_category = pred
        .iter()
        .zip(&area)
        .filter(|&(s, &a)| a > 0 && !categories.contains(s.category_id))
        .map(|(s, _)| *s)
        .min_by_key(|s| s.id);
    match (first_unlisted, first_unknown_category) {
        (Some(id), unknown) if unknown.is_none_or(|s| id < s.id) => {
            return Err(PqError::SegmentNotInJson { image_id: image_id.to_owned(), segment_id: id });
        }
        (_, Some(s)) => {
            return Err(PqError::UnknownCategory {
                image_id: image_id.to_owned(),
                segment_id: s.id,
                category_id: s.category_id,
            });
        }
        _ => {}
    }
    let mut absent: Vec<u32> = pred.iter().zip(&area).filter(|&(_, &a)| a == 0).map(|(s, _)| s.id).collect();
    if !absent.is_empty() {
        absent.sort_unstable();
        return Err(PqError::SegmentsNotInPng { image_id: image_id.to_owned(), segment_ids: absent });
    }
    Ok((area, void_overlap))
}

// Results must equal panopticapi's bit for bit, so floats are compared exactly.
#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::eval::segments::fixtures::{gt, pred};

    fn run(
        gt_map: &[u32],
        pred_map: &[u32],
        g: &[GtSegment],
        p: &[PredSegment],
    ) -> Result<ImageResult, PqError> {
        run_with(gt_map, pred_map, g, p, &Categories::new([1, 2]))
    }

    fn run_with(
        gt_map: &[u32],
        pred_map: &[u32],
        g: &[GtSegment],
        p: &[PredSegment],
        categories: &Categories,
    ) -> Result<ImageResult, PqError> {
        let gt_view = MapView { ids: gt_map, height: 1, width: gt_map.len() };
        let pred_view = MapView { ids: pred_map, height: 1, width: pred_map.len() };
        evaluate_maps("1", gt_view, pred_view, g, p, categories, &Cancel::new())
    }

    #[test]
    fn groups_match_across_their_categories() {
        // gt of category 1, pred of category 2: no match alone, a match when both are group 10.
        let (m, g, p) = ([1, 1, 1, 0], [gt(1, 1, false, 3)], [pred(1, 2)]);
        let r = run(&m, &m, &g, &p).unwrap();
        assert_eq!((r.stats.get(1).fn_, r.stats.get(2).fp), (1, 1));
        let grouped = Categories::grouped([(10, true)], [(1, 10), (2, 10)]).unwrap();
        let r = run_with(&m, &m, &g, &p, &grouped).unwrap();
        assert_eq!((r.matches.len(), r.matches[0].category_id, r.stats.get(10).tp), (1, 10, 1));
        // A crowd region of another category of the group ignores a prediction on it.
        let r =
            run_with(&[5, 5, 5, 5], &[7, 7, 7, 0], &[gt(5, 1, true, 4)], &[pred(7, 2)], &grouped).unwrap();
        assert_eq!(r.stats.get(10), crate::eval::stats::CategoryStats::default());
        assert_eq!(r.ignored, [7]);
    }

    #[test]
    fn a_threshold_above_half_needs_more_overlap_but_void_keeps_its_half() {
        // IoU 3/4 matches at 0.7, not at 0.75 (strictly above).
        let (gm, pm, g, p) = ([1, 1, 1, 1], [7, 7, 7, 0], [gt(1, 1, false, 4)], [pred(7, 1)]);
        let at = |t: f64| Categories::new([1]).with_iou_threshold(t).unwrap();
        assert_eq!(run_with(&gm, &pm, &g, &p, &at(0.7)).unwrap().matches.len(), 1);
        let r = run_with(&gm, &pm, &g, &p, &at(0.75)).unwrap();
        assert_eq!((r.matches.len(), r.stats.get(1).fp, r.stats.get(1).fn_), (0, 1, 1));
        // 2 of the prediction's 3 pixels on VOID: ignored whatever the threshold (the 0.5 stays).
        let r =
            run_with(&[1, 0, 0, 1], &[7, 7, 7, 0], &[gt(1, 1, false, 2)], &[pred(7, 1)], &at(0.9)).unwrap();
        assert_eq!((r.stats.get(1).fp, r.stats.get(1).fn_, r.ignored.len()), (0, 1, 1));
    }

    #[test]
    fn perfect_prediction_matches_everything() {
        let m = [1, 1, 2, 2, 2, 0];
        let r = run(&m, &m, &[gt(1, 1, false, 2), gt(2, 2, false, 3)], &[pred(1, 1), pred(2, 2)]).unwrap();
        assert_eq!(r.matches.len(), 2);
        assert_eq!(r.stats.get(1).tp, 1);
        assert_eq!(r.stats.get(2).iou.to_f64(), 1.0);
    }

    #[test]
    fn iou_of_exactly_half_is_not_a_match() {
        // gt 1 covers 4 pixels, pred 7 covers 2 of them: IoU = 2 / 4.
        let r = run(&[1, 1, 1, 1], &[7, 7, 0, 0], &[gt(1, 1, false, 4)], &[pred(7, 1)]).unwrap();
        assert!(r.matches.is_empty());
        assert_eq!((r.stats.get(1).fp, r.stats.get(1).fn_), (1, 1));
    }

    #[test]
    fn void_pixels_leave_the_union() {
        // pred 7: 2 px on gt 1, 2 px on VOID; union = 4 + 3 - 2 - 2 = 3 -> IoU 2/3.
        let r = run(&[1, 1, 1, 0, 0], &[7, 7, 0, 7, 7], &[gt(1, 1, false, 3)], &[pred(7, 1)]).unwrap();
        assert_eq!(r.matches[0].iou, 2.0 / 3.0);
    }

    #[test]
    fn prediction_on_crowd_is_ignored_and_crowd_is_not_fn() {
        let r = run(&[5, 5, 5, 5], &[7, 7, 7, 0], &[gt(5, 1, true, 4)], &[pred(7, 1)]).unwrap();
        assert_eq!(r.stats.get(1), crate::eval::stats::CategoryStats::default());
    }

    #[test]
    fn only_the_last_crowd_segment_of_a_category_counts() {
        let g = [gt(5, 1, true, 2), gt(6, 1, true, 2)];
        // pred 7 lies on the first crowd segment, which is forgotten: it is a false positive.
        let r = run(&[5, 5, 6, 6], &[7, 7, 0, 0], &g, &[pred(7, 1)]).unwrap();
        assert_eq!(r.stats.get(1).fp, 1);
        let r = run(&[5, 5, 6, 6], &[0, 0, 7, 7], &g, &[pred(7, 1)]).unwrap();
        assert_eq!(r.stats.get(1).fp, 0);
    }

    #[test]
    fn sanity_errors_in_panopticapi_order() {
        let g = [gt(1, 1, false, 4)];
        let e = run(&[1, 1, 1, 1], &[3, 9, 9, 0], &g, &[pred(9, 1)]).unwrap_err();
        assert!(matches!(e, PqError::SegmentNotInJson { segment_id: 3, .. }));
        let e = run(&[1, 1, 1, 1], &[3, 9, 9, 0], &g, &[pred(3, 99), pred(9, 1)]).unwrap_err();
        assert!(matches!(e, PqError::UnknownCategory { segment_id: 3, category_id: 99, .. }));
        let e = run(&[1, 1, 1, 1], &[9, 9, 9, 0], &g, &[pred(9, 1), pred(12, 1), pred(4, 2)]).unwrap_err();
        assert!(matches!(e, PqError::SegmentsNotInPng { ref segment_ids, .. } if segment_ids == &[4, 12]));
        assert_eq!(
            e.to_string(),
            "In the image with ID 1 the following segment IDs [4, 12] are presented in JSON and not presented in PNG."
        );
    }

    #[test]
    fn mismatched_shapes_and_bad_areas_are_errors() {
        let (a, b) =
            (MapView { ids: &[1, 1], height: 1, width: 2 }, MapView { ids: &[1, 1], height: 2, width: 1 });
        let e = evaluate_maps("3", a, b, &[], &[], &Categories::default(), &Cancel::new()).unwrap_err();
        assert!(e.to_string().contains("1x2") && e.to_string().contains("2x1"));
        let e = run(&[1, 1], &[7, 7], &[gt(1, 1, false, 0)], &[pred(7, 1)]).unwrap_err();
        assert!(matches!(e, PqError::EmptyUnion { .. }));
        // An area of 3 for 4 pixels, all predicted: IoU 4 / 3.
        let e = run(&[1, 1, 1, 1], &[7, 7, 7, 7], &[gt(1, 1, false, 3)], &[pred(7, 1)]).unwrap_err();
        assert!(e.to_string().contains("an intersection of 4 and a union of 3 pixels"), "{e}");
    }

    #[test]
    fn size_slices_count_a_match_by_its_ground_truth_and_a_false_positive_by_itself() {
        // Ground truth: segment 1 (3 px) and 2 (5 px), category 1. Prediction 7 covers segment 1
        // and one pixel of 2 (4 px, IoU 3/4: a match); 8 lies on the rest of 2 (4 px, IoU 4/5: a
        // match); 9 (1 px) lies on segment 3 (2 px, category 2): IoU 1/2, not a match.
        let gm = [1, 1, 1, 2, 2, 2, 2, 2, 3, 3];
        let pm = [7, 7, 7, 7, 8, 8, 8, 8, 9, 0];
        let g = [gt(1, 1, false, 3), gt(2, 1, false, 5), gt(3, 2, false, 2)];
        let p = [pred(7, 1), pred(8, 1), pred(9, 2)];
        let sliced = Categories::new([1, 2]).with_size_edges(&[4]).unwrap();
        let r = run_with(&gm, &pm, &g, &p, &sliced).unwrap();
        assert_eq!(r.stats, run(&gm, &pm, &g, &p).unwrap().stats);
        let [small, large] = &r.by_size[..] else { panic!("{:?}", r.by_size) };
        // Match 1-7 in the small slice (gt area 3) though the prediction has 4 px; 2-8 large.
        assert_eq!((small.get(1).tp, small.get(1).iou.to_f64(), large.get(1).tp), (1, 0.75, 1));
        assert_eq!(large.get(1).iou.to_f64(), 0.8);
        // Segment 3 (2 px) is missed in the small slice, prediction 9 (1 px) spurious there.
        assert_eq!((small.get(2).fn_, small.get(2).fp, large.get(2)), (1, 1, CategoryStats::default()));
        let mut sum = small.clone();
        sum.merge(large);
        assert_eq!(sum, r.stats);
        assert!(run(&gm, &pm, &g, &p).unwrap().by_size.is_empty());
    }
}
