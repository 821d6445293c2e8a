//! Bindings of `panoptiq._png`: panoptic PNGs read into id maps and written from them, the
//! decode floor the benchmarks measure, and which decoder engine is in use.

use std::path::PathBuf;

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;

use super::run::{contiguous, run, run_sized};
use crate::dataset::decode_only;
use crate::eval::ids::PARALLEL_MIN_PIXELS;
use crate::png::{
    configured_engine, read_id_map, read_id_map_from_bytes, read_id_map_reference, write_id_map, Engine,
};

/// Reads a panoptic PNG into an H×W `uint32` id map, with panoptiq's decoder where it applies
/// or, with `reference`, with the `png` crate only. With `data`, decodes those bytes (the file's
/// contents, read from an archive or object storage) and `path` only names them.
#[pyfunction]
#[pyo3(signature = (path, reference = false, data = None))]
fn read_id_map_png(
    py: Python<'_>,
    path: PathBuf,
    reference: bool,
    data: Option<PyBackedBytes>,
) -> PyResult<Bound<'_, PyArray2<u32>>> {
    if reference && data.is_some() {
        return Err(PyValueError::new_err("the reference decoder reads files only"));
    }
    let map = run(py, None, |cancel| match &data {
        Some(bytes) => read_id_map_from_bytes(&path, bytes.to_vec(), cancel),
        None if reference => read_id_map_reference(&path),
        None => read_id_map(&path, cancel),
    })?;
    let ids = Array2::from_shape_vec((map.height, map.width), map.ids)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(ids.into_pyarray(py))
}

/// Writes an H×W id map as an 8-bit RGB (or RGBA) PNG.
#[pyfunction]
fn write_id_map_png(
    py: Python<'_>,
    path: PathBuf,
    ids: PyReadonlyArray2<'_, u32>,
    alpha: bool,
) -> PyResult<()> {
    let (height, width) = (ids.shape()[0], ids.shape()[1]);
    let flat = contiguous(&ids, "ids")?;
    run_sized(py, flat.len(), PARALLEL_MIN_PIXELS, |_| write_id_map(&path, flat, height, width, alpha))?;
    Ok(())
}

/// Decodes every PNG and discards the ids (the benchmarks' floor); returns the pixel count.
#[pyfunction]
fn decode_files(py: Python<'_>, paths: Vec<PathBuf>, num_threads: Option<usize>) -> PyResult<u64> {
    let paths: Vec<&std::path::Path> = paths.iter().map(PathBuf::as_path).collect();
    run(py, num_threads, |cancel| decode_only(&paths, cancel))
}

/// The PNG decoder's engine, as `PANOPTIQ_DECODER` set it: "auto", "dense" or "sparse".
#[pyfunction]
fn decoder_engine() -> &'static str {
    match configured_engine() {
        Engine::Auto => "auto",
        Engine::Dense => "dense",
        Engine::Sparse => "sparse",
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_id_map_png, m)?)?;
    m.add_function(wrap_pyfunction!(write_id_map_png, m)?)?;
    m.add_function(wrap_pyfunction!(decode_files, m)?)?;
    m.add_function(wrap_pyfunction!(decoder_engine, m)?)?;
    Ok(())
}
