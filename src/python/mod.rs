//! The PyO3 binding layer, one file per Python-facing area: it extracts and checks arguments,
//! releases the GIL around core calls ([`run`]), converts results ([`columns`]) and maps errors
//! to exceptions ([`errors`]). No evaluation logic lives here.
//!
//! - [`ids`] — `rgb2id` / `id2rgb` (`panoptiq._ids`)
//! - [`png`] — reading and writing panoptic PNGs, the decode floor (`panoptiq._png`)
//! - [`io`] — archive folders and in-memory PNG sources (`panoptiq._storage`)
//! - [`pairs`] — a dataset's pairs and their evaluation (`panoptiq._dataset`)
//! - [`options`] — the one options value of an evaluation (`panoptiq._options`)
//! - [`results`] — categories, exact totals and their averages (`panoptiq.results`)
//! - [`image`] — one in-memory pair (`panoptiq._image`)
//! - [`metric`], [`metric_inputs`], [`batch`] — the in-memory metric, its input forms and its
//!   batches (`panoptiq.metric`)
//! - [`draw`] — pictures (`panoptiq.visualize`)
//! - [`video`], [`stq`] — VPQ's tubes and STQ's counts (`panoptiq.video`)
//! - [`lidar`] — LiDAR panoptic counts and 4-D tracks (`panoptiq.lidar`)
//! - [`masks`], [`convert`], [`combine`] — COCO masks and panopticapi's converters
//!   (`panoptiq.masks`, `panoptiq.converters`; the combination's results files read in Rust)

// PyO3 hands arguments over by value; borrowing views of them is the point of this layer.
#![allow(clippy::needless_pass_by_value)]

mod batch;
mod columns;
mod combine;
mod convert;
mod draw;
mod errors;
mod ids;
mod image;
mod io;
mod lidar;
mod masks;
mod metric;
mod metric_inputs;
mod options;
mod pairs;
mod png;
mod results;
mod run;
mod stq;
mod video;

use pyo3::prelude::*;

/// Threads used when none is asked for: `RAYON_NUM_THREADS`, else the CPUs this process may use
/// (affinity mask and cgroup quota honoured).
#[pyfunction]
fn default_threads() -> usize {
    crate::runtime::parallel::default_threads()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(default_threads, m)?)?;
    m.add("ArchiveError", m.py().get_type::<errors::ArchiveError>())?;
    ids::register(m)?;
    png::register(m)?;
    io::register(m)?;
    pairs::register(m)?;
    options::register(m)?;
    results::register(m)?;
    image::register(m)?;
    batch::register(m)?;
    metric::register(m)?;
    draw::register(m)?;
    video::register(m)?;
    stq::register(m)?;
    lidar::register(m)?;
    masks::register(m)?;
    convert::register(m)?;
    combine::register(m)?;
    Ok(())
}
