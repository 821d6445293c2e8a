//! Bindings of `panoptiq.visualize`, for pictures: painting id maps, label anchors and writing RGB PNGs.

use std::collections::HashMap;
use std::path::PathBuf;

use numpy::ndarray::Array3;
use numpy::{
    IntoPyArray, PyArray3, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::run::{contiguous, run_sized};
use crate::draw::{paint, segment_anchors, Paint};
use crate::eval::ids::PARALLEL_MIN_PIXELS;
use crate::png::encode::write_rgb;

/// `(id, area, row, col, depth, top, left, bottom, right)` of one segment.
type AnchorRow = (u32, u64, usize, usize, u32, usize, usize, usize, usize);

/// A palette: `colors[i]` for `segment_ids[i]`, `fallback` for every other id.
type Palette<'py> = (PyReadonlyArray1<'py, u32>, PyReadonlyArray2<'py, u8>, [u8; 3]);

/// Paints an H×W id map with `palette`, blended with opacity `alpha` over `photo` (H×W×3) when
/// given, `border` on pixels next to another segment.
#[pyfunction]
#[pyo3(signature = (ids, palette, photo = None, alpha = 1.0, border = None))]
fn paint_ids<'py>(
    py: Python<'py>,
    ids: PyReadonlyArray2<'py, u32>,
    palette: Palette<'py>,
    photo: Option<PyReadonlyArray3<'py, u8>>,
    alpha: f32,
    border: Option<[u8; 3]>,
) -> PyResult<Bound<'py, PyArray3<u8>>> {
    let (segment_ids, colors, fallback) = palette;
    let (height, width) = (ids.shape()[0], ids.shape()[1]);
    if colors.shape() != [segment_ids.len(), 3] {
        return Err(PyValueError::new_err(format!(
            "colors must have shape ({}, 3), one RGB row per segment id; got {:?}",
            segment_ids.len(),
            colors.shape()
        )));
    }
    if let Some(photo) = &photo {
        if photo.shape() != [height, width, 3] {
            return Err(PyValueError::new_err(format!(
                "the photo is {:?}, the id map {height}x{width}: they must be the same size, with 3 channels",
                photo.shape()
            )));
        }
    }
    if !alpha.is_finite() || !(0.0..=1.0).contains(&alpha) {
        return Err(PyValueError::new_err(format!("alpha must be between 0 and 1, got {alpha}")));
    }
    let flat = contiguous(&ids, "ids")?;
    let rgb = contiguous(&colors, "colors")?;
    let table: HashMap<u32, [u8; 3]> = segment_ids
        .as_array()
        .iter()
        .zip(rgb.chunks_exact(3))
        .map(|(&id, c)| (id, [c[0], c[1], c[2]]))
        .collect();
    let photo = photo.as_ref().map(|p| contiguous(p, "photo")).transpose()?;
    let how = Paint { colors: &table, fallback, photo, alpha, border };
    let out = run_sized(py, flat.len(), usize::MAX, |_| paint(flat, height, width, &how))?;
    let out =
        Array3::from_shape_vec((height, width, 3), out).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(out.into_pyarray(py))
}

/// Every segment of an H×W id map with its area, most interior pixel and bounding box.
#[pyfunction]
fn anchors(py: Python<'_>, ids: PyReadonlyArray2<'_, u32>) -> PyResult<Vec<AnchorRow>> {
    let (height, width) = (ids.shape()[0], ids.shape()[1]);
    let flat = contiguous(&ids, "ids")?;
    let found = run_sized(py, flat.len(), usize::MAX, |_| segment_anchors(flat, height, width))?;
    Ok(found
        .into_iter()
        .map(|a| (a.id, a.area, a.row, a.col, a.depth, a.top, a.left, a.bottom, a.right))
        .collect())
}

/// Writes an H×W×3 uint8 picture as an RGB PNG.
#[pyfunction]
fn write_rgb_png(py: Python<'_>, path: PathBuf, rgb: PyReadonlyArray3<'_, u8>) -> PyResult<()> {
    let &[height, width, channels] = rgb.shape() else { unreachable!("a 3-D array has 3 dimensions") };
    if channels != 3 {
        return Err(PyValueError::new_err(format!("an RGB picture has 3 channels, this one {channels}")));
    }
    let flat = contiguous(&rgb, "rgb")?;
    // Pictures for people: fdeflate's fast mode, several times quicker than zlib's default level
    // on these flat colours, for files a little larger.
    run_sized(py, flat.len(), PARALLEL_MIN_PIXELS, |_| {
        write_rgb(&path, flat, height, width, false, png::Compression::Fast)
    })?;
    Ok(())
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(paint_ids, m)?)?;
    m.add_function(wrap_pyfunction!(anchors, m)?)?;
    m.add_function(wrap_pyfunction!(write_rgb_png, m)?)?;
    Ok(())
}
