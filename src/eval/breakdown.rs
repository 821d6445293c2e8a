//! The error breakdown: each false negative and false positive of an image given one cause
//! (wrong class, merge, split, poor localisation, missed / spurious), and the image's statistics
//! with every error of one kind fixed — a reducer over the same histogram as the totals. The
//! rules are written in `docs/reference/error-breakdown.md`.

use std::collections::{HashMap, HashSet};

use crate::eval::categories::Categories;
use crate::eval::histogram::PairHistogram;
use crate::eval::matching::ImageResult;
use crate::eval::segments::{GtSegment, PredSegment};
use crate::eval::stats::PqStats;
use crate::{PqError, VOID};

/// Below this IoU an overlap is background (TIDE's).
pub const BACKGROUND_IOU: f64 = 0.1;

/// The kinds of error, in the order of precedence, then mask quality: the order of
/// [`fixed_stats`]'s tables.
pub const KINDS: [&str; 7] =
    ["wrong_class", "merge", "split", "localisation", "missed", "spurious", "mask_quality"];

/// Mask quality's place in [`KINDS`]: not a cause, every match credited with IoU 1.
const MASK_QUALITY: usize = 6;

/// A cause, as an index into [`KINDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    WrongClass = 0,
    Merge = 1,
    Split = 2,
    Localisation = 3,
    /// A false negative with no other cause.
    Missed = 4,
    /// A false positive with no other cause (background).
    Spurious = 5,
}

/// One overlap of a ground-truth and a predicted segment that may be an error's partner.
#[derive(Debug, Clone, Copy)]
struct Pair {
    gt: usize,
    pred: usize,
    intersection: u64,
    iou: f64,
}

/// The sizes an image's pairs are measured with.
struct Areas {
    /// Pixels of each predicted segment, and those on ground-truth VOID.
    pred: Vec<u64>,
    pred_void: Vec<u64>,
    /// Pixels of each ground-truth segment in its PNG ("mostly inside" is a share of pixels).
    gt_pixels: Vec<u64>,
}

/// What the breakdown of one image found: each error's cause, and what fixing it credits.
#[derive(Debug, Default)]
pub struct ImageErrors {
    /// `(ground-truth index, cause, credited IoU)` of every false negative.
    pub false_negatives: Vec<(usize, Cause, f64)>,
    /// `(prediction index, cause)` of every false positive.
    pub false_positives: Vec<(usize, Cause)>,
    /// Matched ground-truth segments whose split fragments, once removed, raise their IoU: the
    /// match's ground-truth id and its IoU with the union of its match and fragments.
    pub recredited: Vec<(u32, f64)>,
}

impl Cause {
    /// The cause's name, as [`KINDS`] has it.
    #[must_use]
    pub fn name(self) -> &'static str {
        KINDS[self as usize]
    }
}

/// Every error's cause in one image evaluated into `result` (mask IoU; PQ† is refused).
pub fn image_errors(
    histogram: &PairHistogram,
    gt: &[GtSegment],
    pred: &[PredSegment],
    result: &ImageResult,
    categories: &Categories,
) -> Result<ImageErrors, PqError> {
    if categories.modified() {
        return Err(PqError::BadRules {
            argument: "error_breakdown",
            message: "the error breakdown is defined for PQ, not PQ† (stuff has no false positives or negatives there)"
                .into(),
        });
    }
    let gt_index: HashMap<u32, usize> = gt.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let pred_index: HashMap<u32, usize> = pred.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    // Crowd regions and the predictions left out (mostly on VOID or crowd) are nobody's partner.
    let ignored: HashSet<u32> = result.ignored.iter().copied().collect();
    let (areas, pairs) = measure(histogram, gt, &gt_index, &pred_index, &ignored);
    let class_gt = |g: usize| categories.class_of(gt[g].category_id);
    let class_pred = |p: usize| categories.class_of(pred[p].category_id);
    let inside_gt = |pair: &Pair| share(pair.intersection, areas.gt_pixels[pair.gt]) > 0.5;
    let inside_pred = |pair: &Pair| share(pair.intersection, areas.pred[pair.pred]) > 0.5;
    let same = |pair: &Pair| class_gt(pair.gt) == class_pred(pair.pred);
    // For each prediction, the same-class ground truths mostly inside it; for each ground truth,
    // the same-class predictions mostly inside it.
    let mut gts_inside: Vec<Vec<usize>> = vec![Vec::new(); pred.len()];
    let mut preds_inside: Vec<Vec<&Pair>> = vec![Vec::new(); gt.len()];
    for pair in pairs.iter().filter(|pair| same(pair)) {
        if inside_gt(pair) {
            gts_inside[pair.pred].push(pair.gt);
        }
        if inside_pred(pair) {
            preds_inside[pair.gt].push(pair);
        }
    }
    let mut by_gt: Vec<Vec<&Pair>> = vec![Vec::new(); gt.len()];
    let mut by_pred: Vec<Vec<&Pair>> = vec![Vec::new(); pred.len()];
    for pair in &pairs {
        by_gt[pair.gt].push(pair);
        by_pred[pair.pred].push(pair);
    }
    let threshold = categories.iou_threshold();
    let matched_gt: HashSet<u32> = result.matches.iter().map(|m| m.gt_id).collect();
    let matched_pred: HashSet<u32> = result.matches.iter().map(|m| m.pred_id).collect();
    let mut errors = ImageErrors::default();
    for (g, segment) in gt.iter().enumerate() {
        if segment.iscrowd || matched_gt.contains(&segment.id) {
            continue;
        }
        let overlaps = &by_gt[g];
        let (cause, credit) =
            if let Some(pair) = overlaps.iter().find(|pair| !same(pair) && pair.iou > threshold) {
                (Cause::WrongClass, pair.iou)
            } else if let Some(pair) =
                overlaps.iter().find(|pair| same(pair) && inside_gt(pair) && gts_inside[pair.pred].len() >= 2)
            {
                (Cause::Merge, pair.iou)
            } else if preds_inside[g].len() >= 2 {
                (Cause::Split, union_iou(segment, &preds_inside[g], &areas))
            } else if let Some(pair) =
                best_localisation(overlaps.iter().copied().filter(|pair| same(pair)), threshold, pred)
            {
                (Cause::Localisation, pair.iou)
            } else {
                (Cause::Missed, 0.0)
            };
        errors.false_negatives.push((g, cause, credit));
    }
    let mut fragments: HashMap<usize, Vec<&Pair>> = HashMap::new();
    for (p, segment) in pred.iter().enumerate() {
        if matched_pred.contains(&segment.id) || ignored.contains(&segment.id) {
            continue;
        }
        let overlaps = &by_pred[p];
        let host =
            overlaps.iter().find(|pair| same(pair) && inside_pred(pair) && preds_inside[pair.gt].len() >= 2);
        let cause = if overlaps.iter().any(|pair| !same(pair) && pair.iou > threshold) {
            Cause::WrongClass
        } else if gts_inside[p].len() >= 2 {
            Cause::Merge
        } else if let Some(host) = host {
            fragments.entry(host.gt).or_default().push(host);
            Cause::Split
        } else if overlaps.iter().any(|pair| same(pair) && pair.iou > BACKGROUND_IOU && pair.iou <= threshold)
        {
            Cause::Localisation
        } else {
            Cause::Spurious
        };
        errors.false_positives.push((p, cause));
    }
    // A matched segment whose fragments are split errors: fixing them credits it with its IoU
    // with the union of its match and its fragments, when that is higher.
    for m in &result.matches {
        let g = gt_index[&m.gt_id];
        let Some(parts) = fragments.get(&g) else { continue };
        let Some(matched) = by_gt[g].iter().find(|pair| pred[pair.pred].id == m.pred_id) else { continue };
        let mut union: Vec<&Pair> = parts.clone();
        union.push(matched);
        let iou = union_iou(&gt[g], &union, &areas);
        if iou > m.iou {
            errors.recredited.push((m.gt_id, iou));
        }
    }
    Ok(errors)
}

/// Every predicted segment's pixels (and those on VOID), every ground-truth segment's pixels,
/// and every overlap that may be an error's partner, with its IoU.
fn measure(
    histogram: &PairHistogram,
    gt: &[GtSegment],
    gt_index: &HashMap<u32, usize>,
    pred_index: &HashMap<u32, usize>,
    ignored: &HashSet<u32>,
) -> (Areas, Vec<Pair>) {
    let mut areas = Areas {
        pred: vec![0; pred_index.len()],
        pred_void: vec![0; pred_index.len()],
        gt_pixels: vec![0; gt.len()],
    };
    for (g, p, pixels) in histogram.iter() {
        if let Some(&p) = pred_index.get(&p) {
            areas.pred[p] += pixels;
            if g == VOID {
                areas.pred_void[p] += pixels;
            }
        }
        if let Some(&g) = gt_index.get(&g) {
            areas.gt_pixels[g] += pixels;
        }
    }
    let mut pairs = Vec::new();
    for (g, p, intersection) in histogram.iter() {
        let (Some(&gi), Some(&pi)) = (gt_index.get(&g), pred_index.get(&p)) else { continue };
        if gt[gi].iscrowd || ignored.contains(&p) {
            continue;
        }
        let union = i128::from(gt[gi].area) + i128::from(areas.pred[pi])
            - i128::from(intersection)
            - i128::from(areas.pred_void[pi]);
        // A JSON area below the pixels (refused by the matching for same-class pairs): no IoU.
        let iou = if union > 0 && union >= i128::from(intersection) {
            intersection as f64 / union as f64
        } else {
            0.0
        };
        pairs.push(Pair { gt: gi, pred: pi, intersection, iou });
    }
    (areas, pairs)
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The IoU of ground-truth segment `g` with the union of the (disjoint) predictions of `pairs`,
/// under panopticapi's VOID rule.
fn union_iou(g: &GtSegment, pairs: &[&Pair], areas: &Areas) -> f64 {
    let intersection: u64 = pairs.iter().map(|pair| pair.intersection).sum();
    let pred: u64 = pairs.iter().map(|pair| areas.pred[pair.pred]).sum();
    let void: u64 = pairs.iter().map(|pair| areas.pred_void[pair.pred]).sum();
    let union = i128::from(g.area) + i128::from(pred) - i128::from(intersection) - i128::from(void);
    if union > 0 && union >= i128::from(intersection) {
        intersection as f64 / union as f64
    } else {
        0.0
    }
}

/// The same-class overlap with the highest IoU in (t_b, t_f], ties to the lowest prediction id.
fn best_localisation<'a>(
    overlaps: impl Iterator<Item = &'a Pair>,
    threshold: f64,
    pred: &[PredSegment],
) -> Option<&'a Pair> {
    overlaps
        .filter(|pair| pair.iou > BACKGROUND_IOU && pair.iou <= threshold)
        .min_by(|a, b| b.iou.total_cmp(&a.iou).then(pred[a.pred].id.cmp(&pred[b.pred].id)))
}

/// The image's statistics with every error of one kind fixed, one table per [`KINDS`] entry:
/// false positives of the kind removed, false negatives turned into true positives credited with
/// their partner's IoU (a missed segment removed instead), split fragments' hosts re-credited;
/// mask quality credits every match with IoU 1.
#[must_use]
pub fn fixed_stats(
    errors: &ImageErrors,
    gt: &[GtSegment],
    pred: &[PredSegment],
    result: &ImageResult,
    categories: &Categories,
) -> Vec<PqStats> {
    let recredited: HashMap<u32, f64> = errors.recredited.iter().copied().collect();
    (0..KINDS.len())
        .map(|kind| {
            // Rebuilt from the counts and the matches' IoUs: the same exact sums, with the
            // fixed kind's credits added (an exact sum is only ever added to).
            let mut fixed = PqStats::new();
            for (class, s) in result.stats.iter() {
                let entry = fixed.entry(class);
                (entry.tp, entry.fp, entry.fn_) = (s.tp, s.fp, s.fn_);
            }
            for m in &result.matches {
                let iou = if kind == MASK_QUALITY {
                    1.0
                } else if kind == Cause::Split as usize {
                    recredited.get(&m.gt_id).copied().unwrap_or(m.iou)
                } else {
                    m.iou
                };
                fixed.entry(m.category_id).iou.add_f64(iou);
            }
            for &(g, cause, credit) in &errors.false_negatives {
                if cause as usize != kind {
                    continue;
                }
                let entry = fixed.entry(categories.class_of(gt[g].category_id));
                entry.fn_ -= 1;
                if cause != Cause::Missed {
                    entry.tp += 1;
                    entry.iou.add_f64(credit);
                }
            }
            for &(p, cause) in &errors.false_positives {
                if cause as usize == kind {
                    fixed.entry(categories.class_of(pred[p].category_id)).fp -= 1;
                }
            }
            fixed
        })
        .collect()
}

// The worked examples of docs/reference/error-breakdown.md, with exact expected numbers.
#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::eval::categories::CategoryInfo;
    use crate::eval::histogram::MapView;
    use crate::eval::matching::evaluate_maps;
    use crate::runtime::parallel::Cancel;

    /// Pixels of no segment in the examples: a crowd region of a class of its own, so that they
    /// are neither VOID (which would leave the union) nor anyone's error or partner.
    const BACKGROUND: u32 = 9;

    /// The image's PQ with each kind fixed, minus its PQ: All, over `infos`.
    fn deltas(
        parts: &[(u32, u32, usize)],
        gt: &[GtSegment],
        pred: &[PredSegment],
        infos: &[(i64, bool)],
    ) -> Vec<f64> {
        let (mut gt_map, mut pred_map) = (Vec::new(), Vec::new());
        for &(g, p, n) in parts {
            gt_map.extend(std::iter::repeat_n(g, n));
            pred_map.extend(std::iter::repeat_n(p, n));
        }
        let mut gt = gt.to_vec();
        gt.push(GtSegment { id: BACKGROUND, category_id: 9, iscrowd: true, area: 0 });
        let categories = Categories::with_kinds(infos.iter().copied().chain([(9, false)]));
        let gt_view = MapView { ids: &gt_map, height: 1, width: gt_map.len() };
        let pred_view = MapView { ids: &pred_map, height: 1, width: pred_map.len() };
        let result = evaluate_maps("1", gt_view, pred_view, &gt, pred, &categories, &Cancel::new()).unwrap();
        let histogram = crate::eval::histogram::histogram_of(&gt_map, &pred_map, &Cancel::new()).unwrap();
        let errors = image_errors(&histogram, &gt, pred, &result, &categories).unwrap();
        let infos: Vec<CategoryInfo> =
            infos.iter().map(|&(id, isthing)| CategoryInfo { id, isthing }).collect();
        let pq = result.stats.average(&infos, None).pq;
        fixed_stats(&errors, &gt, pred, &result, &categories)
            .iter()
            .map(|f| f.average(&infos, None).pq - pq)
            .collect()
    }

    fn segment(id: u32, category_id: i64, area: i64) -> GtSegment {
        GtSegment { id, category_id, iscrowd: false, area }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    const B: u32 = BACKGROUND;

    #[test]
    fn wrong_class() {
        // person g (100 px), dog p (90 px, 80 on g).
        let parts = [(1, 7, 80), (1, 0, 20), (B, 7, 10), (B, 0, 10)];
        let d = deltas(
            &parts,
            &[segment(1, 1, 100)],
            &[PredSegment { id: 7, category_id: 2 }],
            &[(1, true), (2, true)],
        );
        assert!(close(d[0], 80.0 / 110.0), "{d:?}");
        assert!(d[1..6].iter().all(|&x| x == 0.0), "{d:?}");
    }

    #[test]
    fn merge() {
        // persons g1 (60) and g2 (40), one person p of 120 px over both and 20 px of background.
        let parts = [(1, 7, 60), (2, 7, 40), (B, 7, 20)];
        let gts = [segment(1, 1, 60), segment(2, 1, 40)];
        let d = deltas(&parts, &gts, &[PredSegment { id: 7, category_id: 1 }], &[(1, true)]);
        assert!(close(d[1], f64::midpoint(0.5, 40.0 / 120.0)), "{d:?}");
    }

    #[test]
    fn split() {
        // road g (200 px); a (90 px, all on g), b (90 px, 80 on g).
        let parts = [(1, 5, 90), (1, 6, 80), (1, 0, 30), (B, 6, 10)];
        let preds = [PredSegment { id: 5, category_id: 3 }, PredSegment { id: 6, category_id: 3 }];
        let d = deltas(&parts, &[segment(1, 3, 200)], &preds, &[(3, false)]);
        assert!(close(d[2], 170.0 / 210.0), "{d:?}");
    }

    #[test]
    fn localisation_and_spurious() {
        // car g (100 px); car p (60 px, 40 on g); car q (30 px away from everything).
        let parts = [(1, 5, 40), (1, 0, 60), (B, 5, 20), (B, 6, 30)];
        let preds = [PredSegment { id: 5, category_id: 1 }, PredSegment { id: 6, category_id: 1 }];
        let d = deltas(&parts, &[segment(1, 1, 100)], &preds, &[(1, true)]);
        assert!(close(d[3], (1.0 / 3.0) / 1.5), "{d:?}");
        assert_eq!(d[5], 0.0);
    }

    #[test]
    fn missed_and_mask_quality() {
        // sky s (500 px), 450 of them predicted; person g (50 px) untouched.
        let parts = [(1, 5, 450), (1, 0, 50), (2, 0, 50)];
        let d = deltas(
            &parts,
            &[segment(1, 2, 500), segment(2, 1, 50)],
            &[PredSegment { id: 5, category_id: 2 }],
            &[(1, true), (2, false)],
        );
        assert!(close(d[4], 0.45), "{d:?}");
        assert!(close(d[6], 0.05), "{d:?}");
    }

    #[test]
    fn a_matched_segment_is_recredited_when_its_fragments_are_fixed() {
        // g (100 px): matched by a (60 px, all on g); fragment b (30 px, all on g).
        let parts = [(1, 5, 60), (1, 6, 30), (1, 0, 10)];
        let preds = [PredSegment { id: 5, category_id: 1 }, PredSegment { id: 6, category_id: 1 }];
        let d = deltas(&parts, &[segment(1, 1, 100)], &preds, &[(1, true)]);
        // PQ = 0.6 / 1.5; fixed: b removed, the match credited 90 / 100.
        assert!(close(d[2], 0.9 - 0.4), "{d:?}");
    }

    #[test]
    fn pq_dagger_is_refused() {
        let categories = Categories::with_kinds([(1, false)]).with_modified_stuff();
        let histogram = crate::eval::histogram::histogram_of(&[1], &[1], &Cancel::new()).unwrap();
        let error = image_errors(&histogram, &[], &[], &ImageResult::default(), &categories).unwrap_err();
        assert!(error.to_string().contains("PQ†"), "{error}");
    }
}
