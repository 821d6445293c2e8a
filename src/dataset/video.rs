//! A dataset's videos: frames decoded in parallel into pair histograms, a block at a time, then
//! handed to VPQ's windows ([`crate::eval::tubes`]) video by video in frame order.

use super::driver::pair_histograms;
use super::pairs::PairJob;
use crate::eval::categories::Categories;
use crate::eval::tubes::{Frame, Videos};
use crate::runtime::parallel::Cancel;
use crate::PqError;

/// Frames decoded in parallel before they are slid through the windows: their histograms are
/// small, the decoding buffers stay one per thread.
const FRAMES_PER_BLOCK: usize = 256;

/// Adds the frames `jobs` (in order; frame `i` belongs to `video_ids[i]`) to `videos`.
pub fn push_frames(
    videos: &mut Videos,
    jobs: &[PairJob<'_>],
    video_ids: &[String],
    categories: &Categories,
    cancel: &Cancel,
) -> Result<(), PqError> {
    if video_ids.len() != jobs.len() {
        return Err(PqError::LengthMismatch {
            what: "video ids",
            expected: jobs.len(),
            got: video_ids.len(),
        });
    }
    for (block, ids) in jobs.chunks(FRAMES_PER_BLOCK).zip(video_ids.chunks(FRAMES_PER_BLOCK)) {
        let decoded = pair_histograms(block, cancel)?;
        for ((job, video_id), (histogram, shape)) in block.iter().zip(ids).zip(decoded) {
            cancel.check()?;
            let frame = Frame {
                image_id: job.image_id.to_owned(),
                shape,
                histogram,
                gt: job.gt_segments.to_vec(),
                pred: job.pred_segments.to_vec(),
            };
            videos.push(video_id, frame, categories).map_err(|source| in_frame(job, source))?;
        }
    }
    Ok(())
}

/// An error of the frame `job` (or of a window ending with it), with its files named.
fn in_frame(job: &PairJob<'_>, source: PqError) -> PqError {
    match source {
        PqError::Interrupted => source,
        source => PqError::InImage {
            image_id: job.image_id.to_owned(),
            gt_path: job.gt_path.to_owned(),
            pred_path: job.pred_path.to_owned(),
            json: job.json.map(|json| Box::new(json.clone())),
            source: Box::new(source),
        },
    }
}
