//! Bindings of `panoptiq._dataset`: a dataset's pairs as one Rust-owned table — read from COCO
//! panoptic JSON in Rust, or built once from the columns Python's reader checked — sliced into
//! picklable parts and evaluated batch by batch with the GIL released.

use std::path::{Path, PathBuf};

use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyTuple};

use super::columns::{gt_segments, image_row, pred_segments, segment_rows, Details, GtColumns, PredColumns};
use super::io::{origins, Source};
use super::masks::{image_masks, overlap_rule, SegmentMasks};
use super::options::PyOptions;
use super::results::{PyCategories, PyTotals};
use super::run::run;
use crate::convert::paint::{ImageMasks, OverlapRule};
use crate::dataset::annotations::{parse_annotations, read_annotations, read_comparison, Annotations, Read};
use crate::dataset::masked::{read_masked, SideFolders};
use crate::dataset::{compare_pairs, evaluate_pairs, Evaluated, PairJob, Pairs, SideColumns};
use crate::error::{JsonFiles, Side};
use crate::PqError;

/// One side of every pair as Python passes it: PNG paths, segment offsets, segment columns.
type SideIn<C> = (Vec<PathBuf>, Vec<usize>, C);
/// Where each side's PNGs are read from in one evaluation call (None: files on disk).
type Sources<'py> = (Option<Source<'py>>, Option<Source<'py>>);
/// A pair's `(image_id, gt_path, pred_path, gt segments as (id, category_id, iscrowd, area),
/// pred segments as (id, category_id))`.
type PairRow = (String, String, String, Vec<(u32, i64, bool, i64)>, Vec<(u32, i64)>);
/// A strict read of files whose sides may be masks: the pairs, the categories JSON text, and
/// whether each side (ground truth, prediction) is held as masks.
type MaskedRead = (PyPairs, String, (bool, bool));

/// One image side as masks: its `(height, width)` when known, and its segments as
/// `(id, isthing, score, mask)`.
type MasksIn = (Option<(usize, usize)>, SegmentMasks);

fn side_masks(
    masks: Option<Vec<MasksIn>>,
    pairs: usize,
    rule: OverlapRule,
) -> PyResult<Option<Vec<ImageMasks>>> {
    let Some(masks) = masks else { return Ok(None) };
    if masks.len() != pairs {
        return Err(PqError::LengthMismatch { what: "masks", expected: pairs, got: masks.len() }.into());
    }
    Ok(Some(masks.into_iter().map(|(size, segments)| image_masks(size, segments, rule)).collect()))
}

/// Matched (ground truth, prediction) image pairs with their PNG paths and segments.
#[pyclass(frozen, name = "Pairs", module = "panoptiq._core")]
pub struct PyPairs(pub(crate) Pairs);

/// A path as text: URLs (`s3://bucket/x.png`) must not become `pathlib` paths, which would fold
/// their double slash.
fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn texts(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| text(p)).collect()
}

fn strict(py: Python<'_>, read: Annotations) -> PyResult<Py<PyTuple>> {
    Ok((PyPairs(read.pairs), read.categories_json).into_pyobject(py)?.unbind())
}

#[pymethods]
impl PyPairs {
    /// A table from columns already checked: each side's `(paths, offsets, columns)`, image `i`'s
    /// segments at `offsets[i]:offsets[i + 1]`; `json_files` are named in errors.
    #[new]
    #[pyo3(signature = (image_ids, gt, pred, json_files = None))]
    fn new(
        image_ids: Vec<String>,
        gt: SideIn<GtColumns<'_>>,
        pred: SideIn<PredColumns<'_>>,
        json_files: Option<(PathBuf, PathBuf)>,
    ) -> PyResult<Self> {
        let gt = SideColumns { paths: gt.0, offsets: gt.1, segments: gt_segments(&gt.2)? };
        let pred = SideColumns { paths: pred.0, offsets: pred.1, segments: pred_segments(&pred.2)? };
        let json = json_files.map(|(gt, pred)| JsonFiles { gt, pred });
        Ok(Self(Pairs::from_columns(image_ids, gt, pred, json)?))
    }

    /// Reads both JSON files (on two threads) and matches their images: `(pairs, categories
    /// JSON text)`, or, when they are not in the strict form the Rust reader takes, `(None,
    /// ground-truth bytes, prediction bytes)` for Python's reader (a file that cannot be read
    /// gives None; that reader says why).
    #[staticmethod]
    fn read(
        py: Python<'_>,
        json: (PathBuf, PathBuf),
        folders: (PathBuf, PathBuf),
        threads: Option<usize>,
    ) -> PyResult<Py<PyTuple>> {
        let read =
            run(py, threads, |cancel| read_annotations(&json.0, &json.1, &folders.0, &folders.1, cancel))?;
        match read {
            Read::Strict(read) => strict(py, *read),
            Read::Loose { gt, pred } => {
                let bytes = |b: Option<Vec<u8>>| b.map(|b| PyBytes::new(py, &b).unbind());
                Ok((py.None(), bytes(gt), bytes(pred)).into_pyobject(py)?.unbind())
            }
        }
    }

    /// [`read`](Self::read) of files whose sides may be given as masks: `mask_folders` names,
    /// for each side that may, the folder standing for it (None: a side of PNGs). A side whose
    /// segments all carry `segmentation` is held as masks, painted under `overlap` (as
    /// [`evaluate`](Self::evaluate) takes it). `(pairs, categories JSON text, (gt masked, pred
    /// masked))`, or None when the files are not in the strict form (Python's reader then runs).
    #[staticmethod]
    #[pyo3(signature = (json, folders, mask_folders, overlap = None, threads = None))]
    fn read_masked(
        py: Python<'_>,
        json: (PathBuf, PathBuf),
        folders: (PathBuf, PathBuf),
        mask_folders: (Option<PathBuf>, Option<PathBuf>),
        overlap: Option<(f64, f64, f64)>,
        threads: Option<usize>,
    ) -> PyResult<Option<MaskedRead>> {
        let sides = [
            SideFolders { pngs: &folders.0, masks: mask_folders.0.as_deref() },
            SideFolders { pngs: &folders.1, masks: mask_folders.1.as_deref() },
        ];
        let rule = overlap_rule(overlap);
        let read = run(py, threads, |cancel| read_masked(&json.0, &json.1, sides, rule, cancel))?;
        Ok(read.map(|read| {
            let [gt, pred] = read.pairs.masked();
            (Self(read.pairs), read.categories_json, (gt, pred))
        }))
    }

    /// [`read`](Self::read) of the two files' contents (from an archive or object storage);
    /// `json` names them. `None` when they are not in the strict form.
    #[staticmethod]
    fn parse(
        py: Python<'_>,
        texts: (PyBackedBytes, PyBackedBytes),
        json: (PathBuf, PathBuf),
        folders: (PathBuf, PathBuf),
        threads: Option<usize>,
    ) -> PyResult<Option<Py<PyTuple>>> {
        let files = JsonFiles { gt: json.0, pred: json.1 };
        let read = run(py, threads, |cancel| {
            parse_annotations(&texts.0, &texts.1, files, &folders.0, &folders.1, cancel)
        })?;
        read.map(|read| strict(py, read)).transpose()
    }

    /// [`read`](Self::read) of one ground truth against several prediction files, the ground
    /// truth read once: each set's pairs (None for a set not in the strict form) and the
    /// categories JSON text (None when the ground truth is not in it).
    #[staticmethod]
    fn read_comparison(
        py: Python<'_>,
        gt: (PathBuf, PathBuf),
        preds: Vec<(PathBuf, PathBuf)>,
        threads: Option<usize>,
    ) -> PyResult<(Vec<Option<Self>>, Option<String>)> {
        let (pred_jsons, pred_folders): (Vec<PathBuf>, Vec<PathBuf>) = preds.into_iter().unzip();
        let read =
            run(py, threads, |cancel| read_comparison(&gt.0, &pred_jsons, &gt.1, &pred_folders, cancel))?;
        let categories = read.iter().flatten().next().map(|a| a.categories_json.clone());
        Ok((read.into_iter().map(|a| a.map(|a| Self(a.pairs))).collect(), categories))
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    /// Pickles as its columns: a part of a dataset sent to a cluster's workers.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let pairs = &slf.get().0;
        if pairs.masked().contains(&true) {
            // Masks stay in the process that read them: a cluster's workers read PNGs.
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "pairs given as masks are not picklable: evaluate them in this process",
            ));
        }
        let (gt, pred) = (pairs.gt(), pairs.pred());
        let gt_columns = (
            gt.segments.iter().map(|s| s.id).collect::<Vec<_>>().into_pyarray(py),
            gt.segments.iter().map(|s| s.category_id).collect::<Vec<_>>().into_pyarray(py),
            gt.segments.iter().map(|s| s.iscrowd).collect::<Vec<_>>().into_pyarray(py),
            gt.segments.iter().map(|s| s.area).collect::<Vec<_>>().into_pyarray(py),
        );
        let pred_columns = (
            pred.segments.iter().map(|s| s.id).collect::<Vec<_>>().into_pyarray(py),
            pred.segments.iter().map(|s| s.category_id).collect::<Vec<_>>().into_pyarray(py),
        );
        let json = pairs.json().map(|j| (text(&j.gt), text(&j.pred)));
        let args = (
            pairs.image_ids().to_vec(),
            (texts(&gt.paths), gt.offsets.clone(), gt_columns),
            (texts(&pred.paths), pred.offsets.clone(), pred_columns),
            json,
        );
        Ok((slf.get_type().into_any(), args.into_pyobject(py)?))
    }

    /// Pairs `start:stop` as a table of their own (a part).
    fn slice(&self, start: usize, stop: usize) -> Self {
        Self(self.0.slice(start..stop))
    }

    /// The image ids of pairs `start:stop`.
    fn image_ids(&self, start: usize, stop: usize) -> Vec<String> {
        let (ids, stop) = (self.0.image_ids(), stop.min(self.0.len()));
        ids[start.min(stop)..stop].to_vec()
    }

    /// The PNG paths of pairs `start:stop`: `(ground truth, prediction)` lists.
    fn paths(&self, start: usize, stop: usize) -> (Vec<String>, Vec<String>) {
        let stop = stop.min(self.0.len());
        let range = start.min(stop)..stop;
        (texts(&self.0.gt().paths[range.clone()]), texts(&self.0.pred().paths[range]))
    }

    /// Pair `index`: its image id, PNG paths and segments.
    fn pair(&self, index: usize) -> PyResult<PairRow> {
        if index >= self.0.len() {
            return Err(pyo3::exceptions::PyIndexError::new_err(format!(
                "no pair {index} of {}",
                self.0.len()
            )));
        }
        let origin = crate::io::Origin::Folder(&crate::io::DISK);
        let job = self.0.jobs(index..index + 1, origin, origin)[0];
        Ok((
            job.image_id.to_owned(),
            text(job.gt_path),
            text(job.pred_path),
            job.gt_segments.iter().map(|s| (s.id, s.category_id, s.iscrowd, s.area)).collect(),
            job.pred_segments.iter().map(|s| (s.id, s.category_id)).collect(),
        ))
    }

    /// Evaluates pairs `start:stop` in parallel with the GIL released: their totals and, when
    /// `options` asks for records, their per-image and per-segment rows. `sources` says where
    /// each side's PNGs are: on disk (None), in an `ArchiveFolder`, or one `bytes` per pair;
    /// `masks`, for a side given as masks instead (and not held here), one entry per pair,
    /// painted under `overlap` (None: overlaps are errors; `(confidence_thr, overlap_thr,
    /// stuff_area_limit)`: the combination heuristic).
    #[pyo3(signature = (start, stop, categories, options, sources = (None, None), masks = (None, None), overlap = None))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate(
        &self,
        py: Python<'_>,
        start: usize,
        stop: usize,
        categories: &PyCategories,
        options: &PyOptions,
        sources: Sources<'_>,
        masks: (Option<Vec<MasksIn>>, Option<Vec<MasksIn>>),
        overlap: Option<(f64, f64, f64)>,
    ) -> PyResult<(PyTotals, Option<Details>)> {
        let (stop, start) = (stop.min(self.0.len()), start.min(stop.min(self.0.len())));
        let gt_origins = origins(sources.0.as_ref(), stop - start, Side::GroundTruth)?;
        let pred_origins = origins(sources.1.as_ref(), stop - start, Side::Prediction)?;
        let rule = overlap_rule(overlap);
        let gt_masks = side_masks(masks.0, stop - start, rule)?;
        let pred_masks = side_masks(masks.1, stop - start, rule)?;
        let disk = crate::io::Origin::Folder(&crate::io::DISK);
        let mut jobs = self.0.jobs(start..stop, disk, disk);
        for (i, (job, (gt, pred))) in
            jobs.iter_mut().zip(gt_origins.into_iter().zip(pred_origins)).enumerate()
        {
            (job.gt_from, job.pred_from) = (gt, pred);
            // Masks handed over here stand for the side; otherwise those the table holds.
            if let Some(masks) = &gt_masks {
                job.gt_masks = Some(&masks[i]);
            }
            if let Some(masks) = &pred_masks {
                job.pred_masks = Some(&masks[i]);
            }
        }
        let options = options.0;
        let evaluated =
            run(py, options.threads, |cancel| evaluate_pairs(&jobs, &categories.0, &options, cancel))?;
        Ok(totals_and_rows(&jobs, evaluated, options.records))
    }
}

/// Evaluates pairs `start:stop` of every set of `sets` (one ground truth, the same images in
/// the same order) in one pass, each ground-truth PNG decoded once: one `(totals, rows)` per set,
/// as [`PyPairs::evaluate`] gives it. `sources`: the ground truth's, and each set's.
#[pyfunction]
#[pyo3(signature = (sets, start, stop, categories, options, sources))]
pub(crate) fn compare(
    py: Python<'_>,
    sets: Vec<PyRef<'_, PyPairs>>,
    start: usize,
    stop: usize,
    categories: &PyCategories,
    options: &PyOptions,
    sources: (Option<Source<'_>>, Vec<Option<Source<'_>>>),
) -> PyResult<Vec<(PyTotals, Option<Details>)>> {
    if sources.1.len() != sets.len() {
        return Err(PqError::LengthMismatch {
            what: "prediction sources",
            expected: sets.len(),
            got: sources.1.len(),
        }
        .into());
    }
    let len = sets.iter().map(|s| s.0.len()).min().unwrap_or(0);
    let (stop, start) = (stop.min(len), start.min(stop.min(len)));
    let gt_origins = origins(sources.0.as_ref(), stop - start, Side::GroundTruth)?;
    let disk = crate::io::Origin::Folder(&crate::io::DISK);
    let mut jobs = Vec::with_capacity(sets.len());
    for (set, source) in sets.iter().zip(&sources.1) {
        let pred_origins = origins(source.as_ref(), stop - start, Side::Prediction)?;
        let mut set_jobs = set.0.jobs(start..stop, disk, disk);
        for (job, (gt, pred)) in set_jobs.iter_mut().zip(gt_origins.iter().zip(pred_origins)) {
            (job.gt_from, job.pred_from) = (*gt, pred);
        }
        jobs.push(set_jobs);
    }
    if let Some(longer) = sets.iter().position(|s| s.0.len() != sets[0].0.len()) {
        return Err(PqError::InvalidPairs {
            message: format!(
                "prediction set {longer} pairs {} images and prediction set 0 {}: the sets must cover the same images",
                sets[longer].0.len(),
                sets[0].0.len()
            ),
        }
        .into());
    }
    let options = options.0;
    let evaluated = run(py, options.threads, |cancel| compare_pairs(&jobs, &categories.0, &options, cancel))?;
    Ok(evaluated
        .into_iter()
        .zip(&jobs)
        .map(|(evaluated, jobs)| totals_and_rows(jobs, evaluated, options.records))
        .collect())
}

/// An evaluation's totals, and its per-image and per-segment rows when `records` asked for them.
fn totals_and_rows(
    jobs: &[PairJob<'_>],
    mut evaluated: Evaluated,
    records: bool,
) -> (PyTotals, Option<Details>) {
    let found = std::mem::take(&mut evaluated.details);
    let details = records.then(|| {
        let mut images = Vec::with_capacity(found.len());
        let mut segments = Vec::new();
        for (job, detail) in jobs.iter().zip(found) {
            images.push(image_row(job.image_id, detail.scores));
            segments.extend(segment_rows(job.image_id, detail.segments));
        }
        (images, segments)
    });
    (PyTotals::of(evaluated), details)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPairs>()?;
    m.add_function(wrap_pyfunction!(compare, m)?)
}
