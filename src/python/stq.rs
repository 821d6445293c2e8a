//! Bindings of `panoptiq.video.STQuality`: per-sequence STQ counts, fed label maps with the GIL
//! released, merged, stored, and handed back as the pieces deeplab2's last step combines.

use numpy::{IntoPyArray, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::run::{contiguous, run_sized};
use crate::metric::stq::{Accumulate, SequenceCounts, SequenceParts, StqConfig};

/// Pixels from which one frame's counting goes to the pool.
const PARALLEL_MIN_PIXELS: usize = 1 << 18;

/// The metric's arguments as Python passes them: `(num_classes, things, ignore_label, shift,
/// float32)`.
type Arguments = (i64, Vec<i64>, i64, u32, bool);

/// Every sequence's STQ counts, by position.
#[pyclass(name = "StqCounts", module = "panoptiq._core")]
pub struct PyStqCounts {
    arguments: Arguments,
    config: StqConfig,
    sequences: Vec<SequenceCounts>,
}

#[pymethods]
impl PyStqCounts {
    #[new]
    fn new(arguments: Arguments) -> PyResult<Self> {
        let (num_classes, things, ignore_label, shift, float32) = arguments.clone();
        let accumulate = if float32 { Accumulate::Float32 } else { Accumulate::Exact };
        let config = StqConfig::new(num_classes, &things, ignore_label, shift, accumulate)?;
        Ok(Self { arguments, config, sequences: Vec::new() })
    }

    fn __len__(&self) -> usize {
        self.sequences.len()
    }

    /// Adds a frame to sequence `index` (`len(self)` starts a new one); `name` is the sequence
    /// as errors name it.
    #[pyo3(signature = (index, y_true, y_pred, weights, name))]
    fn add_frame(
        &mut self,
        py: Python<'_>,
        index: usize,
        y_true: PyReadonlyArray1<'_, i64>,
        y_pred: PyReadonlyArray1<'_, i64>,
        weights: Option<PyReadonlyArray1<'_, f64>>,
        name: &str,
    ) -> PyResult<()> {
        if index > self.sequences.len() {
            return Err(pyo3::exceptions::PyIndexError::new_err(format!("no sequence {index}")));
        }
        if index == self.sequences.len() {
            self.sequences.push(SequenceCounts::new(&self.config));
        }
        let (t, p) = (contiguous(&y_true, "y_true")?, contiguous(&y_pred, "y_pred")?);
        let w = weights.as_ref().map(|w| contiguous(w, "weights")).transpose()?;
        let (config, sequence) = (&self.config, &mut self.sequences[index]);
        let frame = sequence.frames();
        let result = run_sized(py, t.len(), PARALLEL_MIN_PIXELS, |_| {
            sequence.add_frame(config, (t, p), w, (name, frame))
        });
        if result.is_err() && index + 1 == self.sequences.len() && self.sequences[index].frames() == 0 {
            self.sequences.pop();
        }
        result
    }

    /// Adds sequence `theirs` of `other` to sequence `mine` (None: as a new sequence).
    fn merge_sequence(&mut self, other: &PyStqCounts, theirs: usize, mine: Option<usize>) -> PyResult<()> {
        if other.arguments != self.arguments {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "cannot merge STQ counts made with different arguments: {:?} and {:?}",
                self.arguments, other.arguments
            )));
        }
        let sequence = other
            .sequences
            .get(theirs)
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err(format!("no sequence {theirs}")))?;
        match mine {
            None => self.sequences.push(sequence.clone()),
            Some(i) => self
                .sequences
                .get_mut(i)
                .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err(format!("no sequence {i}")))?
                .merge(sequence, self.config.accumulate()),
        }
        Ok(())
    }

    /// Sequence `index`'s pieces: `(association sum, ground-truth tracks, confusion matrix,
    /// frames)`.
    fn pieces<'py>(
        &self,
        py: Python<'py>,
        index: usize,
    ) -> PyResult<(f64, usize, Bound<'py, PyArray2<f64>>, u64)> {
        let s = self
            .sequences
            .get(index)
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err(format!("no sequence {index}")))?;
        let size = self.config.size();
        let matrix = s.confusion().to_vec().into_pyarray(py).reshape([size, size])?;
        Ok((s.association_sum(self.config.accumulate()), s.tubes(), matrix, s.frames()))
    }

    /// The stored form: `(arguments, [sequence parts])`.
    fn state(&self) -> (Arguments, Vec<SequenceParts>) {
        (self.arguments.clone(), self.sequences.iter().map(SequenceCounts::to_parts).collect())
    }

    #[staticmethod]
    fn from_state(arguments: Arguments, sequences: Vec<SequenceParts>) -> PyResult<Self> {
        let mut counts = Self::new(arguments)?;
        for parts in sequences {
            counts.sequences.push(SequenceCounts::from_parts(&counts.config, parts)?);
        }
        Ok(counts)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let from_state = slf.get_type().getattr("from_state")?;
        Ok((from_state, slf.borrow().state().into_pyobject(slf.py())?))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStqCounts>()?;
    Ok(())
}
