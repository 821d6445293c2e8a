//! The PyO3 binding layer: extracts and checks arrays, releases the GIL around core calls and
//! converts results. No evaluation logic lives here.

// PyO3 hands arguments over by value; borrowing views of them is the point of this layer.
#![allow(clippy::needless_pass_by_value)]

mod errors;

use numpy::ndarray::{Array2, ArrayD, IxDyn};
use numpy::{Element, PyUntypedArrayMethods};
use numpy::{
    IntoPyArray, PyArray2, PyArrayDyn, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3,
    PyReadonlyArrayDyn,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::decode::read_id_map;
use crate::ids::{ids_to_rgb, rgb_to_ids, Channel};
use crate::matching::{evaluate_maps, MapView};
use crate::segments::{Categories, GtSegment, PredSegment};
use crate::stats::{CategoryInfo, CategoryStats, PqStats};

/// Borrows a C-contiguous array's data; any other layout is refused rather than copied silently.
fn contiguous<'a, T: Element, D: numpy::ndarray::Dimension>(
    array: &'a numpy::PyReadonlyArray<'_, T, D>,
    name: &str,
) -> PyResult<&'a [T]> {
    array.as_slice().map_err(|_| {
        PyValueError::new_err(format!("{name} must be C-contiguous; pass numpy.ascontiguousarray({name})"))
    })
}

fn rgb2id_impl<'py, C: Channel + Element>(
    py: Python<'py>,
    rgb: &PyReadonlyArray3<'py, C>,
) -> PyResult<Bound<'py, PyArray2<u32>>> {
    let &[height, width, channels] = rgb.shape() else { unreachable!("a 3-D array has 3 dimensions") };
    let pixels = contiguous(rgb, "color")?;
    let ids = py.detach(|| -> Result<Vec<u32>, crate::PqError> {
        let mut ids = vec![0u32; height * width];
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
    let rgb = py.detach(|| -> Result<Vec<u8>, crate::PqError> {
        let mut rgb = vec![0u8; flat.len() * 3];
        ids_to_rgb(flat, &mut rgb)?;
        Ok(rgb)
    })?;
    let rgb = ArrayD::from_shape_vec(IxDyn(&shape), rgb).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(rgb.into_pyarray(py))
}

/// Reads a panoptic PNG into an H×W `uint32` id map.
#[pyfunction]
fn read_id_map_png(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Bound<'_, PyArray2<u32>>> {
    let map = py.detach(|| read_id_map(&path))?;
    let ids = Array2::from_shape_vec((map.height, map.width), map.ids)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(ids.into_pyarray(py))
}

/// One category's statistics as `(category_id, iou, tp, fp, fn)`.
type StatRow = (i64, f64, u64, u64, u64);

/// Evaluates one image pair; returns its per-category statistics in ascending category order.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn evaluate_image<'py>(
    py: Python<'py>,
    image_id: &str,
    gt_ids: PyReadonlyArray2<'py, u32>,
    pred_ids: PyReadonlyArray2<'py, u32>,
    gt_segment_ids: PyReadonlyArray1<'py, u32>,
    gt_category_ids: PyReadonlyArray1<'py, i64>,
    gt_iscrowd: PyReadonlyArray1<'py, bool>,
    gt_areas: PyReadonlyArray1<'py, i64>,
    pred_segment_ids: PyReadonlyArray1<'py, u32>,
    pred_category_ids: PyReadonlyArray1<'py, i64>,
    category_ids: PyReadonlyArray1<'py, i64>,
) -> PyResult<Vec<StatRow>> {
    fn view<'a>(array: &'a PyReadonlyArray2<'_, u32>, name: &str) -> PyResult<MapView<'a>> {
        Ok(MapView { ids: contiguous(array, name)?, height: array.shape()[0], width: array.shape()[1] })
    }
    let (gt_map, pred_map) = (view(&gt_ids, "gt_ids")?, view(&pred_ids, "pred_ids")?);
    let gt_fields =
        (gt_segment_ids.as_array(), gt_category_ids.as_array(), gt_iscrowd.as_array(), gt_areas.as_array());
    let n_gt = gt_fields.0.len();
    if [gt_fields.1.len(), gt_fields.2.len(), gt_fields.3.len()].iter().any(|&n| n != n_gt) {
        return Err(PyValueError::new_err("ground-truth segment fields differ in length"));
    }
    if pred_segment_ids.len() != pred_category_ids.len() {
        return Err(PyValueError::new_err("predicted segment fields differ in length"));
    }
    let gt: Vec<GtSegment> = (0..n_gt)
        .map(|i| GtSegment {
            id: gt_fields.0[i],
            category_id: gt_fields.1[i],
            iscrowd: gt_fields.2[i],
            area: gt_fields.3[i],
        })
        .collect();
    let pred: Vec<PredSegment> = pred_segment_ids
        .as_array()
        .iter()
        .zip(pred_category_ids.as_array())
        .map(|(&id, &category_id)| PredSegment { id, category_id })
        .collect();
    let categories = Categories::new(category_ids.as_array().iter().copied());
    let result = py.detach(|| evaluate_maps(image_id, gt_map, pred_map, &gt, &pred, &categories))?;
    Ok(result.stats.iter().map(|(id, s)| (id, s.iou, s.tp, s.fp, s.fn_)).collect())
}

/// One category's scores as `(category_id, pq, sq, rq, counted)`.
type ClassRow = (i64, f64, f64, f64, bool);

/// `PQStat.pq_average`: means over the categories of a split and every category's scores.
#[pyfunction]
fn pq_average(
    stats: Vec<StatRow>,
    categories: Vec<(i64, bool)>,
    isthing: Option<bool>,
) -> (f64, f64, f64, usize, Vec<ClassRow>) {
    let mut table = PqStats::new();
    for (id, iou, tp, fp, fn_) in stats {
        table.insert(id, CategoryStats { iou, tp, fp, fn_ });
    }
    let categories: Vec<CategoryInfo> =
        categories.into_iter().map(|(id, isthing)| CategoryInfo { id, isthing }).collect();
    let avg = table.average(&categories, isthing);
    let rows = avg.per_class.iter().map(|c| (c.category_id, c.pq, c.sq, c.rq, c.counted)).collect();
    (avg.pq, avg.sq, avg.rq, avg.n, rows)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(rgb2id_u8, m)?)?;
    m.add_function(wrap_pyfunction!(rgb2id_u32, m)?)?;
    m.add_function(wrap_pyfunction!(id2rgb, m)?)?;
    m.add_function(wrap_pyfunction!(read_id_map_png, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_image, m)?)?;
    m.add_function(wrap_pyfunction!(pq_average, m)?)?;
    Ok(())
}
