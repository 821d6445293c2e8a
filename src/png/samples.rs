//! Any PNG's samples as integers, for the files converters read that are not panoptic maps:
//! 2-channel (semantic, instance) predictions and Cityscapes' 16-bit `instanceIds`.

use std::io::Cursor;
use std::path::Path;

use png::{BitDepth, Transformations};

use super::reader::{decode_error, MAX_DECODED_BYTES};
use crate::runtime::memory::filled_vec;
use crate::PqError;

/// A decoded image: `channels` samples a pixel, row-major; palettes expanded to RGB(A), low bit
/// depths to 8 bits, 16-bit samples kept whole.
#[derive(Debug, Clone)]
pub struct Samples {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub values: Vec<u32>,
}

impl Samples {
    /// The sample of `channel` at pixel `index`.
    #[must_use]
    pub fn at(&self, index: usize, channel: usize) -> u32 {
        self.values[index * self.channels + channel]
    }
}

/// Decodes `file` (named `path` in errors).
pub fn read_samples(path: &Path, file: &[u8]) -> Result<Samples, PqError> {
    let mut decoder =
        png::Decoder::new_with_limits(Cursor::new(file), png::Limits { bytes: MAX_DECODED_BYTES });
    decoder.set_transformations(Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(|e| decode_error(path, e))?;
    let (color, depth) = reader.output_color_type();
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| PqError::Decode { path: path.to_owned(), message: "the image is too large".into() })?;
    let mut buffer = filled_vec(size, 0u8, "a decoded PNG")?;
    let frame = reader.next_frame(&mut buffer).map_err(|e| decode_error(path, e))?;
    let (height, width) = (frame.height as usize, frame.width as usize);
    let channels = color.samples();
    let bytes = &buffer[..frame.buffer_size()];
    let line = frame.line_size;
    let mut values = filled_vec(height * width * channels, 0u32, "a decoded PNG")?;
    for (y, out) in values.chunks_exact_mut(width * channels).enumerate() {
        let row = &bytes[y * line..];
        match depth {
            BitDepth::Sixteen => {
                for (v, pair) in out.iter_mut().zip(row.chunks_exact(2)) {
                    *v = u32::from(u16::from_be_bytes([pair[0], pair[1]]));
                }
            }
            _ => {
                for (v, &b) in out.iter_mut().zip(row) {
                    *v = u32::from(b);
                }
            }
        }
    }
    Ok(Samples { height, width, channels, values })
}
