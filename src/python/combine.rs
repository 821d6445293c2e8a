//! Bindings of `panoptiq.converters`' combination of semantic and instance results: the results
//! files read in Rust when they are strict (else built from Python's reader), then the images
//! combined chunk by chunk on the pool.

use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::convert::{each, in_image, palette, rles, write_runs, Palette};
use super::masks::MaskArg;
use super::run::run;
use crate::convert::heuristic::CombineRule;
use crate::convert::images;
use crate::convert::results::{read_results, ImageResults, Placed, ResultFiles};
use crate::convert::IdGenerator;
use crate::io::json::ImageId;

/// Both results files, parsed in Rust, until [`PyCombineResults::group`] takes them.
#[pyclass(frozen, name = "CombineResults", module = "panoptiq._core")]
struct PyCombineResults(Mutex<Option<ResultFiles>>);

/// An image id as Python holds it: an `int` or a `str` (the caller passes no other).
#[derive(FromPyObject)]
enum Key {
    Int(i64),
    Text(String),
}

#[pymethods]
impl PyCombineResults {
    /// The records grouped by image (see `convert::results`), or `None` when a record is one
    /// that Python's checks refuse; the parsed files are given up either way.
    fn group(
        &self,
        py: Python<'_>,
        images: Vec<Key>,
        categories: Vec<(i64, Option<bool>)>,
        confidence_thr: f64,
    ) -> PyResult<Option<PyCombineInputs>> {
        let files = self
            .0
            .lock()
            .map_err(|_| PyValueError::new_err("the results were poisoned by a panic"))?
            .take()
            .ok_or_else(|| PyValueError::new_err("these results were grouped already"))?;
        let images: Vec<ImageId> = images
            .into_iter()
            .map(|key| match key {
                Key::Int(id) => ImageId::Int(id),
                Key::Text(id) => ImageId::Text(id),
            })
            .collect();
        Ok(py.detach(|| files.group(&images, &categories, confidence_thr)).map(PyCombineInputs))
    }
}

/// Reads both results files at once; `None` when either is not in the strict form.
#[pyfunction]
#[pyo3(signature = (semantic, instances, threads=None))]
fn read_combine_results(
    py: Python<'_>,
    semantic: PathBuf,
    instances: PathBuf,
    threads: Option<usize>,
) -> PyResult<Option<PyCombineResults>> {
    let files = run(py, threads, |cancel| read_results(&semantic, &instances, cancel))?;
    Ok(files.map(|files| PyCombineResults(Mutex::new(Some(files)))))
}

/// One image's results as Python's reader passes them: `(position in the file, category_id, mask)`.
type PlacedArg = (usize, i64, MaskArg);

/// The inputs of a combination, image by image: instances by descending score, stuff regions.
#[pyclass(frozen, name = "CombineInputs", module = "panoptiq._core")]
struct PyCombineInputs(Vec<ImageResults>);

#[pymethods]
impl PyCombineInputs {
    /// Inputs grouped by Python's reader, per image `(instances, stuff)`.
    #[new]
    fn new(images: Vec<(Vec<PlacedArg>, Vec<PlacedArg>)>) -> Self {
        let placed = |items: Vec<PlacedArg>| {
            items
                .into_iter()
                .map(|(position, category_id, mask)| Placed {
                    position,
                    category_id,
                    segmentation: mask.into_segmentation(),
                })
                .collect()
        };
        PyCombineInputs(
            images
                .into_iter()
                .map(|(instances, stuff)| ImageResults { instances: placed(instances), stuff: placed(stuff) })
                .collect(),
        )
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }
}

/// Semantic and instance predictions combined into panoptic PNGs: the images `first..` of
/// `inputs`, one job `(image_id, output PNG, height, width)` each; per image, its
/// `(id, category_id)` segments. `files` are the (instance, semantic) files' names, which name
/// a bad mask as `file[position]`.
#[pyfunction]
#[pyo3(signature = (inputs, jobs, files, overlap_thr, stuff_area_limit, categories, seed, first, threads=None))]
#[allow(clippy::too_many_arguments)]
fn convert_combine(
    py: Python<'_>,
    inputs: PyRef<'_, PyCombineInputs>,
    jobs: Vec<(String, PathBuf, usize, usize)>,
    files: (String, String),
    overlap_thr: f64,
    stuff_area_limit: f64,
    categories: Palette,
    seed: u64,
    first: usize,
    threads: Option<usize>,
) -> PyResult<Vec<Vec<(u32, i64)>>> {
    let stop = first.checked_add(jobs.len());
    let images = stop.and_then(|stop| inputs.0.get(first..stop)).ok_or_else(|| {
        PyValueError::new_err(format!("{} images from {first} of {}", jobs.len(), inputs.0.len()))
    })?;
    let colors = palette(&categories);
    let rule = CombineRule { overlap_thr, stuff_area_limit };
    let (inst_file, stuff_file) = &files;
    each(py, threads, &jobs, |i, (image_id, out, height, width)| {
        let image = &images[i];
        let masks = |placed: &[Placed], file: &str| {
            let name = |k: usize| format!("{file}[{}]", placed[k].position);
            rles(placed.iter().map(|p| (p.category_id, &p.segmentation)), name, *height, *width)
        };
        let mut generator = IdGenerator::new(&colors, seed, (first + i) as u64);
        let (map, segments) = masks(&image.instances, inst_file)
            .and_then(|inst| Ok((inst, masks(&image.stuff, stuff_file)?)))
            .and_then(|(inst, stuff)| images::combine(*height, *width, &inst, &stuff, rule, &mut generator))
            .map_err(in_image(image_id, out))?;
        write_runs(out, &map).map_err(in_image(image_id, out))?;
        Ok(segments.iter().map(|s| (s.id, s.category_id)).collect())
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCombineResults>()?;
    m.add_class::<PyCombineInputs>()?;
    m.add_function(wrap_pyfunction!(read_combine_results, m)?)?;
    m.add_function(wrap_pyfunction!(convert_combine, m)?)?;
    Ok(())
}
