//! panoptiq's core: Panoptic Quality (PQ = SQ × RQ) computed exactly as cocodataset/panopticapi
//! computes it, with no Python types, so `cargo test` runs without an interpreter.
//!
//! The pipeline, one module a step: [`decode`] reads a panoptic PNG, [`ids`] packs RGB into
//! segment ids, [`histogram`] counts (ground truth, prediction) pixel pairs run by run,
//! [`segments`] checks and indexes `segments_info`, [`matching`] applies panopticapi's per-image
//! rules and [`stats`] accumulates and averages per category. [`dataset`] runs that pipeline over
//! many image pairs in parallel ([`parallel`] keeps fork-safe thread pools and makes long work
//! interruptible), [`annotations`] reads their COCO panoptic JSON, [`io`] their PNGs from disk,
//! archives or memory; [`records`] tells each image's scores and each segment's fate. [`encode`]
//! writes id maps and pictures as PNGs, [`draw`] paints id maps for people ([`distance`] finds
//! segments' interiors). [`memory`] allocates input-sized buffers fallibly; [`error`] holds the
//! one error type.

pub mod annotations;
pub mod boundary;
pub mod dataset;
pub mod decode;
pub mod distance;
pub mod draw;
pub mod encode;
pub mod error;
pub mod exact;
pub mod fastpng;
pub mod histogram;
pub mod ids;
pub mod inflate;
pub mod io;
pub mod labels;
pub mod matching;
pub mod memory;
pub mod metric;
pub mod parallel;
pub mod records;
pub mod runs;
pub mod segments;
pub mod stats;
pub mod torchmetrics;

#[cfg(feature = "python")]
mod python;

pub use error::PqError;

/// Segment id of unlabeled pixels.
pub const VOID: u32 = 0;

/// panopticapi's `OFFSET`: segment ids are below it, so `gt * OFFSET + pred` is a unique pair key.
pub const OFFSET: u64 = 256 * 256 * 256;
