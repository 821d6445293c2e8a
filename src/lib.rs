//! panoptiq's core: Panoptic Quality (PQ = SQ × RQ) computed exactly as cocodataset/panopticapi
//! computes it, with no Python types, so `cargo test` runs without an interpreter.
//!
//! The map, one folder a stage, in pipeline order:
//!
//! ```text
//! bytes ──► PNG decoding ──► id runs ──► pair histogram ──► matching, sums ──► totals, records
//!  io/        png/            eval/ids    eval/histogram     eval/matching       eval/stats
//!                             eval/runs   eval/boundary      eval/stats          eval/records
//! ```
//!
//! - [`io`]: where bytes come from — files, zip and tar archives read in place, memory.
//! - [`png`]: everything PNG — chunks and CRCs, the dense and sparse engines, the inflater, the
//!   `png`-crate fallback, whole maps, and writing PNGs.
//! - [`eval`]: one image pair from id runs to per-category sums: ids, runs, the pair histogram,
//!   segments, Boundary PQ's bands, panopticapi's matching rules, exact sums and averages, and
//!   per-image and per-segment records.
//! - [`dataset`]: a dataset's pairs read from COCO panoptic JSON and evaluated in parallel.
//! - [`metric`]: label maps in memory, under panopticapi's or torchmetrics' rules.
//! - [`convert`]: panopticapi's converters — COCO RLE and polygons as pycocotools reads and
//!   writes them, seeded segment colours, each converter's per-image work.
//! - [`draw`]: pictures of id maps for people.
//! - [`runtime`]: fork-safe thread pools, interruptible work, fallible buffers.
//! - [`error`]: the one error type.
//!
//! The PyO3 binding (`src/python/`, behind the `python` feature) only converts and checks
//! arguments, releases the GIL and maps errors to exceptions.

pub mod convert;
pub mod dataset;
pub mod draw;
pub mod error;
pub mod eval;
pub mod io;
pub mod metric;
pub mod png;
pub mod runtime;

#[cfg(feature = "python")]
mod python;

pub use error::PqError;

/// Segment id of unlabeled pixels.
pub const VOID: u32 = 0;

/// panopticapi's `OFFSET`: segment ids are below it, so `gt * OFFSET + pred` is a unique pair key.
pub const OFFSET: u64 = 256 * 256 * 256;
