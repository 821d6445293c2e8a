//! Chessboard distance from every pixel to the nearest pixel of another segment, the image border
//! counting as another segment: one transform per image gives every segment's erosions at once.

use crate::runtime::memory::filled_vec;
use crate::PqError;

/// For each pixel of `ids` (row-major, `height` x `width`), the chessboard distance to the nearest
/// pixel with a different id, where the pixels just outside the image count as different: a
/// pixel on the image's edge or next to another segment is at 1, and a pixel survives `k`
/// erosions of its segment by a 3x3 square exactly when its distance is above `k`.
///
/// Two raster passes (forward, then backward) with the 3x3 neighbourhood; exact for the
/// chessboard metric because a shortest chessboard path to the nearest other pixel stays inside
/// the segment until its last step.
pub fn chessboard(ids: &[u32], height: usize, width: usize) -> Result<Vec<u32>, PqError> {
    if ids.len() != height * width {
        return Err(PqError::LengthMismatch { what: "ids", expected: height * width, got: ids.len() });
    }
    // Every pixel of the first and last rows and columns is at 1; the passes below only visit
    // interior pixels, whose eight neighbours all exist.
    let mut dist = filled_vec(ids.len(), 1u32, "the distance map")?;
    if height < 3 || width < 3 {
        return Ok(dist);
    }
    // Forward pass: neighbours above and to the left.
    for y in 1..height - 1 {
        let row = y * width;
        for i in row + 1..row + width - 1 {
            let id = ids[i];
            let mut best = u32::MAX;
            for j in [i - width - 1, i - width, i - width + 1, i - 1] {
                best = best.min(if ids[j] == id { dist[j] + 1 } else { 1 });
            }
            dist[i] = best;
        }
    }
    // Backward pass: neighbours below and to the right.
    for y in (1..height - 1).rev() {
        let row = y * width;
        for i in (row + 1..row + width - 1).rev() {
            let mut best = dist[i];
            if best == 1 {
                continue;
            }
            let id = ids[i];
            for j in [i + 1, i + width - 1, i + width, i + width + 1] {
                best = best.min(if ids[j] == id { dist[j] + 1 } else { 1 });
            }
            dist[i] = best;
        }
    }
    Ok(dist)
}

#[cfg(test)]
// Small test images: coordinates fit every integer type.
#[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
mod tests {
    use super::*;

    /// The definition, by brute force: the smallest chessboard distance to a pixel of another id
    /// or to a pixel just outside the image.
    fn brute(ids: &[u32], height: usize, width: usize) -> Vec<u32> {
        let (h, w) = (height as i64, width as i64);
        let mut out = vec![0; ids.len()];
        for y in 0..h {
            for x in 0..w {
                let id = ids[(y * w + x) as usize];
                let mut best = i64::MAX;
                for v in -1..=h {
                    for u in -1..=w {
                        let outside = v < 0 || u < 0 || v >= h || u >= w;
                        if outside || ids[(v * w + u) as usize] != id {
                            best = best.min((v - y).abs().max((u - x).abs()));
                        }
                    }
                }
                out[(y * w + x) as usize] = best as u32;
            }
        }
        out
    }

    #[test]
    fn matches_the_definition() {
        let mut state = 12345u64;
        for round in 0..200 {
            let (height, width) = (1 + round % 13, 1 + (round * 7) % 17);
            let labels = 1 + (round % 4) as u32;
            // Blocky random maps, so that segments are thick enough for distances above 1.
            let ids: Vec<u32> = (0..height * width)
                .map(|i| {
                    state =
                        state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    let (y, x) = (i / width, i % width);
                    if (state >> 60) == 0 {
                        (state >> 33) as u32 % labels
                    } else {
                        ((y / 4 + x / 5) as u32) % labels
                    }
                })
                .collect();
            assert_eq!(chessboard(&ids, height, width).unwrap(), brute(&ids, height, width), "round {round}");
        }
    }

    #[test]
    fn one_segment_is_an_onion() {
        let dist = chessboard(&[7; 25], 5, 5).unwrap();
        assert_eq!(dist[12], 3);
        assert_eq!(dist[6], 2);
        assert_eq!(dist[0], 1);
        assert!(chessboard(&[1, 2], 1, 3).is_err());
    }
}
