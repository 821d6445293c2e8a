//! Core calls run from Python: with the GIL released, on panoptiq's fork-safe pools, stopped by
//! Ctrl-C (or a cancel token off the main thread), and borrowing numpy arrays without a copy.

use numpy::Element;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::runtime::parallel::{catch_panic, run_interruptible, Cancel};
use crate::PqError;

/// Borrows a C-contiguous array's data; any other layout is refused rather than copied silently.
pub(crate) fn contiguous<'a, T: Element, D: numpy::ndarray::Dimension>(
    array: &'a numpy::PyReadonlyArray<'_, T, D>,
    name: &str,
) -> PyResult<&'a [T]> {
    array.as_slice().map_err(|_| {
        PyValueError::new_err(format!("{name} must be C-contiguous; pass numpy.ascontiguousarray({name})"))
    })
}

/// Runs `work` with the GIL released on a pool of `threads` threads (all cores by default),
/// stopping it when Python receives a signal meanwhile: Ctrl-C then raises `KeyboardInterrupt`
/// within a fraction of a second, after the work has stopped.
pub(crate) fn run<R: Send>(
    py: Python<'_>,
    threads: Option<usize>,
    work: impl FnOnce(&Cancel) -> Result<R, PqError> + Send,
) -> PyResult<R> {
    run_watched(py, threads, None, work)
}

/// Like [`run`], also stopping when `token` is cancelled: the way to stop work running on a
/// thread other than Python's main thread, where signals are never seen.
// The closure is needed: `Python::check_signals` is not general over the GIL lifetime.
#[allow(clippy::redundant_closure_for_method_calls)]
pub(crate) fn run_watched<R: Send>(
    py: Python<'_>,
    threads: Option<usize>,
    token: Option<&Cancel>,
    work: impl FnOnce(&Cancel) -> Result<R, PqError> + Send,
) -> PyResult<R> {
    let mut signal: Option<PyErr> = None;
    let result = py.detach(|| {
        run_interruptible(threads, work, || {
            if token.is_some_and(Cancel::is_cancelled) {
                return true;
            }
            match Python::attach(|py| py.check_signals()) {
                Ok(()) => false,
                Err(error) => {
                    signal = Some(error);
                    true
                }
            }
        })
    });
    match (result, signal) {
        (Err(PqError::Interrupted), Some(signal)) => Err(signal),
        (result, _) => Ok(result?),
    }
}

/// Like [`run`], but small work (below `parallel_from` units) runs on the calling thread: it
/// ends sooner than a hand-off to the pool would take, and needs no interrupting.
pub(crate) fn run_sized<R: Send>(
    py: Python<'_>,
    size: usize,
    parallel_from: usize,
    work: impl FnOnce(&Cancel) -> Result<R, PqError> + Send,
) -> PyResult<R> {
    run_sized_watched(py, size, parallel_from, None, work)
}

/// [`run_sized`] that also stops when `token` is cancelled (see [`run_watched`]).
pub(crate) fn run_sized_watched<R: Send>(
    py: Python<'_>,
    size: usize,
    parallel_from: usize,
    token: Option<&Cancel>,
    work: impl FnOnce(&Cancel) -> Result<R, PqError> + Send,
) -> PyResult<R> {
    if size < parallel_from {
        let cancel = token.cloned().unwrap_or_default();
        return Ok(py.detach(|| catch_panic(|| work(&cancel)))?);
    }
    run_watched(py, None, token, work)
}
