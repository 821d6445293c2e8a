//! Bindings of `panoptiq.video`: VPQ's per-video window state, fed frames from id maps in memory
//! or from a dataset's pairs, its totals per tube length, merged and pickled exactly.

use numpy::PyReadonlyArray2;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::columns::{gt_segments, pred_segments, GtColumns, PredColumns};
use super::image::map_view;
use super::io::{origins, Source};
use super::pairs::PyPairs;
use super::results::{PyCategories, PyTotals};
use super::run::{run, run_sized};
use crate::dataset::video::push_frames;
use crate::error::Side;
use crate::eval::histogram::map_histogram;
use crate::eval::tubes::{Frame, LengthTotals, Videos};

/// Pixels from which one frame's histogram goes to the pool.
const PARALLEL_MIN_PIXELS: usize = 1 << 20;

/// One video as stored: `(video_id, frames, [(exact rows, windows) per tube length])`.
type VideoRow = (String, usize, Vec<(Vec<super::results::ExactRow>, u64)>);

/// One video's `(video_id, frames, [(Totals, windows) per tube length])`.
type VideoTotals = (String, usize, Vec<(PyTotals, u64)>);

/// Every video's VPQ windows for one set of tube lengths.
#[pyclass(name = "Tubes", module = "panoptiq._core")]
pub struct PyTubes {
    videos: Videos,
    threads: Option<usize>,
}

#[pymethods]
impl PyTubes {
    /// No video yet: windows of each of `lengths` frames; with `strict`, an id changing category
    /// inside a video is an error.
    /// `threads` decode a dataset's frames (None: the default).
    #[new]
    #[pyo3(signature = (lengths, strict = true, threads = None))]
    fn new(lengths: Vec<usize>, strict: bool, threads: Option<usize>) -> PyResult<Self> {
        Ok(Self { videos: Videos::new(lengths, strict)?, threads })
    }

    #[getter]
    fn lengths(&self) -> Vec<usize> {
        self.videos.lengths().to_vec()
    }

    #[getter]
    fn strict(&self) -> bool {
        self.videos.strict()
    }

    /// Adds the next frame of `video_id` from its two id maps and segment columns.
    fn push_maps(
        &mut self,
        py: Python<'_>,
        video_id: &str,
        image_id: &str,
        maps: (PyReadonlyArray2<'_, u32>, PyReadonlyArray2<'_, u32>),
        segments: (GtColumns<'_>, PredColumns<'_>),
        categories: &PyCategories,
    ) -> PyResult<()> {
        let (gt_map, pred_map) = (map_view(&maps.0, "gt_ids")?, map_view(&maps.1, "pred_ids")?);
        let (gt, pred) = (gt_segments(&segments.0)?, pred_segments(&segments.1)?);
        let histogram = run_sized(py, gt_map.ids.len(), PARALLEL_MIN_PIXELS, |cancel| {
            map_histogram(image_id, gt_map, pred_map, cancel)
        })?;
        let shape = (gt_map.height, gt_map.width);
        let frame = Frame { image_id: image_id.to_owned(), shape, histogram, gt, pred };
        Ok(self.videos.push(video_id, frame, &categories.0)?)
    }

    /// Adds frames `start:stop` (`frames`) of `pairs`, decoded in parallel on `threads` threads
    /// (the constructor's) with the GIL released; frame `start + i` belongs to `video_ids[i]`.
    /// `sources` as for `Pairs.evaluate`.
    #[pyo3(signature = (pairs, frames, video_ids, categories, sources = (None, None)))]
    fn push_pairs(
        &mut self,
        py: Python<'_>,
        pairs: &PyPairs,
        frames: (usize, usize),
        video_ids: Vec<String>,
        categories: &PyCategories,
        sources: (Option<Source<'_>>, Option<Source<'_>>),
    ) -> PyResult<()> {
        let (start, stop) = frames;
        let (stop, start) = (stop.min(pairs.0.len()), start.min(stop.min(pairs.0.len())));
        let gt_origins = origins(sources.0.as_ref(), stop - start, Side::GroundTruth)?;
        let pred_origins = origins(sources.1.as_ref(), stop - start, Side::Prediction)?;
        let disk = crate::io::Origin::Folder(&crate::io::DISK);
        let mut jobs = pairs.0.jobs(start..stop, disk, disk);
        for (job, (gt, pred)) in jobs.iter_mut().zip(gt_origins.into_iter().zip(pred_origins)) {
            (job.gt_from, job.pred_from) = (gt, pred);
        }
        let (videos, threads) = (&mut self.videos, self.threads);
        run(py, threads, |cancel| push_frames(videos, &jobs, &video_ids, &categories.0, cancel))
    }

    /// The totals of tube length number `which` over every video, and the windows counted.
    fn totals(&self, which: usize) -> PyResult<(PyTotals, u64)> {
        if which >= self.videos.lengths().len() {
            return Err(pyo3::exceptions::PyIndexError::new_err(format!("no tube length number {which}")));
        }
        let LengthTotals { stats, windows } = self.videos.totals(which);
        Ok((PyTotals { stats, ..PyTotals::default() }, windows))
    }

    /// Every video: `(video_id, frames, [(Totals, windows) per tube length])`, first seen first.
    fn videos(&self) -> Vec<VideoTotals> {
        self.videos
            .iter()
            .map(|(id, v)| {
                let totals = v
                    .totals
                    .iter()
                    .map(|t| (PyTotals { stats: t.stats.clone(), ..PyTotals::default() }, t.windows))
                    .collect();
                (id.to_owned(), v.frames(), totals)
            })
            .collect()
    }

    /// Adds the videos of `other` (same tube lengths, no video in common).
    fn merge(&mut self, other: &PyTubes) -> PyResult<()> {
        Ok(self.videos.merge(&other.videos)?)
    }

    /// The exact stored form: `(lengths, strict, videos)`; a video in the middle of its frames
    /// is stored with its totals so far and cannot be continued.
    fn state(&self) -> (Vec<usize>, bool, Vec<VideoRow>) {
        let videos = self
            .videos
            .iter()
            .map(|(id, v)| {
                let totals = v
                    .totals
                    .iter()
                    .map(|t| {
                        (PyTotals { stats: t.stats.clone(), ..PyTotals::default() }.exact_rows(), t.windows)
                    })
                    .collect();
                (id.to_owned(), v.frames(), totals)
            })
            .collect();
        (self.videos.lengths().to_vec(), self.videos.strict(), videos)
    }

    /// A state from [`state`](Self::state)'s form.
    #[staticmethod]
    fn from_state(lengths: Vec<usize>, strict: bool, videos: Vec<VideoRow>) -> PyResult<Self> {
        let mut state = Videos::new(lengths, strict)?;
        for (id, frames, rows) in videos {
            let totals = rows
                .into_iter()
                .map(|(rows, windows)| {
                    Ok(LengthTotals {
                        stats: PyTotals::from_exact_rows(rows, None, None, None)?.stats,
                        windows,
                    })
                })
                .collect::<PyResult<Vec<_>>>()?;
            state.restore(&id, frames, totals)?;
        }
        Ok(Self { videos: state, threads: None })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let from_state = slf.get_type().getattr("from_state")?;
        Ok((from_state, slf.borrow().state().into_pyobject(py)?))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTubes>()?;
    Ok(())
}
