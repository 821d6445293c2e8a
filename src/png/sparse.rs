//! Rows straight from the inflater's ring (see [`crate::png::inflate`]), whose zeros were never
//! written. Under the Up filter — most rows of a panoptic PNG — a row is the row above plus its
//! non-zero filtered bytes, and those lie in the blocks the ring marks: only they are read, only
//! the bytes there are added and only the runs there looked at again. None, Sub and Paeth rows
//! of RGB pixels are undone from the same blocks and the runs of the row above (see
//! [`super::run_filters`]); Average rows, and RGBA rows under filters other than Up, are copied
//! out of the ring and un-filtered as the dense decoder does.

use super::filters::{unfilter, up_16, up_part};
use super::row::Row;
use super::run_filters;
use crate::eval::runs::RowRuns;
use crate::png::inflate::Inflater;

/// Buffers of the sparse path, reused from file to file.
#[derive(Debug, Default)]
pub struct SparseBuffers {
    pub inflater: Inflater,
    /// A filtered row laid out densely, for Average and for RGBA rows under filters other than Up.
    line: Vec<u8>,
    /// The pixels of a row whose filtered bytes are not all zero (see `run_filters`).
    pixels: Vec<u32>,
}

/// Which row of an image to un-filter: row `y`, rows being `stride` bytes (plus the filter type
/// byte) of `channels`-byte pixels.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    pub y: usize,
    pub stride: usize,
    pub channels: usize,
}

/// Un-filters `line` of an image from the inflation of `compressed`, into `row` (which holds the
/// row above) and `runs`, noting in `spans` the bytes that changed. `Err` with the inflater's
/// message when the stream is bad or short; `Ok(None)` for an unknown filter type.
pub fn next_row(
    sparse: &mut SparseBuffers,
    compressed: &[u8],
    Line { y, stride, channels }: Line,
    row: &mut [u8],
    spans: &mut Vec<(usize, usize)>,
    runs: &mut RowRuns,
) -> Result<Option<Row>, &'static str> {
    let line_len = (stride + 1) as u64;
    let start = y as u64 * line_len;
    let end = start + line_len;
    let inflater = &mut sparse.inflater;
    inflater.fill_to(compressed, end)?;
    let ring = &inflater.out;
    if ring.written() < end {
        return Err("image data ends early");
    }
    let filter = ring.byte(start);
    let data_start = start + 1;
    spans.clear();
    let change = if filter == 2 {
        ring.marked_parts(data_start, end, |pos, bytes| {
            #[allow(clippy::cast_possible_truncation)] // within the row
            let offset = (pos - data_start) as usize;
            // Whole blocks, nearly all of them, without a loop; the row's ends byte by byte.
            match <[u8; 16]>::try_from(bytes) {
                Ok(block) => up_16(row, block, offset, spans),
                Err(_) => up_part(row, bytes, offset, spans),
            }
        });
        if spans.is_empty() {
            Some(Row::Same)
        } else {
            match channels {
                3 => runs.update_spans::<3>(row, spans),
                _ => runs.update_spans::<4>(row, spans),
            }
            Some(Row::Changed)
        }
    } else if channels == 3 && matches!(filter, 0 | 1 | 4) {
        let pixels = &mut sparse.pixels;
        run_filters::nonzero_pixels(ring, data_start, end, pixels);
        Some(match filter {
            0 => run_filters::none(ring, data_start, pixels, row, runs),
            1 => run_filters::sub(ring, data_start, pixels, row, runs),
            _ => run_filters::paeth(ring, data_start, pixels, row, runs),
        })
    } else {
        let line = &mut sparse.line;
        let (a, b) = ring.slices(data_start, end);
        line.clear();
        line.extend_from_slice(a);
        line.extend_from_slice(b);
        match channels {
            3 => unfilter::<3>(filter, line, row, spans, runs),
            _ => unfilter::<4>(filter, line, row, spans, runs),
        }
    };
    Ok(change)
}
