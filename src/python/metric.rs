//! Bindings of `panoptiq.metric`: the in-memory metric's settings, whose updates evaluate a batch
//! of label maps in one of its input forms ([`super::metric_inputs`]).

use numpy::{PyArrayMethods, PyReadonlyArray2, PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::batch::{BatchResult, PyBatch};
use super::metric_inputs::{encoded_batch, id_map_batch, pairs_batch, rgb_to_id_maps, IdMapSegments};
use super::options::PyOptions;
use super::results::PyCategories;
use crate::metric::{MetricConfig, Rules};

/// A metric's evaluation settings; it holds no state, the running totals are a `Totals`.
#[pyclass(frozen, name = "Evaluator", module = "panoptiq._core")]
pub struct PyEvaluator {
    config: MetricConfig,
}

#[pymethods]
impl PyEvaluator {
    #[new]
    #[pyo3(signature = (categories, rules, modified, void_category, allow_unknown_preds, options = None))]
    fn new(
        categories: &PyCategories,
        rules: &str,
        modified: bool,
        void_category: Option<i64>,
        allow_unknown_preds: bool,
        options: Option<&PyOptions>,
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
        let config = MetricConfig::new(&categories.0, rules, modified, void_category, allow_unknown_preds);
        Ok(Self { config: config.with_iou(options.map(|o| o.0.iou).unwrap_or_default()) })
    }

    /// Evaluates a batch of `(B, pixels, 2)` (category, instance) arrays `maps = (preds, targets)`.
    fn update_pairs(
        &self,
        py: Python<'_>,
        maps: (Bound<'_, PyAny>, Bound<'_, PyAny>),
        batch: &PyBatch,
    ) -> PyResult<BatchResult> {
        pairs_batch(py, &self.config, batch, &maps.0, &maps.1)
    }

    /// Evaluates a batch of `(B, pixels)` `category * label_divisor + instance` arrays.
    fn update_encoded(
        &self,
        py: Python<'_>,
        maps: (Bound<'_, PyAny>, Bound<'_, PyAny>),
        label_divisor: i64,
        batch: &PyBatch,
    ) -> PyResult<BatchResult> {
        if label_divisor < 1 {
            return Err(PyValueError::new_err(format!(
                "label_divisor must be a positive integer, got {label_divisor}"
            )));
        }
        encoded_batch(py, &self.config, batch, (&maps.0, &maps.1), label_divisor)
    }

    /// Evaluates a batch of `(B, pixels)` id maps with their segments (each side concatenated,
    /// split at its offsets); ground-truth areas below 0 are counted in the map.
    fn update_id_maps<'py>(
        &self,
        py: Python<'py>,
        maps: (PyReadonlyArray2<'py, u32>, PyReadonlyArray2<'py, u32>),
        segments: IdMapSegments<'py>,
        batch: &PyBatch,
    ) -> PyResult<BatchResult> {
        id_map_batch(py, &self.config, batch, (&maps.0, &maps.1), &segments)
    }

    /// Like [`update_id_maps`](Self::update_id_maps) for `(B, pixels, C)` `uint8` colour maps
    /// (C ≥ 3), turned into ids with `rgb2id` first.
    fn update_rgb<'py>(
        &self,
        py: Python<'py>,
        maps: (PyReadonlyArray3<'py, u8>, PyReadonlyArray3<'py, u8>),
        segments: IdMapSegments<'py>,
        batch: &PyBatch,
    ) -> PyResult<BatchResult> {
        batch.check(maps.0.shape(), maps.1.shape())?;
        let (preds, targets) = (rgb_to_id_maps(py, &maps.0)?, rgb_to_id_maps(py, &maps.1)?);
        id_map_batch(py, &self.config, batch, (&preds.readonly(), &targets.readonly()), &segments)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEvaluator>()
}
