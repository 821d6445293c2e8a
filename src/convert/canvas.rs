//! An image being painted from masks, held down its columns as labelled runs: painting a mask,
//! testing it for overlap and counting its covered pixels cost its runs, not its pixels, and the
//! result is read as the row runs that evaluation and the PNG writer take.
//!
//! COCO masks run down the columns, so a mask's run is one span of one column (or of several,
//! where it crosses from the bottom of one column to the top of the next).

use super::rle::Rle;
use crate::eval::runs::to_u32;
use crate::png::RunMap;
use crate::runtime::memory::filled_vec;
use crate::PqError;

/// The image's columns: each one's runs as `(end row, exclusive; id)`, ascending and covering the
/// column; 0 is unpainted. A column never painted is empty, meaning all 0, so that a tall image
/// with few masks costs no more than its masks.
#[derive(Debug)]
pub struct Canvas {
    height: u32,
    columns: Vec<Vec<(u32, u32)>>,
    /// The runs replacing a painted span of a column, kept between calls.
    scratch: Vec<(u32, u32)>,
}

impl Canvas {
    /// An unpainted image of `height` x `width`.
    pub fn new(height: usize, width: usize) -> Result<Self, PqError> {
        let height = u32::try_from(height).map_err(|_| PqError::BadMask {
            message: format!("an image {height} pixels high; masks are painted on images below 2^32 rows"),
        })?;
        Ok(Canvas {
            height,
            columns: filled_vec(width, Vec::new(), "the columns of a painted map")?,
            scratch: Vec::new(),
        })
    }

    /// Calls `visit(x, y0, y1)` for each column span of `mask`'s runs of ones, in the mask's order.
    fn spans(height: u32, mask: &Rle, mut visit: impl FnMut(usize, u32, u32)) {
        let height = height as usize;
        if height == 0 {
            return;
        }
        mask.for_each_run(|start, end| {
            let mut at = start;
            while at < end {
                let (x, y) = (at / height, at % height);
                let stop = (end - at).min(height - y);
                // y + stop <= height < 2^32: exact.
                visit(x, to_u32(y), to_u32(y + stop));
                at += stop;
            }
        });
    }

    /// Column `x`'s runs that meet rows `y0..y1`, each as `(start, end, id)`.
    fn meeting(&self, x: usize, y0: u32, y1: u32) -> impl Iterator<Item = (u32, u32, u32)> + '_ {
        // A column never painted has no runs to meet, and none is painted.
        let runs = &self.columns[x];
        let first = runs.partition_point(|&(end, _)| end <= y0);
        let mut start = if first == 0 { 0 } else { runs[first - 1].0 };
        runs[first..].iter().map_while(move |&(end, id)| {
            let run = (start, end, id);
            start = end;
            (run.0 < y1).then_some(run)
        })
    }

    /// The first pixel of `mask`, in its own order, that is painted already: the id there and the
    /// pixel's column-major index.
    #[must_use]
    pub fn first_painted(&self, mask: &Rle) -> Option<(u32, usize)> {
        let mut found = None;
        Self::spans(self.height, mask, |x, y0, y1| {
            if found.is_none() {
                if let Some((start, _, id)) = self.meeting(x, y0, y1).find(|&(_, _, id)| id != 0) {
                    found = Some((id, x * self.height as usize + start.max(y0) as usize));
                }
            }
        });
        found
    }

    /// How many of `mask`'s pixels are painted already.
    #[must_use]
    pub fn painted_area(&self, mask: &Rle) -> u64 {
        let mut area = 0u64;
        Self::spans(self.height, mask, |x, y0, y1| {
            for (start, end, id) in self.meeting(x, y0, y1) {
                if id != 0 {
                    area += u64::from(end.min(y1) - start.max(y0));
                }
            }
        });
        area
    }

    /// Paints `mask` with `id` where the image is still unpainted.
    pub fn paint_free(&mut self, mask: &Rle, id: u32) {
        Self::spans(self.height, mask, |x, y0, y1| self.paint_span(x, y0, y1, id));
    }

    fn paint_span(&mut self, x: usize, y0: u32, y1: u32, id: u32) {
        let column = &mut self.columns[x];
        if column.is_empty() {
            column.push((self.height, 0));
        }
        let first = column.partition_point(|&(end, _)| end <= y0);
        let mut start = if first == 0 { 0 } else { column[first - 1].0 };
        let (end, value) = column[first];
        if value == 0 && end >= y1 {
            // The common case, a span inside one unpainted run: split it in place, no splice.
            let mut at = first;
            if start < y0 {
                column.insert(at, (y0, 0));
                at += 1;
            }
            column[at] = (y1, id);
            if y1 < end {
                column.insert(at + 1, (end, 0));
            }
            return;
        }
        let mut last = first;
        self.scratch.clear();
        while last < column.len() && start < y1 {
            let (end, value) = column[last];
            if value == 0 {
                let (from, to) = (start.max(y0), end.min(y1));
                if start < from {
                    self.scratch.push((from, 0));
                }
                self.scratch.push((to, id));
                if to < end {
                    self.scratch.push((end, 0));
                }
            } else {
                self.scratch.push((end, value));
            }
            start = end;
            last += 1;
        }
        column.splice(first..last, self.scratch.drain(..));
    }

    /// The painted image as row runs.
    #[must_use]
    pub fn into_run_map(self) -> RunMap {
        RunMap::from_columns(&self.columns, self.height as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paints `masks` (column-major 0/1 pixels) in order the slow way: a pixel per pixel.
    fn dense(masks: &[(Vec<u8>, u32)], height: usize, width: usize) -> Vec<u32> {
        let mut columns = vec![0u32; height * width];
        for (mask, id) in masks {
            for (p, &on) in mask.iter().enumerate() {
                if on == 1 && columns[p] == 0 {
                    columns[p] = *id;
                }
            }
        }
        (0..height * width).map(|i| columns[(i % width) * height + i / width]).collect()
    }

    #[test]
    fn painting_runs_equals_painting_pixels() {
        let mut state: usize = 0x2545_f491;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for (height, width) in [(1, 1), (7, 5), (16, 9), (1, 30), (30, 1), (23, 17)] {
            for _ in 0..40 {
                let masks: Vec<(Vec<u8>, u32)> = (1..=u32::try_from(next(6)).unwrap() + 1)
                    .map(|id| {
                        // Blobs of a few long runs, some crossing columns, some empty.
                        let mut mask = vec![0u8; height * width];
                        for _ in 0..next(4) {
                            let start = next(height * width);
                            let len = next(2 * height + 2);
                            for p in mask.iter_mut().skip(start).take(len) {
                                *p = 1;
                            }
                        }
                        // Ids repeat (as two regions of one stuff class share a colour).
                        (mask, id % 3 * 10 + 10)
                    })
                    .collect();
                let mut canvas = Canvas::new(height, width).unwrap();
                let mut expected_first = Vec::new();
                for (k, (mask, id)) in masks.iter().enumerate() {
                    let rle = Rle::encode_column_major(mask, height, width);
                    let painted_before = dense(&masks[..k], height, width);
                    let at = |p: usize| painted_before[(p % height) * width + p / height];
                    let first = (0..height * width).find(|&p| mask[p] == 1 && at(p) != 0);
                    expected_first.push(first.map(|p| (at(p), p)));
                    let covered = (0..height * width).filter(|&p| mask[p] == 1 && at(p) != 0).count();
                    assert_eq!(canvas.first_painted(&rle), first.map(|p| (at(p), p)));
                    assert_eq!(canvas.painted_area(&rle), covered as u64);
                    canvas.paint_free(&rle, *id);
                }
                assert_eq!(
                    canvas.into_run_map().to_ids().unwrap(),
                    dense(&masks, height, width),
                    "{height}x{width}"
                );
            }
        }
    }

    #[test]
    fn empty_images_paint_nothing() {
        let canvas = Canvas::new(3, 0).unwrap();
        let map = canvas.into_run_map();
        assert_eq!((map.height, map.width, map.to_ids().unwrap()), (3, 0, vec![]));
        let mut canvas = Canvas::new(0, 4).unwrap();
        canvas.paint_free(&Rle::from_counts(vec![0], 0, 4).unwrap(), 1);
        assert_eq!(canvas.into_run_map().to_ids().unwrap(), Vec::<u32>::new());
    }
}
