//! One side of an image given as masks instead of a PNG — the segments of a `segments_info`
//! that carry a COCO `segmentation` — painted into the id map evaluation reads, under a stated
//! rule for pixels two masks claim.

use super::canvas::Canvas;
use super::heuristic::{combine_masks, combine_order, CombineRule};
use super::rle::Rle;
use super::segmentation::Segmentation;
use crate::png::RunMap;
use crate::PqError;

/// How overlapping masks are resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OverlapRule {
    /// Two masks sharing a pixel are an error naming both.
    Error,
    /// panopticapi's combination heuristic: things by descending score (below
    /// `confidence_thr` dropped), each dropped when more than `overlap_thr` of it is covered,
    /// then stuff in order, dropped when fewer than `stuff_area_limit` pixels are free; a
    /// segment is painted where the image is still free.
    Combine { confidence_thr: f64, rule: CombineRule },
}

/// One segment's mask.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskSegment {
    pub id: u32,
    pub isthing: bool,
    pub score: Option<f64>,
    pub mask: Segmentation,
}

/// One image side as masks; `size` is `(height, width)` when known without the other side.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageMasks {
    pub size: Option<(usize, usize)>,
    pub segments: Vec<MaskSegment>,
    pub rule: OverlapRule,
}

/// The painted map and the ids of the segments kept (all of them under [`OverlapRule::Error`]).
#[derive(Debug, Clone)]
pub struct Painted {
    pub height: usize,
    pub width: usize,
    pub ids: Vec<u32>,
    pub kept: Vec<u32>,
}

fn named(id: u32, error: &PqError) -> PqError {
    PqError::BadMask { message: format!("segment {id}: {error}") }
}

impl ImageMasks {
    /// The size the masks are painted at: their own, else `fallback` (the other side's).
    pub fn size_or(&self, fallback: Option<(usize, usize)>) -> Result<(usize, usize), PqError> {
        self.size.or(fallback).ok_or_else(|| PqError::BadMask {
            message:
                "the image's size is unknown: polygons need the image's height and width (give them in the \
                      images list, or an RLE with its size)"
                    .into(),
        })
    }

    /// Paints the masks at `height` x `width` into a row-major map.
    pub fn paint(&self, height: usize, width: usize) -> Result<Painted, PqError> {
        let (map, kept) = self.paint_runs(height, width)?;
        Ok(Painted { height, width, ids: map.to_ids()?, kept })
    }

    /// Paints the masks at `height` x `width` (see [`Canvas`]); returns the image as row runs and
    /// the ids of the segments kept.
    pub fn paint_runs(&self, height: usize, width: usize) -> Result<(RunMap, Vec<u32>), PqError> {
        let masks: Vec<Rle> = self
            .segments
            .iter()
            .map(|s| s.mask.to_rle(height, width).map_err(|e| named(s.id, &e)))
            .collect::<Result<_, _>>()?;
        let mut canvas = Canvas::new(height, width)?;
        let mut kept = Vec::with_capacity(masks.len());
        match self.rule {
            OverlapRule::Error => {
                for (segment, mask) in self.segments.iter().zip(&masks) {
                    if let Some((other, p)) = canvas.first_painted(mask) {
                        return Err(PqError::BadMask {
                            message: format!(
                                "segment {} overlaps segment {other} at pixel (x={}, y={}); pass overlap=\"combine\" to resolve overlaps with panopticapi's combination heuristic",
                                segment.id,
                                p / height,
                                p % height
                            ),
                        });
                    }
                    canvas.paint_free(mask, segment.id);
                    kept.push(segment.id);
                }
            }
            OverlapRule::Combine { confidence_thr, rule } => {
                let order = combine_order(
                    self.segments
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.isthing && s.score.is_none_or(|v| v >= confidence_thr))
                        .map(|(i, s)| (i, s.score.unwrap_or(f64::INFINITY))),
                );
                let stuff: Vec<usize> =
                    (0..self.segments.len()).filter(|&i| !self.segments[i].isthing).collect();
                let things_masks: Vec<&Rle> = order.iter().map(|&i| &masks[i]).collect();
                let stuff_masks: Vec<&Rle> = stuff.iter().map(|&i| &masks[i]).collect();
                combine_masks(&mut canvas, &things_masks, &stuff_masks, rule, |is_stuff, k| {
                    let id = self.segments[if is_stuff { stuff[k] } else { order[k] }].id;
                    kept.push(id);
                    Ok(id)
                })?;
            }
        }
        Ok((canvas.into_run_map(), kept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(id: u32, isthing: bool, score: Option<f64>, column_major: &[u8]) -> MaskSegment {
        let rle = Rle::encode_column_major(column_major, 2, 2);
        MaskSegment {
            id,
            isthing,
            score,
            mask: Segmentation::Uncompressed { height: 2, width: 2, counts: rle.counts },
        }
    }

    #[test]
    fn overlaps_are_errors_or_resolved() {
        let segments =
            vec![segment(5, true, Some(0.6), &[1, 1, 0, 0]), segment(7, true, Some(0.9), &[0, 1, 1, 0])];
        let masks = ImageMasks { size: None, segments: segments.clone(), rule: OverlapRule::Error };
        let error = masks.paint(2, 2).unwrap_err();
        assert!(error.to_string().contains("segment 7 overlaps segment 5"), "{error}");
        let rule = CombineRule { overlap_thr: 0.5, stuff_area_limit: 0.0 };
        let masks =
            ImageMasks { size: None, segments, rule: OverlapRule::Combine { confidence_thr: 0.5, rule } };
        let painted = masks.paint(2, 2).unwrap();
        // 7 scores higher and goes first; 5 is half covered (not more than half): kept on its free pixel.
        assert_eq!(painted.kept, [7, 5]);
        assert_eq!(painted.ids, [5, 7, 7, 0]);
    }
}
