//! Polygons (and COCO boxes) rasterised to run-length masks exactly as pycocotools'
//! `frPyObjects` does it (`rleFrPoly`): the outline is traced on a 5x finer grid, the points
//! where it crosses a pixel-centre column are kept, and each such crossing toggles the mask
//! down that column. Pixel for pixel equal to pycocotools, clipping to the image included.

use super::rle::Rle;
use crate::PqError;

/// The fine grid's scale.
const SCALE: f64 = 5.0;

/// Vertex coordinates are scaled by 5 and rounded into an `i32`; beyond this they would overflow
/// (pycocotools' behaviour there is undefined), so they are refused.
const LIMIT: f64 = 4.0e8;

/// C's `(int)(v)`: truncation toward zero. Callers keep `v` finite and within `i32`.
#[allow(clippy::cast_possible_truncation)]
fn trunc(v: f64) -> i32 {
    v as i32
}

/// Rasterises one polygon given as `[x0, y0, x1, y1, ...]`.
pub fn polygon_to_rle(xy: &[f64], height: usize, width: usize) -> Result<Rle, PqError> {
    if xy.len() % 2 != 0 {
        return Err(PqError::BadMask {
            message: format!("a polygon has {} coordinates; it needs x, y pairs", xy.len()),
        });
    }
    if let Some(bad) = xy.iter().find(|v| !v.is_finite() || v.abs() > LIMIT) {
        return Err(PqError::BadMask {
            message: format!(
                "a polygon has the coordinate {bad}; coordinates must be finite and below {LIMIT:e}"
            ),
        });
    }
    let pixels = height as u64 * width as u64;
    if u32::try_from(pixels).is_err() {
        return Err(PqError::BadMask {
            message: format!("a {height}x{width} image is too large for COCO RLE (2^32 pixels at most)"),
        });
    }
    if xy.is_empty() {
        return Err(PqError::BadMask { message: "a polygon has no points".into() });
    }
    let (u, v) = trace_outline(xy);
    Ok(Rle { height, width, counts: crossings_to_counts(&u, &v, height, width) })
}

/// Every fine-grid point of the closed outline, edge by edge (`u` across, `v` down).
// Vertices x, y, traced points u, v, and an edge's dx, dy, slope s and step t: the geometry's
// own letters read better here than words would.
#[allow(clippy::many_single_char_names)]
fn trace_outline(xy: &[f64]) -> (Vec<i32>, Vec<i32>) {
    let k = xy.len() / 2;
    // Vertices on the fine grid, the first repeated at the end to close the outline.
    let mut x: Vec<i32> = (0..k).map(|j| trunc(SCALE * xy[2 * j] + 0.5)).collect();
    let mut y: Vec<i32> = (0..k).map(|j| trunc(SCALE * xy[2 * j + 1] + 0.5)).collect();
    x.push(x[0]);
    y.push(y[0]);

    // Every fine-grid point along each edge, stepping along the edge's longer axis.
    let mut u: Vec<i32> = Vec::new();
    let mut v: Vec<i32> = Vec::new();
    for j in 0..k {
        let (mut xs, mut xe, mut ys, mut ye) = (x[j], x[j + 1], y[j], y[j + 1]);
        let dx = (xe - xs).abs();
        let dy = (ys - ye).abs();
        let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if flip {
            std::mem::swap(&mut xs, &mut xe);
            std::mem::swap(&mut ys, &mut ye);
        }
        if dx >= dy {
            // dx == 0 only for a repeated vertex; its one point is never a column crossing.
            let s = if dx == 0 { 0.0 } else { f64::from(ye - ys) / f64::from(dx) };
            for d in 0..=dx {
                let t = if flip { dx - d } else { d };
                u.push(t + xs);
                v.push(trunc(f64::from(ys) + s * f64::from(t) + 0.5));
            }
        } else {
            let s = f64::from(xe - xs) / f64::from(dy);
            for d in 0..=dy {
                let t = if flip { dy - d } else { d };
                v.push(t + ys);
                u.push(trunc(f64::from(xs) + s * f64::from(t) + 0.5));
            }
        }
    }

    (u, v)
}

/// The runs of the mask whose outline passes through the fine-grid points `u`, `v`: where the
/// outline crosses a pixel-centre column, that column from the first row below it toggles.
// pycocotools' test `floor(xd) != xd` asks whether xd is a whole number, exactly.
#[allow(clippy::float_cmp)]
fn crossings_to_counts(u: &[i32], v: &[i32], height: usize, width: usize) -> Vec<u32> {
    let pixels = height as u64 * width as u64;
    let h = i64::try_from(height).unwrap_or(i64::MAX);
    let w_last = width as f64 - 1.0;
    let mut starts: Vec<u32> = Vec::new();
    for j in 1..u.len() {
        if u[j] == u[j - 1] {
            continue;
        }
        let column = f64::from(if u[j] < u[j - 1] { u[j] } else { u[j] - 1 });
        let xd = (column + 0.5) / SCALE - 0.5;
        if xd.floor() != xd || xd < 0.0 || xd > w_last {
            continue;
        }
        let row = f64::from(if v[j] < v[j - 1] { v[j] } else { v[j - 1] });
        let mut yd = (row + 0.5) / SCALE - 0.5;
        if yd < 0.0 {
            yd = 0.0;
        } else if yd > height as f64 {
            yd = height as f64;
        }
        let yd = yd.ceil();
        // xd is a whole column in [0, width - 1] and yd a row in [0, height]: both exact.
        #[allow(clippy::cast_possible_truncation)]
        let (column, row) = (xd as i64, yd as i64);
        let index = column * h + row;
        starts.push(u32::try_from(index).unwrap_or(u32::MAX));
    }
    starts.push(u32::try_from(pixels).unwrap_or(u32::MAX));
    starts.sort_unstable();

    // Crossings become runs; two crossings at one pixel cancel (their run is empty and is
    // folded into the next one), exactly as pycocotools folds them.
    let mut previous = 0u32;
    for start in &mut starts {
        let here = *start;
        *start -= previous;
        previous = here;
    }
    let mut counts: Vec<u32> = Vec::with_capacity(starts.len());
    counts.push(starts[0]);
    let mut j = 1;
    while j < starts.len() {
        if starts[j] > 0 {
            counts.push(starts[j]);
            j += 1;
        } else {
            j += 1;
            if j < starts.len() {
                if let Some(last) = counts.last_mut() {
                    *last += starts[j];
                }
                j += 1;
            }
        }
    }
    counts
}

/// Rasterises a COCO box `[x, y, width, height]` as pycocotools' `frBbox` does: as the polygon of
/// its four corners.
pub fn bbox_to_rle(bbox: [f64; 4], height: usize, width: usize) -> Result<Rle, PqError> {
    let [xs, ys, bw, bh] = bbox;
    let (xe, ye) = (xs + bw, ys + bh);
    polygon_to_rle(&[xs, ys, xs, ye, xe, ye, xe, ys], height, width)
}

/// A COCO polygon segmentation (a list of polygons) as one mask: each polygon rasterised, then
/// their union — pycocotools' `frPyObjects` followed by `merge`, as `COCO.annToRLE` does.
/// pycocotools reads the list as boxes when its first polygon has exactly four numbers; so does
/// this.
pub fn polygons_to_rle(polygons: &[Vec<f64>], height: usize, width: usize) -> Result<Rle, PqError> {
    let as_boxes = polygons.first().is_some_and(|p| p.len() == 4);
    let mut masks = Vec::with_capacity(polygons.len());
    for (i, polygon) in polygons.iter().enumerate() {
        let mask = if as_boxes {
            let [a, b, c, d] = polygon[..] else {
                return Err(PqError::BadMask {
                    message: format!(
                        "polygon {i} has {} numbers, but the first has 4, which COCO reads as a box [x, y, w, h]",
                        polygon.len()
                    ),
                });
            };
            bbox_to_rle([a, b, c, d], height, width)?
        } else {
            // pycocotools reads a list whose first polygon has fewer than 4 numbers as nothing it
            // supports; later ones of any (even, non-zero) length are drawn.
            if i == 0 && polygon.len() < 4 {
                return Err(PqError::BadMask {
                    message: format!(
                        "the first polygon has {} numbers; a polygon needs at least three x, y points",
                        polygon.len()
                    ),
                });
            }
            polygon_to_rle(polygon, height, width)?
        };
        masks.push(mask);
    }
    if masks.is_empty() {
        return Err(PqError::BadMask { message: "the segmentation is an empty list of polygons".into() });
    }
    Rle::merge(&masks, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_covers_its_pixels() {
        // The square with corners (0.5, 0.5) and (2.5, 2.5) covers the centres of pixels 1..=2.
        let rle = polygon_to_rle(&[0.5, 0.5, 2.5, 0.5, 2.5, 2.5, 0.5, 2.5], 4, 4).unwrap();
        let mask = rle.decode().unwrap();
        let expected: Vec<u8> =
            (0..16).map(|i| u8::from((1..=2).contains(&(i / 4)) && (1..=2).contains(&(i % 4)))).collect();
        assert_eq!(mask, expected);
    }

    #[test]
    fn far_coordinates_are_refused() {
        assert!(polygon_to_rle(&[0.0, 0.0, 1e12, 0.0, 1.0, 1.0], 4, 4).is_err());
        assert!(polygon_to_rle(&[0.0, f64::NAN, 1.0, 0.0, 1.0, 1.0], 4, 4).is_err());
    }
}
