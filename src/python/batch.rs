//! One update of the in-memory metric as the core runs it: its images' keys and the rows it
//! returns, the token that stops it from another thread, and its images evaluated with the GIL
//! released into totals of their own (merged by the caller: a batch whole or not at all).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rayon::prelude::*;

use super::columns::{image_row, segment_rows, PyImageRow, SegmentRow};
use super::results::PyTotals;
use super::run::run_sized_watched;
use crate::eval::matching::ImageResult;
use crate::eval::records::SegmentRecord;
use crate::eval::stats::PqStats;
use crate::metric::{fold_results, MetricConfig};
use crate::runtime::parallel::Cancel;
use crate::PqError;

/// Pixels of a batch below which it is evaluated on the calling thread: a hand-off to the pool
/// would cost more than it saves.
const PARALLEL_MIN_PIXELS: usize = 1 << 20;

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

/// What one update is: its images' keys, which rows it returns, the token that stops it from
/// another thread, and the maps' row length (Boundary PQ needs it).
#[pyclass(frozen, name = "Batch", module = "panoptiq._core")]
pub struct PyBatch {
    pub(crate) keys: Vec<String>,
    pub(crate) rows: bool,
    pub(crate) segments: bool,
    pub(crate) cancel: Option<Cancel>,
    pub(crate) width: Option<usize>,
}

#[pymethods]
impl PyBatch {
    #[new]
    #[pyo3(signature = (keys, rows = false, segments = false, cancel = None, width = None))]
    fn new(
        keys: Vec<String>,
        rows: bool,
        segments: bool,
        cancel: Option<PyRef<'_, PyCancelToken>>,
        width: Option<usize>,
    ) -> Self {
        Self { keys, rows, segments, cancel: cancel.map(|c| c.0.clone()), width }
    }
}

impl PyBatch {
    pub(crate) fn key(&self, i: usize) -> &str {
        self.keys.get(i).map_or("?", String::as_str)
    }

    /// Refuses maps of different shapes, or a key count other than the batch's.
    pub(crate) fn check(&self, preds: &[usize], targets: &[usize]) -> PyResult<()> {
        if preds != targets {
            return Err(PyValueError::new_err(format!(
                "preds and target must have the same shape, got {preds:?} and {targets:?}"
            )));
        }
        if self.keys.len() != preds[0] {
            return Err(PyValueError::new_err(format!(
                "{} image keys for a batch of {}",
                self.keys.len(),
                preds[0]
            )));
        }
        Ok(())
    }
}

/// What an update returns: its totals, its per-image rows and per-segment rows when asked for.
pub(crate) type BatchResult = (PyTotals, Option<Vec<PyImageRow>>, Option<Vec<SegmentRow>>);
/// One image's evaluation, with its segment records when asked for.
pub(crate) type Evaluated = (ImageResult, Option<Vec<SegmentRecord>>);

/// Evaluates `count` images with `evaluate(i, cancel)`, in parallel when they are large, into
/// totals of their own (the whole batch or an error naming the first failing image), with rows
/// when asked.
pub(crate) fn evaluate_batch(
    py: Python<'_>,
    config: &MetricConfig,
    batch: &PyBatch,
    count: usize,
    pixels: usize,
    evaluate: impl Fn(usize, &Cancel) -> Result<Evaluated, PqError> + Sync,
) -> PyResult<BatchResult> {
    let results = run_sized_watched(py, pixels, PARALLEL_MIN_PIXELS, batch.cancel.as_ref(), |cancel| {
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
    let mut stats = PqStats::new();
    fold_results(&mut stats, results, |i, result| {
        if batch.rows {
            image_rows.push(image_row(batch.key(i), config.image_row(result)));
        }
    })?;
    let segment_rows = batch.segments.then(|| {
        records.into_iter().enumerate().flat_map(|(i, found)| segment_rows(batch.key(i), found)).collect()
    });
    Ok((PyTotals { stats, ..PyTotals::default() }, batch.rows.then_some(image_rows), segment_rows))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCancelToken>()?;
    m.add_class::<PyBatch>()?;
    Ok(())
}
