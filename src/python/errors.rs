//! The one place where core errors become Python exceptions.

use pyo3::exceptions::{
    PyFileNotFoundError, PyKeyError, PyKeyboardInterrupt, PyMemoryError, PyOSError, PyRuntimeError,
    PyValueError,
};
use pyo3::PyErr;

use crate::PqError;

pyo3::create_exception!(
    panoptiq._core,
    ArchiveError,
    PyValueError,
    "A zip or tar archive that cannot be read: corrupt, cut short, encrypted or compressed in a way panoptiq does not read."
);

impl From<PqError> for PyErr {
    fn from(e: PqError) -> Self {
        let message = e.to_string();
        match e.root() {
            // panopticapi raises KeyError for these; existing `except KeyError` clauses keep working.
            PqError::SegmentNotInJson { .. }
            | PqError::SegmentsNotInPng { .. }
            | PqError::UnknownCategory { .. } => PyKeyError::new_err(message),
            PqError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                PyFileNotFoundError::new_err(message)
            }
            PqError::Io { .. } => PyOSError::new_err(message),
            PqError::OutOfMemory { .. } => PyMemoryError::new_err(message),
            PqError::BadArchive { .. } => ArchiveError::new_err(message),
            PqError::Panic { .. } => PyRuntimeError::new_err(message),
            // Raised here only when no KeyboardInterrupt from Python's own handler is at hand.
            PqError::Interrupted => PyKeyboardInterrupt::new_err(message),
            PqError::SizeMismatch { .. }
            | PqError::DuplicateSegment { .. }
            | PqError::VoidSegment { .. }
            | PqError::EmptyUnion { .. }
            | PqError::LengthMismatch { .. }
            | PqError::InvalidPairs { .. }
            | PqError::BadRules { .. }
            | PqError::BadMask { .. }
            | PqError::InConversion { .. }
            | PqError::Decode { .. }
            | PqError::UnsupportedPng { .. }
            | PqError::Encode { .. }
            | PqError::ThreadPool { .. }
            | PqError::UnknownLabel { .. }
            | PqError::StuffInstance { .. }
            | PqError::NegativeLabel { .. }
            | PqError::InBatch { .. }
            | PqError::BadVideo { .. }
            | PqError::InVideo { .. }
            | PqError::InImage { .. } => PyValueError::new_err(message),
        }
    }
}
