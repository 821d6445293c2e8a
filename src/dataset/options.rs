//! How a dataset is evaluated: one value for what the evaluation computes and where it runs,
//! instead of a parameter each down every call.

use crate::eval::matching::IouType;

/// What an evaluation computes and on how many threads.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EvalOptions {
    /// Mask IoU (PQ) or Boundary PQ's.
    pub iou: IouType,
    /// Keep every image's scores and every segment's record besides the totals.
    pub records: bool,
    /// Keep every image's per-class statistics (an [`ImageTable`](crate::eval::stats::ImageTable)).
    pub image_stats: bool,
    /// Give every error a cause and keep the totals with each kind fixed (mask IoU only).
    pub breakdown: bool,
    /// Worker threads; `None` for [`default_threads`](crate::runtime::parallel::default_threads).
    pub threads: Option<usize>,
}
