//! Segmentation and Tracking Quality (STQ = √(AQ × IoU), Weber et al. 2021), as deeplab2's numpy
//! `STQuality` counts it: per sequence, a class confusion matrix and the areas of ground-truth
//! tracks, predicted tracks and their intersections.
//!
//! Labels are `(class << shift) + instance`. Pixels are read as runs of equal (ground truth,
//! prediction, weight), so the cost follows the runs, not the pixels. Each frame's counts are
//! added to the sequence in deeplab2's order — weights ascending, then ids ascending — and ids
//! are remembered in the order they first appeared, because the association sums run in that
//! order: with [`Accumulate::Float32`] every sum is rounded to `f32` as deeplab2's dictionaries
//! are under NumPy ≥ 2, and the results are its bits; with [`Accumulate::Exact`] counts are
//! exact integers and the arithmetic `f64`, NumPy 1's.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::eval::histogram::{LabelMap, Pending};
use crate::PqError;

/// Confusion matrices of at most this many cells are counted densely.
const DENSE_CELLS: usize = 1 << 12;

/// Pixels counted by one task: large frames are split into slices of this many.
const PIXELS_PER_SLICE: usize = 1 << 17;

/// How areas are summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Accumulate {
    /// Exact pixel counts (times weights), association sums in `f64`.
    #[default]
    Exact,
    /// deeplab2's `float32` counts under NumPy ≥ 2: every area and association sum rounded to
    /// `f32`.
    Float32,
}

impl Accumulate {
    #[inline]
    fn add(self, a: f64, b: f64) -> f64 {
        match self {
            Accumulate::Exact => a + b,
            #[allow(clippy::cast_possible_truncation)]
            Accumulate::Float32 => f64::from(a as f32 + b as f32),
        }
    }

    /// `count × weight` as deeplab2 forms it: the count as `f32`, then times the weight.
    #[inline]
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    fn scaled(self, count: u64, weight: f64) -> f64 {
        match self {
            Accumulate::Exact => count as f64 * weight,
            Accumulate::Float32 => f64::from(count as f32 * weight as f32),
        }
    }
}

/// The metric's fixed parameters, checked.
#[derive(Debug, Clone)]
pub struct StqConfig {
    num_classes: i64,
    ignore_label: i64,
    shift: u32,
    /// Side of the confusion matrix: `num_classes`, plus one when the ignore label is not a class.
    size: usize,
    /// Whether each class (index into the matrix) is a thing.
    things: Vec<bool>,
    accumulate: Accumulate,
}

impl StqConfig {
    /// deeplab2's constructor arguments (its `offset` check is Python's: it only guards a key
    /// encoding this module does not use).
    pub fn new(
        num_classes: i64,
        things: &[i64],
        ignore_label: i64,
        shift: u32,
        accumulate: Accumulate,
    ) -> Result<Self, PqError> {
        let invalid = |message: String| Err(PqError::InvalidPairs { message });
        if num_classes < 1 {
            return invalid(format!("num_classes must be at least 1, got {num_classes}"));
        }
        if shift == 0 || shift > 62 {
            return invalid(format!("label_bit_shift must be in 1..=62, got {shift}"));
        }
        let size = usize::try_from(if ignore_label >= num_classes { num_classes + 1 } else { num_classes })
            .map_err(|_| PqError::InvalidPairs {
            message: format!("num_classes {num_classes} is too large"),
        })?;
        if size > 1 << 16 {
            return invalid(format!("num_classes must be below 65536, got {num_classes}"));
        }
        let mut is_thing = vec![false; size];
        for &t in things {
            if let Some(slot) = usize::try_from(t).ok().and_then(|t| is_thing.get_mut(t)) {
                *slot = true;
            }
        }
        Ok(Self { num_classes, ignore_label, shift, size, things: is_thing, accumulate })
    }

    #[must_use]
    pub fn size(&self) -> usize {
        self.size
    }

    #[must_use]
    pub fn accumulate(&self) -> Accumulate {
        self.accumulate
    }

    /// The confusion-matrix class of a label, deeplab2's `ignore_label > num_classes` mapped to
    /// `num_classes`; `None` when it lies outside the matrix.
    #[inline]
    fn class(&self, label: i64) -> Option<usize> {
        let mut class = label >> self.shift;
        if self.ignore_label > self.num_classes && class == self.ignore_label {
            class = self.num_classes;
        }
        usize::try_from(class).ok().filter(|&c| c < self.size)
    }
}

/// Areas keyed by label, remembering the order labels first appeared.
#[derive(Debug, Clone, Default, PartialEq)]
struct OrderedAreas {
    index: LabelMap<i64, usize>,
    entries: Vec<(i64, f64)>,
}

impl OrderedAreas {
    fn add(&mut self, label: i64, value: f64, accumulate: Accumulate) {
        if let Some(&i) = self.index.get(&label) {
            self.entries[i].1 = accumulate.add(self.entries[i].1, value);
        } else {
            self.index.insert(label, self.entries.len());
            self.entries.push((label, value));
        }
    }
}

/// A sequence's stored form (see [`SequenceCounts::to_parts`]).
pub type SequenceParts = (Vec<f64>, Vec<(i64, f64)>, Vec<(i64, f64)>, Vec<(i64, i64, f64)>, u64);

/// One sequence's counts.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceCounts {
    /// Row-major `size × size`: ground-truth class by predicted class.
    confusion: Vec<f64>,
    gt: OrderedAreas,
    pred: OrderedAreas,
    intersections: LabelMap<(i64, i64), f64>,
    frames: u64,
}

impl SequenceCounts {
    #[must_use]
    pub fn new(config: &StqConfig) -> Self {
        Self {
            confusion: vec![0.0; config.size * config.size],
            gt: OrderedAreas::default(),
            pred: OrderedAreas::default(),
            intersections: LabelMap::default(),
            frames: 0,
        }
    }

    #[must_use]
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The confusion matrix, row-major, ground truth by prediction, before deeplab2 removes the
    /// ignored rows.
    #[must_use]
    pub fn confusion(&self) -> &[f64] {
        &self.confusion
    }

    /// Ground-truth tracks counted (deeplab2's `num_tubes`).
    #[must_use]
    pub fn tubes(&self) -> usize {
        self.gt.entries.len()
    }

    /// The stored form: confusion matrix, ground-truth and predicted areas (first seen first),
    /// intersections and frame count.
    #[must_use]
    pub fn to_parts(&self) -> SequenceParts {
        let mut intersections: Vec<_> = self.intersections.iter().map(|(&(g, p), &v)| (g, p, v)).collect();
        intersections.sort_unstable_by_key(|&(g, p, _)| (g, p));
        (
            self.confusion.clone(),
            self.gt.entries.clone(),
            self.pred.entries.clone(),
            intersections,
            self.frames,
        )
    }

    /// A sequence from [`to_parts`](Self::to_parts)' form, checked against `config`.
    pub fn from_parts(config: &StqConfig, parts: SequenceParts) -> Result<Self, PqError> {
        let (confusion, gt, pred, intersections, frames) = parts;
        if confusion.len() != config.size * config.size {
            return Err(PqError::LengthMismatch {
                what: "confusion matrix cells",
                expected: config.size * config.size,
                got: confusion.len(),
            });
        }
        let areas = |entries: Vec<(i64, f64)>| {
            let mut areas = OrderedAreas::default();
            for (label, value) in entries {
                areas.add(label, value, Accumulate::Exact);
            }
            areas
        };
        let intersections = intersections.into_iter().map(|(g, p, v)| ((g, p), v)).collect();
        Ok(Self { confusion, gt: areas(gt), pred: areas(pred), intersections, frames })
    }

    /// Adds one frame: `y_true` and `y_pred` of the same length, with optional per-pixel
    /// `weights`. `sequence` and `frame` name errors.
    pub fn add_frame(
        &mut self,
        config: &StqConfig,
        (y_true, y_pred): (&[i64], &[i64]),
        weights: Option<&[f64]>,
        (sequence, frame): (&str, u64),
    ) -> Result<(), PqError> {
        let bad = |message: String| PqError::InvalidPairs {
            message: format!("In the sequence {sequence}, frame {frame}: {message}"),
        };
        if y_true.len() != y_pred.len() || weights.is_some_and(|w| w.len() != y_true.len()) {
            return Err(bad(format!(
                "y_true has {} pixels, y_pred {}{}",
                y_true.len(),
                y_pred.len(),
                weights.map_or(String::new(), |w| format!(" and weights {}", w.len()))
            )));
        }
        let levels = WeightLevels::of(weights).map_err(bad)?;
        // Large frames are counted in parallel slices; counts add, so the split changes nothing.
        let slices: Vec<std::ops::Range<usize>> = (0..y_true.len())
            .step_by(PIXELS_PER_SLICE)
            .map(|s| s..(s + PIXELS_PER_SLICE).min(y_true.len()))
            .collect();
        let counted: Vec<Result<FrameCounts, String>> = slices
            .into_par_iter()
            .map(|range| {
                FrameCounts::of(
                    config,
                    (&y_true[range.clone()], &y_pred[range.clone()]),
                    &levels,
                    range.start,
                )
            })
            .collect();
        let mut counts = FrameCounts::default();
        for part in counted {
            counts.merge(part.map_err(bad)?);
        }
        counts.add_to(self, &levels, config.accumulate);
        self.frames += 1;
        Ok(())
    }

    /// Adds another worker's counts of the same sequence, given later in time: ids new to this
    /// one come after its own, in the other's order, as if its frames had been added here.
    pub fn merge(&mut self, other: &SequenceCounts, accumulate: Accumulate) {
        for (mine, theirs) in self.confusion.iter_mut().zip(&other.confusion) {
            *mine += theirs;
        }
        for &(label, value) in &other.gt.entries {
            self.gt.add(label, value, accumulate);
        }
        for &(label, value) in &other.pred.entries {
            self.pred.add(label, value, accumulate);
        }
        for (&key, &value) in &other.intersections {
            add_at(&mut self.intersections, key, value, accumulate);
        }
        self.frames += other.frames;
    }

    /// deeplab2's `outer_sum` of this sequence: for every ground-truth track (first seen first),
    /// the IoU-weighted intersections with the predicted tracks it meets (first seen first),
    /// over its area. In `f32` arithmetic under [`Accumulate::Float32`].
    #[must_use]
    pub fn association_sum(&self, accumulate: Accumulate) -> f64 {
        let mut met: HashMap<i64, Vec<(usize, f64)>> = HashMap::new();
        for (&(gt, pred), &tpa) in &self.intersections {
            if let Some(&p) = self.pred.index.get(&pred) {
                met.entry(gt).or_default().push((p, tpa));
            }
        }
        let mut outer = 0.0f64;
        let mut outer32 = 0.0f32;
        for &(gt, gt_size) in &self.gt.entries {
            let mut preds = met.remove(&gt).unwrap_or_default();
            preds.sort_unstable_by_key(|&(p, _)| p);
            match accumulate {
                Accumulate::Exact => {
                    let mut inner = 0.0f64;
                    for (p, tpa) in preds {
                        let (fpa, fna) = (self.pred.entries[p].1 - tpa, gt_size - tpa);
                        inner += tpa * (tpa / (tpa + fpa + fna));
                    }
                    outer += 1.0 / gt_size * inner;
                }
                #[allow(clippy::cast_possible_truncation)]
                Accumulate::Float32 => {
                    let (gt_size, mut inner) = (gt_size as f32, 0.0f32);
                    for (p, tpa) in preds {
                        let (tpa, pr_size) = (tpa as f32, self.pred.entries[p].1 as f32);
                        let (fpa, fna) = (pr_size - tpa, gt_size - tpa);
                        inner += tpa * (tpa / (tpa + fpa + fna));
                    }
                    outer32 += 1.0 / gt_size * inner;
                }
            }
        }
        match accumulate {
            Accumulate::Exact => outer,
            Accumulate::Float32 => f64::from(outer32),
        }
    }
}

fn add_at(map: &mut LabelMap<(i64, i64), f64>, key: (i64, i64), value: f64, accumulate: Accumulate) {
    match map.get_mut(&key) {
        Some(slot) => *slot = accumulate.add(*slot, value),
        None => {
            map.insert(key, value);
        }
    }
}

/// The distinct weights of one frame, ascending, and each pixel's.
enum WeightLevels<'a> {
    One,
    Many { weights: &'a [f64], values: Vec<f64> },
}

impl<'a> WeightLevels<'a> {
    fn of(weights: Option<&'a [f64]>) -> Result<Self, String> {
        let Some(weights) = weights else { return Ok(Self::One) };
        if let Some(w) = weights.iter().find(|w| !w.is_finite()) {
            return Err(format!("weights must be finite, got {w}"));
        }
        let mut values: Vec<f64> = weights.to_vec();
        values.sort_unstable_by(f64::total_cmp);
        values.dedup();
        Ok(Self::Many { weights, values })
    }

    #[inline]
    fn level(&self, i: usize) -> usize {
        match self {
            Self::One => 0,
            Self::Many { weights, values } => {
                values.binary_search_by(|v| v.total_cmp(&weights[i])).unwrap_or_default()
            }
        }
    }

    fn weight(&self, level: usize) -> f64 {
        match self {
            Self::One => 1.0,
            Self::Many { values, .. } => values[level],
        }
    }
}

/// One frame's pixel counts, per weight level.
#[derive(Default)]
struct FrameCounts {
    confusion: LabelMap<(usize, usize), u64>,
    /// The unweighted frame's confusion counts, dense, for matrices small enough.
    dense: Vec<u64>,
    gt: LabelMap<(usize, i64), u64>,
    pred: LabelMap<(usize, i64), u64>,
    intersections: LabelMap<(usize, (i64, i64)), u64>,
}

impl FrameCounts {
    /// The counts of pixels `first..` (the slices `y_true`, `y_pred`), run by run. Consecutive
    /// runs often share a track (a prediction's noise splits a ground-truth run): each table's
    /// last key is held back and added to once, when the key changes.
    fn of(
        config: &StqConfig,
        (y_true, y_pred): (&[i64], &[i64]),
        levels: &WeightLevels<'_>,
        first: usize,
    ) -> Result<Self, String> {
        let mut counts = Self::default();
        let dense = matches!(levels, WeightLevels::One) && config.size * config.size <= DENSE_CELLS;
        if dense {
            counts.dense = vec![0; config.size * config.size];
        }
        let mut confusion = Pending::new();
        let mut gt = Pending::new();
        let mut pred = Pending::new();
        let mut intersections = Pending::new();
        let mask = (1i64 << config.shift) - 1;
        let n = y_true.len();
        let mut i = 0;
        while i < n {
            let (t, p) = (y_true[i], y_pred[i]);
            let end = match levels {
                WeightLevels::One => y_true[i + 1..]
                    .iter()
                    .zip(&y_pred[i + 1..])
                    .position(|(&a, &b)| a != t || b != p)
                    .map_or(n, |k| i + 1 + k),
                WeightLevels::Many { .. } => {
                    let level = levels.level(first + i);
                    let mut end = i + 1;
                    while end < n
                        && y_true[end] == t
                        && y_pred[end] == p
                        && levels.level(first + end) == level
                    {
                        end += 1;
                    }
                    end
                }
            };
            let level = levels.level(first + i);
            let run = (end - i) as u64;
            let (Some(gt_class), Some(pred_class)) = (config.class(t), config.class(p)) else {
                let (side, label) = if config.class(t).is_none() { ("y_true", t) } else { ("y_pred", p) };
                return Err(format!(
                    "{side} holds the label {label}, whose class {} is outside 0..{} (num_classes {}, \
                     label_bit_shift {}); labels are (class << label_bit_shift) + instance, non-negative",
                    label >> config.shift,
                    config.size,
                    config.num_classes,
                    config.shift
                ));
            };
            let cell = gt_class * config.size + pred_class;
            if dense {
                counts.dense[cell] += run;
            } else {
                confusion.add((level, cell), run, &mut counts.confusion);
            }
            let gt_thing = config.things[gt_class];
            let crowd = gt_thing && t & mask == 0;
            let gt_track = gt_thing && !crowd;
            let pred_track = config.things[pred_class] && !crowd;
            if gt_track {
                gt.add((level, t), run, &mut counts.gt);
            }
            if pred_track {
                pred.add((level, p), run, &mut counts.pred);
            }
            if gt_track && pred_track {
                intersections.add((level, (t, p)), run, &mut counts.intersections);
            }
            i = end;
        }
        confusion.flush(&mut counts.confusion);
        gt.flush(&mut counts.gt);
        pred.flush(&mut counts.pred);
        intersections.flush(&mut counts.intersections);
        Ok(counts)
    }

    fn merge(&mut self, other: Self) {
        fn add<K: std::hash::Hash + Eq>(mine: &mut LabelMap<K, u64>, theirs: LabelMap<K, u64>) {
            for (key, count) in theirs {
                *mine.entry(key).or_default() += count;
            }
        }
        add(&mut self.confusion, other.confusion);
        if self.dense.is_empty() {
            self.dense = other.dense;
        } else {
            for (mine, theirs) in self.dense.iter_mut().zip(other.dense) {
                *mine += theirs;
            }
        }
        add(&mut self.gt, other.gt);
        add(&mut self.pred, other.pred);
        add(&mut self.intersections, other.intersections);
    }

    /// Adds the counts to `sequence` in deeplab2's order: weight levels ascending, ids
    /// ascending within each.
    fn add_to(self, sequence: &mut SequenceCounts, levels: &WeightLevels<'_>, accumulate: Accumulate) {
        for (cell, &count) in self.dense.iter().enumerate() {
            if count > 0 {
                sequence.confusion[cell] += Accumulate::Exact.scaled(count, 1.0);
            }
        }
        let mut cells: Vec<_> = self.confusion.into_iter().collect();
        cells.sort_unstable();
        for ((level, cell), count) in cells {
            // The matrix is float64 in deeplab2 whatever NumPy does with the dictionaries.
            sequence.confusion[cell] += Accumulate::Exact.scaled(count, levels.weight(level));
        }
        for (counts, areas) in [(self.gt, &mut sequence.gt), (self.pred, &mut sequence.pred)] {
            let mut counts: Vec<_> = counts.into_iter().collect();
            counts.sort_unstable();
            for ((level, label), count) in counts {
                areas.add(label, accumulate.scaled(count, levels.weight(level)), accumulate);
            }
        }
        let mut counts: Vec<_> = self.intersections.into_iter().collect();
        counts.sort_unstable();
        for ((level, key), count) in counts {
            add_at(
                &mut sequence.intersections,
                key,
                accumulate.scaled(count, levels.weight(level)),
                accumulate,
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    fn config(accumulate: Accumulate) -> StqConfig {
        // Classes 0 (stuff), 1 (thing), 2 (thing); ignore label 255 becomes class 3.
        StqConfig::new(3, &[1, 2], 255, 8, accumulate).unwrap()
    }

    fn label(class: i64, instance: i64) -> i64 {
        (class << 8) + instance
    }

    #[test]
    fn a_perfect_track_has_association_one() {
        let c = config(Accumulate::Exact);
        let mut s = SequenceCounts::new(&c);
        let frame = [label(1, 1), label(1, 1), label(0, 0), label(2, 3)];
        s.add_frame(&c, (&frame, &frame), None, ("s", 0)).unwrap();
        s.add_frame(&c, (&frame, &frame), None, ("s", 1)).unwrap();
        assert_eq!(s.tubes(), 2);
        assert_eq!(s.association_sum(Accumulate::Exact), 2.0);
        assert_eq!(s.confusion()[c.size() + 1], 4.0);
    }

    #[test]
    fn crowd_is_out_of_the_association_and_ids_switch_costs() {
        let c = config(Accumulate::Exact);
        let mut s = SequenceCounts::new(&c);
        // gt track (1, 1) over 4 px, predicted as (1, 5) on 2 and (1, 6) on 2; a crowd pixel.
        let gt = [label(1, 1), label(1, 1), label(1, 1), label(1, 1), label(1, 0)];
        let pred = [label(1, 5), label(1, 5), label(1, 6), label(1, 6), label(1, 7)];
        s.add_frame(&c, (&gt, &pred), None, ("s", 0)).unwrap();
        // inner = 2 × (2 / 4) + 2 × (2 / 4) = 2; outer = 2 / 4.
        assert_eq!(s.association_sum(Accumulate::Exact), 0.5);
        assert_eq!(s.pred.entries.len(), 2, "the prediction on crowd is not a track");
    }

    #[test]
    fn labels_outside_the_matrix_are_errors() {
        let c = config(Accumulate::Exact);
        let mut s = SequenceCounts::new(&c);
        let error = s.add_frame(&c, (&[label(9, 0)], &[0]), None, ("seq", 4)).unwrap_err();
        assert!(
            error.to_string().starts_with("In the sequence seq, frame 4: y_true holds the label 2304"),
            "{error}"
        );
        assert!(s.add_frame(&c, (&[0], &[-1]), None, ("seq", 4)).is_err());
        // The ignore label maps to the extra class.
        s.add_frame(&c, (&[label(255, 0)], &[0]), None, ("seq", 4)).unwrap();
        assert_eq!(s.confusion()[3 * c.size()], 1.0);
    }

    #[test]
    fn float32_rounds_large_areas() {
        let c = config(Accumulate::Float32);
        let mut s = SequenceCounts::new(&c);
        let frame = vec![label(1, 1); 3];
        for f in 0..2 {
            s.add_frame(&c, (&frame, &frame), Some(&[0.1, 0.1, 0.1]), ("s", f)).unwrap();
        }
        let expected = f64::from(3.0f32 * 0.1f32 + 3.0f32 * 0.1f32);
        assert_eq!(s.gt.entries[0].1, expected);
    }
}
