//! The in-memory metric: one image pair given as label maps in memory — (category, instance)
//! pairs, encoded integers or id maps with their segments — evaluated under panopticapi's or
//! torchmetrics' rules, PQ or PQ†.

use std::collections::HashMap;

use crate::error::Side;
use crate::eval::boundary::{band_histogram, dilation, BandScratch, Bands, RunImage};
use crate::eval::histogram::histogram_of;
use crate::eval::matching::{self, ImageResult, IouType};
pub use crate::eval::records::ImageRow;
use crate::metric::labels::{label_pair, listed_label, Label, LabelPolicy, LabelledPair, SideLabels};
use crate::runtime::parallel::Cancel;

use crate::eval::categories::Categories;
use crate::eval::records::{image_row, segment_records, SegmentRecord};
use crate::eval::segments::{GtSegment, PredSegment};
use crate::eval::stats::PqStats;
use crate::metric::torchmetrics;
use crate::PqError;

/// Whose per-image rules decide matches, VOID and crowd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// cocodataset/panopticapi's: the numbers of `pq_compute`.
    Panopticapi,
    /// torchmetrics 1.9's `PanopticQuality`.
    Torchmetrics,
}

/// A ground-truth segment listed with an id map; `area: None` means "count it in the map".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedSegment {
    pub id: u32,
    pub category_id: i64,
    pub iscrowd: bool,
    pub area: Option<i64>,
}

/// One image pair's two maps as flat pixel values, `W` a pixel, with the image's key for errors
/// and, for Boundary PQ, the maps' row length.
#[derive(Debug, Clone, Copy)]
pub struct ImageMaps<'a, T> {
    pub image_id: &'a str,
    pub gt: &'a [T],
    pub pred: &'a [T],
    pub width: Option<usize>,
}

/// How a metric evaluates one image pair.
#[derive(Debug, Clone)]
pub struct MetricConfig {
    categories: Categories,
    rules: Rules,
    void_category: Option<i64>,
    allow_unknown_preds: bool,
    iou: IouType,
}

impl MetricConfig {
    /// `modified` scores the stuff of `categories` as PQ† does; pixels of
    /// `void_category` are VOID on both sides; `allow_unknown_preds` makes predicted pixels of an
    /// unknown category VOID instead of an error.
    #[must_use]
    pub fn new(
        categories: &Categories,
        rules: Rules,
        modified: bool,
        void_category: Option<i64>,
        allow_unknown_preds: bool,
    ) -> Self {
        let categories = if modified { categories.clone().with_modified_stuff() } else { categories.clone() };
        Self { categories, rules, void_category, allow_unknown_preds, iou: IouType::Mask }
    }

    /// This configuration with Boundary PQ's IoU (panopticapi's rules, id maps with a width).
    #[must_use]
    pub fn with_iou(mut self, iou: IouType) -> Self {
        self.iou = iou;
        self
    }

    fn policy(&self, side: Side) -> LabelPolicy {
        let lenient = self.rules == Rules::Torchmetrics;
        match side {
            Side::GroundTruth => LabelPolicy {
                void_category: self.void_category,
                unknown_is_void: lenient,
                merge_stuff_instances: lenient,
                unknown_hint: " (name an ignore label with void=..., or use rules=\"torchmetrics\", under which unknown target categories are VOID)",
            },
            Side::Prediction => LabelPolicy {
                void_category: self.void_category,
                unknown_is_void: self.allow_unknown_preds,
                merge_stuff_instances: lenient,
                unknown_hint: " (allow_unknown_preds_category=True makes such pixels VOID)",
            },
        }
    }

    /// Evaluates a pair given as `W` raw values per pixel, each side's decoder turning a
    /// pixel's values into a (category, instance) pair or VOID.
    ///
    /// `maps.width` is the maps' row length, which Boundary PQ needs.
    pub fn evaluate_labels<T: Copy + PartialEq + Sync, const W: usize>(
        &self,
        maps: ImageMaps<'_, T>,
        gt_decode: impl Fn([T; W]) -> Result<Label, PqError> + Sync,
        pred_decode: impl Fn([T; W]) -> Result<Label, PqError> + Sync,
        cancel: &Cancel,
    ) -> Result<ImageResult, PqError> {
        let ImageMaps { image_id, gt, pred, width } = maps;
        let (gt_policy, pred_policy) = (self.policy(Side::GroundTruth), self.policy(Side::Prediction));
        let labelled = label_pair(
            image_id,
            gt,
            pred,
            &SideLabels { decode: gt_decode, policy: &gt_policy },
            &SideLabels { decode: pred_decode, policy: &pred_policy },
            &self.categories,
            cancel,
        )?;
        let bands = match self.iou {
            IouType::Mask => None,
            IouType::Boundary { dilation_ratio, .. } => {
                let (mut gt_rows, mut pred_rows) = (RunImage::default(), RunImage::default());
                let width = checked_width(width, gt.len() / W)?;
                gt_rows.set_flat_runs(&labelled.gt_runs, width);
                pred_rows.set_flat_runs(&labelled.pred_runs, width);
                let ids = |segments: &[crate::metric::labels::Segment]| {
                    segments.iter().map(|s| s.id).collect::<Vec<_>>()
                };
                // The segment ids are panoptiq's own: the reference's marker has no meaning here.
                Some(bands_of(
                    [&gt_rows, &pred_rows],
                    [&ids(&labelled.gt), &ids(&labelled.pred)],
                    width,
                    dilation_ratio,
                    None,
                    cancel,
                )?)
            }
        };
        self.evaluate_labelled(image_id, &labelled, bands.as_ref())
    }

    fn evaluate_labelled(
        &self,
        image_id: &str,
        labelled: &LabelledPair,
        bands: Option<&Bands>,
    ) -> Result<ImageResult, PqError> {
        let LabelledPair { histogram, gt, pred, .. } = labelled;
        Ok(match self.rules {
            Rules::Torchmetrics => torchmetrics::evaluate_image(histogram, gt, pred, &self.categories),
            Rules::Panopticapi => {
                let as_gt = |s: &crate::metric::labels::Segment| GtSegment {
                    id: s.id,
                    category_id: s.category_id,
                    iscrowd: false,
                    area: i64::try_from(s.area).unwrap_or(i64::MAX),
                };
                let gt_segments: Vec<GtSegment> = gt.iter().map(as_gt).collect();
                let pred_segments: Vec<PredSegment> =
                    pred.iter().map(|s| PredSegment { id: s.id, category_id: s.category_id }).collect();
                matching::evaluate_image_with(
                    image_id,
                    histogram,
                    &gt_segments,
                    &pred_segments,
                    &self.categories,
                    bands,
                )?
            }
        })
    }

    /// Evaluates a pair of id maps with their `segments_info`.
    pub fn evaluate_id_maps(
        &self,
        image_id: &str,
        gt_ids: &[u32],
        pred_ids: &[u32],
        gt: &[ListedSegment],
        pred: &[PredSegment],
        cancel: &Cancel,
    ) -> Result<ImageResult, PqError> {
        let maps = ImageMaps { image_id, gt: gt_ids, pred: pred_ids, width: None };
        Ok(self.evaluate_id_maps_with(maps, gt, pred, false, cancel)?.0)
    }

    /// [`evaluate_id_maps`](Self::evaluate_id_maps) that also gives every segment's record when
    /// `segments` is set and the rules are panopticapi's (the records follow its rules; under
    /// torchmetrics' rules there are none). `maps.width` is the maps' row length, which Boundary
    /// PQ needs (the maps are then `len / width` rows high).
    pub fn evaluate_id_maps_with(
        &self,
        maps: ImageMaps<'_, u32>,
        gt: &[ListedSegment],
        pred: &[PredSegment],
        segments: bool,
        cancel: &Cancel,
    ) -> Result<(ImageResult, Option<Vec<SegmentRecord>>), PqError> {
        let ImageMaps { image_id, gt: gt_ids, pred: pred_ids, width } = maps;
        if gt_ids.len() != pred_ids.len() {
            return Err(PqError::LengthMismatch {
                what: "predicted pixels",
                expected: gt_ids.len(),
                got: pred_ids.len(),
            });
        }
        match self.rules {
            Rules::Panopticapi => {
                let histogram = histogram_of(gt_ids, pred_ids, cancel)?;
                let counted =
                    |id: u32| histogram.iter().filter(|&(g, _, _)| g == id).map(|(_, _, n)| n).sum::<u64>();
                let gt: Vec<GtSegment> = gt
                    .iter()
                    .map(|s| GtSegment {
                        id: s.id,
                        category_id: s.category_id,
                        iscrowd: s.iscrowd,
                        area: s.area.unwrap_or_else(|| i64::try_from(counted(s.id)).unwrap_or(i64::MAX)),
                    })
                    .collect();
                let bands = match self.iou {
                    IouType::Mask => None,
                    IouType::Boundary { dilation_ratio, reference_marker } => Some(band_histogram_of_maps(
                        [gt_ids, pred_ids],
                        [
                            &gt.iter().map(|s| s.id).collect::<Vec<_>>(),
                            &pred.iter().map(|s| s.id).collect::<Vec<_>>(),
                        ],
                        width,
                        dilation_ratio,
                        self.categories.reference_marker().filter(|_| reference_marker),
                        cancel,
                    )?),
                };
                let result = matching::evaluate_image_with(
                    image_id,
                    &histogram,
                    &gt,
                    pred,
                    &self.categories,
                    bands.as_ref(),
                )?;
                let records =
                    segments.then(|| segment_records(&histogram, &gt, pred, &result, bands.as_ref()));
                Ok((result, records))
            }
            Rules::Torchmetrics => {
                let gt_listed: HashMap<u32, (i64, bool)> =
                    gt.iter().map(|s| (s.id, (s.category_id, s.iscrowd))).collect();
                let pred_listed: HashMap<u32, (i64, bool)> =
                    pred.iter().map(|s| (s.id, (s.category_id, false))).collect();
                let (gt_label, pred_label) = (
                    listed_label(image_id, Side::GroundTruth, &gt_listed),
                    listed_label(image_id, Side::Prediction, &pred_listed),
                );
                let result = self.evaluate_labels(
                    maps,
                    |[id]: [u32; 1]| gt_label(id),
                    |[id]: [u32; 1]| pred_label(id),
                    cancel,
                )?;
                Ok((result, None))
            }
        }
    }

    /// One image's row: its PQ, SQ and RQ averaged over the categories it holds.
    #[must_use]
    pub fn image_row(&self, result: &ImageResult) -> ImageRow {
        image_row(&result.stats, self.categories.infos())
    }

    /// Every category with its kind, in the metric's order (the averaging order).
    #[must_use]
    pub fn categories(&self) -> &Categories {
        &self.categories
    }
}

/// The maps' row length `width`, which must divide their `pixels`.
fn checked_width(width: Option<usize>, pixels: usize) -> Result<usize, PqError> {
    width.filter(|&w| w > 0 && pixels % w == 0).ok_or(PqError::LengthMismatch {
        what: "pixels of a whole number of rows (Boundary PQ needs the maps' width)",
        expected: width.unwrap_or(0),
        got: pixels,
    })
}

/// Boundary PQ's band counts of two id maps `width` pixels wide, listing `listed` (see
/// [`band_histogram`]).
fn band_histogram_of_maps(
    [gt_ids, pred_ids]: [&[u32]; 2],
    listed: [&[u32]; 2],
    width: Option<usize>,
    dilation_ratio: f64,
    marker: Option<u32>,
    cancel: &Cancel,
) -> Result<Bands, PqError> {
    let width = checked_width(width, gt_ids.len())?;
    let (mut gt_rows, mut pred_rows) = (RunImage::default(), RunImage::default());
    for (g, p) in gt_ids.chunks_exact(width).zip(pred_ids.chunks_exact(width)) {
        gt_rows.push_ids(g);
        pred_rows.push_ids(p);
    }
    bands_of([&gt_rows, &pred_rows], listed, width, dilation_ratio, marker, cancel)
}

/// [`band_histogram`] of two images as rows of runs, `width` pixels wide.
fn bands_of(
    [gt_rows, pred_rows]: [&RunImage; 2],
    listed: [&[u32]; 2],
    width: usize,
    dilation_ratio: f64,
    marker: Option<u32>,
    cancel: &Cancel,
) -> Result<Bands, PqError> {
    let mut bands = Bands::default();
    band_histogram(
        [gt_rows, pred_rows],
        dilation(dilation_ratio, gt_rows.height(), width),
        listed,
        marker,
        &mut BandScratch::default(),
        &mut bands,
        cancel,
    )?;
    Ok(bands)
}

/// Adds `results` (one per image, in order) to `totals`; the first error, by position, wins.
pub fn fold_results(
    totals: &mut PqStats,
    results: Vec<Result<ImageResult, PqError>>,
    mut on_image: impl FnMut(usize, &ImageResult),
) -> Result<(), PqError> {
    // A batch is added whole or not at all, so a caller can fix the input and retry it.
    let mut batch = PqStats::new();
    for (index, result) in results.into_iter().enumerate() {
        let result = result.map_err(|e| PqError::InBatch { batch_index: index, source: Box::new(e) })?;
        batch.merge(&result.stats);
        on_image(index, &result);
    }
    totals.merge(&batch);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    fn pairs(values: &[(i64, i64)]) -> Vec<i64> {
        values.iter().flat_map(|&(c, i)| [c, i]).collect()
    }

    fn maps<'a>(image_id: &'a str, gt: &'a [i64], pred: &'a [i64]) -> ImageMaps<'a, i64> {
        ImageMaps { image_id, gt, pred, width: None }
    }

    #[allow(clippy::unnecessary_wraps)] // the decoder signature label_pair takes
    fn decode([category_id, instance_id]: [i64; 2]) -> Result<Label, PqError> {
        Ok(Label::Segment { category_id, instance_id })
    }

    #[test]
    fn panopticapi_rules_on_pairs_equal_id_maps() {
        let config = MetricConfig::new(
            &Categories::with_kinds([(1, true), (2, false)]),
            Rules::Panopticapi,
            false,
            Some(255),
            false,
        );
        let gt = [(1, 1), (1, 1), (1, 1), (2, 0), (255, 0)];
        let pred = [(1, 5), (1, 5), (2, 0), (2, 0), (2, 0)];
        let r = config
            .evaluate_labels(maps("1", &pairs(&gt), &pairs(&pred)), decode, decode, &Cancel::new())
            .unwrap();
        // thing: 2/3 IoU; stuff: gt 1 px, pred 3 px (1 on VOID): union 3 + 1 - 1 - 1 = 2 -> 1/2.
        assert_eq!(r.stats.get(1).iou.to_f64(), 2.0 / 3.0);
        assert_eq!((r.stats.get(2).tp, r.stats.get(2).fp, r.stats.get(2).fn_), (0, 1, 1));
        let same = config
            .evaluate_id_maps(
                "1",
                &[1, 1, 1, 2, 0],
                &[7, 7, 8, 8, 8],
                &[
                    ListedSegment { id: 1, category_id: 1, iscrowd: false, area: None },
                    ListedSegment { id: 2, category_id: 2, iscrowd: false, area: Some(1) },
                ],
                &[PredSegment { id: 7, category_id: 1 }, PredSegment { id: 8, category_id: 2 }],
                &Cancel::new(),
            )
            .unwrap();
        assert_eq!(same.stats, r.stats);
        let row = config.image_row(&r);
        assert_eq!((row.n, row.tp, row.fp, row.fn_), (2, 1, 1, 1));
    }

    #[test]
    fn errors_name_the_side_and_batch_position() {
        let config =
            MetricConfig::new(&Categories::with_kinds([(1, true)]), Rules::Panopticapi, false, None, false);
        let e = config
            .evaluate_labels(maps("4", &pairs(&[(1, 0)]), &pairs(&[(9, 0)])), decode, decode, &Cancel::new())
            .unwrap_err();
        assert!(e.to_string().contains("prediction has pixels of category 9"), "{e}");
        let mut totals = PqStats::new();
        let e = fold_results(&mut totals, vec![Ok(ImageResult::default()), Err(e)], |_, _| {}).unwrap_err();
        assert!(e.to_string().ends_with("(batch index 1)"), "{e}");
    }
}
