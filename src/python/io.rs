//! Bindings of `panoptiq._storage`: zip and tar archive folders opened in Rust, and where PNGs come
//! from as Python passes them — nothing (files on disk), an archive folder, or one `bytes` object
//! per image fetched by Python from object storage.

use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;

use crate::error::Side;
use crate::io::{Archive, Folder, Origin, DISK};

/// A folder inside a zip or tar archive, its directory read once and kept.
#[pyclass(frozen, name = "ArchiveFolder", module = "panoptiq._core")]
pub struct PyArchiveFolder(Folder);

#[pymethods]
impl PyArchiveFolder {
    /// Opens folder `inner` (`""`: the root) of the archive at `archive`; files of the folder
    /// are named `root/<name>` in jobs and messages.
    #[new]
    fn new(py: Python<'_>, archive: PathBuf, inner: &str, root: PathBuf) -> PyResult<Self> {
        Ok(Self(py.detach(|| Folder::in_archive(Archive::open(&archive)?, inner, root))?))
    }

    /// Like the constructor, for an archive held whole in memory (fetched from object storage)
    /// and named `name` in messages.
    #[staticmethod]
    fn from_bytes(
        py: Python<'_>,
        data: Vec<u8>,
        name: PathBuf,
        inner: &str,
        root: PathBuf,
    ) -> PyResult<Self> {
        Ok(Self(py.detach(|| Folder::in_archive(Archive::from_bytes(&name, data)?, inner, root))?))
    }

    /// `"zip"` or `"tar"`.
    #[getter]
    fn kind(&self) -> String {
        self.archive().kind().to_string()
    }

    /// The member-name prefix of the folder's files (`"panoptic_val2017/"`, or `""`).
    #[getter]
    fn prefix(&self) -> &str {
        match &self.0 {
            Folder::Archive { prefix, .. } => prefix,
            Folder::Disk => "",
        }
    }

    /// Number of files in the whole archive.
    fn __len__(&self) -> usize {
        self.archive().len()
    }

    /// The bytes of file `name` of this folder.
    fn read<'py>(&self, py: Python<'py>, name: PathBuf) -> PyResult<Bound<'py, PyBytes>> {
        let Folder::Archive { root, .. } = &self.0 else { unreachable!("always an archive") };
        let path = root.join(name);
        let mut out = Vec::new();
        py.detach(|| self.0.read(&path, &mut out))?;
        Ok(PyBytes::new(py, &out))
    }
}

impl PyArchiveFolder {
    fn archive(&self) -> &Archive {
        match &self.0 {
            Folder::Archive { archive, .. } => archive,
            Folder::Disk => unreachable!("an ArchiveFolder is always an archive"),
        }
    }
}

/// One side's PNG source as Python gives it.
#[derive(FromPyObject)]
pub enum Source<'py> {
    Archive(PyRef<'py, PyArchiveFolder>),
    Bytes(Vec<PyBackedBytes>),
}

/// The origin of each of `images` PNGs of one side.
pub fn origins<'a>(source: Option<&'a Source<'_>>, images: usize, side: Side) -> PyResult<Vec<Origin<'a>>> {
    match source {
        None => Ok(vec![Origin::Folder(&DISK); images]),
        Some(Source::Archive(folder)) => Ok(vec![Origin::Folder(&folder.0); images]),
        Some(Source::Bytes(files)) if files.len() == images => {
            Ok(files.iter().map(|bytes| Origin::Bytes(bytes)).collect())
        }
        Some(Source::Bytes(files)) => Err(PyValueError::new_err(format!(
            "{} PNG bytes: {} for {images} images",
            side.adjective(),
            files.len()
        ))),
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyArchiveFolder>()
}
