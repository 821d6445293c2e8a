//! Bindings of `panoptiq._image`: one image pair given as id maps in memory, evaluated into its
//! statistics, or into its scores and segment records.

use numpy::{PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

use super::columns::{
    gt_segments, image_row, pred_segments, segment_rows, GtColumns, PredColumns, PyImageRow, SegmentRow,
};
use super::results::{rows_from_stats, PyCategories, StatRow};
use super::run::{contiguous, run_sized};
use crate::eval::histogram::{map_histogram, MapView};
use crate::eval::matching::{evaluate_image as evaluate_histogram, ImageResult};
use crate::eval::records::ImageDetail;
use crate::eval::segments::{GtSegment, PredSegment};

/// Pixels from which one image's evaluation goes to the pool.
const PARALLEL_MIN_PIXELS: usize = 1 << 20;

pub(crate) fn map_view<'a>(array: &'a PyReadonlyArray2<'_, u32>, name: &str) -> PyResult<MapView<'a>> {
    Ok(MapView { ids: contiguous(array, name)?, height: array.shape()[0], width: array.shape()[1] })
}

/// One pair's maps and segments, as the per-image functions take them.
type PairInputs<'a> = (MapView<'a>, MapView<'a>, Vec<GtSegment>, Vec<PredSegment>);

/// Both id maps, and each side's segments as columns.
type PairIn<'py> = (PyReadonlyArray2<'py, u32>, PyReadonlyArray2<'py, u32>, GtColumns<'py>, PredColumns<'py>);

fn pair_inputs<'a>(pair: &'a PairIn<'_>) -> PyResult<PairInputs<'a>> {
    let (gt_map, pred_map) = (map_view(&pair.0, "gt_ids")?, map_view(&pair.1, "pred_ids")?);
    Ok((gt_map, pred_map, gt_segments(&pair.2)?, pred_segments(&pair.3)?))
}

/// Evaluates one image pair `(gt_ids, pred_ids, gt columns, pred columns)` with the GIL
/// released, and with `details` also its scores and segment records.
fn evaluate_pair(
    py: Python<'_>,
    image_id: &str,
    pair: &PairIn<'_>,
    categories: &PyCategories,
    details: bool,
) -> PyResult<(ImageResult, Option<ImageDetail>)> {
    let (gt_map, pred_map, gt, pred) = pair_inputs(pair)?;
    run_sized(py, gt_map.ids.len(), PARALLEL_MIN_PIXELS, |cancel| {
        let histogram = map_histogram(image_id, gt_map, pred_map, cancel)?;
        let result = evaluate_histogram(image_id, &histogram, &gt, &pred, &categories.0)?;
        let detail = details.then(|| ImageDetail::new(&histogram, &gt, &pred, &result, None, &categories.0));
        Ok((result, detail))
    })
}

/// One image pair's per-category statistics.
#[pyfunction]
fn evaluate_image(
    py: Python<'_>,
    image_id: &str,
    pair: PairIn<'_>,
    categories: &PyCategories,
) -> PyResult<Vec<StatRow>> {
    Ok(rows_from_stats(&evaluate_pair(py, image_id, &pair, categories, false)?.0.stats))
}

/// One image pair's scores and segment records (see [`crate::eval::records`]).
#[pyfunction]
fn image_details(
    py: Python<'_>,
    image_id: &str,
    pair: PairIn<'_>,
    categories: &PyCategories,
) -> PyResult<(PyImageRow, Vec<SegmentRow>)> {
    let (_, detail) = evaluate_pair(py, image_id, &pair, categories, true)?;
    let detail = detail.unwrap_or_else(|| unreachable!("details were asked for"));
    Ok((image_row(image_id, detail.scores), segment_rows(image_id, detail.segments).collect()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(evaluate_image, m)?)?;
    m.add_function(wrap_pyfunction!(image_details, m)?)?;
    Ok(())
}
