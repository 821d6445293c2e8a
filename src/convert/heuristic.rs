//! panopticapi's combination heuristic (its `combine_semantic_and_instance_predictions.py`, the
//! paper's section 7) on a canvas of masks, shared by the converter and by scoring masks.

use super::canvas::Canvas;
use super::rle::Rle;
use crate::PqError;

/// The combination heuristic's thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CombineRule {
    /// An instance is dropped when more than this share of its area is already covered.
    pub overlap_thr: f64,
    /// A stuff region is dropped when less than this many of its pixels are left uncovered.
    pub stuff_area_limit: f64,
}

/// The order instances are considered in: by descending score, equal scores keeping their order
/// (Python's stable `sorted(key=lambda a: -a["score"])`).
pub fn combine_order(scored: impl Iterator<Item = (usize, f64)>) -> Vec<usize> {
    let mut order: Vec<(usize, f64)> = scored.collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    order.into_iter().map(|(i, _)| i).collect()
}

/// The heuristic on `canvas`: `things` in order, each dropped if empty or if more than
/// `overlap_thr` of it lies under the things accepted before it (their union is exactly the
/// painted pixels); then each of `stuff`, dropped if fewer than `stuff_area_limit` of its pixels
/// are free. An accepted mask gets its id from `id_of(is_stuff, index)` and is painted where the
/// image is still free.
pub fn combine_masks(
    canvas: &mut Canvas,
    things: &[&Rle],
    stuff: &[&Rle],
    rule: CombineRule,
    mut id_of: impl FnMut(bool, usize) -> Result<u32, PqError>,
) -> Result<(), PqError> {
    for (i, mask) in things.iter().enumerate() {
        let area = mask.area();
        if area == 0 {
            continue;
        }
        let covered = canvas.painted_area(mask);
        if covered as f64 / area as f64 > rule.overlap_thr {
            continue;
        }
        let id = id_of(false, i)?;
        canvas.paint_free(mask, id);
    }
    for (i, mask) in stuff.iter().enumerate() {
        if ((mask.area() - canvas.painted_area(mask)) as f64) < rule.stuff_area_limit {
            continue;
        }
        let id = id_of(true, i)?;
        canvas.paint_free(mask, id);
    }
    Ok(())
}
