//! A dataset's image pairs: read from COCO panoptic JSON ([`annotations`]) and evaluated in
//! parallel, streamed so that only the pairs in flight are in memory ([`driver`]).

pub mod annotations;
pub mod driver;

pub use driver::{decode_only, evaluate_pairs, evaluate_pairs_detailed, PairJob};
