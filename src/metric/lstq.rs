//! 4-D panoptic segmentation's LSTQ = √(LAQ × LSQ) as 4D-PLS's `Panoptic4DEval` counts it, per
//! sequence: the predicted instances' sizes (one table per sequence, shared by all classes), the
//! ground-truth instances' sizes per class and their intersections with predicted instances.
//!
//! Its rules, each the reference's: a ground-truth instance of a class enters a scan only with
//! more than `min_points` points of it in that scan; a predicted instance counts its points of
//! every included class; an intersection pairs the ground-truth instance of a class with the
//! predicted instance whatever the prediction's class; instance 0 (shifted: 1) is no instance.
//! Ids are remembered in the order they first appeared, because the association sums run in that
//! order.

use crate::eval::histogram::{LabelMap, LabelSet};
use crate::metric::lidar::{LidarConfig, Scan};
use crate::PqError;

/// Sizes keyed by instance id, in first-seen order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ordered {
    index: LabelMap<i64, usize>,
    pub entries: Vec<(i64, u64)>,
}

impl Ordered {
    fn add(&mut self, id: i64, count: u64) {
        if let Some(&i) = self.index.get(&id) {
            self.entries[i].1 += count;
        } else {
            self.index.insert(id, self.entries.len());
            self.entries.push((id, count));
        }
    }

    fn get(&self, id: i64) -> Option<u64> {
        self.index.get(&id).map(|&i| self.entries[i].1)
    }
}

/// A sequence's stored form (see [`SequenceTracks::to_parts`]).
pub type TrackParts = (Vec<(i64, u64)>, Vec<Vec<(i64, u64)>>, Vec<Vec<(i64, i64, u64)>>);

/// One sequence's counts.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceTracks {
    pub preds: Ordered,
    /// Per class.
    pub gts: Vec<Ordered>,
    /// Per class: (ground-truth id, predicted id) → points.
    pub intersections: Vec<LabelMap<(i64, i64), u64>>,
}

/// What a sequence gives the final sums: per class its association sum and ground-truth tube
/// count, and the precision and recall of every (tube, prediction) pair, in the reference's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Association {
    pub aq: Vec<f64>,
    pub tubes: Vec<usize>,
    pub precisions: Vec<f64>,
    pub recalls: Vec<f64>,
}

impl SequenceTracks {
    #[must_use]
    pub fn new(config: &LidarConfig) -> Self {
        let n = config.n_classes();
        Self {
            preds: Ordered::default(),
            gts: vec![Ordered::default(); n],
            intersections: vec![LabelMap::default(); n],
        }
    }

    /// Adds one scan (instance ids shifted by one, as for [`crate::metric::lidar`]).
    pub fn add_scan(&mut self, config: &LidarConfig, points: Scan<'_>, scan: &str) -> Result<(), PqError> {
        points.check(scan)?;
        let n = config.n_classes();
        // This scan's counts per class, before the min_points filter.
        let mut gt_counts: Vec<LabelMap<i64, u64>> = vec![LabelMap::default(); n];
        let mut pred_counts: Vec<LabelMap<i64, u64>> = vec![LabelMap::default(); n];
        let mut pairs: Vec<LabelMap<(i64, i64), u64>> = vec![LabelMap::default(); n];
        for i in 0..points.y_sem.len() {
            if config.gt_ignored(points.y_sem[i]) {
                continue;
            }
            let (x_inst, y_inst) = (points.x_inst[i], points.y_inst[i]);
            if let Some(c) = config.included(points.x_sem[i]).filter(|_| x_inst > 0) {
                *pred_counts[c].entry(x_inst).or_default() += 1;
            }
            if let Some(c) = config.included(points.y_sem[i]).filter(|_| y_inst > 0) {
                *gt_counts[c].entry(y_inst).or_default() += 1;
                if x_inst > 0 {
                    *pairs[c].entry((y_inst, x_inst)).or_default() += 1;
                }
            }
        }
        for c in 0..n {
            let mut gts: Vec<(i64, u64)> = gt_counts[c].iter().map(|(&id, &n)| (id, n)).collect();
            gts.sort_unstable();
            // Kept: more than min_points points in this scan; instance 0 (shifted: 1) is none.
            let kept: LabelSet<i64> =
                gts.iter().filter(|&&(_, n)| n > config.min_points()).map(|&(id, _)| id).collect();
            for &(id, count) in &gts {
                if id != 1 && kept.contains(&id) {
                    self.gts[c].add(id, count);
                }
            }
            let mut preds: Vec<(i64, u64)> = pred_counts[c].iter().map(|(&id, &n)| (id, n)).collect();
            preds.sort_unstable();
            for (id, count) in preds {
                if id != 1 {
                    self.preds.add(id, count);
                }
            }
            for (&(gt, pred), &count) in &pairs[c] {
                if kept.contains(&gt) {
                    *self.intersections[c].entry((gt, pred)).or_default() += count;
                }
            }
        }
        Ok(())
    }

    /// Adds another evaluator's counts of this sequence, taken later in time.
    pub fn merge(&mut self, other: &SequenceTracks) {
        for &(id, count) in &other.preds.entries {
            self.preds.add(id, count);
        }
        for (mine, theirs) in self.gts.iter_mut().zip(&other.gts) {
            for &(id, count) in &theirs.entries {
                mine.add(id, count);
            }
        }
        for (mine, theirs) in self.intersections.iter_mut().zip(&other.intersections) {
            for (&key, &count) in theirs {
                *mine.entry(key).or_default() += count;
            }
        }
    }

    /// The sequence's association sums, in the reference's order: classes ascending, ground-truth
    /// tubes first seen first, predictions first seen first.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn association(&self, config: &LidarConfig) -> Association {
        let n = config.n_classes();
        let mut out = Association { aq: vec![0.0; n], tubes: vec![0; n], ..Association::default() };
        for c in (0..n).filter(|&c| config.is_included(c)) {
            let mut met: LabelMap<i64, Vec<(usize, u64)>> = LabelMap::default();
            for (&(gt, pred), &tpa) in &self.intersections[c] {
                if let Some(&p) = self.preds.index.get(&pred) {
                    met.entry(gt).or_default().push((p, tpa));
                }
            }
            let mut outer = 0.0f64;
            out.tubes[c] = self.gts[c].entries.len();
            for &(gt, gt_size) in &self.gts[c].entries {
                let mut pairs = met.remove(&gt).unwrap_or_default();
                pairs.sort_unstable_by_key(|&(p, _)| p);
                let mut inner = 0.0f64;
                for (p, tpa) in pairs {
                    let pr_size = self.preds.entries[p].1;
                    out.precisions.push(tpa as f64 / pr_size as f64);
                    out.recalls.push(tpa as f64 / gt_size as f64);
                    inner += tpa as f64 * (tpa as f64 / (gt_size + pr_size - tpa) as f64);
                }
                outer += 1.0 / gt_size as f64 * inner;
            }
            out.aq[c] = outer;
        }
        out
    }

    /// The stored form: predictions' sizes, and per class the ground truths' sizes and the
    /// intersections `(gt, pred, points)`, each in first-seen (sizes) or sorted (pairs) order.
    #[must_use]
    pub fn to_parts(&self) -> TrackParts {
        let pairs = self
            .intersections
            .iter()
            .map(|m| {
                let mut v: Vec<(i64, i64, u64)> = m.iter().map(|(&(g, p), &n)| (g, p, n)).collect();
                v.sort_unstable();
                v
            })
            .collect();
        (self.preds.entries.clone(), self.gts.iter().map(|g| g.entries.clone()).collect(), pairs)
    }

    /// A sequence from [`to_parts`](Self::to_parts)' form, checked against `config`.
    pub fn from_parts(config: &LidarConfig, (preds, gts, pairs): TrackParts) -> Result<Self, PqError> {
        let n = config.n_classes();
        if gts.len() != n || pairs.len() != n {
            return Err(PqError::LengthMismatch {
                what: "classes of stored tracks",
                expected: n,
                got: gts.len(),
            });
        }
        let mut this = Self::new(config);
        for (id, count) in preds {
            this.preds.add(id, count);
        }
        for (c, entries) in gts.into_iter().enumerate() {
            for (id, count) in entries {
                this.gts[c].add(id, count);
            }
        }
        for (c, list) in pairs.into_iter().enumerate() {
            this.intersections[c] = list.into_iter().map(|(g, p, n)| ((g, p), n)).collect();
        }
        Ok(this)
    }

    /// The size of predicted instance `id` (0 when never seen).
    #[must_use]
    pub fn pred_size(&self, id: i64) -> u64 {
        self.preds.get(id).unwrap_or(0)
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    /// 4D-PLS's own example: classes ignore, car, truck; min_points 1.
    #[test]
    fn the_reference_example() {
        let config = LidarConfig::new(3, &[0], 1).unwrap();
        let mut s = SequenceTracks::new(&config);
        let mut y_sem = vec![0i64; 20];
        y_sem[5..10].fill(1);
        y_sem[10..].fill(2);
        let mut y_inst = vec![0i64; 20];
        y_inst[5..10].fill(1);
        y_inst[10..].fill(1);
        y_inst[15..].fill(2);
        let mut x_sem = vec![0i64; 20];
        x_sem[5..10].fill(1);
        x_sem[10..15].fill(2);
        x_sem[15..].fill(1);
        let mut x_inst = vec![0i64; 20];
        x_inst[5..10].fill(1);
        x_inst[10..].fill(2);
        let shift = |v: &[i64]| v.iter().map(|x| x + 1).collect::<Vec<_>>();
        let (x_inst, y_inst) = (shift(&x_inst), shift(&y_inst));
        let points = Scan { x_sem: &x_sem, x_inst: &x_inst, y_sem: &y_sem, y_inst: &y_inst };
        s.add_scan(&config, points, "1").unwrap();
        let a = s.association(&config);
        // AQ per class = aq / tubes: [0, 1, 0.5]; overall 2 / 3.
        assert_eq!(a.tubes, [0, 1, 2]);
        assert_eq!(a.aq[1] / 1.0, 1.0);
        assert_eq!(a.aq[2] / 2.0, 0.5);
        assert_eq!((a.aq[1] + a.aq[2]) / 3.0, 2.0 / 3.0);
    }
}
