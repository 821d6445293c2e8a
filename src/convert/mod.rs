//! panopticapi's converters on the core's pixels: COCO masks (run-length strings, polygons,
//! boxes) read and written exactly as pycocotools does, segment colours under `IdGenerator`'s
//! rule, and one function per converter doing one image's pixel work. Reading the JSON and
//! assembling the output records stays in Python, but for the combination's large results files;
//! files are written whole or not at all.
//!
//! - [`rle`], [`polygon`], [`from_ids`] — COCO masks: strings, rasterised polygons, and every
//!   segment's mask cut from an id map in one pass.
//! - [`colors`] — seeded segment colours.
//! - [`segmentation`] — a COCO `segmentation` field in any of its forms, as one mask.
//! - [`fields`] — a file's `score` and `segmentation` fields parsed strictly into the core's form.
//! - [`results`] — the combination's semantic and instance results files, parsed and grouped by
//!   image when they are in the strict form models write.
//! - [`canvas`] — masks painted down the columns as labelled runs, read back as row runs.
//! - [`heuristic`] — panopticapi's combination heuristic, one copy for the converter and for
//!   scoring masks.
//! - [`paint`] — one image side given as masks painted into an id map, for scoring without
//!   PNGs.
//! - [`output`] — files written under a temporary name and renamed when complete.
//! - [`images`] — the converters' per-image work: 2-channel maps, detection masks, panoptic to
//!   detection and to semantic, semantic + instance combination, Cityscapes' `instanceIds`.

pub mod canvas;
pub mod colors;
pub mod fields;
pub mod from_ids;
pub mod heuristic;
pub mod images;
pub mod output;
pub mod paint;
pub mod polygon;
pub mod results;
pub mod rle;
pub mod segmentation;

pub use colors::{color_id, CategoryColor, IdGenerator};
pub use rle::Rle;
pub use segmentation::Segmentation;
