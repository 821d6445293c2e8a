//! A COCO annotation's `segmentation` in any of the forms COCO files hold — a compressed RLE
//! string, an uncompressed count list, or polygons — as one mask of the image's size, the way
//! pycocotools' `COCO.annToRLE` reads it.

use super::polygon::polygons_to_rle;
use super::rle::Rle;
use crate::PqError;

/// One `segmentation` field.
#[derive(Debug, Clone, PartialEq)]
pub enum Segmentation {
    /// `{"size": [h, w], "counts": "<string>"}`.
    Compressed { height: usize, width: usize, counts: Vec<u8> },
    /// `{"size": [h, w], "counts": [c0, c1, ...]}`.
    Uncompressed { height: usize, width: usize, counts: Vec<u32> },
    /// `[[x0, y0, x1, y1, ...], ...]`, drawn at the image's size.
    Polygons(Vec<Vec<f64>>),
}

impl Segmentation {
    /// The mask, which must be `height` x `width` (the image's size).
    pub fn to_rle(&self, height: usize, width: usize) -> Result<Rle, PqError> {
        let own = match self {
            Segmentation::Compressed { height, width, .. }
            | Segmentation::Uncompressed { height, width, .. } => Some((*height, *width)),
            Segmentation::Polygons(_) => None,
        };
        if let Some((h, w)) = own {
            if (h, w) != (height, width) {
                return Err(PqError::BadMask {
                    message: format!(
                        "the RLE's size is {h}x{w} but the image is {height}x{width} (height x width)"
                    ),
                });
            }
        }
        match self {
            Segmentation::Compressed { counts, .. } => Rle::from_string(counts, height, width),
            Segmentation::Uncompressed { counts, .. } => Rle::from_counts(counts.clone(), height, width),
            Segmentation::Polygons(polygons) => polygons_to_rle(polygons, height, width),
        }
    }
}
