//! Rows straight from the inflater's pieces (see [`crate::inflate`]): the filtered image data is
//! never written out. Under the Up filter — most rows of a panoptic PNG — a row is the row above
//! plus its literal bytes, so only the bytes at those positions are touched and only the runs
//! there are looked at again; rows under the other filters are laid out densely and un-filtered
//! as the dense decoder does.

use super::filters::{push_span, unfilter};
use super::Row;
use crate::inflate::Inflater;
use crate::runs::RowRuns;

/// Buffers of the sparse path, reused from file to file.
#[derive(Debug, Default)]
pub struct SparseBuffers {
    pub inflater: Inflater,
    /// A filtered row laid out densely, for filters other than Up.
    line: Vec<u8>,
}

/// Un-filters row `y` of an image whose rows are `stride` bytes plus the filter type byte, from
/// the pieces of `compressed`'s inflation, into `row` (which holds row `y - 1`) and `runs`.
/// `Err` with the inflater's message when the stream is bad or short; `Ok(None)` for an unknown
/// filter type.
#[allow(clippy::too_many_arguments)] // the row's buffers, all needed
pub fn next_row(
    sparse: &mut SparseBuffers,
    compressed: &[u8],
    y: usize,
    stride: usize,
    channels: usize,
    row: &mut [u8],
    spans: &mut Vec<(usize, usize)>,
    runs: &mut RowRuns,
) -> Result<Option<Row>, &'static str> {
    let line_len = (stride + 1) as u64;
    let start = y as u64 * line_len;
    let end = start + line_len;
    let out = &mut sparse.inflater;
    out.fill_to(compressed, end)?;
    if out.out.written() < end {
        return Err("image data ends early");
    }
    let data_start = start + 1;
    let filter = out.out.range(start, start + 1).next().and_then(|(_, _, bytes)| bytes).map_or(0, |b| b[0]);
    spans.clear();
    let change = if filter == 2 {
        for (at, len, bytes) in out.out.range(data_start, end) {
            let Some(bytes) = bytes else { continue };
            #[allow(clippy::cast_possible_truncation)] // within the row
            let (from, len) = ((at - data_start) as usize, len as usize);
            for (target, &b) in row[from..from + len].iter_mut().zip(bytes) {
                *target = target.wrapping_add(b);
            }
            push_span(spans, from, from + len);
        }
        if spans.is_empty() {
            Some(Row::Same)
        } else {
            match channels {
                3 => runs.update_spans::<3>(row, spans),
                _ => runs.update_spans::<4>(row, spans),
            }
            Some(Row::Changed)
        }
    } else {
        let line = &mut sparse.line;
        line.clear();
        line.resize(stride, 0);
        for (at, len, bytes) in out.out.range(data_start, end) {
            let Some(bytes) = bytes else { continue };
            #[allow(clippy::cast_possible_truncation)] // within the row
            let (from, len) = ((at - data_start) as usize, len as usize);
            line[from..from + len].copy_from_slice(bytes);
        }
        match channels {
            3 => unfilter::<3>(filter, line, row, spans, runs),
            _ => unfilter::<4>(filter, line, row, spans, runs),
        }
    };
    out.out.release_before(end);
    Ok(change)
}
