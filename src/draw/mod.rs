//! Pictures of id maps for people: segments painted in given colours with their borders, over a
//! photo or not, and a point inside each segment to write its label at.

mod anchors;
pub mod distance;
mod paint;

pub use anchors::{segment_anchors, Anchor};
pub use paint::{paint, Paint};
