//! Bindings of `panoptiq.lidar`: semantic-kitti-api's panoptic counts and 4D-PLS's tracks, fed
//! point arrays or `.label` files with the GIL released, merged and stored exactly.

use std::path::PathBuf;

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use rayon::prelude::*;

use super::run::{contiguous, run, run_sized};
use crate::eval::compact::{Compactor, Joint};
use crate::eval::exact::ExactSum;
use crate::metric::lidar::{labels, read_label_bytes, LidarConfig, PanopticCounts, Scan};
use crate::metric::lstq::{SequenceTracks, TrackParts};
use crate::PqError;

/// Points from which one scan's counting goes to the pool.
const PARALLEL_MIN_POINTS: usize = 1 << 20;
/// Scans read and counted in parallel before they are added up.
const SCANS_PER_BLOCK: usize = 64;

/// The evaluator's arguments as Python passes them: `(n_classes, ignore, min_points)`.
type Arguments = (usize, Vec<i64>, u64);
/// The stored form: `(confusion, tp, fp, fn, iou sums as hex)`.
type CountsState = (Vec<u64>, Vec<u64>, Vec<u64>, Vec<u64>, Vec<String>);
type Points<'py> = (
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
);

fn config(arguments: &Arguments) -> Result<LidarConfig, PqError> {
    LidarConfig::new(arguments.0, &arguments.1, arguments.2)
}

fn scan<'a>(points: &'a Points<'_>) -> PyResult<Scan<'a>> {
    Ok(Scan {
        x_sem: contiguous(&points.0, "x_sem")?,
        x_inst: contiguous(&points.1, "x_inst")?,
        y_sem: contiguous(&points.2, "y_sem")?,
        y_inst: contiguous(&points.3, "y_inst")?,
    })
}

/// semantic-kitti-api's `PanopticEval` totals.
#[pyclass(name = "LidarCounts", module = "panoptiq._core")]
pub struct PyLidarCounts {
    arguments: Arguments,
    config: LidarConfig,
    counts: PanopticCounts,
}

#[pymethods]
impl PyLidarCounts {
    #[new]
    fn new(arguments: Arguments) -> PyResult<Self> {
        let config = config(&arguments)?;
        let counts = PanopticCounts::new(&config);
        Ok(Self { arguments, config, counts })
    }

    /// Adds a scan's classes to the confusion matrix.
    fn add_semantic(
        &mut self,
        py: Python<'_>,
        x_sem: PyReadonlyArray1<'_, i64>,
        y_sem: PyReadonlyArray1<'_, i64>,
        name: &str,
    ) -> PyResult<()> {
        let (x, y) = (contiguous(&x_sem, "x_sem")?, contiguous(&y_sem, "y_sem")?);
        if x.len() != y.len() {
            return Err(PqError::InvalidPairs {
                message: format!("In the scan {name}: x_sem has {} points, y_sem {}", x.len(), y.len()),
            }
            .into());
        }
        let mut scan_counts = PanopticCounts::new(&self.config);
        let config = &self.config;
        run_sized(py, x.len(), PARALLEL_MIN_POINTS, |_| scan_counts.add_semantic(config, x, y, name))?;
        self.counts.merge(&scan_counts);
        Ok(())
    }

    /// Adds a scan's panoptic counts; instance ids come shifted by one.
    fn add_panoptic(&mut self, py: Python<'_>, points: Points<'_>, name: &str) -> PyResult<()> {
        let points = scan(&points)?;
        let mut scan_counts = PanopticCounts::new(&self.config);
        let config = &self.config;
        run_sized(py, points.y_sem.len(), PARALLEL_MIN_POINTS, |_| {
            scan_counts.add_panoptic(config, points, name)
        })?;
        self.counts.merge(&scan_counts);
        Ok(())
    }

    /// Adds a scan's classes and its panoptic counts in one pass; instance ids come shifted by
    /// one. A scan that fails adds nothing.
    fn add_scan(&mut self, py: Python<'_>, points: Points<'_>, name: &str) -> PyResult<()> {
        let points = scan(&points)?;
        let mut scan_counts = PanopticCounts::new(&self.config);
        let config = &self.config;
        run_sized(py, points.y_sem.len(), PARALLEL_MIN_POINTS, |_| {
            scan_counts.add_scan(config, points, name)
        })?;
        self.counts.merge(&scan_counts);
        Ok(())
    }

    /// Reads and adds the scans `gt_paths[i]` / `pred_paths[i]` (`.label` files) in parallel,
    /// classes mapped by `lut` (raw label & 0xFFFF → class; −1 for a label the map lacks, counted
    /// as class 0, or an error under `strict`), each scan cut to its first `limit` points. Returns
    /// how many points had a label the map lacks.
    #[pyo3(signature = (scans, lut, limit = None, strict = false, threads = None))]
    fn add_label_files(
        &mut self,
        py: Python<'_>,
        scans: Vec<(String, PathBuf, PathBuf)>,
        lut: Vec<i64>,
        limit: Option<usize>,
        strict: bool,
        threads: Option<usize>,
    ) -> PyResult<u64> {
        if lut.len() != 1 << 16 {
            return Err(pyo3::exceptions::PyValueError::new_err("lut must have 65536 entries"));
        }
        let config = &self.config;
        let totals = &mut self.counts;
        let read = LabelReading { lut: &lut, limit, strict };
        run(py, threads, |cancel| {
            let mut unmapped = 0u64;
            for block in scans.chunks(SCANS_PER_BLOCK) {
                cancel.check()?;
                let counted: Vec<Result<(PanopticCounts, u64), PqError>> = block
                    .par_iter()
                    .map_init(Scratch::default, |scratch, job| read.scan(config, job, scratch))
                    .collect();
                for result in counted {
                    let (counts, missing) = result?;
                    totals.merge(&counts);
                    unmapped += missing;
                }
            }
            Ok(unmapped)
        })
    }

    /// Adds another evaluator's totals.
    fn merge(&mut self, other: &PyLidarCounts) -> PyResult<()> {
        if other.arguments != self.arguments {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "cannot merge evaluators of different arguments: {:?} and {:?}",
                self.arguments, other.arguments
            )));
        }
        self.counts.merge(&other.counts);
        Ok(())
    }

    /// `(confusion (rows prediction, columns ground truth), tp, fp, fn, iou)`, each IoU sum
    /// rounded once.
    #[allow(clippy::type_complexity, clippy::cast_possible_wrap)]
    fn arrays<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(
        Bound<'py, PyArray2<i64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<f64>>,
    )> {
        let n = self.config.n_classes();
        let ints = |v: &[u64]| v.iter().map(|&x| x as i64).collect::<Vec<_>>().into_pyarray(py);
        let confusion = ints(&self.counts.confusion).reshape([n, n])?;
        let iou = self.counts.iou.iter().map(ExactSum::to_f64).collect::<Vec<_>>().into_pyarray(py);
        Ok((confusion, ints(&self.counts.tp), ints(&self.counts.fp), ints(&self.counts.fn_), iou))
    }

    fn state(&self) -> (Arguments, CountsState) {
        let c = &self.counts;
        let iou = c.iou.iter().map(ExactSum::to_hex).collect();
        (self.arguments.clone(), (c.confusion.clone(), c.tp.clone(), c.fp.clone(), c.fn_.clone(), iou))
    }

    #[staticmethod]
    fn from_state(arguments: Arguments, state: CountsState) -> PyResult<Self> {
        let mut this = Self::new(arguments)?;
        let n = this.config.n_classes();
        let (confusion, tp, fp, fn_, iou) = state;
        if confusion.len() != n * n || [tp.len(), fp.len(), fn_.len(), iou.len()].iter().any(|&l| l != n) {
            return Err(pyo3::exceptions::PyValueError::new_err("the stored counts do not fit n_classes"));
        }
        let iou = iou
            .iter()
            .map(|h| {
                ExactSum::from_hex(h)
                    .ok_or_else(|| pyo3::exceptions::PyValueError::new_err(format!("bad IoU sum {h:?}")))
            })
            .collect::<PyResult<Vec<_>>>()?;
        this.counts = PanopticCounts { confusion, tp, fp, fn_, iou };
        Ok(this)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let from_state = slf.get_type().getattr("from_state")?;
        Ok((from_state, slf.borrow().state().into_pyobject(slf.py())?))
    }
}

/// How `.label` files become a scan's points.
struct LabelReading<'a> {
    lut: &'a [i64],
    limit: Option<usize>,
    strict: bool,
}

/// A worker's buffers, reused from scan to scan: the two files' bytes.
#[derive(Default)]
struct Scratch {
    gt: Vec<u8>,
    pred: Vec<u8>,
}

impl LabelReading<'_> {
    /// One scan's totals and its count of labels the map lacks.
    fn scan(
        &self,
        config: &LidarConfig,
        (name, gt_path, pred_path): &(String, PathBuf, PathBuf),
        scratch: &mut Scratch,
    ) -> Result<(PanopticCounts, u64), PqError> {
        let Scratch { gt, pred } = scratch;
        read_label_bytes(gt_path, gt)?;
        read_label_bytes(pred_path, pred)?;
        let (gt_len, pred_len) = (gt.len() / 4, pred.len() / 4);
        if gt_len != pred_len {
            return Err(PqError::InvalidPairs {
                message: format!(
                    "In the scan {name}: the ground truth {} has {gt_len} points, the prediction {} has {pred_len}",
                    gt_path.display(),
                    pred_path.display(),
                ),
            });
        }
        let n = self.limit.map_or(gt_len, |l| l.min(gt_len));
        // The raw label decides both the class (through the map) and the instance, so each
        // side is renumbered by raw label and the classes are looked up once per label.
        let (mut gt_labels, mut pred_labels) = (Compactor::<u32>::new(), Compactor::<u32>::new());
        let joint = Joint::of_columns(
            (&mut gt_labels, &mut pred_labels),
            n,
            |r| labels(&gt[4 * r.start..4 * r.end]),
            |r| labels(&pred[4 * r.start..4 * r.end]),
        );
        let (mut gt_points, mut pred_points) = (vec![0u64; joint.rows()], vec![0u64; joint.cols()]);
        joint.for_each(|g, p, count| {
            gt_points[g] += count;
            pred_points[p] += count;
        });
        let mut missing = 0u64;
        let mut keys = |labels: &[u32],
                        points: &[u64],
                        path: &std::path::Path|
         -> Result<Vec<(i64, i64)>, PqError> {
            let mut keys = Vec::with_capacity(labels.len());
            for (&label, &count) in labels.iter().zip(points) {
                let class = self.lut[(label & 0xFFFF) as usize];
                if class < 0 {
                    if self.strict {
                        return Err(PqError::InvalidPairs {
                            message: format!(
                                "In the scan {name}: {} holds the raw label {}, which the config's learning_map lacks",
                                path.display(),
                                label & 0xFFFF
                            ),
                        });
                    }
                    missing += count;
                }
                // The whole label is the instance, shifted by one in uint32 as the reference does.
                keys.push((class.max(0), i64::from(label.wrapping_add(1))));
            }
            Ok(keys)
        };
        let gt_keys = keys(gt_labels.keys(), &gt_points, gt_path)?;
        let pred_keys = keys(pred_labels.keys(), &pred_points, pred_path)?;
        let mut counts = PanopticCounts::new(config);
        counts.add_joint(config, &gt_keys, &pred_keys, &joint, true, name)?;
        Ok((counts, missing))
    }
}

/// 4D-PLS's per-sequence tracks.
#[pyclass(name = "LidarTracks", module = "panoptiq._core")]
pub struct PyLidarTracks {
    arguments: Arguments,
    config: LidarConfig,
    sequences: Vec<SequenceTracks>,
}

#[pymethods]
impl PyLidarTracks {
    #[new]
    fn new(arguments: Arguments) -> PyResult<Self> {
        let config = config(&arguments)?;
        Ok(Self { arguments, config, sequences: Vec::new() })
    }

    fn __len__(&self) -> usize {
        self.sequences.len()
    }

    /// Adds a scan to sequence `index` (`len(self)` starts a new one).
    fn add_scan(&mut self, py: Python<'_>, index: usize, points: Points<'_>, name: &str) -> PyResult<()> {
        if index > self.sequences.len() {
            return Err(pyo3::exceptions::PyIndexError::new_err(format!("no sequence {index}")));
        }
        let points = scan(&points)?;
        let mut tracks = SequenceTracks::new(&self.config);
        let config = &self.config;
        run_sized(py, points.y_sem.len(), PARALLEL_MIN_POINTS, |_| tracks.add_scan(config, points, name))?;
        if index == self.sequences.len() {
            self.sequences.push(tracks);
        } else {
            self.sequences[index].merge(&tracks);
        }
        Ok(())
    }

    /// Adds sequence `theirs` of `other` to sequence `mine` (None: as a new one).
    fn merge_sequence(&mut self, other: &PyLidarTracks, theirs: usize, mine: Option<usize>) -> PyResult<()> {
        if other.arguments != self.arguments {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "cannot merge evaluators of different arguments",
            ));
        }
        let tracks = other
            .sequences
            .get(theirs)
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err(format!("no sequence {theirs}")))?;
        match mine.map(|i| self.sequences.get_mut(i)) {
            None => self.sequences.push(tracks.clone()),
            Some(Some(sequence)) => sequence.merge(tracks),
            Some(None) => return Err(pyo3::exceptions::PyIndexError::new_err("no such sequence")),
        }
        Ok(())
    }

    fn state(&self) -> (Arguments, Vec<TrackParts>) {
        (self.arguments.clone(), self.sequences.iter().map(SequenceTracks::to_parts).collect())
    }

    #[staticmethod]
    fn from_state(arguments: Arguments, sequences: Vec<TrackParts>) -> PyResult<Self> {
        let mut this = Self::new(arguments)?;
        for parts in sequences {
            this.sequences.push(SequenceTracks::from_parts(&this.config, parts)?);
        }
        Ok(this)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let from_state = slf.get_type().getattr("from_state")?;
        Ok((from_state, slf.borrow().state().into_pyobject(slf.py())?))
    }

    /// Sequence `index`'s `(aq per class, tubes per class, precisions, recalls)`.
    #[allow(clippy::type_complexity)]
    fn association<'py>(
        &self,
        py: Python<'py>,
        index: usize,
    ) -> PyResult<(Vec<f64>, Vec<usize>, Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>)> {
        let s = self
            .sequences
            .get(index)
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err(format!("no sequence {index}")))?;
        let a = s.association(&self.config);
        Ok((a.aq, a.tubes, a.precisions.into_pyarray(py), a.recalls.into_pyarray(py)))
    }
}

/// A `.label` file's `uint32` per point.
#[pyfunction]
fn read_label_file(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyArray1<u32>>> {
    let labels = py.detach(|| crate::metric::lidar::read_label_file(&path))?;
    Ok(labels.into_pyarray(py))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_label_file, m)?)?;
    m.add_class::<PyLidarCounts>()?;
    m.add_class::<PyLidarTracks>()?;
    Ok(())
}
