//! The dense engine: a PNG's image data inflated by fdeflate a chunk at a time, each row
//! un-filtered in place, skipping the zero spans of a panoptic map's filtered bytes, and handed on
//! as runs. A zero span under the Up filter repeats the row above, and so does one under Paeth when
//! the pixel to its left equals the one above-left; only the few bytes where segment borders move
//! are computed. Files that inflate many-fold go to the [`sparse`](super::sparse) engine instead,
//! from the first row (see [`sparse_from`]).

use std::path::Path;

use super::buffers::Buffers;
use super::chunks::{malformed, scan_chunks};
use super::engine::{configured_engine, sparse_from, Engine};
use super::filters::unfilter;
use super::row::Row;
use super::sparse;
use crate::eval::runs::RowRuns;
use crate::runtime::memory::grow;
use crate::PqError;

/// Deflate's back-references reach at most this far into the output already written.
const WINDOW: usize = 32 * 1024;
/// Inflated bytes produced per refill: the raw buffer stays this small (plus the window) whatever
/// the image size, so it stays in cache while its rows are un-filtered.
const CHUNK: usize = 256 * 1024;

/// A PNG whose image data is inflated a chunk at a time and read row by row into runs.
pub struct FastRows {
    buffers: Buffers,
    engine: Engine,
    image_bytes: usize,
    width: usize,
    height: usize,
    channels: usize,
    next: usize,
    inflater: Box<fdeflate::Decompressor>,
    consumed: usize,
    /// Inflated bytes the image still needs: the stream is never inflated past them.
    remaining: usize,
    /// `raw[start..filled]` holds inflated bytes not yet un-filtered.
    start: usize,
    filled: usize,
    runs: RowRuns,
    /// Byte ranges of the last row that differ from the row above, when the filter tells.
    spans: Vec<(usize, usize)>,
}

struct Header {
    width: usize,
    height: usize,
    channels: usize,
}

impl FastRows {
    /// Reads `path` and inflates its image data, or gives the buffers back (`Err`) when the
    /// layout is not one this decoder handles, for the caller to use the `png` crate instead.
    pub fn open(path: &Path, mut buffers: Buffers) -> Result<Result<Self, Buffers>, PqError> {
        crate::io::read_file(path, &mut buffers.file)?;
        Self::from_file_bytes(path, buffers)
    }

    /// [`FastRows::open`] on a file already read into `buffers` (by [`Buffers::with_file`]);
    /// `path` only names it in errors. The engine is chosen for the file (see [`sparse_from`])
    /// unless `PANOPTIQ_DECODER` says otherwise (see [`configured_engine`]).
    pub fn from_file_bytes(path: &Path, buffers: Buffers) -> Result<Result<Self, Buffers>, PqError> {
        Self::from_file_bytes_with(path, buffers, configured_engine())
    }

    /// [`FastRows::from_file_bytes`] with the given engine.
    pub fn from_file_bytes_with(
        path: &Path,
        mut buffers: Buffers,
        engine: Engine,
    ) -> Result<Result<Self, Buffers>, PqError> {
        let Some(header) = Self::collect_image_data(path, &buffers.file, &mut buffers.compressed)? else {
            return Ok(Err(buffers));
        };
        let stride = header.width * header.channels;
        let image_bytes =
            header.height.checked_mul(stride + 1).ok_or_else(|| malformed(path, "image too large"))?;
        // Grown only, never cleared: the inflater overwrites what it reports as written.
        let raw_len = WINDOW + CHUNK.max(2 * (stride + 1));
        grow(&mut buffers.raw, raw_len, 0, "the inflated image data")?;
        let mut inflater = Box::new(fdeflate::Decompressor::new());
        inflater.ignore_adler32();
        buffers.row.clear();
        grow(&mut buffers.row, stride, 0, "a row of pixels")?;
        let runs = RowRuns::void(header.width);
        let engine = match engine {
            Engine::Auto if image_bytes / buffers.compressed.len().max(1) >= sparse_from(header.channels) => {
                Engine::Sparse
            }
            Engine::Auto => Engine::Dense,
            chosen => chosen,
        };
        // A ring that cannot be allocated leaves the file to the dense path.
        let engine = match engine {
            Engine::Sparse if buffers.sparse.inflater.reset(stride + 1).is_ok() => Engine::Sparse,
            _ => Engine::Dense,
        };
        Ok(Ok(Self {
            buffers,
            engine,
            image_bytes,
            width: header.width,
            height: header.height,
            channels: header.channels,
            next: 0,
            inflater,
            consumed: 0,
            remaining: image_bytes,
            start: 0,
            filled: 0,
            runs,
            spans: Vec::new(),
        }))
    }

    /// Walks the chunks (see [`scan_chunks`]); `None` when the layout is not 8-bit RGB/RGBA
    /// without interlacing.
    fn collect_image_data(
        path: &Path,
        file: &[u8],
        compressed: &mut Vec<u8>,
    ) -> Result<Option<Header>, PqError> {
        compressed.clear();
        let layout = scan_chunks(path, file, |kind, body| {
            if kind == b"IDAT" {
                compressed.try_reserve(body.len()).map_err(|_| malformed(path, "image data too large"))?;
                compressed.extend_from_slice(body);
            }
            Ok(())
        })?;
        let channels = match layout.color_type {
            2 => 3,
            6 => 4,
            _ => return Ok(None),
        };
        if layout.bit_depth != 8 || layout.interlaced {
            return Ok(None);
        }
        Ok(Some(Header { width: layout.width, height: layout.height, channels }))
    }

    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    #[must_use]
    pub fn height(&self) -> usize {
        self.height
    }

    /// The engine decoding this file: `Sparse` or `Dense`, never `Auto`.
    #[must_use]
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// How many times over the image data inflates: what [`Engine::Auto`] chooses by.
    #[must_use]
    pub fn inflation(&self) -> usize {
        self.image_bytes / self.buffers.compressed.len().max(1)
    }

    /// The runs of the row last read.
    #[must_use]
    pub fn runs(&self) -> &RowRuns {
        &self.runs
    }

    /// Gives the buffers back for the next file.
    #[must_use]
    pub fn into_buffers(self) -> Buffers {
        self.buffers
    }

    /// Inflates the next chunk, first moving what is still needed (rows not yet read and the
    /// last window of output, which back-references may point into) to the buffer's front.
    fn refill(&mut self, path: &Path) -> Result<(), PqError> {
        let raw = &mut self.buffers.raw;
        let keep_from = self.start.min(self.filled.saturating_sub(WINDOW));
        if keep_from > 0 {
            raw.copy_within(keep_from..self.filled, 0);
            self.start -= keep_from;
            self.filled -= keep_from;
        }
        if self.inflater.is_done() {
            return Err(malformed(path, "image data ends early"));
        }
        // With ignore_adler32, fdeflate still sums the checksum of the final call's output: a
        // chunk here, not the whole image. Corrupt streams still fail structurally, as with the
        // png crate, which ignores the checksum by default too.
        // The input is not declared complete: a stream cut short after its last row still gives
        // every row, as the png crate and Pillow decode it. Only when that makes no progress is
        // the end declared, so that the final bits are decoded (or the stream found short).
        // Whatever the stream holds past the image's last row is never inflated, as the png
        // crate never reads it: it may be garbage.
        let input = &self.buffers.compressed[self.consumed..];
        let end = (self.filled + self.remaining).min(raw.len());
        let out = &mut raw[..end];
        let mut step = self.inflater.read(input, out, self.filled, false);
        if matches!(step, Ok((0, 0))) && !self.inflater.is_done() {
            step = self.inflater.read(input, out, self.filled, true);
        }
        let (read, written) = step.map_err(|e| match e {
            fdeflate::DecompressionError::InsufficientInput => malformed(path, "image data ends early"),
            e => malformed(path, format!("corrupt image data: {e:?}")),
        })?;
        self.consumed += read;
        self.filled += written;
        self.remaining -= written;
        if read == 0 && written == 0 && !self.inflater.is_done() {
            return Err(malformed(path, "image data ends early"));
        }
        Ok(())
    }

    /// Un-filters the next row and updates [`FastRows::runs`].
    pub fn next_row(&mut self, path: &Path) -> Result<Row, PqError> {
        if self.next >= self.height {
            return Err(malformed(path, "read past the last row"));
        }
        if self.engine == Engine::Sparse {
            let b = &mut self.buffers;
            let stride = self.width * self.channels;
            let (y, channels) = (self.next, self.channels);
            if let Ok(Some(change)) = sparse::next_row(
                &mut b.sparse,
                &b.compressed,
                sparse::Line { y, stride, channels },
                &mut b.row,
                &mut self.spans,
                &mut self.runs,
            ) {
                self.next += 1;
                return Ok(change);
            }
            self.start_dense(path)?;
        }
        self.next_dense_row(path)
    }

    /// Restarts on the dense path and reads the rows already handed out again, so that a
    /// stream the sparse path refuses gets the dense path's verdict.
    fn start_dense(&mut self, path: &Path) -> Result<(), PqError> {
        let done = self.next;
        self.engine = Engine::Dense;
        *self.inflater = fdeflate::Decompressor::new();
        self.inflater.ignore_adler32();
        (self.consumed, self.remaining, self.start, self.filled, self.next) = (0, self.image_bytes, 0, 0, 0);
        self.buffers.row.fill(0);
        self.runs = RowRuns::void(self.width);
        for _ in 0..done {
            self.next_dense_row(path)?;
        }
        Ok(())
    }

    fn next_dense_row(&mut self, path: &Path) -> Result<Row, PqError> {
        let stride = self.width * self.channels;
        let line_len = stride + 1; // a filter-type byte, then the row
        while self.filled - self.start < line_len {
            self.refill(path)?;
        }
        let line = &self.buffers.raw[self.start..self.start + line_len];
        self.start += line_len;
        self.next += 1;
        let (filter, data) = (line[0], &line[1..]);
        let change = match self.channels {
            3 => unfilter::<3>(filter, data, &mut self.buffers.row, &mut self.spans, &mut self.runs),
            _ => unfilter::<4>(filter, data, &mut self.buffers.row, &mut self.spans, &mut self.runs),
        };
        change
            .ok_or_else(|| malformed(path, format!("unknown filter type {filter} in row {}", self.next - 1)))
    }
}
