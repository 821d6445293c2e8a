//! The one options value of an evaluation as Python builds it (`panoptiq._options`): which IoU,
//! whether records and per-image statistics are kept, how many threads.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::dataset::EvalOptions;
use crate::eval::matching::IouType;

/// What an evaluation computes: mask IoU or Boundary PQ's (with its band ratio and
/// boundary-iou-api's marker), per-image and per-segment records or not, on how many threads.
#[pyclass(frozen, name = "Options", module = "panoptiq._core")]
#[derive(Clone, Copy)]
pub struct PyOptions(pub EvalOptions);

#[pymethods]
impl PyOptions {
    // The keywords of Python's `Options`, one each: a flags struct would only move them.
    #[allow(clippy::fn_params_excessive_bools)]
    #[new]
    #[pyo3(signature = (iou_type = "segm", dilation_ratio = 0.02, reference_marker = false, records = false, threads = None, image_stats = false, breakdown = false))]
    fn new(
        iou_type: &str,
        dilation_ratio: f64,
        reference_marker: bool,
        records: bool,
        threads: Option<usize>,
        image_stats: bool,
        breakdown: bool,
    ) -> PyResult<Self> {
        let iou = match iou_type {
            "segm" if !reference_marker => IouType::Mask,
            "segm" => {
                return Err(PyValueError::new_err("reference_marker applies to iou_type=\"boundary\" only"))
            }
            "boundary" if dilation_ratio.is_finite() && dilation_ratio > 0.0 => {
                IouType::Boundary { dilation_ratio, reference_marker }
            }
            "boundary" => {
                return Err(PyValueError::new_err(format!(
                    "dilation_ratio must be a finite number above 0, got {dilation_ratio}"
                )))
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "iou_type must be \"segm\" or \"boundary\", got {other:?}"
                )))
            }
        };
        if threads == Some(0) {
            return Err(PyValueError::new_err("threads must be at least 1"));
        }
        if breakdown && iou != IouType::Mask {
            return Err(PyValueError::new_err(
                "error_breakdown is defined for mask IoU only, not iou_type=\"boundary\"",
            ));
        }
        Ok(Self(EvalOptions { iou, records, image_stats, breakdown, threads }))
    }

    #[getter]
    fn iou_type(&self) -> &'static str {
        match self.0.iou {
            IouType::Mask => "segm",
            IouType::Boundary { .. } => "boundary",
        }
    }

    /// Boundary PQ's band ratio; `None` under mask IoU.
    #[getter]
    fn dilation_ratio(&self) -> Option<f64> {
        match self.0.iou {
            IouType::Mask => None,
            IouType::Boundary { dilation_ratio, .. } => Some(dilation_ratio),
        }
    }

    #[getter]
    fn reference_marker(&self) -> bool {
        matches!(self.0.iou, IouType::Boundary { reference_marker: true, .. })
    }

    #[getter]
    fn records(&self) -> bool {
        self.0.records
    }

    #[getter]
    fn threads(&self) -> Option<usize> {
        self.0.threads
    }

    #[getter]
    fn image_stats(&self) -> bool {
        self.0.image_stats
    }

    #[getter]
    fn breakdown(&self) -> bool {
        self.0.breakdown
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let o = slf.get();
        let args = (
            o.iou_type(),
            o.dilation_ratio().unwrap_or(0.02),
            o.reference_marker(),
            o.records(),
            o.threads(),
            o.image_stats(),
            o.breakdown(),
        );
        Ok((slf.get_type().into_any(), args.into_pyobject(slf.py())?))
    }

    fn __repr__(&self) -> String {
        format!(
            "Options(iou_type={:?}, dilation_ratio={:?}, reference_marker={}, records={}, threads={:?}, image_stats={}, breakdown={})",
            self.iou_type(),
            self.dilation_ratio(),
            self.reference_marker(),
            self.records(),
            self.threads(),
            self.image_stats(),
            self.breakdown()
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyOptions>()
}
