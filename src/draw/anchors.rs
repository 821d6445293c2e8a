//! Where to write each segment's label: its area, bounding box and its most interior pixel.

use std::collections::HashMap;

use crate::draw::distance::chessboard;
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
    let mut anchors: HashMap<u32, Anchor> = HashMap::new();
    // Id maps are runs of one id: one lookup per run, not per pixel.
    for row in 0..height {
        let line = &ids[row * width..(row + 1) * width];
        let depths = &dist[row * width..(row + 1) * width];
        let mut start = 0;
        while start < width {
            let id = line[start];
            let end = line[start..].iter().position(|&other| other != id).map_or(width, |n| start + n);
            // The first deepest pixel of the run.
            let (col, depth) = (start..end).fold((start, depths[start]), |best, col| {
                if depths[col] > best.1 {
                    (col, depths[col])
                } else {
                    best
                }
            });
            let a = anchors.entry(id).or_insert(Anchor {
                id,
                area: 0,
                row,
                col,
                depth,
                top: row,
                left: start,
                bottom: row,
                right: end - 1,
            });
            a.area += (end - start) as u64;
            if depth > a.depth {
                (a.row, a.col, a.depth) = (row, col, depth);
            }
            a.left = a.left.min(start);
            a.right = a.right.max(end - 1);
            a.bottom = row;
            start = end;
        }
    }
    let mut found: Vec<Anchor> = anchors.into_values().collect();
    found.sort_unstable_by_key(|a| a.id);
    Ok(found)
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
