//! Reading panoptic PNGs into segment ids, whole or one row at a time.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use png::{BitDepth, ColorType, Transformations};

use super::buffers::Buffers;
use super::chunks::{malformed, scan_chunks};
use super::dense::FastRows;
use super::row::Row;
use crate::eval::ids::rgb_to_ids;
use crate::eval::runs::RowRuns;
use crate::runtime::memory::{filled_vec, grow};
use crate::runtime::parallel::Cancel;
use crate::PqError;

/// A decoded id map: `ids[y * width + x]` is the segment id of pixel (x, y).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMap {
    pub height: usize,
    pub width: usize,
    pub ids: Vec<u32>,
}

/// Largest decoded image accepted, in bytes: far above any real panoptic map, low enough that a
/// corrupt header cannot make us allocate without bound.
pub(crate) const MAX_DECODED_BYTES: usize = 1 << 31;

/// A panoptic PNG being decoded row by row into ids.
///
/// Accepts 8-bit RGB, RGBA and palette images (expanded to their colours); alpha is ignored, as
/// panopticapi ignores it. Grayscale and 16-bit images are refused: panopticapi either crashes
/// on them or silently drops the low byte.
pub struct IdRows {
    path: PathBuf,
    reader: png::Reader<Cursor<Vec<u8>>>,
    channels: usize,
    width: usize,
    height: usize,
    row_bytes: Vec<u8>,
    /// Interlaced images arrive pass by pass, so they are decoded whole and served from here.
    frame: Option<(Vec<u8>, usize)>,
}

impl IdRows {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path) -> Result<Self, PqError> {
        let file = std::fs::read(path).map_err(|source| PqError::Io { path: path.to_owned(), source })?;
        Self::from_bytes(path, &file)
    }

    /// Reads the header of `file`, a whole PNG file in memory; `path` only names it in errors.
    pub fn from_bytes(path: &Path, file: &[u8]) -> Result<Self, PqError> {
        // Refuses a header that claims more pixels than the data can hold, before the png crate
        // allocates for it, and hands the png crate the file as panoptiq's decoder reads it: cut
        // after the last chunk there is, CRCs ignored, closed with IEND.
        let mut clean = Vec::new();
        clean.try_reserve(file.len() + 12).map_err(|_| malformed(path, "file too large"))?;
        clean.extend_from_slice(&file[..8.min(file.len())]);
        scan_chunks(path, file, |kind, body| {
            let len = u32::try_from(body.len()).map_err(|_| malformed(path, "chunk too large"))?;
            clean.extend_from_slice(&len.to_be_bytes());
            clean.extend_from_slice(kind);
            clean.extend_from_slice(body);
            clean.extend_from_slice(&[0; 4]);
            Ok(())
        })?;
        clean.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
        let mut decoder =
            png::Decoder::new_with_limits(Cursor::new(clean), png::Limits { bytes: MAX_DECODED_BYTES });
        decoder.set_transformations(Transformations::EXPAND);
        // The CRCs were checked by `scan_chunks` (this copy has none); the Adler-32 sum is not,
        // as in panoptiq's own decoder, so both paths accept the same files.
        decoder.ignore_checksums(true);
        let reader = decoder.read_info().map_err(|e| decode_error(path, e))?;
        let channels = match reader.output_color_type() {
            (ColorType::Rgb, BitDepth::Eight) => 3,
            (ColorType::Rgba, BitDepth::Eight) => 4,
            (color, depth) => {
                return Err(PqError::UnsupportedPng {
                    path: path.to_owned(),
                    detail: format!("{}-bit {}", depth as u8, color_name(color)),
                });
            }
        };
        let info = reader.info();
        let (width, height) = (info.width as usize, info.height as usize);
        let frame = if info.interlaced { Some((Vec::new(), 0)) } else { None };
        Ok(Self { path: path.to_owned(), reader, channels, width, height, row_bytes: Vec::new(), frame })
    }

    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    #[must_use]
    pub fn height(&self) -> usize {
        self.height
    }

    /// Decodes the next row into `out` (`width` ids). Fails on a truncated or corrupt file.
    pub fn next_row(&mut self, out: &mut [u32]) -> Result<(), PqError> {
        let row_len = self.width * self.channels;
        if let Some((frame, next)) = &mut self.frame {
            if frame.is_empty() {
                let size = self
                    .reader
                    .output_buffer_size()
                    .ok_or_else(|| malformed(&self.path, "image dimensions overflow"))?;
                grow(frame, size, 0, "an interlaced image")?;
                self.reader.next_frame(frame).map_err(|e| decode_error(&self.path, e))?;
            }
            let row = frame
                .get(*next * row_len..(*next + 1) * row_len)
                .ok_or_else(|| malformed(&self.path, ENDED))?;
            *next += 1;
            return rgb_to_ids(row, self.channels, out);
        }
        grow(&mut self.row_bytes, row_len, 0, "a row of pixels")?;
        match self.reader.read_row(&mut self.row_bytes) {
            Ok(Some(_)) => rgb_to_ids(&self.row_bytes, self.channels, out),
            Ok(None) => Err(malformed(&self.path, ENDED)),
            Err(e) => Err(decode_error(&self.path, e)),
        }
    }

    /// Decodes every remaining row.
    pub fn read_all(mut self) -> Result<IdMap, PqError> {
        let mut ids = filled_vec(self.width * self.height, 0u32, "the id map")?;
        if self.width > 0 {
            for row in ids.chunks_exact_mut(self.width) {
                self.next_row(row)?;
            }
        }
        Ok(IdMap { height: self.height, width: self.width, ids })
    }
}

const ENDED: &str = "image data ends early";

/// A PNG read row by row as runs: by panoptiq's decoder when the layout allows, else by the `png`
/// crate.
pub enum RunReader {
    Fast(FastRows),
    Fallback { rows: Box<IdRows>, ids: Vec<u32>, runs: RowRuns },
}

impl RunReader {
    pub fn open(path: &Path, buffers: Buffers) -> Result<Self, PqError> {
        match FastRows::open(path, buffers)? {
            Ok(fast) => Ok(RunReader::Fast(fast)),
            Err(buffers) => Self::fallback(IdRows::from_bytes(path, &buffers.into_file())?),
        }
    }

    /// [`RunReader::open`] on a whole PNG file in memory; `path` only names it in errors.
    pub fn from_bytes(path: &Path, file: Vec<u8>) -> Result<Self, PqError> {
        Self::from_buffers(path, Buffers::with_file(file))
    }

    /// [`RunReader::open`] on a whole PNG file already read into `buffers` (by
    /// [`Buffers::file_mut`]); `path` only names it in errors.
    pub fn from_buffers(path: &Path, buffers: Buffers) -> Result<Self, PqError> {
        match FastRows::from_file_bytes(path, buffers)? {
            Ok(fast) => Ok(RunReader::Fast(fast)),
            Err(buffers) => Self::fallback(IdRows::from_bytes(path, &buffers.into_file())?),
        }
    }

    fn fallback(rows: IdRows) -> Result<Self, PqError> {
        let rows = Box::new(rows);
        let ids = filled_vec(rows.width(), 0, "a row of ids")?;
        Ok(RunReader::Fallback { ids, runs: RowRuns::default(), rows })
    }

    /// `(height, width)`.
    #[must_use]
    pub fn shape(&self) -> (usize, usize) {
        match self {
            RunReader::Fast(fast) => (fast.height(), fast.width()),
            RunReader::Fallback { rows, .. } => (rows.height(), rows.width()),
        }
    }

    /// Reads the next row; its runs are then in [`RunReader::runs`].
    pub fn next_row(&mut self, path: &Path) -> Result<Row, PqError> {
        match self {
            RunReader::Fast(fast) => fast.next_row(path),
            RunReader::Fallback { rows, ids, runs } => {
                rows.next_row(ids)?;
                runs.set_from_ids(ids);
                Ok(Row::Changed)
            }
        }
    }

    #[must_use]
    pub fn runs(&self) -> &RowRuns {
        match self {
            RunReader::Fast(fast) => fast.runs(),
            RunReader::Fallback { runs, .. } => runs,
        }
    }

    /// Gives the fast decoder's buffers back for the next file.
    #[must_use]
    pub fn into_buffers(self) -> Buffers {
        match self {
            RunReader::Fast(fast) => fast.into_buffers(),
            RunReader::Fallback { .. } => Buffers::default(),
        }
    }
}

/// Reads a whole panoptic PNG into ids (see [`IdRows`] for the layouts accepted), with panoptiq's
/// own decoder where the layout allows; stops early once `cancel` is set.
pub fn read_id_map(path: &Path, cancel: &Cancel) -> Result<IdMap, PqError> {
    read_all_rows(path, RunReader::open(path, Buffers::default())?, cancel)
}

/// [`read_id_map`] of a whole PNG file in memory; `name` only names it in errors.
pub fn read_id_map_from_bytes(name: &Path, file: Vec<u8>, cancel: &Cancel) -> Result<IdMap, PqError> {
    read_all_rows(name, RunReader::from_bytes(name, file)?, cancel)
}

fn read_all_rows(path: &Path, mut reader: RunReader, cancel: &Cancel) -> Result<IdMap, PqError> {
    let (height, width) = reader.shape();
    let mut ids = filled_vec(width * height, 0u32, "the id map")?;
    for y in 0..height {
        if y % 256 == 0 {
            cancel.check()?;
        }
        let change = reader.next_row(path)?;
        let (done, row) = ids.split_at_mut(y * width);
        let row = &mut row[..width];
        if y > 0 && change == Row::Same {
            row.copy_from_slice(&done[(y - 1) * width..]);
        } else {
            let mut start = 0;
            for (&end, &id) in reader.runs().ends().iter().zip(reader.runs().ids()) {
                row[start..end as usize].fill(id);
                start = end as usize;
            }
        }
    }
    Ok(IdMap { height, width, ids })
}

/// Reads a whole panoptic PNG with the `png` crate only; tests compare it with [`read_id_map`].
pub fn read_id_map_reference(path: &Path) -> Result<IdMap, PqError> {
    IdRows::open(path)?.read_all()
}

pub(crate) fn decode_error(path: &Path, e: png::DecodingError) -> PqError {
    match e {
        png::DecodingError::IoError(source) if source.kind() != std::io::ErrorKind::UnexpectedEof => {
            PqError::Io { path: path.to_owned(), source }
        }
        other => PqError::Decode { path: path.to_owned(), message: other.to_string() },
    }
}

pub(crate) fn color_name(color: ColorType) -> &'static str {
    match color {
        ColorType::Grayscale => "grayscale",
        ColorType::GrayscaleAlpha => "grayscale+alpha",
        ColorType::Rgb => "RGB",
        ColorType::Rgba => "RGBA",
        ColorType::Indexed => "palette",
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use super::*;

    fn write_png(
        path: &Path,
        width: u32,
        height: u32,
        color: ColorType,
        data: &[u8],
        palette: Option<Vec<u8>>,
    ) {
        let file = File::create(path).unwrap();
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
        encoder.set_color(color);
        encoder.set_depth(BitDepth::Eight);
        if let Some(p) = palette {
            encoder.set_palette(p);
        }
        encoder.write_header().unwrap().write_image_data(data).unwrap();
    }

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("panoptiq-decode-{}-{name}", std::process::id()))
    }

    #[test]
    fn rgb_rgba_and_palette_decode_to_the_same_ids() {
        let rgb = [1u8, 0, 0, 0, 1, 0, 9, 9, 9, 255, 255, 255];
        let expected = vec![1, 256, 9 + 9 * 256 + 9 * 65_536, (1 << 24) - 1];
        let rgba: Vec<u8> = rgb.chunks(3).flat_map(|p| [p[0], p[1], p[2], 77]).collect();
        let (a, b, c) = (temp("rgb.png"), temp("rgba.png"), temp("p.png"));
        write_png(&a, 2, 2, ColorType::Rgb, &rgb, None);
        write_png(&b, 2, 2, ColorType::Rgba, &rgba, None);
        write_png(&c, 2, 2, ColorType::Indexed, &[0, 1, 2, 3], Some(rgb.to_vec()));
        for path in [&a, &b, &c] {
            let map = read_id_map(path, &Cancel::new()).unwrap();
            assert_eq!((map.height, map.width, &map.ids), (2, 2, &expected));
            std::fs::remove_file(path).unwrap();
        }
    }

    #[test]
    fn grayscale_missing_and_garbage_are_errors() {
        let g = temp("gray.png");
        write_png(&g, 1, 1, ColorType::Grayscale, &[0], None);
        assert!(matches!(read_id_map(&g, &Cancel::new()), Err(PqError::UnsupportedPng { .. })));
        std::fs::write(&g, b"not a png").unwrap();
        assert!(matches!(read_id_map(&g, &Cancel::new()), Err(PqError::Decode { .. })));
        std::fs::remove_file(&g).unwrap();
        assert!(matches!(read_id_map(&g, &Cancel::new()), Err(PqError::Io { .. })));
    }
}
