//! COCO masks (`panoptiq.masks`): run-length strings, polygons and boxes, read and written as
//! pycocotools does, each call one mask or one list of masks.

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;

use super::run::{contiguous, run_sized};
use crate::convert::from_ids::masks_of_ids;
use crate::convert::heuristic::CombineRule;
use crate::convert::paint::{ImageMasks, MaskSegment, OverlapRule};
use crate::convert::polygon::{polygon_to_rle, polygons_to_rle};
use crate::convert::{Rle, Segmentation};

/// Pixels from which a mask call leaves the calling thread.
const PARALLEL_MIN_PIXELS: usize = 1 << 22;

/// A mask as Python hands it over: `(height, width, counts)` with counts compressed (bytes) or a
/// list, or a list of polygons.
#[derive(FromPyObject)]
pub(crate) enum MaskArg {
    Compressed(usize, usize, PyBackedBytes),
    Uncompressed(usize, usize, Vec<u32>),
    Polygons(Vec<Vec<f64>>),
}

impl MaskArg {
    pub(crate) fn into_segmentation(self) -> Segmentation {
        match self {
            MaskArg::Compressed(height, width, counts) => {
                Segmentation::Compressed { height, width, counts: counts.to_vec() }
            }
            MaskArg::Uncompressed(height, width, counts) => {
                Segmentation::Uncompressed { height, width, counts }
            }
            MaskArg::Polygons(polygons) => Segmentation::Polygons(polygons),
        }
    }
}

fn error(e: crate::PqError) -> PyErr {
    PyErr::from(e)
}

/// Parses a mask of `height` x `width` (polygons are drawn at that size).
fn parse(mask: MaskArg, height: usize, width: usize) -> PyResult<Rle> {
    mask.into_segmentation().to_rle(height, width).map_err(error)
}

/// The runs of a column-major 0/1 mask (`mask.ravel(order="F")`).
#[pyfunction]
fn rle_encode<'py>(
    py: Python<'py>,
    column_major: PyReadonlyArray1<'_, u8>,
    height: usize,
    width: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let data = contiguous(&column_major, "mask")?;
    if data.len() != height * width {
        return Err(PyValueError::new_err(format!(
            "the mask has {} pixels, not {height}x{width}",
            data.len()
        )));
    }
    let text = run_sized(py, data.len(), PARALLEL_MIN_PIXELS, |_| {
        Ok(Rle::encode_column_major(data, height, width).to_string_bytes())
    })?;
    Ok(PyBytes::new(py, &text))
}

/// The mask as an `height` x `width` array of 0/1 bytes.
#[pyfunction]
fn rle_decode(
    py: Python<'_>,
    mask: MaskArg,
    height: usize,
    width: usize,
) -> PyResult<Bound<'_, PyArray2<u8>>> {
    let rle = parse(mask, height, width)?;
    let pixels = run_sized(py, height * width, PARALLEL_MIN_PIXELS, |_| rle.decode())?;
    let array =
        Array2::from_shape_vec((height, width), pixels).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(array.into_pyarray(py))
}

/// The compressed string of a mask given in any form.
#[pyfunction]
fn rle_string(py: Python<'_>, mask: MaskArg, height: usize, width: usize) -> PyResult<Bound<'_, PyBytes>> {
    let rle = parse(mask, height, width)?;
    Ok(PyBytes::new(py, &rle.to_string_bytes()))
}

/// The number of 1 pixels.
#[pyfunction]
fn rle_area(mask: MaskArg, height: usize, width: usize) -> PyResult<u64> {
    Ok(parse(mask, height, width)?.area())
}

/// `[x, y, width, height]` as pycocotools' `toBbox` gives it.
#[pyfunction]
fn rle_bbox(mask: MaskArg, height: usize, width: usize) -> PyResult<[u64; 4]> {
    Ok(parse(mask, height, width)?.bbox())
}

/// The union (or intersection) of masks of one size, as a compressed string.
#[pyfunction]
#[pyo3(signature = (masks, height, width, intersect=false))]
fn rle_merge(
    py: Python<'_>,
    masks: Vec<MaskArg>,
    height: usize,
    width: usize,
    intersect: bool,
) -> PyResult<Bound<'_, PyBytes>> {
    let rles = masks.into_iter().map(|m| parse(m, height, width)).collect::<PyResult<Vec<_>>>()?;
    let merged = Rle::merge(&rles, intersect).map_err(error)?;
    Ok(PyBytes::new(py, &merged.to_string_bytes()))
}

/// Each polygon rasterised on its own (pycocotools' `frPyObjects` of a polygon list).
#[pyfunction]
fn polygon_strings(
    py: Python<'_>,
    polygons: Vec<Vec<f64>>,
    height: usize,
    width: usize,
) -> PyResult<Vec<Bound<'_, PyBytes>>> {
    polygons
        .iter()
        .map(|p| Ok(PyBytes::new(py, &polygon_to_rle(p, height, width).map_err(error)?.to_string_bytes())))
        .collect()
}

/// A polygon segmentation as one mask (`frPyObjects` then `merge`, as `COCO.annToRLE`).
#[pyfunction]
fn polygons_string(
    py: Python<'_>,
    polygons: Vec<Vec<f64>>,
    height: usize,
    width: usize,
) -> PyResult<Bound<'_, PyBytes>> {
    let rle = polygons_to_rle(&polygons, height, width).map_err(error)?;
    Ok(PyBytes::new(py, &rle.to_string_bytes()))
}

/// The compressed mask of every id of `wanted` in an id map, in one pass.
#[pyfunction]
fn id_masks<'py>(
    py: Python<'py>,
    ids: PyReadonlyArray2<'_, u32>,
    wanted: Vec<u32>,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    let (height, width) = (ids.shape()[0], ids.shape()[1]);
    let flat = contiguous(&ids, "ids")?;
    let strings = run_sized(py, flat.len(), PARALLEL_MIN_PIXELS, |_| {
        Ok(masks_of_ids(flat, height, width, &wanted)?.iter().map(Rle::to_string_bytes).collect::<Vec<_>>())
    })?;
    Ok(strings.iter().map(|s| PyBytes::new(py, s)).collect())
}

/// A side's segments as Python passes them: `(id, isthing, score, mask)`.
pub(crate) type SegmentMasks = Vec<(u32, bool, Option<f64>, MaskArg)>;

/// The overlap rule as Python passes it: None (overlaps are errors) or the combination
/// heuristic's `(confidence_thr, overlap_thr, stuff_area_limit)`.
pub(crate) fn overlap_rule(overlap: Option<(f64, f64, f64)>) -> OverlapRule {
    match overlap {
        None => OverlapRule::Error,
        Some((confidence_thr, overlap_thr, stuff_area_limit)) => {
            OverlapRule::Combine { confidence_thr, rule: CombineRule { overlap_thr, stuff_area_limit } }
        }
    }
}

/// One image side's masks, in the core's form.
pub(crate) fn image_masks(
    size: Option<(usize, usize)>,
    segments: SegmentMasks,
    rule: OverlapRule,
) -> ImageMasks {
    let segments = segments
        .into_iter()
        .map(|(id, isthing, score, mask)| MaskSegment { id, isthing, score, mask: mask.into_segmentation() })
        .collect();
    ImageMasks { size, segments, rule }
}

/// Segments given as masks painted into an id map under an overlap rule (None: overlaps are
/// errors; `(confidence_thr, overlap_thr, stuff_area_limit)`: the combination heuristic); returns
/// the map and the ids of the segments kept.
#[pyfunction]
#[pyo3(signature = (height, width, segments, overlap=None))]
fn paint_masks(
    py: Python<'_>,
    height: usize,
    width: usize,
    segments: SegmentMasks,
    overlap: Option<(f64, f64, f64)>,
) -> PyResult<(Bound<'_, PyArray2<u32>>, Vec<u32>)> {
    let masks = image_masks(Some((height, width)), segments, overlap_rule(overlap));
    let painted = run_sized(py, height * width, PARALLEL_MIN_PIXELS, |_| masks.paint(height, width))?;
    let ids = Array2::from_shape_vec((height, width), painted.ids)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((ids.into_pyarray(py), painted.kept))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(rle_encode, m)?)?;
    m.add_function(wrap_pyfunction!(rle_decode, m)?)?;
    m.add_function(wrap_pyfunction!(rle_string, m)?)?;
    m.add_function(wrap_pyfunction!(rle_area, m)?)?;
    m.add_function(wrap_pyfunction!(rle_bbox, m)?)?;
    m.add_function(wrap_pyfunction!(rle_merge, m)?)?;
    m.add_function(wrap_pyfunction!(polygon_strings, m)?)?;
    m.add_function(wrap_pyfunction!(polygons_string, m)?)?;
    m.add_function(wrap_pyfunction!(id_masks, m)?)?;
    m.add_function(wrap_pyfunction!(paint_masks, m)?)?;
    Ok(())
}
