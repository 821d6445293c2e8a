//! Masks of many segments cut from one id map in a single pass: the map is walked down its
//! columns (COCO's order) and every run of one id extends that id's run list, so each segment's
//! RLE costs its own runs, not a full pass over the image per segment as `encode(map == id)` does.

use super::rle::Rle;
use crate::eval::compact::Compactor;
use crate::png::RunMap;
use crate::PqError;

/// Where each listed id is, found through the open-addressing [`Compactor`]: the lookup runs
/// once per run or change of a map with tens of ids, where std's SipHash or a binary search
/// cost several times the rest of the work.
pub struct Slots {
    ids: Compactor<u32>,
    /// Per compact index, the id's entry in `wanted`.
    slot_of: Vec<usize>,
}

impl Slots {
    /// Of an id listed twice, the last entry is the one found (a mask of the other is empty).
    #[must_use]
    pub fn new(wanted: &[u32]) -> Self {
        let mut slots = Slots { ids: Compactor::new(), slot_of: Vec::with_capacity(wanted.len()) };
        for (i, &id) in wanted.iter().enumerate() {
            let index = slots.ids.index(id) as usize;
            if index == slots.slot_of.len() {
                slots.slot_of.push(i);
            } else {
                slots.slot_of[index] = i;
            }
        }
        slots
    }

    /// The position in the list of `id`'s (last) entry.
    #[inline]
    #[must_use]
    pub fn get(&self, id: u32) -> Option<usize> {
        self.ids.get(id).map(|index| self.slot_of[index as usize])
    }
}

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
    let slot = Slots::new(wanted);
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
            if let Some(s) = slot.get(id) {
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

/// [`masks_of_ids`] of an image held as runs, at the cost of its changes: a mask's column-major
/// runs start and end where its id begins or stops down a column, that is at the top and bottom
/// of the image and where a row differs from the row above — found by walking the two rows' runs
/// together, never pixel by pixel where they agree.
pub fn masks_of_runs(map: &RunMap, wanted: &[u32]) -> Result<Vec<Rle>, PqError> {
    let (height, width) = (map.height, map.width);
    let pixels = u32::try_from(height * width).map_err(|_| PqError::BadMask {
        message: format!("a {height}x{width} image is too large for COCO RLE (2^32 pixels at most)"),
    })?;
    let slot = Slots::new(wanted);
    // Per wanted id: the columns and column-major positions where its mask turns on or off,
    // made row by row, so that within a column they come top to bottom.
    let mut toggles: Vec<Vec<(u32, u32)>> = vec![Vec::new(); wanted.len()];
    // Positions are at most `pixels` (the bottom of the last column), checked above to fit.
    #[allow(clippy::cast_possible_truncation)]
    let mut mark = |id: u32, from: usize, to: usize, y: usize| {
        if let Some(s) = slot.get(id) {
            toggles[s].extend((from..to).map(|x| (x as u32, (x * height + y) as u32)));
        }
    };
    let runs_of = |y: usize| {
        let (ends, ids) = map.row(y);
        std::iter::once(0).chain(ends.iter().map(|&e| e as usize)).zip(ends.iter().zip(ids))
    };
    if height > 0 {
        // Every column starts with row 0's ids.
        for (start, (&end, &id)) in runs_of(0) {
            mark(id, start, end as usize, 0);
        }
    }
    for y in 1..height {
        if map.repeats(y) {
            continue;
        }
        let ((above_ends, above_ids), (ends, ids)) = (map.row(y - 1), map.row(y));
        let (mut i, mut j, mut x) = (0, 0, 0usize);
        while i < ends.len() && j < above_ends.len() {
            let next = ends[i].min(above_ends[j]) as usize;
            if ids[i] != above_ids[j] {
                mark(above_ids[j], x, next, y);
                mark(ids[i], x, next, y);
            }
            x = next;
            i += usize::from(ends[i] as usize == next);
            j += usize::from(above_ends[j] as usize == next);
        }
    }
    if height > 0 {
        // And ends with the last row's: marked last, below the column's other changes.
        for (start, (&end, &id)) in runs_of(height - 1) {
            mark(id, start, end as usize, height);
        }
    }
    Ok(toggles
        .into_iter()
        .map(|t| {
            let t = by_column(&t);
            // A column ending on the id the next one starts with: the end of one column and the
            // start of the next are one position, and the run goes on.
            let mut counts = Vec::with_capacity(t.len() + 1);
            let (mut last, mut k) = (0u32, 0);
            while k < t.len() {
                if k + 1 < t.len() && t[k] == t[k + 1] {
                    k += 2;
                    continue;
                }
                counts.push(t[k] - last);
                last = t[k];
                k += 1;
            }
            if counts.is_empty() || last < pixels {
                counts.push(pixels - last);
            }
            Rle { height, width, counts }
        })
        .collect())
}

/// The positions of `(column, position)` toggles ordered by column, keeping their order within
/// one (top to bottom, as they were made): a counting sort over the mask's columns, where a
/// comparison sort of the positions costs a log factor more. The key is the column, not the
/// position's, because a column's bottom is the next column's top.
fn by_column(toggles: &[(u32, u32)]) -> Vec<u32> {
    let Some(low) = toggles.iter().map(|&(x, _)| x).min() else { return Vec::new() };
    let high = toggles.iter().map(|&(x, _)| x).max().unwrap_or(low);
    let mut starts = vec![0usize; (high - low) as usize + 2];
    for &(x, _) in toggles {
        starts[(x - low) as usize + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut sorted = vec![0u32; toggles.len()];
    for &(x, p) in toggles {
        let at = &mut starts[(x - low) as usize];
        sorted[*at] = p;
        *at += 1;
    }
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_find_every_wanted_id_and_no_other() {
        let mut wanted: Vec<u32> = (0..300u32).map(|i| i.wrapping_mul(2_654_435_761) | 1).collect();
        wanted.extend([0, u32::MAX, wanted[7]]);
        let slots = Slots::new(&wanted);
        for (i, &id) in wanted.iter().enumerate().take(300).skip(8) {
            assert_eq!(slots.get(id), Some(i));
        }
        // Listed twice: the last entry.
        assert_eq!(slots.get(wanted[7]), Some(302));
        assert_eq!((slots.get(0), slots.get(u32::MAX)), (Some(300), Some(301)));
        assert_eq!(slots.get(2), None, "even ids other than 0 are not wanted");
        assert_eq!(Slots::new(&[]).get(5), None);
    }

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

    #[test]
    fn masks_of_runs_equal_masks_of_ids() {
        // Rows that repeat, ids that span columns end to start, a 1-pixel-wide and a 1-row map.
        for (h, w, seed) in [(7, 150, 1u64), (40, 33, 2), (1, 9, 3), (9, 1, 4), (30, 30, 5)] {
            let mut state = seed;
            let mut next = move || {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                (state >> 33) as usize
            };
            let mut ids = vec![0u32; h * w];
            for y in 0..h {
                if y > 0 && next() % 2 == 0 {
                    ids.copy_within((y - 1) * w..y * w, y * w);
                    continue;
                }
                let mut x = 0;
                while x < w {
                    let len = (1 + next() % (w / 2 + 1)).min(w - x);
                    ids[y * w + x..y * w + x + len].fill(u32::try_from(next() % 5).unwrap());
                    x += len;
                }
            }
            let wanted = [0, 1, 2, 3, 4, 99];
            let map = RunMap::from_ids(&ids, h, w);
            assert_eq!(
                masks_of_runs(&map, &wanted).unwrap(),
                masks_of_ids(&ids, h, w, &wanted).unwrap(),
                "{h}x{w}"
            );
        }
    }
}
