//! Bindings of the in-memory metric: exact running totals, and batches of label maps evaluated
//! into them with the GIL released.

use numpy::ndarray::{ArrayView3, Axis};
use numpy::{Element, PyArrayMethods, PyReadonlyArray2, PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use rayon::prelude::*;

use super::{
    gt_segments, pred_segments, rows_from_stats, run_sized, run_sized_watched, split_at_offsets, GtColumns,
    PredColumns, SegmentRow, StatRow,
};
use crate::error::Side;
use crate::eval::categories::Categories;
use crate::eval::exact::ExactSum;
use crate::eval::ids::rgb_to_ids;
use crate::eval::matching::ImageResult;
use crate::eval::records::SegmentRecord;
use crate::eval::stats::{CategoryStats, PqStats};
use crate::metric::labels::{encoded_label, Label};
use crate::metric::{fold_results, ImageRow, ListedSegment, MetricConfig, Rules};
use crate::runtime::parallel::Cancel;
use crate::PqError;

/// Pixels of a batch below which it is evaluated on the calling thread: a hand-off to the pool
/// would cost more than it saves.
const PARALLEL_MIN_PIXELS: usize = 1 << 20;

/// Per-category running totals with exact IoU sums: merging them is exact and order-free.
#[pyclass(name = "Totals", module = "panoptiq._core")]
#[derive(Default)]
pub struct PyTotals {
    pub stats: PqStats,
}

/// One category's exact row: `(category_id, iou_sum_hex, tp, fp, fn)`, the IoU sum a hex count
/// of 2^-128 units.
type ExactRow = (i64, String, u64, u64, u64);

#[pymethods]
impl PyTotals {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// `(category_id, iou_sum, tp, fp, fn)` with each IoU sum rounded once to the nearest float.
    fn rows(&self) -> Vec<StatRow> {
        rows_from_stats(&self.stats)
    }

    /// The exact state: `(category_id, iou_sum as hex units of 2**-128, tp, fp, fn)`.
    fn exact_rows(&self) -> Vec<ExactRow> {
        self.stats.iter().map(|(id, s)| (id, s.iou.to_hex(), s.tp, s.fp, s.fn_)).collect()
    }

    /// Totals from [`exact_rows`](Self::exact_rows)' form.
    #[staticmethod]
    fn from_exact_rows(rows: Vec<ExactRow>) -> PyResult<Self> {
        let mut stats = PqStats::new();
        for (id, hex, tp, fp, fn_) in rows {
            let iou = ExactSum::from_hex(&hex).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "category {id}: iou_sum {hex:?} is not a hexadecimal count of 2**-128 units"
                ))
            })?;
            stats.insert(id, CategoryStats { iou, tp, fp, fn_ });
        }
        Ok(Self { stats })
    }

    /// Adds `other` into these totals.
    fn merge(&mut self, other: &PyTotals) {
        self.stats.merge(&other.stats);
    }
}

/// One image's row for Python: `(image key, pq, sq, rq, n, tp, fp, fn)`.
pub(crate) type PyImageRow = (String, f64, f64, f64, usize, u64, u64, u64);

pub(crate) fn py_row(key: &str, row: ImageRow) -> PyImageRow {
    (key.to_owned(), row.pq, row.sq, row.rq, row.n, row.tp, row.fp, row.fn_)
}

/// A metric's evaluation settings; it holds no state, the running totals are a [`PyTotals`].
#[pyclass(frozen, name = "Evaluator", module = "panoptiq._core")]
pub struct PyEvaluator {
    config: MetricConfig,
}

/// What every batch evaluation needs: the settings, the images' keys, whether rows are kept,
/// and the token that stops it from another thread.
struct Batch<'a> {
    config: &'a MetricConfig,
    keys: &'a [String],
    rows: bool,
    segments: bool,
    token: Option<&'a Cancel>,
    /// The maps' row length (Boundary PQ needs it).
    width: Option<usize>,
}

/// What an update returns: its per-image rows and per-segment rows, each when asked for.
type BatchRows = (Option<Vec<PyImageRow>>, Option<Vec<SegmentRow>>);
/// One image's evaluation, with its segment records when asked for.
type Evaluated = (ImageResult, Option<Vec<SegmentRecord>>);

/// Stops a metric's work running off Python's main thread (a background update), where Ctrl-C
/// cannot reach it: the waiting main thread cancels the token instead.
#[pyclass(frozen, name = "CancelToken", module = "panoptiq._core")]
#[derive(Default)]
pub struct PyCancelToken(Cancel);

#[pymethods]
impl PyCancelToken {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Stops the work watching this token at its next check (an `Interrupted` error there).
    fn cancel(&self) {
        self.0.cancel();
    }

    fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// Evaluates `count` images with `evaluate(i, cancel)`, in parallel when they are large, adds
/// them to `totals` (the whole batch or nothing) and returns their rows when asked.
fn evaluate_batch(
    py: Python<'_>,
    batch: &Batch<'_>,
    totals: &mut PyTotals,
    count: usize,
    pixels: usize,
    evaluate: impl Fn(usize, &Cancel) -> Result<Evaluated, PqError> + Sync,
) -> PyResult<BatchRows> {
    let Batch { config, keys, rows, segments, token, .. } = *batch;
    let results = run_sized_watched(py, pixels, PARALLEL_MIN_PIXELS, token, |cancel| {
        // In parallel only on panoptiq's own pool: on the caller's thread a parallel iterator
        // would start rayon's global pool, whose threads a forked child does not have.
        Ok(if rayon::current_thread_index().is_some() {
            (0..count).into_par_iter().map(|i| evaluate(i, cancel)).collect::<Vec<_>>()
        } else {
            (0..count).map(|i| evaluate(i, cancel)).collect::<Vec<_>>()
        })
    })?;
    // Records are set aside in image order; a failing batch returns none of them.
    let mut records = Vec::new();
    let results = results
        .into_iter()
        .map(|r| {
            r.map(|(result, found)| {
                records.push(found.unwrap_or_default());
                result
            })
        })
        .collect();
    let mut image_rows = Vec::new();
    fold_results(&mut totals.stats, results, |i, result| {
        if rows {
            image_rows.push(py_row(key(keys, i), config.image_row(result)));
        }
    })?;
    let segment_rows = segments.then(|| {
        records
            .into_iter()
            .enumerate()
            .flat_map(|(i, found)| super::segment_rows(key(keys, i), found))
            .collect()
    });
    Ok((rows.then_some(image_rows), segment_rows))
}

fn key(keys: &[String], i: usize) -> &str {
    keys.get(i).map_or("?", String::as_str)
}

fn check_batch(keys: &[String], preds: &[usize], targets: &[usize]) -> PyResult<()> {
    if preds != targets {
        return Err(PyValueError::new_err(format!(
            "preds and target must have the same shape, got {preds:?} and {targets:?}"
        )));
    }
    if keys.len() != preds[0] {
        return Err(PyValueError::new_err(format!("{} image keys for a batch of {}", keys.len(), preds[0])));
    }
    Ok(())
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
            Err(PyTypeError::new_err(
                "label arrays must be C-contiguous int64, int32, uint8, uint16 or uint32",
            ))
        }
    }};
}

fn pairs_of<T: Element + Copy + PartialEq + Sync + Into<i64>>(
    py: Python<'_>,
    batch: &Batch<'_>,
    totals: &mut PyTotals,
    preds: &PyReadonlyArray3<'_, T>,
    targets: &PyReadonlyArray3<'_, T>,
) -> PyResult<BatchRows> {
    let Batch { config, keys, .. } = *batch;
    check_batch(keys, preds.shape(), targets.shape())?;
    let (p, t): (ArrayView3<'_, T>, ArrayView3<'_, T>) = (preds.as_array(), targets.as_array());
    if !p.is_standard_layout() || !t.is_standard_layout() {
        return Err(PyValueError::new_err("label arrays must be C-contiguous"));
    }
    let decode = |[c, i]: [T; 2]| Ok(Label::Segment { category_id: c.into(), instance_id: i.into() });
    evaluate_batch(py, batch, totals, p.shape()[0], p.len() / 2, |i, cancel| {
        let (gt, pred) = (t.index_axis(Axis(0), i), p.index_axis(Axis(0), i));
        let (gt, pred) = (gt.to_slice().unwrap_or(&[]), pred.to_slice().unwrap_or(&[]));
        Ok((config.evaluate_labels(key(keys, i), gt, pred, batch.width, decode, decode, cancel)?, None))
    })
}

fn encoded_of<T: Element + Copy + PartialEq + Sync + Into<i64>>(
    py: Python<'_>,
    batch: &Batch<'_>,
    totals: &mut PyTotals,
    preds: &PyReadonlyArray2<'_, T>,
    targets: &PyReadonlyArray2<'_, T>,
    label_divisor: i64,
) -> PyResult<BatchRows> {
    let Batch { config, keys, .. } = *batch;
    check_batch(keys, preds.shape(), targets.shape())?;
    let (p, t) = (preds.as_array(), targets.as_array());
    if !p.is_standard_layout() || !t.is_standard_layout() {
        return Err(PyValueError::new_err("label arrays must be C-contiguous"));
    }
    evaluate_batch(py, batch, totals, p.shape()[0], p.len(), |i, cancel| {
        let image = key(keys, i);
        let (gt, pred) = (t.index_axis(Axis(0), i), p.index_axis(Axis(0), i));
        let (gt, pred) = (gt.to_slice().unwrap_or(&[]), pred.to_slice().unwrap_or(&[]));
        let (gt_label, pred_label) = (
            encoded_label(image, Side::GroundTruth, label_divisor),
            encoded_label(image, Side::Prediction, label_divisor),
        );
        let result = config.evaluate_labels(
            image,
            gt,
            pred,
            batch.width,
            |[v]: [T; 1]| gt_label(v.into()),
            |[v]: [T; 1]| pred_label(v.into()),
            cancel,
        )?;
        Ok((result, None))
    })
}

#[pymethods]
impl PyEvaluator {
    #[new]
    #[pyo3(signature = (categories, rules, modified, void_category, allow_unknown_preds, boundary = None))]
    fn new(
        categories: Vec<(i64, bool)>,
        rules: &str,
        modified: bool,
        void_category: Option<i64>,
        allow_unknown_preds: bool,
        boundary: Option<(f64, bool)>,
    ) -> PyResult<Self> {
        let rules = match rules {
            "panopticapi" => Rules::Panopticapi,
            "torchmetrics" => Rules::Torchmetrics,
            other => {
                return Err(PyValueError::new_err(format!(
                    "rules must be 'panopticapi' or 'torchmetrics', got {other:?}"
                )))
            }
        };
        let iou = super::iou_type(boundary)?;
        Ok(Self {
            config: MetricConfig::new(
                &Categories::with_kinds(categories),
                rules,
                modified,
                void_category,
                allow_unknown_preds,
            )
            .with_iou(iou),
        })
    }

    /// Adds a batch of `(B, pixels, 2)` (category, instance) arrays to `totals`; `width` is the
    /// row length of 2-D maps (Boundary PQ needs it).
    #[pyo3(signature = (preds, targets, keys, totals, rows, cancel = None, width = None))]
    #[allow(clippy::too_many_arguments)]
    fn update_pairs(
        &self,
        py: Python<'_>,
        preds: &Bound<'_, PyAny>,
        targets: &Bound<'_, PyAny>,
        keys: Vec<String>,
        mut totals: PyRefMut<'_, PyTotals>,
        rows: bool,
        cancel: Option<PyRef<'_, PyCancelToken>>,
        width: Option<usize>,
    ) -> PyResult<BatchRows> {
        let token = cancel.as_ref().map(|c| &c.0);
        with_int_array!(preds, PyReadonlyArray3, |p| {
            let t = targets
                .extract()
                .map_err(|_| PyTypeError::new_err("preds and target must share one dtype"))?;
            pairs_of(
                py,
                &Batch { config: &self.config, keys: &keys, rows, segments: false, token, width },
                &mut totals,
                &p,
                &t,
            )
        })
    }

    /// Adds a batch of `(B, pixels)` `category * label_divisor + instance` arrays to `totals`;
    /// `width` as for `update_pairs`.
    #[pyo3(signature = (preds, targets, label_divisor, keys, totals, rows, cancel = None, width = None))]
    #[allow(clippy::too_many_arguments)]
    fn update_encoded(
        &self,
        py: Python<'_>,
        preds: &Bound<'_, PyAny>,
        targets: &Bound<'_, PyAny>,
        label_divisor: i64,
        keys: Vec<String>,
        mut totals: PyRefMut<'_, PyTotals>,
        rows: bool,
        cancel: Option<PyRef<'_, PyCancelToken>>,
        width: Option<usize>,
    ) -> PyResult<BatchRows> {
        let token = cancel.as_ref().map(|c| &c.0);
        if label_divisor < 1 {
            return Err(PyValueError::new_err(format!(
                "label_divisor must be a positive integer, got {label_divisor}"
            )));
        }
        with_int_array!(preds, PyReadonlyArray2, |p| {
            let t = targets
                .extract()
                .map_err(|_| PyTypeError::new_err("preds and target must share one dtype"))?;
            encoded_of(
                py,
                &Batch { config: &self.config, keys: &keys, rows, segments: false, token, width },
                &mut totals,
                &p,
                &t,
                label_divisor,
            )
        })
    }

    /// Adds a batch of `(B, pixels)` id maps with their segments (concatenated, split at the
    /// offsets) to `totals`; ground-truth areas below 0 are counted in the map.
    #[pyo3(signature = (preds, targets, pred_offsets, pred, gt_offsets, gt, keys, totals, rows, cancel = None, segments = false, width = None))]
    #[allow(clippy::too_many_arguments)]
    fn update_id_maps<'py>(
        &self,
        py: Python<'py>,
        preds: PyReadonlyArray2<'py, u32>,
        targets: PyReadonlyArray2<'py, u32>,
        pred_offsets: Vec<usize>,
        pred: PredColumns<'py>,
        gt_offsets: Vec<usize>,
        gt: GtColumns<'py>,
        keys: Vec<String>,
        mut totals: PyRefMut<'py, PyTotals>,
        rows: bool,
        cancel: Option<PyRef<'py, PyCancelToken>>,
        segments: bool,
        width: Option<usize>,
    ) -> PyResult<BatchRows> {
        let token = cancel.as_ref().map(|c| &c.0);
        check_batch(&keys, preds.shape(), targets.shape())?;
        let images = keys.len();
        let listed: Vec<ListedSegment> = gt_segments(&gt)?
            .into_iter()
            .map(|s| ListedSegment {
                id: s.id,
                category_id: s.category_id,
                iscrowd: s.iscrowd,
                area: (s.area >= 0).then_some(s.area),
            })
            .collect();
        let pred = pred_segments(&pred)?;
        let (gt_per_image, pred_per_image) = (
            split_at_offsets(&listed, &gt_offsets, images)?,
            split_at_offsets(&pred, &pred_offsets, images)?,
        );
        let (p, t) = (preds.as_array(), targets.as_array());
        let batch = Batch { config: &self.config, keys: &keys, rows, segments, token, width };
        evaluate_batch(py, &batch, &mut totals, images, p.len(), |i, cancel| {
            let (gt_ids, pred_ids) = (t.index_axis(Axis(0), i), p.index_axis(Axis(0), i));
            let (gt_ids, pred_ids) = (gt_ids.to_slice().unwrap_or(&[]), pred_ids.to_slice().unwrap_or(&[]));
            self.config.evaluate_id_maps_with(
                key(&keys, i),
                gt_ids,
                pred_ids,
                gt_per_image[i],
                pred_per_image[i],
                segments,
                width,
                cancel,
            )
        })
    }

    /// Like [`update_id_maps`](Self::update_id_maps) for `(B, pixels, C)` `uint8` colour maps
    /// (C ≥ 3), turned into ids with `rgb2id` first.
    #[pyo3(signature = (preds, targets, pred_offsets, pred, gt_offsets, gt, keys, totals, rows, cancel = None, segments = false, width = None))]
    #[allow(clippy::too_many_arguments)]
    fn update_rgb<'py>(
        &self,
        py: Python<'py>,
        preds: PyReadonlyArray3<'py, u8>,
        targets: PyReadonlyArray3<'py, u8>,
        pred_offsets: Vec<usize>,
        pred: PredColumns<'py>,
        gt_offsets: Vec<usize>,
        gt: GtColumns<'py>,
        keys: Vec<String>,
        totals: PyRefMut<'py, PyTotals>,
        rows: bool,
        cancel: Option<PyRef<'py, PyCancelToken>>,
        segments: bool,
        width: Option<usize>,
    ) -> PyResult<BatchRows> {
        check_batch(&keys, preds.shape(), targets.shape())?;
        let [images, pixels, channels] = [preds.shape()[0], preds.shape()[1], preds.shape()[2]];
        let to_ids = |rgb: &PyReadonlyArray3<'py, u8>| -> PyResult<Bound<'py, numpy::PyArray2<u32>>> {
            let flat = super::contiguous(rgb, "colour maps")?;
            let ids = run_sized(py, flat.len(), PARALLEL_MIN_PIXELS, |_| {
                let mut ids = crate::runtime::memory::filled_vec(images * pixels, 0u32, "the id maps")?;
                rgb_to_ids(flat, channels, &mut ids)?;
                Ok(ids)
            })?;
            let array = numpy::ndarray::Array2::from_shape_vec((images, pixels), ids)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
            Ok(numpy::IntoPyArray::into_pyarray(array, py))
        };
        let (p, t) = (to_ids(&preds)?, to_ids(&targets)?);
        self.update_id_maps(
            py,
            p.readonly(),
            t.readonly(),
            pred_offsets,
            pred,
            gt_offsets,
            gt,
            keys,
            totals,
            rows,
            cancel,
            segments,
            width,
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTotals>()?;
    m.add_class::<PyEvaluator>()?;
    m.add_class::<PyCancelToken>()?;
    Ok(())
}
