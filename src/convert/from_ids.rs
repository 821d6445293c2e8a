//! Masks of many segments cut from one id map in a single pass: the map is walked down its
//! columns (COCO's order) and every run of one id extends that id's run list, so each segment's
//! RLE costs its own runs, not a full pass over the image per segment as `encode(map == id)` does.

use std::collections::HashMap;

use super::rle::Rle;
use crate::PqError;

/// Columns transposed at a time: a block of the map stays in cache while its columns are read.
const BLOCK: usize = 64;

/// One mask per entry of `wanted` (in that order): the pixels of `ids` (row-major,
/// `height` x `width`) equal to it. Ids not in the map get an all-zero mask.
pub fn masks_of_ids(ids: &[u32], height: usize, width: usize, wanted: &[u32]) -> Result<Vec<Rle>, PqError> {
    if ids.len() != height * width {
        return Err(PqError::LengthMismatch { what: "ids", expected: height * width, got: ids.len() });
    }
    let pixels = u32::try_from(ids.len()).map_err(|_| PqError::BadMask {
        message: format!("a {height}x{width} image is too large for COCO RLE (2^32 pixels at most)"),
    })?;
    let slot: HashMap<u32, usize> = wanted.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    // Per wanted id: its counts so far and where its last run of ones ended.
    let mut counts: Vec<Vec<u32>> = vec![Vec::new(); wanted.len()];
    let mut ends: Vec<u32> = vec![0; wanted.len()];
    let mut column = vec![0u32; height * BLOCK.min(width.max(1))];
    let mut position = 0u32;
    let mut x0 = 0;
    while x0 < width {
        let cols = BLOCK.min(width - x0);
        // Transpose `cols` columns: column[c * height + y] = ids[y * width + x0 + c].
        for y in 0..height {
            let row = &ids[y * width + x0..y * width + x0 + cols];
            for (c, &id) in row.iter().enumerate() {
                column[c * height + y] = id;
            }
        }
        let block = &column[..cols * height];
        let mut i = 0;
        while i < block.len() {
            let id = block[i];
            let mut j = i + 1;
            while j < block.len() && block[j] == id {
                j += 1;
            }
            // Within the map, which has fewer than 2^32 pixels (checked above).
            #[allow(clippy::cast_possible_truncation)]
            let run = (j - i) as u32;
            if let Some(&s) = slot.get(&id) {
                let start = position;
                let runs = &mut counts[s];
                if !runs.is_empty() && ends[s] == start {
                    // The previous block's last run of this id continues here.
                    if let Some(last) = runs.last_mut() {
                        *last += run;
                    }
                } else {
                    runs.push(start - ends[s]);
                    runs.push(run);
                }
                ends[s] = start + run;
            }
            position += run;
            i = j;
        }
        x0 += cols;
    }
    Ok(counts
        .into_iter()
        .zip(ends)
        .map(|(mut runs, end)| {
            if runs.is_empty() || end < pixels {
                runs.push(pixels - end);
            }
            Rle { height, width, counts: runs }
        })
        .collect())
}

/// `rows[y * width + x] = columns[x * height + y]`, in tiles that stay in cache.
pub fn columns_to_rows(columns: &[u32], rows: &mut [u32], height: usize, width: usize) {
    const TILE: usize = 32;
    for x0 in (0..width).step_by(TILE) {
        for y0 in (0..height).step_by(TILE) {
            for x in x0..(x0 + TILE).min(width) {
                let column = &columns[x * height..(x + 1) * height];
                for y in y0..(y0 + TILE).min(height) {
                    rows[y * width + x] = column[y];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_encoding_each_mask() {
        let (h, w) = (7, 150); // more than one block of columns
        let ids: Vec<u32> = (0..h * w).map(|i| u32::try_from(i * 7919 % 13 / 4).unwrap()).collect();
        let wanted = [0, 1, 2, 3, 99];
        let masks = masks_of_ids(&ids, h, w, &wanted).unwrap();
        for (mask, &id) in masks.iter().zip(&wanted) {
            let mut column_major = vec![0u8; h * w];
            for y in 0..h {
                for x in 0..w {
                    column_major[x * h + y] = u8::from(ids[y * w + x] == id);
                }
            }
            assert_eq!(*mask, Rle::encode_column_major(&column_major, h, w), "id {id}");
        }
    }
}
