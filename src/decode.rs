//! Reading a panoptic PNG into a map of segment ids.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use png::{BitDepth, ColorType, Transformations};

use crate::ids::rgb_to_ids;
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
const MAX_DECODED_BYTES: usize = 1 << 31;

/// Reads an 8-bit RGB, RGBA or palette PNG and packs each pixel's R, G, B into an id; alpha is
/// ignored, as panopticapi ignores it. Grayscale and 16-bit images are refused: panopticapi
/// either crashes on them or silently drops the low byte.
pub fn read_id_map(path: &Path) -> Result<IdMap, PqError> {
    let file = File::open(path).map_err(|source| PqError::Io { path: path.to_owned(), source })?;
    let decode_error = |e: png::DecodingError| match e {
        png::DecodingError::IoError(source) if source.kind() != std::io::ErrorKind::UnexpectedEof => {
            PqError::Io { path: path.to_owned(), source }
        }
        other => PqError::Decode { path: path.to_owned(), message: other.to_string() },
    };
    let mut decoder =
        png::Decoder::new_with_limits(BufReader::new(file), png::Limits { bytes: MAX_DECODED_BYTES });
    decoder.set_transformations(Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(decode_error)?;
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
    let size = reader.output_buffer_size().ok_or_else(|| PqError::Decode {
        path: path.to_owned(),
        message: "image dimensions overflow".to_owned(),
    })?;
    let mut pixels = vec![0u8; size];
    let frame = reader.next_frame(&mut pixels).map_err(decode_error)?;
    let (height, width) = (frame.height as usize, frame.width as usize);
    let mut ids = vec![0u32; height * width];
    rgb_to_ids(&pixels[..frame.buffer_size()], channels, &mut ids)?;
    Ok(IdMap { height, width, ids })
}

fn color_name(color: ColorType) -> &'static str {
    match color {
        ColorType::Grayscale => "grayscale",
        ColorType::GrayscaleAlpha => "grayscale+alpha",
        ColorType::Rgb => "RGB",
        ColorType::Rgba => "RGBA",
        ColorType::Indexed => "palette",
    }
}
