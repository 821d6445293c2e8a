//! A dataset's image pairs: one table of pairs ([`pairs`]), read from COCO panoptic JSON
//! ([`annotations`]; with sides given as masks, [`masked`]) or built from columns Python checked, and evaluated in parallel with one
//! options value ([`options`]), streamed so that only the pairs in flight are in memory
//! ([`driver`]), or several prediction sets against one ground truth in one pass
//! ([`compare`]); a dataset's frames as videos, for VPQ ([`video`]).

pub mod annotations;
pub mod compare;
pub mod driver;
pub mod masked;
pub mod options;
pub mod pairs;
pub mod video;

pub use compare::compare_pairs;
pub use driver::{decode_only, evaluate_pairs, Evaluated};
pub use options::EvalOptions;
pub use pairs::{PairJob, Pairs, SideColumns};
