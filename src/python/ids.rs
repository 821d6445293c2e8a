//! Bindings of `panoptiq._ids`: panopticapi's `rgb2id` and `id2rgb` on numpy arrays, and ids
//! relabelled through a table (the video readers' label maps).

use numpy::ndarray::{Array2, ArrayD, IxDyn};
use numpy::{
    Element, IntoPyArray, PyArray2, PyArrayDyn, PyReadonlyArray3, PyReadonlyArrayDyn, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::run::{contiguous, run_sized};
use crate::eval::ids::{ids_to_rgb, rgb_to_ids, Channel, PARALLEL_MIN_PIXELS};
use crate::runtime::memory::filled_vec;

fn rgb2id_impl<'py, C: Channel + Element>(
    py: Python<'py>,
    rgb: &PyReadonlyArray3<'py, C>,
) -> PyResult<Bound<'py, PyArray2<u32>>> {
    let &[height, width, channels] = rgb.shape() else { unreachable!("a 3-D array has 3 dimensions") };
    let pixels = contiguous(rgb, "color")?;
    let ids = run_sized(py, height * width, PARALLEL_MIN_PIXELS, |_| {
        let mut ids = filled_vec(height * width, 0u32, "the id map")?;
        rgb_to_ids(pixels, channels, &mut ids)?;
        Ok(ids)
    })?;
    let ids =
        Array2::from_shape_vec((height, width), ids).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(ids.into_pyarray(py))
}

/// `rgb2id` of an H×W×C `uint8` array (C ≥ 3), as `uint32` ids.
#[pyfunction]
fn rgb2id_u8<'py>(py: Python<'py>, rgb: PyReadonlyArray3<'py, u8>) -> PyResult<Bound<'py, PyArray2<u32>>> {
    rgb2id_impl(py, &rgb)
}

/// `rgb2id` of an H×W×C `uint32` array (C ≥ 3), wrapping as numpy's `uint32` arithmetic does.
#[pyfunction]
fn rgb2id_u32<'py>(py: Python<'py>, rgb: PyReadonlyArray3<'py, u32>) -> PyResult<Bound<'py, PyArray2<u32>>> {
    rgb2id_impl(py, &rgb)
}

/// `id2rgb` of a `uint32` array of any shape: a `uint8` array with one more axis of length 3.
#[pyfunction]
fn id2rgb<'py>(py: Python<'py>, ids: PyReadonlyArrayDyn<'py, u32>) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
    let mut shape = ids.shape().to_vec();
    shape.push(3);
    let flat = contiguous(&ids, "id_map")?;
    let rgb = run_sized(py, flat.len(), PARALLEL_MIN_PIXELS, |_| {
        let mut rgb = filled_vec(flat.len() * 3, 0u8, "the colours")?;
        ids_to_rgb(flat, &mut rgb)?;
        Ok(rgb)
    })?;
    let rgb = ArrayD::from_shape_vec(IxDyn(&shape), rgb).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(rgb.into_pyarray(py))
}

/// Every id of a `uint32` map (any shape) as its label from `labels` (`default` for the others),
/// an `int64` map of the same shape.
#[pyfunction]
fn relabel_ids<'py>(
    py: Python<'py>,
    ids: PyReadonlyArrayDyn<'py, u32>,
    labels: std::collections::HashMap<u32, i64>,
    default: i64,
) -> PyResult<Bound<'py, PyArrayDyn<i64>>> {
    let shape = ids.shape().to_vec();
    let flat = contiguous(&ids, "id_map")?;
    let out = run_sized(py, flat.len(), PARALLEL_MIN_PIXELS, |_| {
        let mut out = filled_vec(flat.len(), 0i64, "the labels")?;
        crate::eval::ids::relabel_ids(flat, &labels, default, &mut out)?;
        Ok(out)
    })?;
    let out = ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(out.into_pyarray(py))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(relabel_ids, m)?)?;
    m.add_function(wrap_pyfunction!(rgb2id_u8, m)?)?;
    m.add_function(wrap_pyfunction!(rgb2id_u32, m)?)?;
    m.add_function(wrap_pyfunction!(id2rgb, m)?)?;
    Ok(())
}
