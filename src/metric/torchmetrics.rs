//! torchmetrics' per-image rules (`PanopticQuality` and `ModifiedPanopticQuality`, torchmetrics
//! 1.9), applied to an intersection histogram of two [`LabelledPair`](crate::metric::labels::LabelledPair) maps.
//!
//! They differ from panopticapi's: VOID is subtracted from the union on both sides, an
//! unmatched segment lying more than half on the other side's VOID is neither FP nor FN, and
//! there is no crowd. torchmetrics divides pixel counts as `float32` tensors, so the IoUs and
//! VOID ratios here are `f32` quotients too: that is what makes the numbers equal its own.

use crate::eval::categories::Categories;
use crate::eval::histogram::PairHistogram;
use crate::eval::matching::{ImageResult, Match};
use crate::metric::labels::Segment;
use crate::VOID;

/// `a / b` as torch divides two integer tensors: both converted to `f32`, then divided.
// Rounding to f32 is the point: it reproduces torchmetrics' arithmetic.
#[allow(clippy::cast_possible_truncation)]
fn ratio_f32(a: u64, b: u64) -> f32 {
    a as f32 / b as f32
}

/// Evaluates one image under torchmetrics' rules, segments scored by their class (category or
/// group) and matched above the categories' IoU threshold. Stuff that `categories` scores as
/// PQ† does adds the IoU of every overlapping same-class pair, counts each target segment once
/// in the denominator, and has no FP or FN.
#[must_use]
pub fn evaluate_image(
    histogram: &PairHistogram,
    gt: &[Segment],
    pred: &[Segment],
    categories: &Categories,
) -> ImageResult {
    let modified_stuff = |class| categories.is_modified_stuff(class);
    let threshold = categories.iou_threshold();
    // Segment i has id i + 1 (see `Labelled`): ids index these arrays directly.
    let mut pred_on_void = vec![0u64; pred.len()];
    let mut gt_under_void = vec![0u64; gt.len()];
    for (g, p, pixels) in histogram.iter() {
        match (g, p) {
            (VOID, VOID) => {}
            (VOID, p) => pred_on_void[p as usize - 1] += pixels,
            (g, VOID) => gt_under_void[g as usize - 1] += pixels,
            _ => {}
        }
    }
    let mut result = ImageResult::default();
    let mut gt_matched = vec![false; gt.len()];
    let mut pred_matched = vec![false; pred.len()];
    for (g, p, intersection) in histogram.iter() {
        if g == VOID || p == VOID {
            continue;
        }
        let (gi, pi) = (g as usize - 1, p as usize - 1);
        let category_id = categories.class_of(gt[gi].category_id);
        if categories.class_of(pred[pi].category_id) != category_id {
            continue;
        }
        // At least `intersection` pixels: both area terms are ≥ it once their VOID is removed.
        let union = pred[pi].area - pred_on_void[pi] + gt[gi].area - gt_under_void[gi] - intersection;
        let iou = ratio_f32(intersection, union);
        if modified_stuff(category_id) {
            result.stats.entry(category_id).iou.add_f64(f64::from(iou));
        } else if f64::from(iou) > threshold {
            result.matches.push(Match { gt_id: g, pred_id: p, category_id, iou: f64::from(iou) });
            gt_matched[gi] = true;
            pred_matched[pi] = true;
        }
    }
    result.count_matches();
    for (gi, s) in gt.iter().enumerate() {
        let class = categories.class_of(s.category_id);
        if modified_stuff(class) {
            result.stats.entry(class).tp += 1;
        } else if !gt_matched[gi] && ratio_f32(gt_under_void[gi], s.area) <= 0.5 {
            result.stats.entry(class).fn_ += 1;
        }
    }
    for (pi, s) in pred.iter().enumerate() {
        let class = categories.class_of(s.category_id);
        if !modified_stuff(class) && !pred_matched[pi] && ratio_f32(pred_on_void[pi], s.area) <= 0.5 {
            result.stats.entry(class).fp += 1;
        }
    }
    result
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    fn seg(id: u32, category_id: i64, area: u64) -> Segment {
        Segment { id, category_id, area }
    }

    fn run(gt_ids: &[u32], pred_ids: &[u32], gt: &[Segment], pred: &[Segment], stuff: i64) -> ImageResult {
        let mut h = PairHistogram::new();
        h.add_maps(gt_ids, pred_ids).unwrap();
        let ids = gt.iter().chain(pred).map(|s| s.category_id);
        let categories = Categories::with_kinds(ids.map(|c| (c, c != stuff))).with_modified_stuff();
        evaluate_image(&h, gt, pred, &categories)
    }

    #[test]
    fn void_leaves_the_union_on_both_sides() {
        // gt 1: 4 px, one under predicted VOID; pred 1: 3 px, one on target VOID.
        // union = 3 - 1 + 4 - 1 - 2 = 3 -> IoU 2/3 (panopticapi's rule would give 2/4: no match).
        let r = run(&[1, 1, 1, 1, 0], &[0, 1, 1, 2, 1], &[seg(1, 3, 4)], &[seg(1, 3, 3), seg(2, 4, 1)], -1);
        assert_eq!(r.matches.len(), 1);
        assert_eq!(r.stats.get(3).iou.to_f64(), f64::from(2f32 / 3f32));
        assert_eq!((r.stats.get(3).fn_, r.stats.get(3).fp, r.stats.get(4).fp), (0, 0, 1));
    }

    #[test]
    fn segments_mostly_on_void_are_neither_fp_nor_fn() {
        let r = run(&[1, 1, 1, 0, 0], &[0, 0, 1, 1, 1], &[seg(1, 3, 3)], &[seg(1, 5, 3)], -1);
        assert_eq!(r.stats.get(3).fn_, 0);
        assert_eq!(r.stats.get(5).fp, 0);
    }

    #[test]
    fn modified_stuff_sums_every_overlap_and_counts_targets() {
        // Stuff 6: target 1 (4 px), prediction 1 covers 1 px of it and 3 other px.
        let r = run(
            &[1, 1, 1, 1, 2, 2, 2],
            &[1, 2, 2, 2, 1, 1, 1],
            &[seg(1, 6, 4), seg(2, 9, 3)],
            &[seg(1, 6, 4), seg(2, 9, 3)],
            6,
        );
        let s = r.stats.get(6);
        assert_eq!((s.tp, s.fp, s.fn_), (1, 0, 0));
        assert_eq!(s.iou.to_f64(), f64::from(1f32 / 7f32));
    }
}
