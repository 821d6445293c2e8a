//! A whole image held as its rows' runs, what the converters read when they relabel segments and
//! write them back out: relabelling touches each run once, and a row the decoder found equal to
//! the one above stays a repeat all the way to the PNG written.

use std::path::Path;

use super::reader::RunReader;
use super::row::Row;
use super::run_encode::RunPng;
use crate::eval::runs::RowRuns;
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
    #[must_use]
    pub fn to_ids(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.height * self.width);
        for y in 0..self.height {
            let (ends, ids) = self.row(y);
            let mut start = 0;
            for (&end, &id) in ends.iter().zip(ids) {
                out.resize(out.len() + (end - start) as usize, id);
                start = end;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::png::{read_id_map, write_id_map, Buffers};

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
        assert_eq!(map.to_ids(), ids);
        assert!(map.repeats(1) && !map.repeats(3), "rows 1, 2 repeat row 0; row 3 changes");
        map.relabel(|id| Ok::<_, PqError>(id % 7 + 1)).unwrap();
        std::fs::write(&path, map.encode(3).unwrap()).unwrap();
        let back = read_id_map(&path, &cancel).unwrap().ids;
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back, ids.iter().map(|id| id % 7 + 1).collect::<Vec<_>>());
    }
}
