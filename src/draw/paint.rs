//! Painting an id map: each segment in its colour, optionally blended over a photo, with borders.

use std::collections::HashMap;

use crate::runtime::memory::filled_vec;
use crate::PqError;

/// How to paint an id map.
#[derive(Debug, Clone)]
pub struct Paint<'a> {
    /// Colour of each segment id.
    pub colors: &'a HashMap<u32, [u8; 3]>,
    /// Colour of ids not in `colors` (VOID, unknown segments).
    pub fallback: [u8; 3],
    /// An RGB photo of the same size to paint over, row-major, 3 bytes a pixel.
    pub photo: Option<&'a [u8]>,
    /// Opacity of the segment colours over the photo, 0 to 1 (ignored without a photo).
    pub alpha: f32,
    /// Colour of the pixels next to another segment (4-neighbourhood), if borders are drawn.
    pub border: Option<[u8; 3]>,
}

/// Paints `ids` (row-major, `height` x `width`) into a new RGB buffer.
pub fn paint(ids: &[u32], height: usize, width: usize, how: &Paint<'_>) -> Result<Vec<u8>, PqError> {
    let pixels = height * width;
    if ids.len() != pixels {
        return Err(PqError::LengthMismatch { what: "ids", expected: pixels, got: ids.len() });
    }
    if let Some(photo) = how.photo {
        if photo.len() != pixels * 3 {
            return Err(PqError::LengthMismatch {
                what: "photo bytes",
                expected: pixels * 3,
                got: photo.len(),
            });
        }
    }
    let mut rgb = filled_vec(pixels * 3, 0u8, "the picture")?;
    let alpha = how.alpha.clamp(0.0, 1.0);
    // Id maps are runs of one id: looking the colour up once per run is enough.
    let mut last = (u32::MAX, how.fallback);
    for (i, &id) in ids.iter().enumerate() {
        if id != last.0 {
            last = (id, how.colors.get(&id).copied().unwrap_or(how.fallback));
        }
        let mut color = last.1;
        if let Some(border) = how.border {
            let (y, x) = (i / width, i % width);
            let differs = (x > 0 && ids[i - 1] != id)
                || (x + 1 < width && ids[i + 1] != id)
                || (y > 0 && ids[i - width] != id)
                || (y + 1 < height && ids[i + width] != id);
            if differs {
                color = border;
            }
        }
        let out = &mut rgb[i * 3..i * 3 + 3];
        match how.photo {
            Some(photo) => {
                for c in 0..3 {
                    let under = f32::from(photo[i * 3 + c]);
                    let blended = alpha * f32::from(color[c]) + (1.0 - alpha) * under;
                    // In 0..=255 by construction; the cast only drops the fraction.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let byte = blended.round() as u8;
                    out[c] = byte;
                }
            }
            None => out.copy_from_slice(&color),
        }
    }
    Ok(rgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_borders_and_overlay() {
        // 2 rows x 4: segment 1 on the left half, 2 on the right, VOID nowhere.
        let ids = [1, 1, 2, 2, 1, 1, 2, 2];
        let colors = HashMap::from([(1, [10, 20, 30]), (2, [200, 100, 0])]);
        let mut how = Paint { colors: &colors, fallback: [0, 0, 0], photo: None, alpha: 1.0, border: None };
        let rgb = paint(&ids, 2, 4, &how).unwrap();
        assert_eq!(&rgb[..6], &[10, 20, 30, 10, 20, 30]);
        assert_eq!(&rgb[6..9], &[200, 100, 0]);
        how.border = Some([255, 255, 255]);
        let rgb = paint(&ids, 2, 4, &how).unwrap();
        assert_eq!(&rgb[..3], &[10, 20, 30]); // no other segment next to it
        assert_eq!(&rgb[3..9], &[255; 6]); // the two columns where the segments meet
        let photo = [100u8; 24];
        let how = Paint { photo: Some(&photo), alpha: 0.5, border: None, ..how };
        let rgb = paint(&[1, 1, 9, 9, 1, 1, 9, 9], 2, 4, &how).unwrap();
        assert_eq!(&rgb[..3], &[55, 60, 65]);
        assert_eq!(&rgb[6..9], &[50, 50, 50]); // unknown id: the fallback colour
        assert!(paint(&ids, 2, 4, &Paint { photo: Some(&photo[..3]), ..how }).is_err());
    }
}
