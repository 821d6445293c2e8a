//! Video Panoptic Quality's tubes: a video's frames slid through in windows of n frames, each
//! window's histograms and segments added up into one "image" and matched by panopticapi's
//! rules (mcahny/vps's `vpq_compute_single_core`).
//!
//! A tube is a segment id followed through the window's frames, so a window is nothing but the
//! sum of its frames' pair histograms with each id's records merged: the ground-truth area is the
//! sum of the frames' JSON `area`s, the predicted area the pixel count, and category and crowd
//! flag are those of the id's first appearance in the window. [`evaluate_image`] then applies
//! the same IoU > 0.5, VOID and crowd rules as for one image. Only the last `max(n)` frames of a
//! video are kept, as histograms: memory does not grow with the video.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::error::Side;
use crate::eval::categories::Categories;
use crate::eval::histogram::{IdMap, PairHistogram};
use crate::eval::matching::{check_prediction, evaluate_image};
use crate::eval::segments::{GtSegment, PredSegment};
use crate::eval::stats::PqStats;
use crate::PqError;

/// One frame of a video: its pair histogram and its (duplicate-free) segments.
#[derive(Debug, Clone)]
pub struct Frame {
    pub image_id: String,
    pub shape: (usize, usize),
    pub histogram: PairHistogram,
    pub gt: Vec<GtSegment>,
    pub pred: Vec<PredSegment>,
}

/// The totals of one tube length over the windows seen so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LengthTotals {
    pub stats: PqStats,
    pub windows: u64,
}

/// One video's state: its recent frames and, per tube length, the totals of its windows.
#[derive(Debug, Clone)]
pub struct VideoTubes {
    lengths: Vec<usize>,
    recent: VecDeque<Frame>,
    frames: usize,
    /// Category of every id seen in the video, per side, for the strict check.
    categories: [IdMap<u32, (i64, usize)>; 2],
    /// Whether frames can still be added (false once restored from its totals alone).
    open: bool,
    pub totals: Vec<LengthTotals>,
}

impl VideoTubes {
    /// A video not yet seen, for the tube lengths `lengths` (each ≥ 1).
    #[must_use]
    pub fn new(lengths: &[usize]) -> Self {
        Self {
            lengths: lengths.to_vec(),
            recent: VecDeque::new(),
            frames: 0,
            categories: Default::default(),
            open: true,
            totals: vec![LengthTotals::default(); lengths.len()],
        }
    }

    /// A video's totals alone (restored from storage): no frame can be added to it.
    #[must_use]
    pub fn closed(lengths: &[usize], frames: usize, totals: Vec<LengthTotals>) -> Self {
        Self { frames, open: false, totals, ..Self::new(lengths) }
    }

    /// Frames seen.
    #[must_use]
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Adds the next frame of the video and counts every window that ends with it.
    ///
    /// With `strict`, an id whose category differs from the one it had earlier in the video is
    /// an error; otherwise each window takes the category of the id's first frame in it, as
    /// mcahny/vps does.
    pub fn push(
        &mut self,
        video_id: &str,
        frame: Frame,
        categories: &Categories,
        strict: bool,
    ) -> Result<(), PqError> {
        let bad = |message: String| PqError::BadVideo {
            video_id: video_id.to_owned(),
            frame: self.frames,
            image_id: frame.image_id.clone(),
            message,
        };
        if !self.open {
            return Err(bad(
                "this video's state was restored from its totals; no frame can be added to it".into()
            ));
        }
        if let Some(first) = self.recent.front() {
            if first.shape != frame.shape {
                let ((h, w), (fh, fw)) = (frame.shape, first.shape);
                return Err(bad(format!("the frame is {h}x{w} but the video's frames are {fh}x{fw}")));
            }
        }
        check_prediction(&frame.image_id, &frame.histogram, &frame.pred, categories).map_err(|source| {
            PqError::InVideo {
                video_id: video_id.to_owned(),
                first: self.frames,
                last: self.frames,
                source: Box::new(source),
            }
        })?;
        let ids = [
            frame.gt.iter().map(|s| (s.id, s.category_id)).collect::<Vec<_>>(),
            frame.pred.iter().map(|s| (s.id, s.category_id)).collect::<Vec<_>>(),
        ];
        if strict {
            for ((seen, ids), side) in
                self.categories.iter().zip(&ids).zip([Side::GroundTruth, Side::Prediction])
            {
                for &(id, category_id) in ids {
                    let Some(&(first_category, first_frame)) = seen.get(&id) else { continue };
                    if first_category != category_id {
                        return Err(bad(format!(
                            "the {side} segment {id} has category {category_id}, but {first_category} in frame \
                             {first_frame}; a segment keeps one category through a video (pass strict=False \
                             for mcahny/vps's rule: each window takes the category of the id's first frame in it)"
                        )));
                    }
                }
            }
        }
        // Every window ending with this frame is evaluated before anything is kept: a frame that
        // fails leaves the video as it was.
        let longest = self.lengths.iter().copied().max().unwrap_or(1);
        let dropped = if self.recent.len() == longest { self.recent.pop_front() } else { None };
        self.recent.push_back(frame);
        let mut counted = Vec::with_capacity(self.lengths.len());
        for &n in &self.lengths {
            if n > self.recent.len() {
                counted.push(None);
                continue;
            }
            let window = self.recent.range(self.recent.len() - n..);
            match evaluate_window(window, categories) {
                Ok(stats) => counted.push(Some(stats)),
                Err(source) => {
                    self.recent.pop_back();
                    if let Some(frame) = dropped {
                        self.recent.push_front(frame);
                    }
                    return Err(PqError::InVideo {
                        video_id: video_id.to_owned(),
                        first: self.frames + 1 - n,
                        last: self.frames,
                        source: Box::new(source),
                    });
                }
            }
        }
        for (totals, stats) in self.totals.iter_mut().zip(counted) {
            if let Some(stats) = stats {
                totals.stats.merge(&stats);
                totals.windows += 1;
            }
        }
        if strict {
            for (seen, ids) in self.categories.iter_mut().zip(ids) {
                for (id, category_id) in ids {
                    seen.entry(id).or_insert((category_id, self.frames));
                }
            }
        }
        self.frames += 1;
        Ok(())
    }
}

/// Adds up the frames of one window into one histogram and one list of segments per side,
/// and matches them.
fn evaluate_window<'a>(
    frames: impl Iterator<Item = &'a Frame> + Clone,
    categories: &Categories,
) -> Result<PqStats, PqError> {
    let mut histogram = PairHistogram::new();
    let mut label: Option<&str> = None;
    for frame in frames.clone() {
        label.get_or_insert(&frame.image_id);
        for (g, p, count) in frame.histogram.iter() {
            histogram.add_run(g, p, count);
        }
    }
    // A tube's records merge as one frame's repeated ids do: the first one, areas summed.
    let gt: Vec<GtSegment> = frames.clone().flat_map(|f| f.gt.iter().copied()).collect();
    let pred: Vec<PredSegment> = frames.flat_map(|f| f.pred.iter().copied()).collect();
    let (gt, pred) = (merge_duplicate_gt(&gt), merge_duplicate_pred(&pred));
    Ok(evaluate_image(label.unwrap_or_default(), &histogram, &gt, &pred, categories)?.stats)
}

/// Merges repeated ids of one frame's `segments_info` as mcahny/vps does: the first record's
/// category and crowd flag, the areas summed.
#[must_use]
pub fn merge_duplicate_gt(segments: &[GtSegment]) -> Vec<GtSegment> {
    let mut index: HashMap<u32, usize> = HashMap::new();
    let mut merged: Vec<GtSegment> = Vec::with_capacity(segments.len());
    for s in segments {
        if let Some(&i) = index.get(&s.id) {
            merged[i].area += s.area;
        } else {
            index.insert(s.id, merged.len());
            merged.push(*s);
        }
    }
    merged
}

/// [`merge_duplicate_gt`] for predictions: the first record of each id.
#[must_use]
pub fn merge_duplicate_pred(segments: &[PredSegment]) -> Vec<PredSegment> {
    let mut seen: HashSet<u32> = HashSet::new();
    segments.iter().filter(|s| seen.insert(s.id)).copied().collect()
}

/// Every video of an evaluation, in the order their first frames came, for one set of tube
/// lengths.
#[derive(Debug, Clone)]
pub struct Videos {
    lengths: Vec<usize>,
    strict: bool,
    entries: Vec<(String, VideoTubes)>,
    index: HashMap<String, usize>,
}

impl Videos {
    /// No video yet; `lengths` are the tube lengths, each ≥ 1.
    pub fn new(lengths: Vec<usize>, strict: bool) -> Result<Self, PqError> {
        if lengths.is_empty() || lengths.contains(&0) {
            return Err(PqError::InvalidPairs {
                message: format!("tube lengths must be at least 1 frame, and there must be one: {lengths:?}"),
            });
        }
        Ok(Self { lengths, strict, entries: Vec::new(), index: HashMap::new() })
    }

    #[must_use]
    pub fn lengths(&self) -> &[usize] {
        &self.lengths
    }

    #[must_use]
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// The state of `video_id`, a new one if it was not seen.
    fn video(&mut self, video_id: &str) -> &mut VideoTubes {
        let next = self.entries.len();
        let i = *self.index.entry(video_id.to_owned()).or_insert(next);
        if i == next {
            self.entries.push((video_id.to_owned(), VideoTubes::new(&self.lengths)));
        }
        &mut self.entries[i].1
    }

    /// Adds the next frame of `video_id`; repeated ids of its `segments_info` are merged first.
    pub fn push(&mut self, video_id: &str, mut frame: Frame, categories: &Categories) -> Result<(), PqError> {
        frame.gt = merge_duplicate_gt(&frame.gt);
        frame.pred = merge_duplicate_pred(&frame.pred);
        let strict = self.strict;
        self.video(video_id).push(video_id, frame, categories, strict)
    }

    /// Every video and its state, in first-seen order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &VideoTubes)> {
        self.entries.iter().map(|(id, v)| (id.as_str(), v))
    }

    /// A video restored from its totals (see [`VideoTubes::closed`]).
    pub fn restore(
        &mut self,
        video_id: &str,
        frames: usize,
        totals: Vec<LengthTotals>,
    ) -> Result<(), PqError> {
        if totals.len() != self.lengths.len() {
            return Err(PqError::LengthMismatch {
                what: "tube length totals",
                expected: self.lengths.len(),
                got: totals.len(),
            });
        }
        if self.index.contains_key(video_id) {
            return Err(PqError::InvalidPairs { message: format!("the video {video_id} is in both states merged; a video must be evaluated whole in one of them") });
        }
        self.index.insert(video_id.to_owned(), self.entries.len());
        self.entries.push((video_id.to_owned(), VideoTubes::closed(&self.lengths, frames, totals)));
        Ok(())
    }

    /// Adds the videos of `other`, which must have the same tube lengths and no video in common.
    pub fn merge(&mut self, other: &Videos) -> Result<(), PqError> {
        if other.lengths != self.lengths {
            return Err(PqError::InvalidPairs {
                message: format!(
                    "cannot merge VPQ states of tube lengths {:?} and {:?}",
                    self.lengths, other.lengths
                ),
            });
        }
        if let Some((id, _)) = other.entries.iter().find(|(id, _)| self.index.contains_key(id)) {
            return Err(PqError::InvalidPairs {
                message: format!(
                    "the video {id} is in both states merged; a video must be evaluated whole in one of them"
                ),
            });
        }
        for (id, video) in &other.entries {
            self.index.insert(id.clone(), self.entries.len());
            self.entries.push((id.clone(), video.clone()));
        }
        Ok(())
    }

    /// The totals of tube length number `which` (an index into [`lengths`](Self::lengths)) over
    /// every video.
    #[must_use]
    pub fn totals(&self, which: usize) -> LengthTotals {
        let mut sum = LengthTotals::default();
        for (_, video) in &self.entries {
            sum.stats.merge(&video.totals[which].stats);
            sum.windows += video.totals[which].windows;
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::histogram::MapView;
    use crate::eval::segments::fixtures::{gt, pred};
    use crate::runtime::parallel::Cancel;

    fn frame(gt_map: &[u32], pred_map: &[u32], g: &[GtSegment], p: &[PredSegment]) -> Frame {
        let view = |ids| MapView { ids, height: 1, width: gt_map.len() };
        let histogram =
            crate::eval::histogram::map_histogram("f", view(gt_map), view(pred_map), &Cancel::new()).unwrap();
        Frame { image_id: "f".into(), shape: (1, gt_map.len()), histogram, gt: g.to_vec(), pred: p.to_vec() }
    }

    #[test]
    fn a_tube_is_matched_over_its_frames_summed() {
        let categories = Categories::new([1]);
        let mut video = VideoTubes::new(&[1, 2, 3]);
        // gt 1 covers 4 px in each frame; pred 7 covers 3 of them in frame 0, 1 in frame 1.
        let f0 = frame(&[1, 1, 1, 1], &[7, 7, 7, 0], &[gt(1, 1, false, 4)], &[pred(7, 1)]);
        let f1 = frame(&[1, 1, 1, 1], &[7, 0, 0, 0], &[gt(1, 1, false, 4)], &[pred(7, 1)]);
        video.push("v", f0, &categories, true).unwrap();
        video.push("v", f1, &categories, true).unwrap();
        // Length 1: frame 0 matches (3/4), frame 1 does not (1/4). Length 2: 4/8, not > 0.5.
        let one = video.totals[0].stats.get(1);
        assert_eq!((one.tp, one.fp, one.fn_, video.totals[0].windows), (1, 1, 1, 2));
        let two = video.totals[1].stats.get(1);
        assert_eq!((two.tp, two.fp, two.fn_, video.totals[1].windows), (0, 1, 1, 1));
        // A video shorter than the tube has no window of it.
        assert_eq!(video.totals[2], LengthTotals::default());
    }

    #[test]
    fn strict_refuses_a_category_change_and_loose_takes_the_first() {
        let categories = Categories::new([1, 2]);
        let f = |c| frame(&[1, 1], &[7, 7], &[gt(1, 1, false, 2)], &[pred(7, c)]);
        let mut video = VideoTubes::new(&[2]);
        video.push("v", f(1), &categories, true).unwrap();
        let error = video.push("v", f(2), &categories, true).unwrap_err();
        assert!(error.to_string().contains("In the video v, frame 1"), "{error}");
        let mut video = VideoTubes::new(&[2]);
        video.push("v", f(1), &categories, false).unwrap();
        video.push("v", f(2), &categories, false).unwrap();
        assert_eq!(video.totals[0].stats.get(1).tp, 1);
    }

    #[test]
    fn frames_of_another_size_are_refused() {
        let categories = Categories::new([1]);
        let mut video = VideoTubes::new(&[1]);
        video.push("v", frame(&[1, 1], &[7, 7], &[], &[pred(7, 1)]), &categories, true).unwrap();
        let error = video.push("v", frame(&[1], &[7], &[], &[pred(7, 1)]), &categories, true).unwrap_err();
        assert!(error.to_string().contains("1x1 but the video's frames are 1x2"), "{error}");
    }

    #[test]
    fn a_frame_that_fails_leaves_the_video_as_it_was() {
        let categories = Categories::new([1]);
        let mut video = VideoTubes::new(&[1, 2]);
        let good = || frame(&[1, 1], &[7, 7], &[gt(1, 1, false, 2)], &[pred(7, 1)]);
        video.push("v", good(), &categories, true).unwrap();
        let before = video.totals.clone();
        // A JSON area of 0 under a prediction covering the segment: an empty union.
        let bad = frame(&[1, 1], &[7, 7], &[gt(1, 1, false, -2)], &[pred(7, 1)]);
        let error = video.push("v", bad, &categories, true).unwrap_err();
        assert!(error.to_string().contains("video v, frames 1..=1"), "{error}");
        assert_eq!((video.totals.clone(), video.frames(), video.recent.len()), (before, 1, 1));
        video.push("v", good(), &categories, true).unwrap();
        assert_eq!(video.totals[1].stats.get(1).tp, 1);
    }

    #[test]
    fn duplicate_ids_keep_the_first_record_and_sum_areas() {
        let merged = merge_duplicate_gt(&[gt(1, 1, false, 4), gt(2, 1, true, 1), gt(1, 2, true, 3)]);
        assert_eq!(merged, [gt(1, 1, false, 7), gt(2, 1, true, 1)]);
        assert_eq!(merge_duplicate_pred(&[pred(3, 1), pred(3, 2), pred(4, 1)]), [pred(3, 1), pred(4, 1)]);
    }
}
