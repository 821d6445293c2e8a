//! Writing id maps as panoptic PNGs, for tests, demos and users' own predictions.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use png::{BitDepth, ColorType};

use crate::eval::ids::ids_to_rgb;
use crate::runtime::memory::filled_vec;
use crate::PqError;

/// Writes `ids` (row-major, `height` x `width`) as an 8-bit RGB PNG, or RGBA with opaque alpha
/// when `alpha` is set. Ids above 2^24 - 1 lose their high byte, as in `id2rgb`.
pub fn write_id_map(
    path: &Path,
    ids: &[u32],
    height: usize,
    width: usize,
    alpha: bool,
) -> Result<(), PqError> {
    if ids.len() != height * width {
        return Err(PqError::LengthMismatch { what: "ids", expected: height * width, got: ids.len() });
    }
    let mut rgb = filled_vec(ids.len() * 3, 0u8, "the colours")?;
    ids_to_rgb(ids, &mut rgb)?;
    // zlib-style compression, as the PIL-written PNGs of COCO and other datasets have; files made
    // for tests and benchmarks should decode like real ones.
    write_rgb(path, &rgb, height, width, alpha, png::Compression::Balanced)
}

/// Writes an RGB picture (row-major, 3 bytes a pixel) as an 8-bit RGB PNG, or RGBA with opaque
/// alpha when `alpha` is set.
pub fn write_rgb(
    path: &Path,
    rgb: &[u8],
    height: usize,
    width: usize,
    alpha: bool,
    compression: png::Compression,
) -> Result<(), PqError> {
    if rgb.len() != height * width * 3 {
        return Err(PqError::LengthMismatch {
            what: "RGB bytes",
            expected: height * width * 3,
            got: rgb.len(),
        });
    }
    if alpha {
        let mut out = filled_vec(height * width * 4, 255u8, "the colours")?;
        for (out, pixel) in out.chunks_exact_mut(4).zip(rgb.chunks_exact(3)) {
            out[..3].copy_from_slice(pixel);
        }
        return write_pixels(path, &out, height, width, ColorType::Rgba, compression);
    }
    write_pixels(path, rgb, height, width, ColorType::Rgb, compression)
}

/// Writes 8-bit samples (row-major, the colour type's channels a pixel) as a PNG.
pub fn write_pixels(
    path: &Path,
    data: &[u8],
    height: usize,
    width: usize,
    color: ColorType,
    compression: png::Compression,
) -> Result<(), PqError> {
    let error = |message: String| PqError::Encode { path: path.to_owned(), message };
    let channels = color.samples();
    if data.len() != height * width * channels {
        return Err(PqError::LengthMismatch {
            what: "pixel bytes",
            expected: height * width * channels,
            got: data.len(),
        });
    }
    let (w, h) = (u32::try_from(width), u32::try_from(height));
    let (Ok(w), Ok(h)) = (w, h) else {
        return Err(error(format!("{height}x{width} is too large for a PNG")));
    };
    let file = File::create(path).map_err(|source| PqError::Io { path: path.to_owned(), source })?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), w, h);
    encoder.set_color(color);
    encoder.set_depth(BitDepth::Eight);
    encoder.set_compression(compression);
    let mut writer = encoder.write_header().map_err(|e| error(e.to_string()))?;
    writer.write_image_data(data).map_err(|e| error(e.to_string()))?;
    writer.finish().map_err(|e| error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::png::reader::read_id_map;

    #[test]
    fn written_maps_read_back() {
        let ids: Vec<u32> = (0..12).map(|i| i * 100_003 % (1 << 24)).collect();
        for alpha in [false, true] {
            let path =
                std::env::temp_dir().join(format!("panoptiq-encode-{}-{alpha}.png", std::process::id()));
            write_id_map(&path, &ids, 3, 4, alpha).unwrap();
            let map = read_id_map(&path, &crate::runtime::parallel::Cancel::new()).unwrap();
            assert_eq!((map.height, map.width, map.ids), (3, 4, ids.clone()));
            std::fs::remove_file(&path).unwrap();
        }
    }
}
