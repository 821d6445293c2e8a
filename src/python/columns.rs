//! Segments and rows as they cross between Python and the core: `segments_info` as numpy
//! columns, and per-image and per-segment records as tuples.

use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::eval::breakdown::Cause;
use crate::eval::records::{ImageRow, SegmentRecord};
use crate::eval::segments::{GtSegment, PredSegment};

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

/// One image's row for Python: `(image key, pq, sq, rq, n, tp, fp, fn)`.
pub(crate) type PyImageRow = (String, f64, f64, f64, usize, u64, u64, u64);

pub(crate) fn image_row(key: &str, row: ImageRow) -> PyImageRow {
    (key.to_owned(), row.pq, row.sq, row.rq, row.n, row.tp, row.fp, row.fn_)
}

/// One segment's row: `(image_id, side, segment_id, category_id, area, fate, other_id,
/// other_category_id, other_iou, other_boundary_iou)`, the `other_*` None when nothing overlaps.
pub(crate) type SegmentRow = (
    String,
    &'static str,
    u32,
    i64,
    u64,
    &'static str,
    Option<u32>,
    Option<i64>,
    Option<f64>,
    Option<f64>,
    Option<&'static str>,
);

pub(crate) fn segment_rows(
    image_id: &str,
    records: Vec<SegmentRecord>,
) -> impl Iterator<Item = SegmentRow> + '_ {
    records.into_iter().map(move |r| {
        (
            image_id.to_owned(),
            r.side.key(),
            r.segment_id,
            r.category_id,
            r.area,
            r.fate.name(),
            r.other.map(|o| o.segment_id),
            r.other.map(|o| o.category_id),
            r.other.map(|o| o.iou),
            r.boundary_iou,
            r.cause.map(Cause::name),
        )
    })
}

/// Per-image and per-segment rows of a batch, in image order.
pub(crate) type Details = (Vec<PyImageRow>, Vec<SegmentRow>);
