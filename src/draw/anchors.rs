//! Where to write each segment's label: its area, bounding box and its most interior pixel.

use std::collections::BTreeMap;

use crate::distance::chessboard;
use crate::PqError;

/// A segment's place in its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub id: u32,
    pub area: u64,
    /// The pixel of the segment farthest (chessboard) from any other segment and the image edge,
    /// the first in raster order among equals: always inside the segment, even a ring's.
    pub row: usize,
    pub col: usize,
    /// That pixel's distance: the label fits in a square of twice this side.
    pub depth: u32,
    /// Bounding box, inclusive.
    pub top: usize,
    pub left: usize,
    pub bottom: usize,
    pub right: usize,
}

/// One [`Anchor`] for every id in `ids` (row-major, `height` x `width`), by increasing id.
pub fn segment_anchors(ids: &[u32], height: usize, width: usize) -> Result<Vec<Anchor>, PqError> {
    let dist = chessboard(ids, height, width)?;
    let mut anchors: BTreeMap<u32, Anchor> = BTreeMap::new();
    for (i, (&id, &depth)) in ids.iter().zip(&dist).enumerate() {
        let (row, col) = (i / width, i % width);
        let a = anchors.entry(id).or_insert(Anchor {
            id,
            area: 0,
            row,
            col,
            depth,
            top: row,
            left: col,
            bottom: row,
            right: col,
        });
        a.area += 1;
        if depth > a.depth {
            (a.row, a.col, a.depth) = (row, col, depth);
        }
        a.left = a.left.min(col);
        a.right = a.right.max(col);
        a.bottom = row;
    }
    Ok(anchors.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_anchor_is_inside_the_ring() {
        // A 7x7 ring of id 1 (two pixels thick) around a 3x3 block of id 2.
        let mut ids = vec![1u32; 49];
        for y in 2..5 {
            for x in 2..5 {
                ids[y * 7 + x] = 2;
            }
        }
        let anchors = segment_anchors(&ids, 7, 7).unwrap();
        let (ring, block) = (anchors[0], anchors[1]);
        assert_eq!((ring.id, ring.area, ring.depth), (1, 40, 1));
        assert_eq!(ids[ring.row * 7 + ring.col], 1);
        assert_eq!((block.id, block.area, block.row, block.col, block.depth), (2, 9, 3, 3, 2));
        assert_eq!((block.top, block.left, block.bottom, block.right), (2, 2, 4, 4));
        assert_eq!((ring.top, ring.left, ring.bottom, ring.right), (0, 0, 6, 6));
    }
}
