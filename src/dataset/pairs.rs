//! A dataset's image pairs as one table: each pair's image id, its two PNG paths and its two
//! `segments_info`, held as columns (one allocation per column, not one per segment) whether they
//! were read from COCO panoptic JSON in Rust or checked by Python's reader first.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::convert::paint::ImageMasks;
use crate::error::{JsonFiles, Side};
use crate::eval::segments::{GtSegment, PredSegment};
use crate::io::Origin;
use crate::PqError;

/// One image pair of a dataset: its PNG files and its `segments_info`.
#[derive(Debug, Clone, Copy)]
pub struct PairJob<'a> {
    pub image_id: &'a str,
    pub gt_path: &'a Path,
    pub pred_path: &'a Path,
    pub gt_segments: &'a [GtSegment],
    pub pred_segments: &'a [PredSegment],
    /// The JSON files the segments were read from, named in errors when known.
    pub json: Option<&'a JsonFiles>,
    /// Where the PNGs at `gt_path` and `pred_path` are read from.
    pub gt_from: Origin<'a>,
    pub pred_from: Origin<'a>,
    /// A side given as masks instead of a PNG: painted, and its path only names it.
    pub gt_masks: Option<&'a ImageMasks>,
    pub pred_masks: Option<&'a ImageMasks>,
}

/// One side of every pair: its PNG paths and its segments, image `i`'s being
/// `segments[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideColumns<S> {
    pub paths: Vec<PathBuf>,
    pub offsets: Vec<usize>,
    pub segments: Vec<S>,
}

impl<S> Default for SideColumns<S> {
    fn default() -> Self {
        Self { paths: Vec::new(), offsets: vec![0], segments: Vec::new() }
    }
}

impl<S: Copy> SideColumns<S> {
    fn of(&self, i: usize) -> &[S] {
        &self.segments[self.offsets[i]..self.offsets[i + 1]]
    }

    fn push(&mut self, path: PathBuf, segments: impl IntoIterator<Item = S>) {
        self.paths.push(path);
        self.segments.extend(segments);
        self.offsets.push(self.segments.len());
    }

    /// Pairs `range` (within bounds), offsets starting at 0.
    fn slice(&self, range: Range<usize>) -> Self {
        let (first, last) = (self.offsets[range.start], self.offsets[range.end]);
        Self {
            paths: self.paths[range.clone()].to_vec(),
            offsets: self.offsets[range.start..=range.end].iter().map(|o| o - first).collect(),
            segments: self.segments[first..last].to_vec(),
        }
    }

    fn check(&self, pairs: usize, side: Side) -> Result<(), PqError> {
        let what = match side {
            Side::GroundTruth => "ground-truth PNG paths",
            Side::Prediction => "predicted PNG paths",
        };
        if self.paths.len() != pairs {
            return Err(PqError::LengthMismatch { what, expected: pairs, got: self.paths.len() });
        }
        let partition = self.offsets.len() == pairs + 1
            && self.offsets.first() == Some(&0)
            && self.offsets.last() == Some(&self.segments.len())
            && self.offsets.windows(2).all(|w| w[0] <= w[1]);
        if partition {
            Ok(())
        } else {
            Err(PqError::InvalidPairs {
                message: format!("the {side} segment offsets do not partition its segments"),
            })
        }
    }
}

/// Matched (ground truth, prediction) image pairs with their files and segments, in
/// ground-truth order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pairs {
    image_ids: Vec<String>,
    gt: SideColumns<GtSegment>,
    pred: SideColumns<PredSegment>,
    /// The JSON files the segments came from, named in errors.
    json: Option<JsonFiles>,
    /// Each side's masks, one per pair, when that side was read as masks (its paths then only
    /// name the images).
    masks: [Option<Vec<ImageMasks>>; 2],
}

impl Pairs {
    /// An empty table whose segments come from `json`, when known.
    #[must_use]
    pub fn new(json: Option<JsonFiles>) -> Self {
        Self { json, ..Self::default() }
    }

    /// A table from its columns, checked: one path per pair and side, offsets that partition
    /// each side's segments.
    pub fn from_columns(
        image_ids: Vec<String>,
        gt: SideColumns<GtSegment>,
        pred: SideColumns<PredSegment>,
        json: Option<JsonFiles>,
    ) -> Result<Self, PqError> {
        gt.check(image_ids.len(), Side::GroundTruth)?;
        pred.check(image_ids.len(), Side::Prediction)?;
        Ok(Self { image_ids, gt, pred, json, masks: [None, None] })
    }

    /// The table with each side given as masks (one per pair) where `masks` has them.
    pub fn with_masks(mut self, masks: [Option<Vec<ImageMasks>>; 2]) -> Result<Self, PqError> {
        for side in masks.iter().flatten() {
            if side.len() != self.len() {
                return Err(PqError::LengthMismatch { what: "masks", expected: self.len(), got: side.len() });
            }
        }
        self.masks = masks;
        Ok(self)
    }

    /// Whether each side (ground truth, prediction) is held as masks.
    #[must_use]
    pub fn masked(&self) -> [bool; 2] {
        [self.masks[0].is_some(), self.masks[1].is_some()]
    }

    /// Appends one pair.
    pub fn push(
        &mut self,
        image_id: String,
        [gt_path, pred_path]: [PathBuf; 2],
        gt: impl IntoIterator<Item = GtSegment>,
        pred: impl IntoIterator<Item = PredSegment>,
    ) {
        self.image_ids.push(image_id);
        self.gt.push(gt_path, gt);
        self.pred.push(pred_path, pred);
    }

    /// Number of image pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.image_ids.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.image_ids.is_empty()
    }

    /// `range` within the pairs there are.
    fn clamp(&self, range: Range<usize>) -> Range<usize> {
        let end = range.end.min(self.len());
        range.start.min(end)..end
    }

    /// Pairs `range` (clamped to the pairs there are) as a table of their own.
    #[must_use]
    pub fn slice(&self, range: Range<usize>) -> Self {
        let range = self.clamp(range);
        Self {
            image_ids: self.image_ids[range.clone()].to_vec(),
            gt: self.gt.slice(range.clone()),
            pred: self.pred.slice(range.clone()),
            json: self.json.clone(),
            masks: self.masks.each_ref().map(|side| side.as_ref().map(|m| m[range.clone()].to_vec())),
        }
    }

    /// The image ids of every pair.
    #[must_use]
    pub fn image_ids(&self) -> &[String] {
        &self.image_ids
    }

    /// Every pair's ground-truth side.
    #[must_use]
    pub fn gt(&self) -> &SideColumns<GtSegment> {
        &self.gt
    }

    /// Every pair's predicted side.
    #[must_use]
    pub fn pred(&self) -> &SideColumns<PredSegment> {
        &self.pred
    }

    #[must_use]
    pub fn json(&self) -> Option<&JsonFiles> {
        self.json.as_ref()
    }

    /// The evaluation jobs of pairs `range` (clamped to the pairs there are), whose PNGs are
    /// read from `gt_from` and `pred_from`.
    #[must_use]
    pub fn jobs<'a>(
        &'a self,
        range: Range<usize>,
        gt_from: Origin<'a>,
        pred_from: Origin<'a>,
    ) -> Vec<PairJob<'a>> {
        self.clamp(range)
            .map(|i| PairJob {
                image_id: &self.image_ids[i],
                gt_path: &self.gt.paths[i],
                pred_path: &self.pred.paths[i],
                gt_segments: self.gt.of(i),
                pred_segments: self.pred.of(i),
                json: self.json.as_ref(),
                gt_from,
                pred_from,
                gt_masks: self.masks[0].as_ref().map(|m| &m[i]),
                pred_masks: self.masks[1].as_ref().map(|m| &m[i]),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::DISK;

    fn gt(id: u32) -> GtSegment {
        GtSegment { id, category_id: 1, iscrowd: false, area: 4 }
    }

    fn table() -> Pairs {
        let mut pairs = Pairs::new(None);
        for (i, segments) in [vec![1, 2], vec![], vec![3]].into_iter().enumerate() {
            let paths = [PathBuf::from(format!("gt/{i}.png")), PathBuf::from(format!("pred/{i}.png"))];
            let pred =
                segments.iter().map(|&id| PredSegment { id: id + 10, category_id: 1 }).collect::<Vec<_>>();
            pairs.push(i.to_string(), paths, segments.into_iter().map(gt), pred);
        }
        pairs
    }

    #[test]
    fn slices_keep_each_pair_whole() {
        let pairs = table();
        let part = pairs.slice(1..9);
        assert_eq!(part.len(), 2);
        let jobs = part.jobs(0..2, Origin::Folder(&DISK), Origin::Folder(&DISK));
        assert_eq!((jobs[0].image_id, jobs[1].image_id), ("1", "2"));
        assert!(jobs[0].gt_segments.is_empty());
        assert_eq!(jobs[1].gt_segments, [gt(3)]);
        assert_eq!(jobs[1].pred_path, Path::new("pred/2.png"));
        assert_eq!(
            part,
            Pairs::from_columns(part.image_ids.clone(), part.gt.clone(), part.pred.clone(), None).unwrap()
        );
    }

    #[test]
    fn columns_that_do_not_fit_are_refused() {
        let pairs = table();
        let mut gt = pairs.gt.clone();
        gt.offsets[1] = 9;
        let error = Pairs::from_columns(pairs.image_ids.clone(), gt, pairs.pred.clone(), None).unwrap_err();
        assert_eq!(error.to_string(), "the ground-truth segment offsets do not partition its segments");
        let mut pred = pairs.pred.clone();
        pred.paths.pop();
        let error = Pairs::from_columns(pairs.image_ids.clone(), pairs.gt.clone(), pred, None).unwrap_err();
        assert!(matches!(error, PqError::LengthMismatch { expected: 3, got: 2, .. }));
    }
}
