//! Bindings of `panoptiq.results`: the categories an evaluation averages over, exact running
//! totals, and their averages — made from the exact sums where they are, each rounded once.

use std::collections::HashMap;

use numpy::{PyArray1, ToPyArray};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::eval::categories::{Categories, CategoryInfo};
use crate::eval::exact::ExactSum;
use crate::eval::matching::merge_slices;
use crate::eval::stats::{average, Average, CategoryStats, ImageTable, PqStats};

/// Every class of an evaluation, `(id, isthing)` in the dataset's order, with the rules that
/// say what is scored (class groups, the classes averaged over, the IoU a match must exceed):
/// built once, shared by every batch and by the averages.
#[pyclass(frozen, name = "Categories", module = "panoptiq._core")]
#[derive(Clone)]
pub struct PyCategories(pub Categories);

#[pymethods]
impl PyCategories {
    #[new]
    // The default is DEFAULT_IOU_THRESHOLD, written out so that the signature shows it.
    #[pyo3(signature = (kinds, groups=None, averaged=None, iou_threshold=0.5, size_edges=None))]
    fn new(
        kinds: Vec<(i64, bool)>,
        groups: Option<Vec<(i64, i64)>>,
        averaged: Option<Vec<i64>>,
        iou_threshold: f64,
        size_edges: Option<Vec<u64>>,
    ) -> PyResult<Self> {
        let mut c = match groups {
            Some(groups) => Categories::grouped(kinds, groups)?,
            None => Categories::with_kinds(kinds),
        };
        if let Some(averaged) = averaged {
            c = c.averaging_over(&averaged)?;
        }
        c = c.with_iou_threshold(iou_threshold)?;
        if let Some(edges) = size_edges {
            c = c.with_size_edges(&edges)?;
        }
        Ok(Self(c))
    }

    /// Categories known by id alone, as matching needs them (their kinds unknown).
    #[staticmethod]
    fn of_ids(ids: Vec<i64>) -> Self {
        Self(Categories::new(ids))
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    /// `(id, isthing)` of every class, in order.
    fn kinds(&self) -> Vec<(i64, bool)> {
        self.0.classes().iter().map(|c| (c.id, c.isthing)).collect()
    }

    /// `(category id, class id)` of every grouped category, or None without groups.
    fn groups(&self) -> Option<Vec<(i64, i64)>> {
        let groups = self.0.groups();
        (!groups.is_empty()).then(|| groups.to_vec())
    }

    /// The classes the averages run over, in order.
    fn averaged(&self) -> Vec<i64> {
        self.0.infos().iter().map(|c| c.id).collect()
    }

    #[getter]
    fn iou_threshold(&self) -> f64 {
        self.0.iou_threshold()
    }

    /// The area edges of the size slices, `None` without slices.
    #[getter]
    fn size_edges(&self) -> Option<Vec<u64>> {
        let edges = self.0.size_edges();
        (!edges.is_empty()).then(|| edges.to_vec())
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let this = slf.get();
        let averaged = (this.0.infos().len() != this.0.len()).then(|| this.averaged());
        let args = (this.kinds(), this.groups(), averaged, this.0.iou_threshold(), this.size_edges());
        Ok((slf.get_type().into_any(), args.into_pyobject(slf.py())?))
    }
}

/// One category's statistics as `(category_id, iou, tp, fp, fn)`.
pub(crate) type StatRow = (i64, f64, u64, u64, u64);
/// One category's exact row: `(category_id, iou_sum_hex, tp, fp, fn)`, the IoU sum a hex count
/// of 2^-128 units.
pub(crate) type ExactRow = (i64, String, u64, u64, u64);
/// A split's `(pq, sq, rq, n)`.
type SplitRow = (f64, f64, f64, usize);
/// One category of a summary: `(id, isthing, pq, sq, rq, counted, iou, tp, fp, fn)`.
type ClassRow = (i64, bool, f64, f64, f64, bool, f64, u64, u64, u64);

/// Per-category rows with each IoU sum rounded once to the nearest `f64`.
pub(crate) fn rows_from_stats(stats: &PqStats) -> Vec<StatRow> {
    stats.iter().map(|(id, s)| (id, s.iou.to_f64(), s.tp, s.fp, s.fn_)).collect()
}

/// An [`ImageTable`] as Python sees it: `(images, image, class, iou, tp, fp, fn)`, the columns
/// numpy arrays.
type ImageColumns<'py> = (
    u64,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<u64>>,
);
/// An [`ImageTable`]'s columns as lists (the partials' JSON form).
type ImageLists = (u64, Vec<u64>, Vec<i64>, Vec<f64>, Vec<u64>, Vec<u64>, Vec<u64>);

/// Per-category running totals with exact IoU sums: merging them is exact and order-free. With
/// them, the same per size slice when the categories slice by size, and every image's per-class
/// statistics when they were kept.
#[pyclass(name = "Totals", module = "panoptiq._core")]
#[derive(Default)]
pub struct PyTotals {
    pub stats: PqStats,
    pub by_size: Vec<PqStats>,
    pub images: Option<ImageTable>,
    /// With the error breakdown, the totals with each kind of error fixed (one per kind).
    pub fixed: Vec<PqStats>,
}

impl PyTotals {
    /// Totals of an evaluation's parts.
    pub(crate) fn of(evaluated: crate::dataset::Evaluated) -> Self {
        Self {
            stats: evaluated.stats,
            by_size: evaluated.by_size,
            images: evaluated.images,
            fixed: evaluated.fixed,
        }
    }

    fn is_fresh(&self) -> bool {
        self.stats.iter().next().is_none() && self.by_size.is_empty() && self.images.is_none()
    }
}

#[pymethods]
impl PyTotals {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// `(category_id, iou_sum, tp, fp, fn)` with each IoU sum rounded once to the nearest float.
    fn rows(&self) -> Vec<StatRow> {
        rows_from_stats(&self.stats)
    }

    /// The exact state: `(category_id, iou_sum as hex units of 2**-128, tp, fp, fn)`.
    pub(crate) fn exact_rows(&self) -> Vec<ExactRow> {
        exact_rows_of(&self.stats)
    }

    /// Totals from [`exact_rows`](Self::exact_rows)' form, with the size slices' rows
    /// ([`exact_size_rows`](Self::exact_size_rows)) and the image table
    /// ([`image_lists`](Self::image_lists)) when there are any.
    #[staticmethod]
    #[pyo3(signature = (rows, sizes = None, images = None, fixed = None))]
    pub(crate) fn from_exact_rows(
        rows: Vec<ExactRow>,
        sizes: Option<Vec<Vec<ExactRow>>>,
        images: Option<ImageLists>,
        fixed: Option<Vec<Vec<ExactRow>>>,
    ) -> PyResult<Self> {
        let by_size = sizes.unwrap_or_default().into_iter().map(stats_of_rows).collect::<PyResult<_>>()?;
        let fixed = fixed.unwrap_or_default().into_iter().map(stats_of_rows).collect::<PyResult<_>>()?;
        let images = images.map(image_table).transpose()?;
        Ok(Self { stats: stats_of_rows(rows)?, by_size, images, fixed })
    }

    /// The error breakdown's totals with each kind fixed, as exact rows (empty without it).
    fn exact_fixed_rows(&self) -> Vec<Vec<ExactRow>> {
        self.fixed.iter().map(exact_rows_of).collect()
    }

    /// The error breakdown's totals with each kind fixed, one per kind in
    /// [`KINDS`](crate::eval::breakdown::KINDS)' order (empty without the breakdown).
    fn fixed(&self) -> Vec<PyTotals> {
        totals_each(&self.fixed)
    }

    /// Every size slice's exact rows, in slice order (empty without slices).
    fn exact_size_rows(&self) -> Vec<Vec<ExactRow>> {
        self.by_size.iter().map(exact_rows_of).collect()
    }

    /// Every size slice's totals, in slice order (empty without slices).
    fn sizes(&self) -> Vec<PyTotals> {
        totals_each(&self.by_size)
    }

    /// The image table as numpy columns `(images, image, class, iou, tp, fp, fn)`, `None` when
    /// it was not kept.
    fn image_columns<'py>(&self, py: Python<'py>) -> Option<ImageColumns<'py>> {
        self.images.as_ref().map(|t| {
            (
                t.images,
                t.image.to_pyarray(py),
                t.class.to_pyarray(py),
                t.iou.to_pyarray(py),
                t.tp.to_pyarray(py),
                t.fp.to_pyarray(py),
                t.fn_.to_pyarray(py),
            )
        })
    }

    /// The image table as lists (see [`image_columns`](Self::image_columns)).
    fn image_lists(&self) -> Option<ImageLists> {
        self.images.as_ref().map(|t| {
            (
                t.images,
                t.image.clone(),
                t.class.clone(),
                t.iou.clone(),
                t.tp.clone(),
                t.fp.clone(),
                t.fn_.clone(),
            )
        })
    }

    /// Adds `other` into these totals; its images, if it kept them, come after these. The image
    /// table survives only when every part merged kept one.
    fn merge(&mut self, other: &PyTotals) {
        let fresh = self.is_fresh();
        self.stats.merge(&other.stats);
        merge_slices(&mut self.by_size, &other.by_size);
        merge_slices(&mut self.fixed, &other.fixed);
        match (&mut self.images, &other.images) {
            (Some(mine), Some(theirs)) => mine.append(theirs),
            (None, Some(theirs)) if fresh => self.images = Some(theirs.clone()),
            _ => self.images = None,
        }
    }

    /// panopticapi's averages of these totals over `categories`: All, Things and Stuff as
    /// `(pq, sq, rq, n)`, and every category's scores and totals in the categories' order.
    fn summary(&self, categories: &PyCategories) -> (Vec<SplitRow>, Vec<ClassRow>) {
        let infos = categories.0.infos();
        let splits = [None, Some(true), Some(false)]
            .map(|isthing| {
                let avg = self.stats.average(infos, isthing);
                (avg.pq, avg.sq, avg.rq, avg.n)
            })
            .to_vec();
        let all = self.stats.average(infos, None);
        let classes = infos
            .iter()
            .zip(all.per_class)
            .map(|(info, c)| {
                let s = self.stats.get(info.id);
                (info.id, info.isthing, c.pq, c.sq, c.rq, c.counted, s.iou.to_f64(), s.tp, s.fp, s.fn_)
            })
            .collect();
        (splits, classes)
    }
}

/// Each table of `tables` (size slices, fixed kinds) as totals of its own.
fn totals_each(tables: &[PqStats]) -> Vec<PyTotals> {
    tables.iter().map(|s| PyTotals { stats: s.clone(), ..PyTotals::default() }).collect()
}

fn exact_rows_of(stats: &PqStats) -> Vec<ExactRow> {
    stats.iter().map(|(id, s)| (id, s.iou.to_hex(), s.tp, s.fp, s.fn_)).collect()
}

fn stats_of_rows(rows: Vec<ExactRow>) -> PyResult<PqStats> {
    let mut stats = PqStats::new();
    for (id, hex, tp, fp, fn_) in rows {
        let iou = ExactSum::from_hex(&hex).ok_or_else(|| {
            PyValueError::new_err(format!(
                "category {id}: iou_sum {hex:?} is not a hexadecimal count of 2**-128 units"
            ))
        })?;
        stats.insert(id, CategoryStats { iou, tp, fp, fn_ });
    }
    Ok(stats)
}

fn image_table((images, image, class, iou, tp, fp, fn_): ImageLists) -> PyResult<ImageTable> {
    let rows = image.len();
    if [class.len(), iou.len(), tp.len(), fp.len(), fn_.len()].iter().any(|&n| n != rows)
        || image.iter().any(|&i| i >= images)
    {
        return Err(PyValueError::new_err(
            "an image table with columns of different lengths or images beyond its count",
        ));
    }
    Ok(ImageTable { images, image, class, iou, tp, fp, fn_ })
}

/// One category's scores as `(category_id, pq, sq, rq, counted)`.
type ScoreRow = (i64, f64, f64, f64, bool);
/// A split's `(pq, sq, rq, n)` and its categories' scores.
type AverageRows = (f64, f64, f64, usize, Vec<ScoreRow>);

fn average_rows(avg: &Average) -> AverageRows {
    let rows = avg.per_class.iter().map(|c| (c.category_id, c.pq, c.sq, c.rq, c.counted)).collect();
    (avg.pq, avg.sq, avg.rq, avg.n, rows)
}

/// `PQStat.pq_average` of float sums as a `PQStat` holds them (panopticapi's mirror, which users
/// may fill by hand): means over the categories of a split and every category's scores.
#[pyfunction]
fn pq_average(stats: Vec<StatRow>, categories: Vec<(i64, bool)>, isthing: Option<bool>) -> AverageRows {
    let table: HashMap<i64, (f64, u64, u64, u64)> =
        stats.into_iter().map(|(id, iou, tp, fp, fn_)| (id, (iou, tp, fp, fn_))).collect();
    let categories: Vec<CategoryInfo> =
        categories.into_iter().map(|(id, isthing)| CategoryInfo { id, isthing }).collect();
    average_rows(&average(&categories, isthing, |id| table.get(&id).copied().unwrap_or_default()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCategories>()?;
    m.add_class::<PyTotals>()?;
    m.add_function(wrap_pyfunction!(pq_average, m)?)?;
    Ok(())
}
