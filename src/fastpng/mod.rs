//! panoptiq's own decoder for the common panoptic PNG layout (8-bit RGB or RGBA, not
//! interlaced): inflate with fdeflate, then un-filter each row in place, skipping the zero spans
//! that make up almost all of a panoptic map's filtered bytes, and hand rows on as runs. Files
//! whose image data inflates many-fold go to the sparse engine instead (`sparse.rs`), which
//! never writes those zeros and reads rows from the blocks that hold the rest; the choice is per
//! file, from the sizes alone ([`sparse_from`]).
//!
//! A zero span under the Up filter repeats the row above, and so does one under Paeth when the
//! pixel to its left equals the one above-left; only the few bytes where segment borders move
//! are computed. Every other layout goes to the `png` crate (see [`crate::decode`]).

use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

mod filters;
mod run_filters;
mod sparse;

use filters::unfilter;

use crate::memory::grow;
use crate::runs::RowRuns;
use crate::PqError;

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Buffers a decoder reuses from file to file.
#[derive(Default)]
pub struct Buffers {
    file: Vec<u8>,
    compressed: Vec<u8>,
    raw: Vec<u8>,
    row: Vec<u8>,
    /// Boxed: large, and unused by the default engine.
    sparse: Box<sparse::SparseBuffers>,
}

impl Buffers {
    /// Buffers holding `file`, a whole PNG file, for [`FastRows::from_file_bytes`].
    #[must_use]
    pub fn with_file(file: Vec<u8>) -> Self {
        Self { file, ..Self::default() }
    }

    /// The file bytes these buffers hold.
    #[must_use]
    pub fn into_file(self) -> Vec<u8> {
        self.file
    }

    /// The buffer the next file is read into, for [`FastRows::from_file_bytes`].
    pub fn file_mut(&mut self) -> &mut Vec<u8> {
        &mut self.file
    }
}

/// Whether a row is the same as the row above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Same,
    Changed,
}

impl Row {
    /// `Changed` if `changed`, else `Same`.
    #[must_use]
    pub fn from_changed(changed: bool) -> Self {
        if changed {
            Row::Changed
        } else {
            Row::Same
        }
    }
}

/// Deflate's back-references reach at most this far into the output already written.
const WINDOW: usize = 32 * 1024;
/// Inflated bytes produced per refill: the raw buffer stays this small (plus the window) whatever
/// the image size, so it stays in cache while its rows are un-filtered.
const CHUNK: usize = 256 * 1024;

/// How a [`FastRows`] inflates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The inflater of [`crate::inflate`], whose zeros are never written, rows read from the
    /// blocks it marks: the faster on streams that inflate many-fold (large segments, wide
    /// rows); on the least compressible COCO-sized maps its Huffman decoding and its bookkeeping
    /// of copies cost more than writing and scanning the zeros (see benches/kernels.rs).
    Sparse,
    /// fdeflate into a byte buffer, a chunk at a time. The sparse path falls back to it (from the first row) on any stream it does not decode, so that its verdict stands.
    Dense,
    /// `Sparse` when the image data inflates at least [`sparse_from`]-fold, else `Dense`.
    Auto,
}

/// The inflation ratio (image bytes over compressed bytes) from which the sparse engine is the
/// faster on a file of `channels`-byte pixels: its cost follows the deflate symbols, about the
/// compressed size, the dense engine's the inflated size.
///
/// Measured per file on Pillow-written COCO-like and Cityscapes-like PNGs (best of 15 decodes of
/// each, this project's machine kind; the median sparse/dense time of the files around each
/// ratio). 440 files, nine in ten RGB: 1.18 at 55-fold, 1.16 at 63, 1.07 at 86, 0.96-1.04 from 87 to 175
/// (even), 0.88 at 186, 0.84 at 256, 0.76 at 332, 0.71 at 439; the threshold sits in the even
/// stretch for RGB. RGBA files alone (72): 1.13 at 147, 1.07 at 195, 1.03 at 234, 1.00 at 261, 0.81 at 571 —
/// later, because the sparse engine un-filters RGBA rows other than Up densely (see
/// `run_filters`, which is RGB only).
#[must_use]
pub fn sparse_from(channels: usize) -> usize {
    if channels == 3 {
        128
    } else {
        300
    }
}

/// The engine named by `value`: `auto`, `dense` or `sparse`; `None` for anything else.
#[must_use]
pub fn parse_engine(value: &str) -> Option<Engine> {
    match value {
        "auto" => Some(Engine::Auto),
        "dense" => Some(Engine::Dense),
        "sparse" => Some(Engine::Sparse),
        _ => None,
    }
}

/// The engine every file is decoded with: `PANOPTIQ_DECODER` (`auto`, the default, `dense` or
/// `sparse`), to compare the engines on one's own data or run a test suite under one of them.
/// The Python package refuses other values when it is imported; here they mean `auto`. Read
/// once, into an atomic rather than a `OnceLock`: a process forked while another thread was
/// filling a `OnceLock` would wait for it forever.
#[must_use]
pub fn configured_engine() -> Engine {
    static ENGINE: AtomicU8 = AtomicU8::new(0);
    let engine = match ENGINE.load(Ordering::Relaxed) {
        1 => Engine::Auto,
        2 => Engine::Dense,
        3 => Engine::Sparse,
        _ => {
            let engine = std::env::var("PANOPTIQ_DECODER")
                .ok()
                .and_then(|value| parse_engine(value.trim()))
                .unwrap_or(Engine::Auto);
            let code = match engine {
                Engine::Auto => 1,
                Engine::Dense => 2,
                Engine::Sparse => 3,
            };
            ENGINE.store(code, Ordering::Relaxed);
            engine
        }
    };
    engine
}

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

/// What a PNG's chunks say about its image, checked for consistency.
pub(crate) struct Layout {
    pub width: usize,
    pub height: usize,
    pub bit_depth: u8,
    pub color_type: u8,
    pub interlaced: bool,
}

/// Deflate expands at most 1032-fold (a 258-byte match coded in two bits), so image data of
/// `n` compressed bytes inflates to at most this many bytes (plus a little for the zlib frame).
fn max_inflated(compressed: usize) -> u128 {
    compressed as u128 * 1032 + 1024
}

/// Walks a PNG's chunks: checks the signature and header, and shows `visit` every chunk before
/// IEND (type and body; a body cut short by the end of the file as far as it goes). A header
/// declaring more pixels than the image data can inflate to is refused here, before anything
/// of that size is allocated.
pub(crate) fn scan_chunks(
    path: &Path,
    file: &[u8],
    mut visit: impl FnMut(&[u8], &[u8]) -> Result<(), PqError>,
) -> Result<Layout, PqError> {
    if file.len() < 8 || &file[..8] != SIGNATURE {
        return Err(malformed(path, "not a PNG file (bad signature)"));
    }
    let mut layout = None;
    let mut idat_bytes = 0usize;
    let mut at = 8usize;
    // A file cut short is read as far as it goes, as Pillow reads it: if the image data that is
    // there holds every row, the image is fine; if not, inflating it fails.
    while let Some(head) = file.get(at..at.saturating_add(8)) {
        let (len, kind) = (be32(head) as usize, &head[4..8]);
        let body_end = (at + 8).saturating_add(len);
        if idat_bytes > 0 && kind != b"IDAT" {
            // The image data is over (its chunks must follow one another): what comes after it
            // cannot change the pixels and is not read, as the png crate and Pillow do not.
            break;
        }
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(malformed(path, format!("bad chunk type {kind:?} at byte {at}")));
        }
        let body = &file[at + 8..body_end.min(file.len())];
        check_crc(path, kind, body, file.get(body_end..body_end.saturating_add(4)), at)?;
        at = body_end.saturating_add(4);
        match kind {
            b"IHDR" => {
                if body.len() != 13 || layout.is_some() {
                    return Err(malformed(path, "bad IHDR chunk"));
                }
                let (width, height) = (be32(body) as usize, be32(&body[4..]) as usize);
                let (bit_depth, color_type, compression, filter, interlace) =
                    (body[8], body[9], body[10], body[11], body[12]);
                if width == 0 || height == 0 || compression != 0 || filter != 0 || interlace > 1 {
                    return Err(malformed(path, "bad IHDR chunk"));
                }
                layout = Some(Layout { width, height, bit_depth, color_type, interlaced: interlace == 1 });
            }
            b"IDAT" => idat_bytes += body.len(),
            b"IEND" => break,
            b"PLTE" => {}
            // An unknown chunk that the PNG specification marks critical (upper-case first
            // letter) may change how pixels are read: refused, as the png crate refuses it.
            _ if kind[0].is_ascii_uppercase() => {
                return Err(malformed(
                    path,
                    format!("unknown critical chunk {}", String::from_utf8_lossy(kind)),
                ));
            }
            _ => {}
        }
        visit(kind, body)?;
    }
    let layout = layout.ok_or_else(|| malformed(path, "no IHDR chunk"))?;
    let samples = match layout.color_type {
        0 | 3 => 1,
        4 => 2,
        2 => 3,
        6 => 4,
        _ => return Err(malformed(path, format!("unknown colour type {}", layout.color_type))),
    };
    let row_bits = layout.width as u128 * samples * u128::from(layout.bit_depth);
    let needed = layout.height as u128 * row_bits.div_ceil(8);
    if needed > max_inflated(idat_bytes) {
        return Err(malformed(
            path,
            format!(
                "its header declares {}x{} pixels ({needed} bytes of image data), more than its {idat_bytes} \
                 compressed bytes can hold",
                layout.width, layout.height
            ),
        ));
    }
    Ok(layout)
}

/// Checks a chunk's CRC-32 (of its type and body), as the PNG specification strongly recommends
/// and the png crate does: a damaged byte of compressed image data often still inflates, to
/// wrong pixels, so without it a corrupt file could give a silently wrong number. (Pillow checks
/// the CRCs of the chunks before the image data only.) The Adler-32 sum that ends the zlib
/// stream is not checked, as the png crate does not by default: the PNG specification (section
/// 5, "Deflate/Inflate Compression") calls it mainly a cross-check of the deflate and inflate
/// implementations, and the chunk CRCs enough to trust that a file arrived undamaged. A chunk
/// cut short by the end of the file has no CRC to check; it is read as far as it goes (see
/// [`scan_chunks`]).
///
/// Fuzzing builds skip the check (as the png crate's do), so that mutated files reach the
/// inflaters instead of stopping here.
fn check_crc(path: &Path, kind: &[u8], body: &[u8], stored: Option<&[u8]>, at: usize) -> Result<(), PqError> {
    let Some(stored) = stored.map(be32) else { return Ok(()) };
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(kind);
    hasher.update(body);
    let actual = hasher.finalize();
    if actual == stored || cfg!(fuzzing) {
        return Ok(());
    }
    Err(malformed(
        path,
        format!(
            "the {} chunk at byte {at} fails its CRC-32 check (stored {stored:08x}, computed {actual:08x}): \
             the file is corrupt",
            String::from_utf8_lossy(kind)
        ),
    ))
}

/// A decoding error naming the file.
pub(crate) fn malformed(path: &Path, message: impl Into<String>) -> PqError {
    PqError::Decode { path: path.to_owned(), message: message.into() }
}

fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
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
                y,
                stride,
                channels,
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

// Test images are small: their sizes fit every integer type.
#[cfg(test)]
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use std::path::PathBuf;

    use png::{BitDepth, ColorType, Filter};

    use super::*;
    use crate::decode::IdRows;

    /// A small xorshift generator: tests stay deterministic without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A panoptic-like map: rectangles of random ids over a background, some rows shifted.
    fn blocky(rng: &mut Rng, width: usize, height: usize) -> Vec<u32> {
        let mut ids = vec![0u32; width * height];
        for _ in 0..rng.below(12) {
            let id = u32::try_from(rng.below(1 << 24)).unwrap();
            let (x0, y0) = (rng.below(width as u64) as usize, rng.below(height as u64) as usize);
            let (w, h) = (1 + rng.below(width as u64) as usize, 1 + rng.below(height as u64) as usize);
            for y in y0..(y0 + h).min(height) {
                let shift = rng.below(3) as usize;
                for x in (x0 + shift).min(width)..(x0 + w + shift).min(width) {
                    ids[y * width + x] = id;
                }
            }
        }
        ids
    }

    fn write(path: &Path, ids: &[u32], width: usize, height: usize, channels: usize, filter: Filter) {
        let data: Vec<u8> = ids
            .iter()
            .flat_map(|id| {
                let b = id.to_le_bytes();
                // Alpha varies: it must be ignored.
                [b[0], b[1], b[2], b[0] ^ 0x5a][..channels].to_vec()
            })
            .collect();
        let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        let mut encoder = png::Encoder::new(file, width as u32, height as u32);
        encoder.set_color(if channels == 3 { ColorType::Rgb } else { ColorType::Rgba });
        encoder.set_depth(BitDepth::Eight);
        encoder.set_filter(filter);
        encoder.write_header().unwrap().write_image_data(&data).unwrap();
    }

    fn runs_of(ids: &[u32]) -> RowRuns {
        let mut runs = RowRuns::default();
        runs.set_from_ids(ids);
        runs
    }

    #[test]
    fn every_filter_decodes_as_the_png_crate_does() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let dir = std::env::temp_dir().join(format!("panoptiq-fastpng-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let filters =
            [Filter::NoFilter, Filter::Sub, Filter::Up, Filter::Avg, Filter::Paeth, Filter::Adaptive];
        let mut buffers = Buffers::default();
        for case in 0..240 {
            let (width, height) = (1 + rng.below(70) as usize, 1 + rng.below(30) as usize);
            let channels = if case % 2 == 0 { 3 } else { 4 };
            let filter = filters[case % filters.len()];
            let ids = blocky(&mut rng, width, height);
            let path: PathBuf = dir.join(format!("{case}.png"));
            write(&path, &ids, width, height, channels, filter);

            // Both inflaters: fdeflate's bytes (the default) and the sparse ring.
            let engine = if case % 4 < 2 { Engine::Dense } else { Engine::Sparse };
            let mut reference = IdRows::open(&path).unwrap();
            let mut b = std::mem::take(&mut buffers);
            b.file_mut().clone_from(&std::fs::read(&path).unwrap());
            let mut fast = FastRows::from_file_bytes_with(&path, b, engine).unwrap().ok().unwrap();
            assert_eq!((fast.width(), fast.height()), (width, height));
            let mut row = vec![0u32; width];
            let mut previous = runs_of(&vec![0; width]);
            for y in 0..height {
                reference.next_row(&mut row).unwrap();
                let expected = runs_of(&row);
                let change = fast.next_row(&path).unwrap();
                assert_eq!(fast.runs(), &expected, "case {case} ({filter:?}, {channels} channels) row {y}");
                // Same means the bytes repeat the row above; equal ids may still differ in alpha.
                if change == Row::Same {
                    assert_eq!(expected, previous, "case {case} row {y} reported as repeated");
                }
                previous = expected;
            }
            assert!(fast.next_row(&path).is_err(), "rows past the end are an error");
            buffers = fast.into_buffers();
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_engine_is_chosen_by_how_many_fold_the_image_data_inflates() {
        let dir = std::env::temp_dir().join(format!("panoptiq-engine-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("choice.png");
        let mut rng = Rng(5);
        // Large flat segments inflate thousands-fold; a map of noise barely at all.
        let (width, height) = (400, 300);
        let flat: Vec<u32> = (0..width * height).map(|i| if i % width < 150 { 7 } else { 66_051 }).collect();
        let noise: Vec<u32> = (0..width * height).map(|_| rng.below(1 << 24) as u32).collect();
        for (ids, channels, expected) in [
            (&flat, 3, Engine::Sparse),
            (&flat, 4, Engine::Sparse),
            (&noise, 3, Engine::Dense),
            (&noise, 4, Engine::Dense),
        ] {
            write(&path, ids, width, height, channels, Filter::Adaptive);
            let file = std::fs::read(&path).unwrap();
            let mut rows = FastRows::from_file_bytes(&path, Buffers::with_file(file)).unwrap().ok().unwrap();
            let ratio = rows.image_bytes / rows.buffers.compressed.len();
            assert_eq!(rows.engine(), expected, "inflates {ratio}-fold, {channels} channels");
            assert_eq!(ratio >= sparse_from(channels), expected == Engine::Sparse);
            for row in ids.chunks_exact(width) {
                rows.next_row(&path).unwrap();
                assert_eq!(rows.runs(), &runs_of(row));
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn engines_are_named_as_panoptiq_decoder_names_them() {
        assert_eq!(parse_engine("auto"), Some(Engine::Auto));
        assert_eq!(parse_engine("dense"), Some(Engine::Dense));
        assert_eq!(parse_engine("sparse"), Some(Engine::Sparse));
        assert_eq!(parse_engine("Sparse"), None);
        assert_eq!(parse_engine(""), None);
    }

    #[test]
    fn other_layouts_are_left_to_the_png_crate() {
        let path = std::env::temp_dir().join(format!("panoptiq-fastpng-gray-{}.png", std::process::id()));
        let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut encoder = png::Encoder::new(file, 2, 2);
        encoder.set_color(ColorType::Grayscale);
        encoder.write_header().unwrap().write_image_data(&[0, 1, 2, 3]).unwrap();
        assert!(FastRows::open(&path, Buffers::default()).unwrap().is_err());
        std::fs::write(&path, b"\x89PNG\r\n\x1a\nshort").unwrap();
        assert!(matches!(FastRows::open(&path, Buffers::default()), Err(PqError::Decode { .. })));
        std::fs::remove_file(&path).unwrap();
    }

    /// Every row's runs with `engine`, or the first error.
    fn all_rows(path: &Path, file: &[u8], engine: Engine) -> Result<Vec<RowRuns>, String> {
        rows_and_engine(path, file, engine).map(|(runs, _)| runs)
    }

    /// [`all_rows`], and the engine that decoded the last row: the sparse engine hands a stream
    /// it refuses to the dense one, which would hide its mistakes from a comparison of rows.
    fn rows_and_engine(path: &Path, file: &[u8], engine: Engine) -> Result<(Vec<RowRuns>, Engine), String> {
        let mut rows = FastRows::from_file_bytes_with(path, Buffers::with_file(file.to_vec()), engine)
            .map_err(|e| e.to_string())?
            .ok()
            .unwrap();
        let runs = (0..rows.height())
            .map(|_| rows.next_row(path).map(|_| rows.runs().clone()).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        Ok((runs, rows.engine()))
    }

    #[test]
    fn the_sparse_inflater_gives_the_dense_ones_rows_or_error_on_damaged_data() {
        let mut rng = Rng(7);
        let dir = std::env::temp_dir().join(format!("panoptiq-sparse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("damaged.png");
        let (width, height) = (61, 40);
        write(&path, &blocky(&mut rng, width, height), width, height, 3, Filter::Adaptive);
        let file = std::fs::read(&path).unwrap();
        let idat = file.windows(4).position(|w| w == b"IDAT").unwrap() + 4;
        let idat_len = u32::from_be_bytes(file[idat - 8..idat - 4].try_into().unwrap()) as usize;
        let mut failed = 0;
        for k in 0..200 {
            let mut damaged = file.clone();
            let at = idat + 2 + rng.below(idat_len as u64 - 2) as usize;
            damaged[at] ^= 1 << (k % 8);
            if k % 5 == 0 {
                damaged.truncate(at); // cut short as well
            } else {
                reseal(&mut damaged); // as if damaged before its CRCs were written
            }
            let sparse = all_rows(&path, &damaged, Engine::Sparse);
            assert_eq!(sparse, all_rows(&path, &damaged, Engine::Dense), "damage {k} at byte {at}");
            failed += usize::from(sparse.is_err());
        }
        assert!(failed > 20, "only {failed} damaged files were refused");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// `file` with every whole chunk's CRC made right for its bytes.
    fn reseal(file: &mut [u8]) {
        let mut at = 8;
        while at + 12 <= file.len() {
            let end = at + 8 + be32(&file[at..]) as usize;
            if end + 4 > file.len() {
                break;
            }
            let crc = crc32fast::hash(&file[at + 4..end]);
            file[end..end + 4].copy_from_slice(&crc.to_be_bytes());
            at = end + 4;
        }
    }

    #[test]
    fn a_chunk_whose_crc_does_not_match_its_bytes_is_refused_on_every_path() {
        let dir = std::env::temp_dir().join(format!("panoptiq-crc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("corrupt.png");
        let (width, height) = (40, 30);
        write(&path, &blocky(&mut Rng(3), width, height), width, height, 3, Filter::Up);
        let file = std::fs::read(&path).unwrap();
        let idat = file.windows(4).position(|w| w == b"IDAT").unwrap();
        // One flipped bit in the IHDR chunk's body, in the image data, in the IDAT's stored CRC.
        for (at, kind) in [
            (8 + 8 + 9, "IHDR"),
            (idat + 4 + 20, "IDAT"),
            (idat + 4 + be32(&file[idat - 4..]) as usize, "IDAT"),
        ] {
            let mut damaged = file.clone();
            damaged[at] ^= 0x10;
            let expected = format!("the {kind} chunk at byte");
            for engine in [Engine::Sparse, Engine::Dense] {
                let error = all_rows(&path, &damaged, engine).unwrap_err();
                assert!(error.contains(&expected) && error.contains("fails its CRC-32 check"), "{error}");
                assert!(error.contains("corrupt.png"), "{error}");
            }
            let error = crate::decode::read_id_map_from_bytes(
                &path,
                damaged.clone(),
                &crate::parallel::Cancel::new(),
            )
            .unwrap_err()
            .to_string();
            assert!(error.contains(&expected) && error.contains("fails its CRC-32 check"), "{error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// `level`/`strategy` zlib (miniz_oxide: 0 default, 1 filtered, 2 Huffman only, 3 RLE,
    /// 4 fixed codes).
    fn zlib(data: &[u8], level: i32, strategy: i32) -> Vec<u8> {
        use miniz_oxide::deflate::core::{
            compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
        };
        let mut compressor = CompressorOxide::new(create_comp_flags_from_zip_params(level, 1, strategy));
        let (mut input, mut output, mut at) = (data, vec![0u8; data.len() + 64], 0);
        loop {
            let (status, read, written) =
                compress(&mut compressor, input, &mut output[at..], TDEFLFlush::Finish);
            at += written;
            input = &input[read..];
            if status == TDEFLStatus::Done {
                output.truncate(at);
                return output;
            }
            output.resize(output.len() * 2, 0);
        }
    }

    /// Rows filtered with `filter(y)` (PNG's five filters written here from the specification).
    fn filtered(pixels: &[u8], stride: usize, bpp: usize, filter: impl Fn(usize) -> u8) -> Vec<u8> {
        let mut out = Vec::new();
        let zeros = vec![0u8; stride];
        for (y, row) in pixels.chunks_exact(stride).enumerate() {
            let above = if y == 0 { &zeros[..] } else { &pixels[(y - 1) * stride..y * stride] };
            let f = filter(y);
            out.push(f);
            for i in 0..stride {
                let (a, b) = (if i >= bpp { row[i - bpp] } else { 0 }, above[i]);
                let c = if i >= bpp { above[i - bpp] } else { 0 };
                let predicted = match f {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => a.midpoint(b),
                    _ => filters::paeth_predictor(a, b, c),
                };
                out.push(row[i].wrapping_sub(predicted));
            }
        }
        out
    }

    /// A PNG of `stream` (its image data) cut into IDAT chunks of `split` bytes.
    fn png_file(width: usize, height: usize, channels: usize, stream: &[u8], split: usize) -> Vec<u8> {
        let mut file = SIGNATURE.to_vec();
        let mut chunk = |kind: &[u8], body: &[u8]| {
            file.extend_from_slice(&(body.len() as u32).to_be_bytes());
            let start = file.len();
            file.extend_from_slice(kind);
            file.extend_from_slice(body);
            let crc = crc32fast::hash(&file[start..]);
            file.extend_from_slice(&crc.to_be_bytes());
        };
        let mut header = Vec::new();
        header.extend_from_slice(&(width as u32).to_be_bytes());
        header.extend_from_slice(&(height as u32).to_be_bytes());
        header.extend_from_slice(&[8, if channels == 3 { 2 } else { 6 }, 0, 0, 0]);
        chunk(b"IHDR", &header);
        for body in stream.chunks(split.max(1)) {
            chunk(b"IDAT", body);
        }
        chunk(b"IEND", &[]);
        file
    }

    #[test]
    fn both_inflaters_decode_every_level_strategy_filter_and_chunking() {
        let mut rng = Rng(99);
        let dir = std::env::temp_dir().join(format!("panoptiq-streams-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("stream.png");
        let mut cases = 0;
        for case in 0..60usize {
            let (width, height) = (1 + rng.below(90) as usize, 1 + rng.below(40) as usize);
            let channels = if case % 2 == 0 { 3 } else { 4 };
            let ids = blocky(&mut rng, width, height);
            let pixels: Vec<u8> = ids
                .iter()
                .flat_map(|id| {
                    let b = id.to_le_bytes();
                    [b[0], b[1], b[2], 255][..channels].to_vec()
                })
                .collect();
            let expected: Vec<RowRuns> = ids.chunks_exact(width).map(runs_of).collect();
            // One filter for all rows, or a mix as adaptive encoders (Pillow's zlib) choose.
            let mix = rng.next();
            let filter =
                |y: usize| if case % 6 == 5 { ((mix >> (y % 60)) % 5) as u8 } else { (case % 6) as u8 };
            let data = filtered(&pixels, width * channels, channels, filter);
            let mut streams: Vec<(String, Vec<u8>)> = Vec::new();
            for level in 0..=10 {
                streams.push((format!("level {level}"), zlib(&data, level, 0)));
            }
            for (strategy, name) in [(1, "filtered"), (2, "Huffman only"), (3, "RLE"), (4, "fixed codes")] {
                streams.push((name.to_owned(), zlib(&data, 6, strategy)));
            }
            streams.push(("fdeflate".to_owned(), fdeflate::compress_to_vec(&data)));
            for (name, stream) in streams {
                for split in [stream.len(), 1 + stream.len() / 3, 7] {
                    let file = png_file(width, height, channels, &stream, split);
                    let (sparse, engine) = rows_and_engine(&path, &file, Engine::Sparse).unwrap();
                    assert_eq!(engine, Engine::Sparse, "case {case}, {name}, split {split}: fell back");
                    assert_eq!(
                        Ok(&sparse),
                        all_rows(&path, &file, Engine::Dense).as_ref(),
                        "case {case}, {name}, split {split}"
                    );
                    assert_eq!(sparse, expected, "case {case}, {name}, split {split}");
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, 60 * 16 * 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
