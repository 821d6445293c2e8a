//! LiDAR panoptic segmentation as semantic-kitti-api's `PanopticEval` counts it: per point a
//! class and an instance on each side; per included class, segments are the distinct instance
//! ids of that class, matched at IoU > 0.5, with `min_points` applied to the unmatched only; and a
//! class confusion matrix for the IoU.
//!
//! Instance ids arrive already shifted by one, in the caller's integer type, as the reference
//! shifts them (a `uint32` id of 2^32 − 1 wraps to 0): an id ≤ 0 is "no instance". Pairs are keyed
//! by the two ids themselves, not by the reference's `pred + offset × gt` in `int64`, which wraps
//! once ground-truth ids reach 2^31 (SemanticKITTI instance numbers of 2^15 and more).

use crate::eval::compact::{Compactor, Joint};
use crate::eval::exact::ExactSum;
use crate::PqError;

/// The evaluator's fixed parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LidarConfig {
    n_classes: usize,
    ignored: Vec<bool>,
    min_points: u64,
}

impl LidarConfig {
    /// `n_classes` classes, those of `ignore` left out; segments of fewer than `min_points`
    /// points that match nothing are not counted.
    pub fn new(n_classes: usize, ignore: &[i64], min_points: u64) -> Result<Self, PqError> {
        if n_classes == 0 || n_classes > 1 << 16 {
            return Err(PqError::InvalidPairs {
                message: format!("n_classes must be in 1..=65536, got {n_classes}"),
            });
        }
        let mut ignored = vec![false; n_classes];
        for &c in ignore {
            if let Some(slot) = usize::try_from(c).ok().and_then(|c| ignored.get_mut(c)) {
                *slot = true;
            }
        }
        Ok(Self { n_classes, ignored, min_points })
    }

    #[must_use]
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Whether `class` is a class of the evaluation (in range and not ignored).
    #[inline]
    pub(crate) fn included(&self, class: i64) -> Option<usize> {
        usize::try_from(class).ok().filter(|&c| c < self.n_classes && !self.ignored[c])
    }

    /// Whether class index `class` (< n_classes) is included.
    #[must_use]
    pub fn is_included(&self, class: usize) -> bool {
        class < self.n_classes && !self.ignored[class]
    }

    #[inline]
    pub(crate) fn gt_ignored(&self, class: i64) -> bool {
        usize::try_from(class).ok().is_some_and(|c| c < self.n_classes && self.ignored[c])
    }

    #[must_use]
    pub fn min_points(&self) -> u64 {
        self.min_points
    }

    /// Checks that every class of a scan indexes the confusion matrix.
    pub(crate) fn check_classes(
        &self,
        side: &str,
        mut classes: impl Iterator<Item = i64>,
        scan: &str,
    ) -> Result<(), PqError> {
        match classes.find(|&c| usize::try_from(c).map_or(true, |c| c >= self.n_classes)) {
            Some(c) => Err(PqError::InvalidPairs {
                message: format!(
                    "In the scan {scan}: {side} holds the class {c}, outside 0..{} (n_classes)",
                    self.n_classes
                ),
            }),
            None => Ok(()),
        }
    }
}

/// One scan's points: classes and shifted instance ids, prediction (`x`) and ground truth (`y`).
#[derive(Debug, Clone, Copy)]
pub struct Scan<'a> {
    pub x_sem: &'a [i64],
    pub x_inst: &'a [i64],
    pub y_sem: &'a [i64],
    pub y_inst: &'a [i64],
}

impl Scan<'_> {
    /// Checks the four columns have one value per point.
    pub fn check(&self, scan: &str) -> Result<usize, PqError> {
        let n = self.y_sem.len();
        let lengths = [self.x_sem.len(), self.x_inst.len(), self.y_sem.len(), self.y_inst.len()];
        if lengths.iter().any(|&l| l != n) {
            return Err(PqError::InvalidPairs {
                message: format!(
                    "In the scan {scan}: x_sem, x_inst, y_sem and y_inst must have one value per point, got {lengths:?}"
                ),
            });
        }
        Ok(n)
    }
}

/// The running totals: the confusion matrix (rows prediction, columns ground truth) and the
/// per-class TP / FP / FN counts and exact IoU sums.
#[derive(Debug, Clone, PartialEq)]
pub struct PanopticCounts {
    pub confusion: Vec<u64>,
    pub tp: Vec<u64>,
    pub fp: Vec<u64>,
    pub fn_: Vec<u64>,
    pub iou: Vec<ExactSum>,
}

impl PanopticCounts {
    #[must_use]
    pub fn new(config: &LidarConfig) -> Self {
        let n = config.n_classes;
        Self {
            confusion: vec![0; n * n],
            tp: vec![0; n],
            fp: vec![0; n],
            fn_: vec![0; n],
            iou: vec![ExactSum::ZERO; n],
        }
    }

    /// Adds a scan's points to the confusion matrix (every point, ignored ones included).
    pub fn add_semantic(
        &mut self,
        config: &LidarConfig,
        x_sem: &[i64],
        y_sem: &[i64],
        scan: &str,
    ) -> Result<(), PqError> {
        config.check_classes("x_sem", x_sem.iter().copied(), scan)?;
        config.check_classes("y_sem", y_sem.iter().copied(), scan)?;
        let n = config.n_classes;
        for (&x, &y) in x_sem.iter().zip(y_sem) {
            // In range: checked above.
            #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
            let cell = x as usize * n + y as usize;
            self.confusion[cell] += 1;
        }
        Ok(())
    }

    /// Adds a scan's panoptic counts.
    pub fn add_panoptic(
        &mut self,
        config: &LidarConfig,
        points: Scan<'_>,
        scan: &str,
    ) -> Result<(), PqError> {
        self.add_points(config, points, false, scan)
    }

    /// Adds a scan's classes to the confusion matrix and its panoptic counts, in one pass over
    /// the points.
    pub fn add_scan(&mut self, config: &LidarConfig, points: Scan<'_>, scan: &str) -> Result<(), PqError> {
        self.add_points(config, points, true, scan)
    }

    fn add_points(
        &mut self,
        config: &LidarConfig,
        points: Scan<'_>,
        semantic: bool,
        scan: &str,
    ) -> Result<(), PqError> {
        points.check(scan)?;
        let (mut gt, mut pred) = (Compactor::new(), Compactor::new());
        let joint = Joint::of_columns(
            (&mut gt, &mut pred),
            points.y_sem.len(),
            |r| points.y_sem[r.clone()].iter().copied().zip(points.y_inst[r].iter().copied()),
            |r| points.x_sem[r.clone()].iter().copied().zip(points.x_inst[r].iter().copied()),
        );
        self.add_joint(config, gt.keys(), pred.keys(), &joint, semantic, scan)
    }

    /// Adds a scan given as its distinct ground-truth and predicted `(class, shifted instance)`
    /// keys and their joint point counts: the panoptic counts, and the confusion matrix too when
    /// `semantic` (its classes checked first).
    pub fn add_joint(
        &mut self,
        config: &LidarConfig,
        gt: &[(i64, i64)],
        pred: &[(i64, i64)],
        joint: &Joint,
        semantic: bool,
        scan: &str,
    ) -> Result<(), PqError> {
        let n = config.n_classes;
        if semantic {
            config.check_classes("x_sem", pred.iter().map(|k| k.0), scan)?;
            config.check_classes("y_sem", gt.iter().map(|k| k.0), scan)?;
            joint.for_each(|g, p, count| {
                // In range: checked above.
                #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
                let cell = pred[p].0 as usize * n + gt[g].0 as usize;
                self.confusion[cell] += count;
            });
        }
        // A side's segment: an included class and an instance; ground truth of an ignored class
        // removes its points from both sides.
        let segment = |&(class, instance): &(i64, i64)| config.included(class).filter(|_| instance > 0);
        let gt_class: Vec<Option<usize>> = gt.iter().map(segment).collect();
        let pred_class: Vec<Option<usize>> = pred.iter().map(segment).collect();
        let gt_ignored: Vec<bool> = gt.iter().map(|k| config.gt_ignored(k.0)).collect();
        let (mut gt_area, mut pred_area) = (vec![0u64; gt.len()], vec![0u64; pred.len()]);
        joint.for_each(|g, p, count| {
            if !gt_ignored[g] {
                gt_area[g] += count;
                pred_area[p] += count;
            }
        });
        let (mut gt_matched, mut pred_matched) = (vec![false; gt.len()], vec![false; pred.len()]);
        joint.for_each(|g, p, intersection| match (gt_class[g], pred_class[p]) {
            (Some(class), Some(other)) if class == other => {
                let union = gt_area[g] + pred_area[p] - intersection;
                // IoU > 0.5, in integers: 2 I > U.
                if 2 * intersection > union {
                    self.tp[class] += 1;
                    #[allow(clippy::cast_precision_loss)]
                    self.iou[class].add_f64(intersection as f64 / union as f64);
                    (gt_matched[g], pred_matched[p]) = (true, true);
                }
            }
            _ => {}
        });
        // A segment exists only with points left once the ignored ground truth is removed
        // (min_points may be 0).
        for (g, class) in gt_class.iter().enumerate() {
            if let Some(class) = *class {
                if gt_area[g] > 0 && gt_area[g] >= config.min_points && !gt_matched[g] {
                    self.fn_[class] += 1;
                }
            }
        }
        for (p, class) in pred_class.iter().enumerate() {
            if let Some(class) = *class {
                if pred_area[p] > 0 && pred_area[p] >= config.min_points && !pred_matched[p] {
                    self.fp[class] += 1;
                }
            }
        }
        Ok(())
    }

    /// Adds another evaluator's totals (exact: the same bits in any order).
    pub fn merge(&mut self, other: &PanopticCounts) {
        for (a, b) in self.confusion.iter_mut().zip(&other.confusion) {
            *a += b;
        }
        for c in 0..self.tp.len() {
            self.tp[c] += other.tp[c];
            self.fp[c] += other.fp[c];
            self.fn_[c] += other.fn_[c];
            self.iou[c].add(&other.iou[c]);
        }
    }
}

/// Reads a `.label` file: little-endian `uint32` per point.
pub fn read_label_file(path: &std::path::Path) -> Result<Vec<u32>, PqError> {
    let mut bytes = Vec::new();
    read_label_bytes(path, &mut bytes)?;
    Ok(labels(&bytes).collect())
}

/// Reads a `.label` file's bytes into `bytes` (a buffer reused from scan to scan: a fresh one
/// each time costs more in page faults than the counting), checked to hold whole `uint32`s.
pub fn read_label_bytes(path: &std::path::Path, bytes: &mut Vec<u8>) -> Result<(), PqError> {
    crate::io::read_file(path, bytes)?;
    if bytes.len() % 4 != 0 {
        return Err(PqError::InvalidPairs {
            message: format!(
                "{} is not a .label file: it holds {} bytes, not a multiple of 4 (one uint32 per point)",
                path.display(),
                bytes.len()
            ),
        });
    }
    Ok(())
}

/// The labels of a `.label` file's bytes.
pub fn labels(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn the_matching_rules() {
        // Classes: 0 ignored, 1 thing, 2 stuff. min_points 2.
        let config = LidarConfig::new(3, &[0], 2).unwrap();
        let mut counts = PanopticCounts::new(&config);
        // gt instance 5 (class 1) on 4 points; predicted 9 on 3 of them and 1 beyond: IoU 3/5.
        // A gt point of class 0 is dropped with its prediction; a lone predicted point of class
        // 2 is below min_points: not a FP.
        let y_sem = [1, 1, 1, 1, 0, 2, 2];
        let y_inst = [5, 5, 5, 5, 9, 1, 1];
        let x_sem = [1, 1, 1, 2, 1, 1, 2];
        let x_inst = [9, 9, 9, 3, 9, 9, 4];
        let points = Scan { x_sem: &x_sem, x_inst: &x_inst, y_sem: &y_sem, y_inst: &y_inst };
        counts.add_panoptic(&config, points, "s").unwrap();
        assert_eq!((counts.tp[1], counts.fp[1], counts.fn_[1]), (1, 0, 0));
        assert_eq!(counts.iou[1].to_f64(), 3.0 / 5.0);
        // Class 2: gt (2, 1) has 2 points, predicted 4 covers 1 of them: IoU 1/2, not a match;
        // the gt is a FN; the predictions 3 and 4 of one point each are below min_points.
        assert_eq!((counts.tp[2], counts.fp[2], counts.fn_[2]), (0, 0, 1));
    }

    #[test]
    fn classes_outside_the_matrix_are_errors() {
        let config = LidarConfig::new(3, &[0], 1).unwrap();
        let mut counts = PanopticCounts::new(&config);
        let error = counts.add_semantic(&config, &[0, 3], &[0, 0], "08/000001").unwrap_err();
        assert_eq!(
            error.to_string(),
            "In the scan 08/000001: x_sem holds the class 3, outside 0..3 (n_classes)"
        );
        assert!(counts.add_semantic(&config, &[0], &[-1], "s").is_err());
    }
}
