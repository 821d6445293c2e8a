//! PNGs written from rows of runs (filter None): where a row agrees with the row above it is a
//! copy of it, elsewhere each run is one pixel as literals and a copy of that pixel — so writing
//! a converter's output costs its runs and their changes from row to row, never a pass of zlib
//! over every pixel. The bytes differ from zlib's; the pixels are the same.

use super::adler::{Adler, RowSums};
use super::run_deflate::{Distance, RunDeflate, WINDOW};
use crate::eval::runs::RowRuns;
use crate::PqError;

/// An 8-bit PNG of one (gray) or three (RGB) bytes a pixel, taken row by row as runs of ids:
/// a gray pixel is the id's low byte, an RGB one its low three bytes (as `id2rgb`).
#[derive(Debug)]
pub struct RunPng {
    width: usize,
    height: usize,
    channels: usize,
    deflate: RunDeflate,
    /// A row's bytes, its filter byte included.
    line: usize,
    /// Copying from the row above: possible when it is within deflate's window.
    above: Option<Distance>,
    /// The last row's runs, `(end, id)`, neighbours of one id merged, and its share of the
    /// checksum; the checksum so far.
    previous: Vec<(u32, u32)>,
    current: Vec<(u32, u32)>,
    previous_share: Adler,
    adler: Adler,
    rows: usize,
}

fn bad(message: String) -> PqError {
    PqError::BadMask { message }
}

impl RunPng {
    /// An encoder of a `height` x `width` image of `channels` (1 or 3) bytes a pixel.
    pub fn new(height: usize, width: usize, channels: usize) -> Result<Self, PqError> {
        if !matches!(channels, 1 | 3) {
            return Err(bad(format!("PNGs are written with 1 or 3 channels, not {channels}")));
        }
        if width == 0 || height == 0 || u32::try_from(width).is_err() || u32::try_from(height).is_err() {
            return Err(bad(format!("cannot write a {height}x{width} PNG")));
        }
        let line = width * channels + 1;
        Ok(RunPng {
            width,
            height,
            channels,
            deflate: RunDeflate::default(),
            line,
            above: (line <= WINDOW).then(|| RunDeflate::distance(line)),
            previous: Vec::new(),
            current: Vec::new(),
            previous_share: Adler::EMPTY,
            adler: Adler::START,
            rows: 0,
        })
    }

    /// The bytes of a pixel of `id`.
    fn pixel(&self, id: u32) -> ([u8; 3], usize) {
        let b = id.to_le_bytes();
        ([b[0], b[1], b[2]], self.channels)
    }

    /// The next row, as [`RowRuns`] have it: run `i` ends (exclusive) at `ends[i]`, the last at
    /// the width, and has id `ids[i]`.
    pub fn push(&mut self, ends: &[u32], ids: &[u32]) -> Result<(), PqError> {
        if self.rows == self.height {
            return Err(bad(format!("a {}-row PNG was given more rows", self.height)));
        }
        let mut current = std::mem::take(&mut self.current);
        current.clear();
        let mut start = 0u32;
        for (&end, &id) in ends.iter().zip(ids) {
            if end <= start {
                return Err(bad(format!("row {}: runs must be non-empty and in order", self.rows)));
            }
            if self.channels == 1 && id > 255 {
                return Err(bad(format!("value {id} does not fit in an 8-bit gray PNG (0..=255)")));
            }
            match current.last_mut() {
                Some(last) if last.1 == id => last.0 = end,
                _ => current.push((end, id)),
            }
            start = end;
        }
        if ends.len() != ids.len() || start as usize != self.width {
            return Err(bad(format!("row {}: runs cover {start} of {} pixels", self.rows, self.width)));
        }
        if self.rows > 0 && current == self.previous {
            self.current = current;
            return self.push_same();
        }
        // The row's share of the checksum: its filter byte (None), then its runs.
        let mut sums = RowSums::new(self.line);
        for (start, &(end, id)) in starts(&current).zip(&current) {
            let (bytes, channels) = self.pixel(id);
            sums.repeat(1 + start * channels, &bytes[..channels], end as usize - start);
        }
        let share = sums.share();
        self.deflate.literals(&[0]);
        match self.above {
            Some(above) if self.rows > 0 => self.write_against_above(&current, above),
            _ => self.write_runs(&current),
        }
        self.adler = self.adler.then(share, self.line);
        self.previous_share = share;
        self.current = std::mem::replace(&mut self.previous, current);
        self.rows += 1;
        Ok(())
    }

    /// A row as its runs alone.
    fn write_runs(&mut self, runs: &[(u32, u32)]) {
        for (start, &(end, id)) in starts(runs).zip(runs) {
            let (bytes, channels) = self.pixel(id);
            self.deflate.repeat(&bytes[..channels], end as usize - start, false);
        }
    }

    /// A row as copies of the row above where the two agree, and runs where they do not; a run
    /// continuing the pixel just written is copies only.
    fn write_against_above(&mut self, current: &[(u32, u32)], above: Distance) {
        let previous = std::mem::take(&mut self.previous);
        let (mut i, mut j, mut x) = (0, 0, 0usize);
        // Pixels since `agree_from` equal the row above; `last` is the id of the pixel before x.
        let mut agree_from = None;
        let mut last = None;
        while i < current.len() {
            let ((end, id), (above_end, above_id)) = (current[i], previous[j]);
            let next = end.min(above_end) as usize;
            if id == above_id {
                agree_from.get_or_insert(x);
            } else {
                if let Some(from) = agree_from.take() {
                    self.copy_above(current, from, x, above);
                }
                let (bytes, channels) = self.pixel(id);
                self.deflate.repeat(&bytes[..channels], next - x, last == Some(id));
            }
            last = Some(id);
            x = next;
            i += usize::from(end as usize == next);
            j += usize::from(above_end as usize == next);
        }
        if let Some(from) = agree_from {
            self.copy_above(current, from, x, above);
        }
        self.previous = previous;
    }

    /// Pixels `from..to`, equal to the row above, copied from it; too short a stretch for a copy
    /// (under 3 bytes) goes as literals.
    fn copy_above(&mut self, current: &[(u32, u32)], from: usize, to: usize, above: Distance) {
        let len = (to - from) * self.channels;
        if len >= 3 {
            self.deflate.copy(len, above);
            return;
        }
        for x in from..to {
            let at = current.partition_point(|&(end, _)| end as usize <= x);
            let (bytes, channels) = self.pixel(current[at].1);
            self.deflate.literals(&bytes[..channels]);
        }
    }

    /// The next row of a [`RowRuns`].
    pub fn push_runs(&mut self, runs: &RowRuns) -> Result<(), PqError> {
        self.push(runs.ends(), runs.ids())
    }

    /// The next row, the same as the last one.
    pub fn push_same(&mut self) -> Result<(), PqError> {
        if self.rows == 0 || self.rows == self.height {
            return Err(bad(format!("row {} cannot repeat the row above", self.rows)));
        }
        self.deflate.literals(&[0]);
        match self.above {
            Some(above) if self.line > 3 => self.deflate.copy(self.line - 1, above),
            _ => {
                // The row above is beyond deflate's reach, or too short to copy: written again.
                let previous = std::mem::take(&mut self.previous);
                self.write_runs(&previous);
                self.previous = previous;
            }
        }
        self.adler = self.adler.then(self.previous_share, self.line);
        self.rows += 1;
        Ok(())
    }

    /// The PNG file: signature, header, the image data and its end.
    pub fn finish(self) -> Result<Vec<u8>, PqError> {
        if self.rows != self.height {
            return Err(bad(format!("a {}-row PNG was given {} rows", self.height, self.rows)));
        }
        let data = self.deflate.finish(self.adler.value());
        let mut file = Vec::with_capacity(data.len() + 64);
        file.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        let mut header = Vec::with_capacity(13);
        // Both fit in 32 bits (checked in `new`).
        #[allow(clippy::cast_possible_truncation)]
        {
            header.extend_from_slice(&(self.width as u32).to_be_bytes());
            header.extend_from_slice(&(self.height as u32).to_be_bytes());
        }
        let color_type = if self.channels == 3 { 2 } else { 0 };
        // Bit depth 8; deflate, adaptive filtering, no interlacing.
        header.extend_from_slice(&[8, color_type, 0, 0, 0]);
        chunk(&mut file, *b"IHDR", &header)?;
        chunk(&mut file, *b"IDAT", &data)?;
        chunk(&mut file, *b"IEND", &[])?;
        Ok(file)
    }
}

/// A whole id map (row-major, `height` x `width`) as a PNG of `channels` (1 or 3) bytes a
/// pixel: each row as its runs, a row equal to the one above as a copy of it.
pub fn encode_id_map(ids: &[u32], height: usize, width: usize, channels: usize) -> Result<Vec<u8>, PqError> {
    if ids.len() != height * width {
        return Err(PqError::LengthMismatch { what: "ids", expected: height * width, got: ids.len() });
    }
    let mut png = RunPng::new(height, width, channels)?;
    let mut runs = RowRuns::default();
    let mut previous: &[u32] = &[];
    for row in ids.chunks_exact(width) {
        if row == previous {
            png.push_same()?;
        } else {
            runs.set_from_ids(row);
            png.push_runs(&runs)?;
        }
        previous = row;
    }
    png.finish()
}

/// Where each run starts.
fn starts(runs: &[(u32, u32)]) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(runs.iter().map(|&(end, _)| end as usize))
}

fn chunk(file: &mut Vec<u8>, kind: [u8; 4], body: &[u8]) -> Result<(), PqError> {
    let len = u32::try_from(body.len())
        .ok()
        .filter(|&n| n < 1 << 31)
        .ok_or_else(|| bad(format!("a PNG chunk of {} bytes is too large", body.len())))?;
    file.extend_from_slice(&len.to_be_bytes());
    let start = file.len();
    file.extend_from_slice(&kind);
    file.extend_from_slice(body);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&file[start..]);
    file.extend_from_slice(&crc.finalize().to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic map of long runs, with rows that repeat the row above.
    fn map(height: usize, width: usize, seed: u64, max_id: u32) -> Vec<u32> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        let mut ids = vec![0u32; height * width];
        for y in 0..height {
            if y > 0 && next() % 3 == 0 {
                ids.copy_within((y - 1) * width..y * width, y * width);
                continue;
            }
            let mut x = 0;
            while x < width {
                let len = (1 + next() % (width / 3 + 2)).min(width - x);
                let id = u32::try_from(next()).unwrap() % (max_id + 1);
                ids[y * width + x..y * width + x + len].fill(id);
                x += len;
            }
        }
        ids
    }

    /// Every other repeated row given as its runs, so that both ways of repeating are used.
    fn encode(ids: &[u32], height: usize, width: usize, channels: usize) -> Vec<u8> {
        let mut png = RunPng::new(height, width, channels).unwrap();
        let mut runs = RowRuns::default();
        for (y, row) in ids.chunks_exact(width).enumerate() {
            if y > 0 && y % 2 == 0 && row == &ids[(y - 1) * width..y * width] {
                png.push_same().unwrap();
            } else {
                runs.set_from_ids(row);
                png.push_runs(&runs).unwrap();
            }
        }
        let file = png.finish().unwrap();
        assert_eq!(decode(&file), decode(&encode_id_map(ids, height, width, channels).unwrap()));
        file
    }

    /// The pixels, as the png crate decodes the file, and a check of the zlib stream's checksum.
    fn decode(file: &[u8]) -> (usize, usize, usize, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(file)).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        // The IDAT body starts after the signature (8), IHDR (25) and IDAT's length and kind (8).
        let len = u32::from_be_bytes(file[33..37].try_into().unwrap()) as usize;
        let inflated = fdeflate::decompress_to_vec(&file[41..41 + len]).expect("a valid zlib stream");
        assert_eq!(inflated.len(), info.height as usize * (info.line_size + 1));
        (info.height as usize, info.width as usize, info.color_type.samples(), buf)
    }

    #[test]
    fn rgb_and_gray_maps_decode_to_their_pixels() {
        // Wide enough that a row is beyond deflate's window (RGB from 10,923 pixels); one pixel.
        for (height, width, seed) in
            [(1, 1, 1), (3, 1, 2), (40, 37, 3), (60, 640, 4), (5, 11_000, 5), (2, 2, 6)]
        {
            for channels in [1, 3] {
                let max = if channels == 1 { 255 } else { (1 << 24) - 1 };
                let ids = map(height, width, seed, max);
                let (h, w, c, pixels) = decode(&encode(&ids, height, width, channels));
                assert_eq!((h, w, c), (height, width, channels));
                let expected: Vec<u8> =
                    ids.iter().flat_map(|id| id.to_le_bytes().into_iter().take(channels)).collect();
                assert!(pixels == expected, "{height}x{width}, {channels} channels");
            }
        }
    }

    #[test]
    fn bad_rows_are_errors() {
        let mut png = RunPng::new(2, 4, 1).unwrap();
        assert!(png.push_same().is_err(), "no row above");
        assert!(png.push(&[2, 3], &[1, 2]).is_err(), "short of the width");
        assert!(png.push(&[4], &[256]).is_err(), "not 8 bits");
        png.push(&[4], &[7]).unwrap();
        assert!(png.finish().is_err(), "a row missing");
        assert!(RunPng::new(0, 4, 3).is_err());
        assert!(RunPng::new(4, 4, 4).is_err());
    }
}
