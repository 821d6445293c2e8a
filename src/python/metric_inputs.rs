//! The metric's input forms read from numpy without a copy: (category, instance) pairs,
//! encoded labels of any native integer dtype, id maps with their segments, colour maps.

use numpy::ndarray::{ArrayView3, Axis};
use numpy::{Element, PyReadonlyArray2, PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use super::batch::{evaluate_batch, BatchResult, PyBatch};
use super::columns::{gt_segments, pred_segments, split_at_offsets, GtColumns, PredColumns};
use super::run::{contiguous, run_sized};
use crate::error::Side;
use crate::eval::ids::rgb_to_ids;
use crate::metric::labels::{encoded_label, Label};
use crate::metric::{ImageMaps, ListedSegment, MetricConfig};

/// Pixels of a colour map below which it is turned into ids on the calling thread.
const PARALLEL_MIN_PIXELS: usize = 1 << 20;

/// Each side's segments of a batch of id maps: `(pred offsets, pred columns, gt offsets, gt
/// columns)`, image `i`'s at `offsets[i]:offsets[i + 1]`.
pub(crate) type IdMapSegments<'py> = (Vec<usize>, PredColumns<'py>, Vec<usize>, GtColumns<'py>);

/// The error of label arrays of an unsupported dtype.
fn dtype_error() -> PyErr {
    PyTypeError::new_err("label arrays must be C-contiguous int64, int32, uint8, uint16 or uint32")
}

/// Dispatches on the integer dtype of `$array`: `$body` runs with `$view` bound to a typed
/// readonly array of the dims `$dims`.
macro_rules! with_int_array {
    ($array:expr, $arr_ty:ident, |$view:ident| $body:expr) => {{
        if let Ok(a) = $array.extract::<$arr_ty<'_, i64>>() {
            let $view = a;
            $body
        } else if let Ok(a) = $array.extract::<$arr_ty<'_, i32>>() {
            let $view = a;
            $body
        } else if let Ok(a) = $array.extract::<$arr_ty<'_, u8>>() {
            let $view = a;
            $body
        } else if let Ok(a) = $array.extract::<$arr_ty<'_, u16>>() {
            let $view = a;
            $body
        } else if let Ok(a) = $array.extract::<$arr_ty<'_, u32>>() {
            let $view = a;
            $body
        } else {
            Err(dtype_error())
        }
    }};
}

/// The error of a target array whose dtype is not the prediction's.
fn not_shared(_: PyErr) -> PyErr {
    PyTypeError::new_err("preds and target must share one dtype")
}

/// A batch of `(B, pixels, 2)` (category, instance) arrays.
pub(crate) fn pairs_batch(
    py: Python<'_>,
    config: &MetricConfig,
    batch: &PyBatch,
    preds: &Bound<'_, PyAny>,
    targets: &Bound<'_, PyAny>,
) -> PyResult<BatchResult> {
    with_int_array!(preds, PyReadonlyArray3, |p| {
        let t = targets.extract().map_err(not_shared)?;
        pairs_of(py, config, batch, &p, &t)
    })
}

fn pairs_of<T: Element + Copy + PartialEq + Sync + Into<i64>>(
    py: Python<'_>,
    config: &MetricConfig,
    batch: &PyBatch,
    preds: &PyReadonlyArray3<'_, T>,
    targets: &PyReadonlyArray3<'_, T>,
) -> PyResult<BatchResult> {
    batch.check(preds.shape(), targets.shape())?;
    let (p, t): (ArrayView3<'_, T>, ArrayView3<'_, T>) = (preds.as_array(), targets.as_array());
    if !p.is_standard_layout() || !t.is_standard_layout() {
        return Err(PyValueError::new_err("label arrays must be C-contiguous"));
    }
    let decode = |[c, i]: [T; 2]| Ok(Label::Segment { category_id: c.into(), instance_id: i.into() });
    evaluate_batch(py, config, batch, p.shape()[0], p.len() / 2, |i, cancel| {
        let (gt, pred) = (t.index_axis(Axis(0), i), p.index_axis(Axis(0), i));
        let (gt, pred) = (gt.to_slice().unwrap_or(&[]), pred.to_slice().unwrap_or(&[]));
        let maps = ImageMaps { image_id: batch.key(i), gt, pred, width: batch.width };
        Ok((config.evaluate_labels(maps, decode, decode, cancel)?, None))
    })
}

/// A batch of `(B, pixels)` `category * label_divisor + instance` arrays.
pub(crate) fn encoded_batch(
    py: Python<'_>,
    config: &MetricConfig,
    batch: &PyBatch,
    (preds, targets): (&Bound<'_, PyAny>, &Bound<'_, PyAny>),
    label_divisor: i64,
) -> PyResult<BatchResult> {
    with_int_array!(preds, PyReadonlyArray2, |p| {
        let t = targets.extract().map_err(not_shared)?;
        encoded_of(py, config, batch, (&p, &t), label_divisor)
    })
}

fn encoded_of<T: Element + Copy + PartialEq + Sync + Into<i64>>(
    py: Python<'_>,
    config: &MetricConfig,
    batch: &PyBatch,
    (preds, targets): (&PyReadonlyArray2<'_, T>, &PyReadonlyArray2<'_, T>),
    label_divisor: i64,
) -> PyResult<BatchResult> {
    batch.check(preds.shape(), targets.shape())?;
    let (p, t) = (preds.as_array(), targets.as_array());
    if !p.is_standard_layout() || !t.is_standard_layout() {
        return Err(PyValueError::new_err("label arrays must be C-contiguous"));
    }
    evaluate_batch(py, config, batch, p.shape()[0], p.len(), |i, cancel| {
        let image = batch.key(i);
        let (gt, pred) = (t.index_axis(Axis(0), i), p.index_axis(Axis(0), i));
        let (gt, pred) = (gt.to_slice().unwrap_or(&[]), pred.to_slice().unwrap_or(&[]));
        let (gt_label, pred_label) = (
            encoded_label(image, Side::GroundTruth, label_divisor),
            encoded_label(image, Side::Prediction, label_divisor),
        );
        let maps = ImageMaps { image_id: image, gt, pred, width: batch.width };
        let result = config.evaluate_labels(
            maps,
            |[v]: [T; 1]| gt_label(v.into()),
            |[v]: [T; 1]| pred_label(v.into()),
            cancel,
        )?;
        Ok((result, None))
    })
}

/// A batch of `(B, pixels)` id maps with their segments.
pub(crate) fn id_map_batch(
    py: Python<'_>,
    config: &MetricConfig,
    batch: &PyBatch,
    (preds, targets): (&PyReadonlyArray2<'_, u32>, &PyReadonlyArray2<'_, u32>),
    (pred_offsets, pred, gt_offsets, gt): &IdMapSegments<'_>,
) -> PyResult<BatchResult> {
    batch.check(preds.shape(), targets.shape())?;
    let images = batch.keys.len();
    let listed: Vec<ListedSegment> = gt_segments(gt)?
        .into_iter()
        .map(|s| ListedSegment {
            id: s.id,
            category_id: s.category_id,
            iscrowd: s.iscrowd,
            area: (s.area >= 0).then_some(s.area),
        })
        .collect();
    let pred = pred_segments(pred)?;
    let (gt_per_image, pred_per_image) =
        (split_at_offsets(&listed, gt_offsets, images)?, split_at_offsets(&pred, pred_offsets, images)?);
    let (p, t) = (preds.as_array(), targets.as_array());
    evaluate_batch(py, config, batch, images, p.len(), |i, cancel| {
        let (gt_ids, pred_ids) = (t.index_axis(Axis(0), i), p.index_axis(Axis(0), i));
        let (gt, pred) = (gt_ids.to_slice().unwrap_or(&[]), pred_ids.to_slice().unwrap_or(&[]));
        let maps = ImageMaps { image_id: batch.key(i), gt, pred, width: batch.width };
        config.evaluate_id_maps_with(maps, gt_per_image[i], pred_per_image[i], batch.segments, cancel)
    })
}

/// `(B, pixels, C)` `uint8` colour maps (C ≥ 3) as `(B, pixels)` id maps.
pub(crate) fn rgb_to_id_maps<'py>(
    py: Python<'py>,
    rgb: &PyReadonlyArray3<'py, u8>,
) -> PyResult<Bound<'py, numpy::PyArray2<u32>>> {
    let [images, pixels, channels] = [rgb.shape()[0], rgb.shape()[1], rgb.shape()[2]];
    let flat = contiguous(rgb, "colour maps")?;
    let ids = run_sized(py, flat.len(), PARALLEL_MIN_PIXELS, |_| {
        let mut ids = crate::runtime::memory::filled_vec(images * pixels, 0u32, "the id maps")?;
        rgb_to_ids(flat, channels, &mut ids)?;
        Ok(ids)
    })?;
    let array = numpy::ndarray::Array2::from_shape_vec((images, pixels), ids)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(numpy::IntoPyArray::into_pyarray(array, py))
}
