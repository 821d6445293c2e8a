//! A whole image held as its rows' runs, what the converters read when they relabel segments and
//! write them back out: relabelling touches each run once, and a row the decoder found equal to
//! the one above stays a repeat all the way to the PNG written.

use std::path::Path;

use super::reader::RunReader;
use super::row::Row;
use super::run_encode::RunPng;
use crate::eval::runs::{to_u32, RowRuns};
use crate::runtime::memory::filled_vec;
use crate::runtime::parallel::Cancel;
use crate::PqError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMap {
    pub height: usize,
    pub width: usize,
    /// Per row: where its runs start in `ends` and `ids`, how many, and whether it repeats the
    /// row above (then sharing that row's runs).
    rows: Vec<(usize, usize, bool)>,
    ends: Vec<u32>,
    ids: Vec<u32>,
}

impl RunMap {
    /// Every row of `reader` (reading `path`), stopping early once `cancel` is set.
    pub fn read(path: &Path, mut reader: RunReader, cancel: &Cancel) -> Result<Self, PqError> {
        let (height, width) = reader.shape();
        let mut map =
            RunMap { height, width, rows: Vec::with_capacity(height), ends: Vec::new(), ids: Vec::new() };
        for y in 0..height {
            if y % 256 == 0 {
                cancel.check()?;
            }
            let change = reader.next_row(path)?;
            match map.rows.last().copied() {
                Some((start, len, _)) if change == Row::Same => map.rows.push((start, len, true)),
                _ => {
                    let runs = reader.runs();
                    map.rows.push((map.ends.len(), runs.ends().len(), false));
                    map.ends.extend_from_slice(runs.ends());
                    map.ids.extend_from_slice(runs.ids());
                }
            }
        }
        Ok(map)
    }

    /// The runs of an id map (row-major, `height` x `width`); a row equal to the one above is
    /// a repeat.
    #[must_use]
    pub fn from_ids(ids: &[u32], height: usize, width: usize) -> Self {
        let mut map =
            RunMap { height, width, rows: Vec::with_capacity(height), ends: Vec::new(), ids: Vec::new() };
        let mut runs = RowRuns::default();
        for (y, row) in ids.chunks_exact(width.max(1)).take(height).enumerate() {
            match map.rows.last().copied() {
                Some((start, len, _)) if row == &ids[(y - 1) * width..y * width] => {
                    map.rows.push((start, len, true));
                }
                _ => {
                    runs.set_from_ids(row);
                    map.rows.push((map.ends.len(), runs.ends().len(), false));
                    map.ends.extend_from_slice(runs.ends());
                    map.ids.extend_from_slice(runs.ids());
                }
            }
        }
        map
    }

    /// The row runs of an image given down its columns: each column's runs as `(end row,
    /// exclusive; id)`, ascending and covering the column, or none for a column all 0 — what
    /// painting masks leaves. A row's run starts where a pixel differs from its left neighbour,
    /// so each column is walked beside the one before it, run against run, and the starts found
    /// are put in row order by a counting sort: the cost is the runs and the starts, never the
    /// pixels.
    #[must_use]
    pub fn from_columns(columns: &[Vec<(u32, u32)>], height: usize) -> Self {
        let width = columns.len();
        let mut map =
            RunMap { height, width, rows: Vec::with_capacity(height), ends: Vec::new(), ids: Vec::new() };
        let all_zero = [(to_u32(height), 0u32)];
        let runs = |x: usize| if columns[x].is_empty() { &all_zero[..] } else { &columns[x][..] };
        if width == 0 || height == 0 {
            map.rows.resize(height, (0, 0, false));
            return map;
        }
        // Per column after the first, the rows where a run starts in it and the id it starts
        // with, column after column; and per row, how many start there.
        let mut starts: Vec<(u32, u32)> = Vec::new();
        let mut column_ends: Vec<usize> = Vec::with_capacity(width);
        let mut per_row = vec![0usize; height + 1];
        column_ends.push(0);
        for x in 1..width {
            let (left, this) = (runs(x - 1), runs(x));
            let (mut i, mut j, mut y) = (0, 0, 0u32);
            while i < left.len() && j < this.len() {
                let ((left_end, left_id), (this_end, this_id)) = (left[i], this[j]);
                let end = left_end.min(this_end);
                if left_id != this_id {
                    for row in y..end {
                        starts.push((row, this_id));
                        per_row[row as usize + 1] += 1;
                    }
                }
                y = end;
                i += usize::from(left_end == end);
                j += usize::from(this_end == end);
            }
            column_ends.push(starts.len());
        }
        // Prefix sums: row y's starts go to per_row[y]..per_row[y + 1], in column order.
        for y in 0..height {
            per_row[y + 1] += per_row[y];
        }
        let mut next = per_row.clone();
        let mut by_row = vec![(0u32, 0u32); starts.len()];
        for x in 1..width {
            for &(y, id) in &starts[column_ends[x - 1]..column_ends[x]] {
                by_row[next[y as usize]] = (to_u32(x), id);
                next[y as usize] += 1;
            }
        }
        let width_u32 = to_u32(width);
        map.ends.reserve(starts.len() + height);
        map.ids.reserve(starts.len() + height);
        let (first_column, mut k) = (runs(0), 0);
        for y in 0..height {
            let row = &by_row[per_row[y]..per_row[y + 1]];
            let start = map.ends.len();
            while first_column.get(k).is_some_and(|&(end, _)| end as usize <= y) {
                k += 1;
            }
            map.ids.push(first_column.get(k).map_or(0, |&(_, id)| id));
            for &(x, id) in row {
                map.ends.push(x);
                map.ids.push(id);
            }
            map.ends.push(width_u32);
            let len = row.len() + 1;
            match map.rows.last().copied() {
                Some((above, above_len, _))
                    if above_len == len
                        && map.ends[above..above + len] == map.ends[start..]
                        && map.ids[above..above + len] == map.ids[start..] =>
                {
                    map.ends.truncate(start);
                    map.ids.truncate(start);
                    map.rows.push((above, len, true));
                }
                _ => map.rows.push((start, len, false)),
            }
        }
        map
    }

    /// Row `y`'s runs: where each ends (exclusive) and its id.
    #[must_use]
    pub fn row(&self, y: usize) -> (&[u32], &[u32]) {
        let (start, len, _) = self.rows[y];
        (&self.ends[start..start + len], &self.ids[start..start + len])
    }

    /// Whether row `y` repeats the row above.
    #[must_use]
    pub fn repeats(&self, y: usize) -> bool {
        self.rows[y].2
    }

    /// The id of every run, in row order (a repeated row's are its source row's).
    #[must_use]
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Replaces every run's id by `relabel(id)`.
    pub fn relabel<E>(&mut self, mut relabel: impl FnMut(u32) -> Result<u32, E>) -> Result<(), E> {
        let mut last = None;
        let mut value = 0;
        for id in &mut self.ids {
            if last != Some(*id) {
                last = Some(*id);
                value = relabel(*id)?;
            }
            *id = value;
        }
        Ok(())
    }

    /// The image as a PNG of `channels` (1 or 3) bytes a pixel (see [`RunPng`]).
    pub fn encode(&self, channels: usize) -> Result<Vec<u8>, PqError> {
        let mut png = RunPng::new(self.height, self.width, channels)?;
        for y in 0..self.height {
            if self.repeats(y) {
                png.push_same()?;
            } else {
                let (ends, ids) = self.row(y);
                png.push(ends, ids)?;
            }
        }
        png.finish()
    }

    /// The ids pixel by pixel, row-major.
    pub fn to_ids(&self) -> Result<Vec<u32>, PqError> {
        let mut out = filled_vec(self.height * self.width, 0u32, "an id map")?;
        for (y, row) in out.chunks_exact_mut(self.width.max(1)).take(self.height).enumerate() {
            let (ends, ids) = self.row(y);
            let mut start = 0;
            for (&end, &id) in ends.iter().zip(ids) {
                row[start..end as usize].fill(id);
                start = end as usize;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::png::{read_id_map, write_id_map, Buffers};

    /// The runs down each column of a row-major map; a column all 0 is left empty.
    fn columns_of(rows: &[u32], height: usize, width: usize) -> Vec<Vec<(u32, u32)>> {
        (0..width)
            .map(|x| {
                let mut runs: Vec<(u32, u32)> = Vec::new();
                for y in 0..height {
                    let id = rows[y * width + x];
                    match runs.last_mut() {
                        Some((end, last)) if *last == id => *end += 1,
                        _ => runs.push((u32::try_from(y).unwrap() + 1, id)),
                    }
                }
                if runs.iter().all(|&(_, id)| id == 0) {
                    runs.clear();
                }
                runs
            })
            .collect()
    }

    #[test]
    fn column_runs_give_the_runs_of_their_rows() {
        for (h, w, seed) in [(1, 1, 1u32), (37, 23, 2), (16, 5, 3), (3, 1, 4), (1, 40, 5), (50, 64, 6)] {
            let ids: Vec<u32> = (0..h * w)
                .map(|i| {
                    let (y, x) = (u32::try_from(i / w).unwrap(), u32::try_from(i % w).unwrap());
                    (y / 4 * 7 + x / 3 * seed + (x * y % 11 / 9)) % 5
                })
                .collect();
            let from_columns = RunMap::from_columns(&columns_of(&ids, h, w), h);
            assert_eq!(from_columns, RunMap::from_ids(&ids, h, w), "{h}x{w}");
            assert_eq!(from_columns.to_ids().unwrap(), ids);
        }
        let empty = RunMap::from_columns(&[], 3);
        assert_eq!((empty.height, empty.width, empty.to_ids().unwrap()), (3, 0, vec![]));
    }

    #[test]
    fn runs_read_relabel_and_write_back() {
        let (h, w) = (9, 13);
        let ids: Vec<u32> =
            (0..h * w).map(|i| u32::try_from((i / w / 3) * 100_000 + (i % w) / 5).unwrap()).collect();
        let path = std::env::temp_dir().join(format!("panoptiq-runmap-{}.png", std::process::id()));
        write_id_map(&path, &ids, h, w, false).unwrap();
        let cancel = Cancel::new();
        let mut map =
            RunMap::read(&path, RunReader::open(&path, Buffers::default()).unwrap(), &cancel).unwrap();
        assert_eq!(map.to_ids().unwrap(), ids);
        assert!(map.repeats(1) && !map.repeats(3), "rows 1, 2 repeat row 0; row 3 changes");
        map.relabel(|id| Ok::<_, PqError>(id % 7 + 1)).unwrap();
        std::fs::write(&path, map.encode(3).unwrap()).unwrap();
        let back = read_id_map(&path, &cancel).unwrap().ids;
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back, ids.iter().map(|id| id % 7 + 1).collect::<Vec<_>>());
    }
}
