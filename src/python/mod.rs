//! The PyO3 binding layer: extracts and checks arrays, releases the GIL around core calls and
//! converts results. No evaluation logic lives here.

// PyO3 hands arguments over by value; borrowing views of them is the point of this layer.
#![allow(clippy::needless_pass_by_value)]

mod draw;
mod errors;
mod io;
mod metric;

use io::{origins, PyArchiveFolder, Source};
use metric::{py_row, PyImageRow, PyTotals};

use numpy::ndarray::{Array2, ArrayD, IxDyn};
use numpy::{Element, PyUntypedArrayMethods};
use numpy::{
    IntoPyArray, PyArray2, PyArrayDyn, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3,
    PyReadonlyArrayDyn,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyTuple;

use crate::dataset::annotations::{read_annotations, Annotations};
use crate::dataset::{decode_only, evaluate_pairs_detailed, PairJob};
use crate::error::{JsonFiles, Side};
use crate::eval::categories::Categories;
use crate::eval::categories::CategoryInfo;
use crate::eval::ids::{ids_to_rgb, rgb_to_ids, Channel, PARALLEL_MIN_PIXELS};
use crate::eval::matching::{
    evaluate_image as evaluate_histogram, evaluate_maps, map_histogram, IouType, MapView,
};
use crate::eval::records::{ImageDetail, SegmentRecord};
use crate::eval::segments::{GtSegment, PredSegment};
use crate::eval::stats::{average, Average, PqStats};
use crate::io::{Origin, DISK};
use crate::png::encode::write_id_map;
use crate::png::reader::{read_id_map, read_id_map_from_bytes, read_id_map_reference};
use crate::runtime::memory::filled_vec;
use crate::runtime::parallel::{catch_panic, default_threads, run_interruptible, Cancel};
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
fn run<R: Send>(
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
fn run_watched<R: Send>(
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

fn rgb2id_impl<'py, C: Channel + Element>(
    py: Python<'py>,
    rgb: &PyReadonlyArray3<'py, C>,
) -> PyResult<Bound<'py, PyArray2<u32>>> {
    let &[height, width, channels] = rgb.shape() else { unreachable!("a 3-D array has 3 dimensions") };
    let pixels = contiguous(rgb, "color")?;
    let ids = run_sized(py, height * width, PARALLEL_MIN_PIXELS, |_| {
        let mut ids = filled_vec(height * width, 0u32, "the id map")?;
        rgb_to_ids(pixels, channels, &mut ids)?;
        Ok(ids)
    })?;
    let ids =
        Array2::from_shape_vec((height, width), ids).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(ids.into_pyarray(py))
}

/// `rgb2id` of an H×W×C `uint8` array (C ≥ 3), as `uint32` ids.
#[pyfunction]
fn rgb2id_u8<'py>(py: Python<'py>, rgb: PyReadonlyArray3<'py, u8>) -> PyResult<Bound<'py, PyArray2<u32>>> {
    rgb2id_impl(py, &rgb)
}

/// `rgb2id` of an H×W×C `uint32` array (C ≥ 3), wrapping as numpy's `uint32` arithmetic does.
#[pyfunction]
fn rgb2id_u32<'py>(py: Python<'py>, rgb: PyReadonlyArray3<'py, u32>) -> PyResult<Bound<'py, PyArray2<u32>>> {
    rgb2id_impl(py, &rgb)
}

/// `id2rgb` of a `uint32` array of any shape: a `uint8` array with one more axis of length 3.
#[pyfunction]
fn id2rgb<'py>(py: Python<'py>, ids: PyReadonlyArrayDyn<'py, u32>) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
    let mut shape = ids.shape().to_vec();
    shape.push(3);
    let flat = contiguous(&ids, "id_map")?;
    let rgb = run_sized(py, flat.len(), PARALLEL_MIN_PIXELS, |_| {
        let mut rgb = filled_vec(flat.len() * 3, 0u8, "the colours")?;
        ids_to_rgb(flat, &mut rgb)?;
        Ok(rgb)
    })?;
    let rgb = ArrayD::from_shape_vec(IxDyn(&shape), rgb).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(rgb.into_pyarray(py))
}

/// Reads a panoptic PNG into an H×W `uint32` id map, with panoptiq's decoder where it applies
/// or, with `reference`, with the `png` crate only. With `data`, decodes those bytes (the file's
/// contents, read from an archive or object storage) and `path` only names them.
#[pyfunction]
#[pyo3(signature = (path, reference = false, data = None))]
fn read_id_map_png(
    py: Python<'_>,
    path: PathBuf,
    reference: bool,
    data: Option<PyBackedBytes>,
) -> PyResult<Bound<'_, PyArray2<u32>>> {
    if reference && data.is_some() {
        return Err(PyValueError::new_err("the reference decoder reads files only"));
    }
    let map = run(py, None, |cancel| match &data {
        Some(bytes) => read_id_map_from_bytes(&path, bytes.to_vec(), cancel),
        None if reference => read_id_map_reference(&path),
        None => read_id_map(&path, cancel),
    })?;
    let ids = Array2::from_shape_vec((map.height, map.width), map.ids)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(ids.into_pyarray(py))
}

/// One category's statistics as `(category_id, iou, tp, fp, fn)`.
pub(crate) type StatRow = (i64, f64, u64, u64, u64);

/// Ground-truth `segments_info` as columns: ids, category ids, iscrowd, JSON areas.
pub(crate) type GtColumns<'py> = (
    PyReadonlyArray1<'py, u32>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, bool>,
    PyReadonlyArray1<'py, i64>,
);
/// Predicted `segments_info` as columns: ids, category ids.
pub(crate) type PredColumns<'py> = (PyReadonlyArray1<'py, u32>, PyReadonlyArray1<'py, i64>);

pub(crate) fn gt_segments(columns: &GtColumns<'_>) -> PyResult<Vec<GtSegment>> {
    let (ids, categories, crowd, areas) =
        (columns.0.as_array(), columns.1.as_array(), columns.2.as_array(), columns.3.as_array());
    if [categories.len(), crowd.len(), areas.len()].iter().any(|&n| n != ids.len()) {
        return Err(PyValueError::new_err("ground-truth segment columns differ in length"));
    }
    Ok((0..ids.len())
        .map(|i| GtSegment { id: ids[i], category_id: categories[i], iscrowd: crowd[i], area: areas[i] })
        .collect())
}

pub(crate) fn pred_segments(columns: &PredColumns<'_>) -> PyResult<Vec<PredSegment>> {
    let (ids, categories) = (columns.0.as_array(), columns.1.as_array());
    if ids.len() != categories.len() {
        return Err(PyValueError::new_err("predicted segment columns differ in length"));
    }
    Ok(ids.iter().zip(categories).map(|(&id, &category_id)| PredSegment { id, category_id }).collect())
}

/// Splits `items` into one slice per image at `offsets` (`images + 1` ascending positions).
pub(crate) fn split_at_offsets<'a, T>(
    items: &'a [T],
    offsets: &[usize],
    images: usize,
) -> PyResult<Vec<&'a [T]>> {
    let valid = offsets.len() == images + 1
        && offsets.first() == Some(&0)
        && offsets.last() == Some(&items.len())
        && offsets.windows(2).all(|w| w[0] <= w[1]);
    if !valid {
        return Err(PyValueError::new_err("segment offsets do not partition the segments"));
    }
    Ok(offsets.windows(2).map(|w| &items[w[0]..w[1]]).collect())
}

/// Per-category rows with each IoU sum rounded once to the nearest `f64`.
pub(crate) fn rows_from_stats(stats: &PqStats) -> Vec<StatRow> {
    stats.iter().map(|(id, s)| (id, s.iou.to_f64(), s.tp, s.fp, s.fn_)).collect()
}

fn map_view<'a>(array: &'a PyReadonlyArray2<'_, u32>, name: &str) -> PyResult<MapView<'a>> {
    Ok(MapView { ids: contiguous(array, name)?, height: array.shape()[0], width: array.shape()[1] })
}

/// One in-memory pair's maps, segments and known categories, as the per-image functions take them.
type PairInputs<'a> = (MapView<'a>, MapView<'a>, Vec<GtSegment>, Vec<PredSegment>, Categories);

fn pair_inputs<'a>(
    gt_ids: &'a PyReadonlyArray2<'_, u32>,
    pred_ids: &'a PyReadonlyArray2<'_, u32>,
    gt: &GtColumns<'_>,
    pred: &PredColumns<'_>,
    category_ids: &PyReadonlyArray1<'_, i64>,
) -> PyResult<PairInputs<'a>> {
    let (gt_map, pred_map) = (map_view(gt_ids, "gt_ids")?, map_view(pred_ids, "pred_ids")?);
    let categories = Categories::new(category_ids.as_array().iter().copied());
    Ok((gt_map, pred_map, gt_segments(gt)?, pred_segments(pred)?, categories))
}

/// Evaluates one image pair from id maps; returns its per-category statistics.
#[pyfunction]
fn evaluate_image<'py>(
    py: Python<'py>,
    image_id: &str,
    gt_ids: PyReadonlyArray2<'py, u32>,
    pred_ids: PyReadonlyArray2<'py, u32>,
    gt: GtColumns<'py>,
    pred: PredColumns<'py>,
    category_ids: PyReadonlyArray1<'py, i64>,
) -> PyResult<Vec<StatRow>> {
    let (gt_map, pred_map, gt, pred, categories) =
        pair_inputs(&gt_ids, &pred_ids, &gt, &pred, &category_ids)?;
    let result = run_sized(py, gt_map.ids.len(), 1 << 20, |cancel| {
        evaluate_maps(image_id, gt_map, pred_map, &gt, &pred, &categories, cancel)
    })?;
    Ok(rows_from_stats(&result.stats))
}

/// One image pair's scores and segment records from its id maps (see [`crate::eval::records`]).
#[pyfunction]
fn image_details<'py>(
    py: Python<'py>,
    image_id: &str,
    gt_ids: PyReadonlyArray2<'py, u32>,
    pred_ids: PyReadonlyArray2<'py, u32>,
    gt: GtColumns<'py>,
    pred: PredColumns<'py>,
    category_ids: PyReadonlyArray1<'py, i64>,
) -> PyResult<(PyImageRow, Vec<SegmentRow>)> {
    let (gt_map, pred_map, gt, pred, categories) =
        pair_inputs(&gt_ids, &pred_ids, &gt, &pred, &category_ids)?;
    let detail = run_sized(py, gt_map.ids.len(), 1 << 20, |cancel| {
        let histogram = map_histogram(image_id, gt_map, pred_map, cancel)?;
        let result = evaluate_histogram(image_id, &histogram, &gt, &pred, &categories)?;
        Ok(ImageDetail::new(&histogram, &gt, &pred, &result, None))
    })?;
    Ok((py_row(image_id, detail.scores), segment_rows(image_id, detail.segments).collect()))
}

/// Evaluates image pairs from PNG files in parallel, adding them to `totals`.
///
/// Segments of all images are concatenated; `gt_offsets` / `pred_offsets` (one more than there
/// are images) say where each image's segments start. `json_files`, the ground-truth and
/// prediction JSON files the segments came from, are named in errors when given. `gt_from` and
/// `pred_from` say where the PNGs are: on disk (None), in an `ArchiveFolder`, or given as one
/// `bytes` per image (the paths then only name them).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (image_ids, gt_paths, pred_paths, gt_offsets, gt, pred_offsets, pred, category_ids, totals, num_threads, json_files = None, gt_from = None, pred_from = None, details = false, boundary = None))]
fn evaluate_files<'py>(
    py: Python<'py>,
    image_ids: Vec<String>,
    gt_paths: Vec<PathBuf>,
    pred_paths: Vec<PathBuf>,
    gt_offsets: Vec<usize>,
    gt: GtColumns<'py>,
    pred_offsets: Vec<usize>,
    pred: PredColumns<'py>,
    category_ids: PyReadonlyArray1<'py, i64>,
    totals: PyRefMut<'py, PyTotals>,
    num_threads: Option<usize>,
    json_files: Option<(PathBuf, PathBuf)>,
    gt_from: Option<Source<'py>>,
    pred_from: Option<Source<'py>>,
    details: bool,
    boundary: Option<(f64, bool)>,
) -> PyResult<Option<Details>> {
    let images = image_ids.len();
    let gt_origins = origins(gt_from.as_ref(), images, "ground-truth")?;
    let pred_origins = origins(pred_from.as_ref(), images, "predicted")?;
    let json = json_files.map(|(gt, pred)| JsonFiles { gt, pred });
    if gt_paths.len() != images || pred_paths.len() != images {
        return Err(PyValueError::new_err("image ids and paths differ in length"));
    }
    let (gt, pred) = (gt_segments(&gt)?, pred_segments(&pred)?);
    let gt_per_image = split_at_offsets(&gt, &gt_offsets, images)?;
    let pred_per_image = split_at_offsets(&pred, &pred_offsets, images)?;
    let jobs: Vec<PairJob<'_>> = (0..images)
        .map(|i| PairJob {
            image_id: &image_ids[i],
            gt_path: &gt_paths[i],
            pred_path: &pred_paths[i],
            gt_segments: gt_per_image[i],
            pred_segments: pred_per_image[i],
            json: json.as_ref(),
            gt_from: gt_origins[i],
            pred_from: pred_origins[i],
        })
        .collect();
    run_jobs(py, &jobs, &category_ids, totals, num_threads, details, boundary)
}

/// One segment's row: `(image_id, side, segment_id, category_id, area, fate, other_id,
/// other_category_id, other_iou, other_boundary_iou)`, the `other_*` None when nothing overlaps.
pub(crate) type SegmentRow =
    (String, &'static str, u32, i64, u64, &'static str, Option<u32>, Option<i64>, Option<f64>, Option<f64>);
/// Per-image and per-segment rows of a batch, in image order.
type Details = (Vec<PyImageRow>, Vec<SegmentRow>);

fn detail_rows(jobs: &[PairJob<'_>], details: Vec<ImageDetail>) -> Details {
    let mut images = Vec::with_capacity(details.len());
    let mut segments = Vec::new();
    for (job, detail) in jobs.iter().zip(details) {
        images.push(py_row(job.image_id, detail.scores));
        segments.extend(segment_rows(job.image_id, detail.segments));
    }
    (images, segments)
}

pub(crate) fn segment_rows(
    image_id: &str,
    records: Vec<SegmentRecord>,
) -> impl Iterator<Item = SegmentRow> + '_ {
    records.into_iter().map(move |r| {
        let side = if r.side == Side::GroundTruth { "gt" } else { "pred" };
        (
            image_id.to_owned(),
            side,
            r.segment_id,
            r.category_id,
            r.area,
            r.fate.name(),
            r.other.map(|o| o.segment_id),
            r.other.map(|o| o.category_id),
            r.other.map(|o| o.iou),
            r.boundary_iou,
        )
    })
}

/// Evaluates `jobs` with the GIL released and adds them to the running `totals` (all or none);
/// with `details`, also returns their per-image and per-segment rows.
fn run_jobs(
    py: Python<'_>,
    jobs: &[PairJob<'_>],
    category_ids: &PyReadonlyArray1<'_, i64>,
    mut totals: PyRefMut<'_, PyTotals>,
    num_threads: Option<usize>,
    details: bool,
    boundary: Option<(f64, bool)>,
) -> PyResult<Option<Details>> {
    let categories = Categories::new(category_ids.as_array().iter().copied());
    let iou = iou_type(boundary)?;
    let mut stats = PqStats::new();
    let mut collected = Vec::new();
    run(py, num_threads, |cancel| {
        evaluate_pairs_detailed(jobs, &categories, iou, &mut stats, cancel, details.then_some(&mut collected))
    })?;
    totals.stats.merge(&stats);
    Ok(details.then(|| detail_rows(jobs, collected)))
}

/// Mask IoU without `boundary`, Boundary PQ's with `(dilation_ratio, reference_marker)` (the
/// ratio finite and positive).
pub(crate) fn iou_type(boundary: Option<(f64, bool)>) -> PyResult<IouType> {
    match boundary {
        None => Ok(IouType::Mask),
        Some((r, reference_marker)) if r.is_finite() && r > 0.0 => {
            Ok(IouType::Boundary { dilation_ratio: r, reference_marker })
        }
        Some((r, _)) => {
            Err(PyValueError::new_err(format!("dilation_ratio must be a positive number, got {r}")))
        }
    }
}

/// Image pairs read from COCO panoptic JSON files in Rust (see `src/annotations.rs`).
#[pyclass(frozen, name = "Annotations", module = "panoptiq._core")]
struct PyAnnotations(Annotations);

#[pymethods]
impl PyAnnotations {
    fn __len__(&self) -> usize {
        self.0.len()
    }

    /// The ground truth's `categories` list as JSON text.
    #[getter]
    fn categories_json(&self) -> &str {
        self.0.categories_json()
    }

    /// Evaluates pairs `start..stop` in parallel, adding them to `totals`; `gt_from` and
    /// `pred_from` as in `evaluate_files`.
    #[pyo3(signature = (start, stop, category_ids, totals, num_threads, gt_from = None, pred_from = None, details = false, boundary = None))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        start: usize,
        stop: usize,
        category_ids: PyReadonlyArray1<'py, i64>,
        totals: PyRefMut<'py, PyTotals>,
        num_threads: Option<usize>,
        gt_from: Option<Source<'py>>,
        pred_from: Option<Source<'py>>,
        details: bool,
        boundary: Option<(f64, bool)>,
    ) -> PyResult<Option<Details>> {
        let (stop, start) = (stop.min(self.0.len()), start.min(stop.min(self.0.len())));
        let gt_origins = origins(gt_from.as_ref(), stop - start, "ground-truth")?;
        let pred_origins = origins(pred_from.as_ref(), stop - start, "predicted")?;
        let mut jobs = self.0.jobs(start..stop, Origin::Folder(&DISK), Origin::Folder(&DISK));
        for (job, (gt, pred)) in jobs.iter_mut().zip(gt_origins.into_iter().zip(pred_origins)) {
            (job.gt_from, job.pred_from) = (gt, pred);
        }
        run_jobs(py, &jobs, &category_ids, totals, num_threads, details, boundary)
    }

    /// The image ids of pairs `start..stop`.
    fn ids(&self, start: usize, stop: usize) -> Vec<String> {
        let jobs = self.0.jobs(start..stop, Origin::Folder(&DISK), Origin::Folder(&DISK));
        jobs.iter().map(|job| job.image_id.to_owned()).collect()
    }

    /// The PNG paths of pairs `start..stop`: `(ground truth, prediction)` lists.
    fn paths(&self, start: usize, stop: usize) -> (Vec<String>, Vec<String>) {
        let jobs = self.0.jobs(start..stop, Origin::Folder(&DISK), Origin::Folder(&DISK));
        jobs.iter().map(|job| (text(job.gt_path), text(job.pred_path))).unzip()
    }

    /// Pairs `start..stop` as `evaluate_files` takes them: image ids, PNG paths, and each side's
    /// segment offsets and columns.
    fn columns<'py>(&self, py: Python<'py>, start: usize, stop: usize) -> PyResult<Bound<'py, PyTuple>> {
        let jobs = self.0.jobs(start..stop, Origin::Folder(&DISK), Origin::Folder(&DISK));
        let image_ids: Vec<&str> = jobs.iter().map(|job| job.image_id).collect();
        let gt_paths: Vec<String> = jobs.iter().map(|job| text(job.gt_path)).collect();
        let pred_paths: Vec<String> = jobs.iter().map(|job| text(job.pred_path)).collect();
        let offsets = |count: &dyn Fn(&PairJob<'_>) -> usize| -> Vec<usize> {
            std::iter::once(0)
                .chain(jobs.iter().scan(0, |at, job| {
                    *at += count(job);
                    Some(*at)
                }))
                .collect()
        };
        let gt: Vec<GtSegment> = jobs.iter().flat_map(|job| job.gt_segments.iter().copied()).collect();
        let pred: Vec<PredSegment> = jobs.iter().flat_map(|job| job.pred_segments.iter().copied()).collect();
        let gt_columns = (
            gt.iter().map(|s| s.id).collect::<Vec<_>>().into_pyarray(py),
            gt.iter().map(|s| s.category_id).collect::<Vec<_>>().into_pyarray(py),
            gt.iter().map(|s| s.iscrowd).collect::<Vec<_>>().into_pyarray(py),
            gt.iter().map(|s| s.area).collect::<Vec<_>>().into_pyarray(py),
        );
        let pred_columns = (
            pred.iter().map(|s| s.id).collect::<Vec<_>>().into_pyarray(py),
            pred.iter().map(|s| s.category_id).collect::<Vec<_>>().into_pyarray(py),
        );
        (
            image_ids,
            gt_paths,
            pred_paths,
            offsets(&|job| job.gt_segments.len()),
            gt_columns,
            offsets(&|job| job.pred_segments.len()),
            pred_columns,
        )
            .into_pyobject(py)
    }
}

/// A path as text: URLs (`s3://bucket/x.png`) must not become `pathlib` paths, which would fold
/// their double slash.
fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// [`load_annotations`] of the two files' contents (read from an archive or object storage);
/// `gt_json` and `pred_json` name them.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn parse_annotations(
    py: Python<'_>,
    gt_text: PyBackedBytes,
    pred_text: PyBackedBytes,
    gt_json: PathBuf,
    pred_json: PathBuf,
    gt_folder: PathBuf,
    pred_folder: PathBuf,
    num_threads: Option<usize>,
) -> PyResult<Option<PyAnnotations>> {
    let files = JsonFiles { gt: gt_json, pred: pred_json };
    let read = run(py, num_threads, |cancel| {
        crate::dataset::annotations::parse_annotations(
            &gt_text,
            &pred_text,
            files,
            &gt_folder,
            &pred_folder,
            cancel,
        )
    })?;
    Ok(read.map(PyAnnotations))
}

/// Reads both JSON files and matches their images, or `None` when they are not in the strict
/// form the Rust reader takes (the Python reader then explains what is wrong, if anything).
#[pyfunction]
fn load_annotations(
    py: Python<'_>,
    gt_json: PathBuf,
    pred_json: PathBuf,
    gt_folder: PathBuf,
    pred_folder: PathBuf,
    num_threads: Option<usize>,
) -> PyResult<Option<PyAnnotations>> {
    let read = run(py, num_threads, |cancel| {
        read_annotations(&gt_json, &pred_json, &gt_folder, &pred_folder, cancel)
    })?;
    Ok(read.map(PyAnnotations))
}

/// Decodes every PNG and discards the ids (the benchmarks' floor); returns the pixel count.
#[pyfunction]
fn decode_files(py: Python<'_>, paths: Vec<PathBuf>, num_threads: Option<usize>) -> PyResult<u64> {
    let paths: Vec<&std::path::Path> = paths.iter().map(PathBuf::as_path).collect();
    run(py, num_threads, |cancel| decode_only(&paths, cancel))
}

/// Writes an H×W id map as an 8-bit RGB (or RGBA) PNG.
#[pyfunction]
fn write_id_map_png(
    py: Python<'_>,
    path: PathBuf,
    ids: PyReadonlyArray2<'_, u32>,
    alpha: bool,
) -> PyResult<()> {
    let (height, width) = (ids.shape()[0], ids.shape()[1]);
    let flat = contiguous(&ids, "ids")?;
    run_sized(py, flat.len(), PARALLEL_MIN_PIXELS, |_| write_id_map(&path, flat, height, width, alpha))?;
    Ok(())
}

/// One category's scores as `(category_id, pq, sq, rq, counted)`.
type ClassRow = (i64, f64, f64, f64, bool);
/// A split's `(pq, sq, rq, n)` and its categories' scores.
type AverageRows = (f64, f64, f64, usize, Vec<ClassRow>);

fn average_rows(avg: &Average) -> AverageRows {
    let rows = avg.per_class.iter().map(|c| (c.category_id, c.pq, c.sq, c.rq, c.counted)).collect();
    (avg.pq, avg.sq, avg.rq, avg.n, rows)
}

/// `PQStat.pq_average`: means over the categories of a split and every category's scores.
#[pyfunction]
fn pq_average(stats: Vec<StatRow>, categories: Vec<(i64, bool)>, isthing: Option<bool>) -> AverageRows {
    // Float sums as PQStat holds them, whatever they are: no exact accumulator here.
    let table: HashMap<i64, (f64, u64, u64, u64)> =
        stats.into_iter().map(|(id, iou, tp, fp, fn_)| (id, (iou, tp, fp, fn_))).collect();
    let categories: Vec<CategoryInfo> =
        categories.into_iter().map(|(id, isthing)| CategoryInfo { id, isthing }).collect();
    average_rows(&average(&categories, isthing, |id| table.get(&id).copied().unwrap_or_default()))
}

/// Threads used when none is asked for: `RAYON_NUM_THREADS`, else the CPUs this process may use
/// (affinity mask and cgroup quota honoured).
#[pyfunction(name = "default_threads")]
fn py_default_threads() -> usize {
    default_threads()
}

/// The PNG decoder's engine, as `PANOPTIQ_DECODER` set it: "auto", "dense" or "sparse".
#[pyfunction]
fn decoder_engine() -> &'static str {
    match crate::png::configured_engine() {
        crate::png::Engine::Auto => "auto",
        crate::png::Engine::Dense => "dense",
        crate::png::Engine::Sparse => "sparse",
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(py_default_threads, m)?)?;
    m.add_function(wrap_pyfunction!(decoder_engine, m)?)?;
    m.add_function(wrap_pyfunction!(rgb2id_u8, m)?)?;
    m.add_function(wrap_pyfunction!(rgb2id_u32, m)?)?;
    m.add_function(wrap_pyfunction!(id2rgb, m)?)?;
    m.add_function(wrap_pyfunction!(read_id_map_png, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_image, m)?)?;
    m.add_function(wrap_pyfunction!(image_details, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_files, m)?)?;
    m.add_function(wrap_pyfunction!(load_annotations, m)?)?;
    m.add_class::<PyAnnotations>()?;
    m.add_class::<PyArchiveFolder>()?;
    m.add_function(wrap_pyfunction!(parse_annotations, m)?)?;
    m.add("ArchiveError", m.py().get_type::<errors::ArchiveError>())?;
    m.add_function(wrap_pyfunction!(write_id_map_png, m)?)?;
    m.add_function(wrap_pyfunction!(decode_files, m)?)?;
    m.add_function(wrap_pyfunction!(pq_average, m)?)?;
    metric::register(m)?;
    draw::register(m)?;
    Ok(())
}
