//! Differential fuzzing of the per-image rules: panoptiq's `evaluate_maps` against a plain
//! reference written here from panopticapi's `pq_compute_single_core`, on arbitrary small id
//! maps and segment lists. Same counts and bit-identical IoU sums, or the same error.
#![no_main]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use panoptiq::eval::exact::ExactSum;
use panoptiq::eval::histogram::MapView;
use panoptiq::eval::matching::evaluate_maps;
use panoptiq::runtime::parallel::Cancel;
use panoptiq::eval::categories::Categories;
use panoptiq::eval::segments::{GtSegment, PredSegment};
use panoptiq::eval::stats::PqStats;
use panoptiq::PqError;

#[derive(Debug)]
struct Case {
    height: usize,
    width: usize,
    gt_map: Vec<u32>,
    pred_map: Vec<u32>,
    gt: Vec<GtSegment>,
    pred: Vec<PredSegment>,
    categories: Vec<i64>,
}

fn case(u: &mut Unstructured<'_>) -> Result<Case> {
    let (height, width) = (u.int_in_range(1..=12usize)?, u.int_in_range(1..=12usize)?);
    // Few distinct ids, so that segments overlap, match, split and merge often.
    let map = |u: &mut Unstructured<'_>| {
        (0..height * width).map(|_| u.int_in_range(0..=5u32)).collect::<Result<Vec<_>>>()
    };
    let (gt_map, pred_map) = (map(u)?, map(u)?);
    let gt = (0..u.int_in_range(0..=6usize)?)
        .map(|_| {
            Ok(GtSegment {
                id: u.int_in_range(0..=6)?,
                category_id: u.int_in_range(1..=4)?,
                iscrowd: u.ratio(1, 5)?,
                area: u.int_in_range(-2..=150)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let pred = (0..u.int_in_range(0..=6usize)?)
        .map(|_| Ok(PredSegment { id: u.int_in_range(0..=6)?, category_id: u.int_in_range(1..=4)? }))
        .collect::<Result<Vec<_>>>()?;
    let categories = (1..=4).filter(|_| u.ratio(7, 8).unwrap_or(true)).collect();
    Ok(Case { height, width, gt_map, pred_map, gt, pred, categories })
}

/// What the reference says: per-category (IoU sum, TP, FP, FN), or which rule failed.
#[derive(Debug, PartialEq)]
enum Outcome {
    Stats(BTreeMap<i64, (ExactSum, u64, u64, u64)>),
    ListedTwice,
    VoidListed,
    NotInJson(u32),
    NotInPng(Vec<u32>),
    UnknownCategory(u32),
    EmptyUnion,
}

fn reference(c: &Case) -> Outcome {
    // panoptiq's own checks come first, ground truth then prediction, each list in its order:
    // a segment listed as VOID, or listed twice.
    for ids in [c.gt.iter().map(|s| s.id).collect::<Vec<_>>(), c.pred.iter().map(|s| s.id).collect()] {
        let mut seen = BTreeSet::new();
        for id in ids {
            if id == 0 {
                return Outcome::VoidListed;
            }
            if !seen.insert(id) {
                return Outcome::ListedTwice;
            }
        }
    }
    let gt: HashMap<u32, &GtSegment> = c.gt.iter().map(|s| (s.id, s)).collect();
    let pred: HashMap<u32, &PredSegment> = c.pred.iter().map(|s| (s.id, s)).collect();
    // Predicted areas, visiting the PNG's labels in ascending order as np.unique gives them.
    let mut pred_area: BTreeMap<u32, i64> = BTreeMap::new();
    for &id in &c.pred_map {
        *pred_area.entry(id).or_default() += 1;
    }
    let mut unseen: BTreeSet<u32> = pred.keys().copied().collect();
    for &label in pred_area.keys().filter(|&&l| l != 0) {
        let Some(segment) = pred.get(&label) else { return Outcome::NotInJson(label) };
        unseen.remove(&label);
        if !c.categories.contains(&segment.category_id) {
            return Outcome::UnknownCategory(label);
        }
    }
    if !unseen.is_empty() {
        return Outcome::NotInPng(unseen.into_iter().collect());
    }
    let mut pairs: BTreeMap<(u32, u32), i64> = BTreeMap::new();
    for (&g, &p) in c.gt_map.iter().zip(&c.pred_map) {
        *pairs.entry((g, p)).or_default() += 1;
    }
    // IoUs are summed with the exact accumulator (its own tests check it against math.fsum).
    let mut stats: BTreeMap<i64, (ExactSum, u64, u64, u64)> = BTreeMap::new();
    let (mut gt_matched, mut pred_matched) = (BTreeSet::new(), BTreeSet::new());
    for (&(g, p), &intersection) in &pairs {
        let (Some(gs), Some(ps)) = (gt.get(&g), pred.get(&p)) else { continue };
        if gs.iscrowd || gs.category_id != ps.category_id {
            continue;
        }
        let union = pred_area[&p] + gs.area - intersection - pairs.get(&(0, p)).copied().unwrap_or(0);
        // A JSON area below the pixels: an empty union or an IoU above 1, refused.
        if union <= 0 || union < intersection {
            return Outcome::EmptyUnion;
        }
        let iou = intersection as f64 / union as f64;
        if iou > 0.5 {
            let entry = stats.entry(gs.category_id).or_default();
            entry.0.add_f64(iou);
            entry.1 += 1;
            gt_matched.insert(g);
            pred_matched.insert(p);
        }
    }
    let mut crowd_by_category = HashMap::new();
    for s in &c.gt {
        if s.iscrowd {
            crowd_by_category.insert(s.category_id, s.id); // the last one wins, as in panopticapi
        } else if !gt_matched.contains(&s.id) {
            stats.entry(s.category_id).or_default().3 += 1;
        }
    }
    for s in c.pred.iter().filter(|s| !pred_matched.contains(&s.id)) {
        let mut ignored = pairs.get(&(0, s.id)).copied().unwrap_or(0);
        if let Some(&crowd) = crowd_by_category.get(&s.category_id) {
            ignored += pairs.get(&(crowd, s.id)).copied().unwrap_or(0);
        }
        if ignored as f64 / pred_area[&s.id] as f64 <= 0.5 {
            stats.entry(s.category_id).or_default().2 += 1;
        }
    }
    Outcome::Stats(stats)
}

fn ours(c: &Case) -> Outcome {
    let view = |ids| MapView { ids, height: c.height, width: c.width };
    let categories = Categories::new(c.categories.iter().copied());
    match evaluate_maps("1", view(&c.gt_map), view(&c.pred_map), &c.gt, &c.pred, &categories, &Cancel::new())
    {
        Ok(image) => {
            let mut totals = PqStats::new();
            totals.merge(&image.stats);
            Outcome::Stats(
                totals
                    .iter()
                    .filter(|(_, s)| s.iou != ExactSum::ZERO || s.tp + s.fp + s.fn_ > 0)
                    .map(|(id, s)| (id, (s.iou, s.tp, s.fp, s.fn_)))
                    .collect(),
            )
        }
        Err(PqError::DuplicateSegment { .. }) => Outcome::ListedTwice,
        Err(PqError::VoidSegment { .. }) => Outcome::VoidListed,
        Err(PqError::SegmentNotInJson { segment_id, .. }) => Outcome::NotInJson(segment_id),
        Err(PqError::SegmentsNotInPng { segment_ids, .. }) => Outcome::NotInPng(segment_ids),
        Err(PqError::UnknownCategory { segment_id, .. }) => Outcome::UnknownCategory(segment_id),
        Err(PqError::EmptyUnion { .. }) => Outcome::EmptyUnion,
        Err(other) => panic!("unexpected error {other}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(c) = case(&mut Unstructured::new(data)) else { return };
    let (ours, expected) = (ours(&c), reference(&c));
    // IoU sums are exact integers: equality is bit-exact whatever the order of addition.
    assert!(ours == expected, "{c:?}\nours {ours:?}\nreference {expected:?}");
});
