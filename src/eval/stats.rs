//! Per-category PQ statistics: their accumulation over images and their averaging into
//! All / Things / Stuff and per-class scores, as panopticapi's `PQStat.pq_average` does.

use std::collections::BTreeMap;

use crate::eval::categories::CategoryInfo;
use crate::eval::exact::ExactSum;

/// Sum of matched IoUs (exact) and true/false positive/negative counts of one category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CategoryStats {
    pub iou: ExactSum,
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
}

/// Statistics of every category seen, keyed by category id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PqStats {
    per_category: BTreeMap<i64, CategoryStats>,
}

impl PqStats {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The statistics of one category, zero if it was never seen.
    #[must_use]
    pub fn get(&self, category_id: i64) -> CategoryStats {
        self.per_category.get(&category_id).copied().unwrap_or_default()
    }

    /// Sets the statistics of one category.
    pub fn insert(&mut self, category_id: i64, stats: CategoryStats) {
        self.per_category.insert(category_id, stats);
    }

    pub(crate) fn entry(&mut self, category_id: i64) -> &mut CategoryStats {
        self.per_category.entry(category_id).or_default()
    }

    /// Every category seen, in ascending id order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &CategoryStats)> {
        self.per_category.iter().map(|(&id, s)| (id, s))
    }

    /// Adds another table. IoU sums are exact, so tables merge into the same bits whatever the
    /// order or grouping of the images they hold.
    pub fn merge(&mut self, other: &PqStats) {
        for (category_id, s) in other.iter() {
            let total = self.entry(category_id);
            total.iou.add(&s.iou);
            total.tp += s.tp;
            total.fp += s.fp;
            total.fn_ += s.fn_;
        }
    }

    /// Averages over `categories` (in the given order: it fixes the order of the float sums),
    /// keeping those whose `isthing` equals `isthing`, or all of them when it is `None`.
    #[must_use]
    pub fn average(&self, categories: &[CategoryInfo], isthing: Option<bool>) -> Average {
        average(categories, isthing, |id| {
            let s = self.get(id);
            (s.iou.to_f64(), s.tp, s.fp, s.fn_)
        })
    }
}

/// Every image's per-class statistics as columns, one row per (image, class) the image counted
/// something for: what a bootstrap over images resamples, so that no resample re-evaluates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageTable {
    /// Images covered, counting those without rows.
    pub images: u64,
    /// Each row's image, its position among the covered images.
    pub image: Vec<u64>,
    pub class: Vec<i64>,
    /// The image's IoU sum of the class, rounded once.
    pub iou: Vec<f64>,
    pub tp: Vec<u64>,
    pub fp: Vec<u64>,
    pub fn_: Vec<u64>,
}

impl ImageTable {
    /// Adds the next image, with its statistics.
    pub fn push_image(&mut self, stats: &PqStats) {
        for (class, s) in stats.iter() {
            self.image.push(self.images);
            self.class.push(class);
            self.iou.push(s.iou.to_f64());
            self.tp.push(s.tp);
            self.fp.push(s.fp);
            self.fn_.push(s.fn_);
        }
        self.images += 1;
    }

    /// Adds the images of `other` after these.
    pub fn append(&mut self, other: &ImageTable) {
        let offset = self.images;
        self.image.extend(other.image.iter().map(|i| i + offset));
        self.class.extend_from_slice(&other.class);
        self.iou.extend_from_slice(&other.iou);
        self.tp.extend_from_slice(&other.tp);
        self.fp.extend_from_slice(&other.fp);
        self.fn_.extend_from_slice(&other.fn_);
        self.images += other.images;
    }
}

/// Averages the per-category `(iou_sum, tp, fp, fn)` that `stats_of` gives over `categories`
/// (in the given order: it fixes the order of the float sums), keeping those whose `isthing`
/// equals `isthing`, or all of them when it is `None`.
///
/// A category with no TP, FP or FN is left out of the mean and scored 0.0. When no category is
/// counted, panopticapi divides by zero; here the means are 0.0 with `n == 0`, and the caller
/// decides how to warn.
pub fn average(
    categories: &[CategoryInfo],
    isthing: Option<bool>,
    stats_of: impl Fn(i64) -> (f64, u64, u64, u64),
) -> Average {
    let mut sums = [0.0f64; 3];
    let mut per_class = Vec::new();
    for cat in categories.iter().filter(|c| isthing.is_none_or(|t| t == c.isthing)) {
        let (iou, tp, fp, fn_) = stats_of(cat.id);
        if tp + fp + fn_ == 0 {
            per_class.push(ClassScore { category_id: cat.id, pq: 0.0, sq: 0.0, rq: 0.0, counted: false });
            continue;
        }
        let [tps, fps, fns] = [tp, fp, fn_].map(|count| count as f64);
        // Same operations in the same order as panopticapi, so the same rounding.
        let denominator = tps + 0.5 * fps + 0.5 * fns;
        let pq = iou / denominator;
        let sq = if tp == 0 { 0.0 } else { iou / tps };
        let rq = tps / denominator;
        per_class.push(ClassScore { category_id: cat.id, pq, sq, rq, counted: true });
        sums[0] += pq;
        sums[1] += sq;
        sums[2] += rq;
    }
    let n = per_class.iter().filter(|c| c.counted).count();
    let mean = |sum: f64| if n == 0 { 0.0 } else { sum / n as f64 };
    Average { pq: mean(sums[0]), sq: mean(sums[1]), rq: mean(sums[2]), n, per_class }
}

/// PQ, SQ and RQ of one category; `counted` is false when it had no TP, FP or FN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScore {
    pub category_id: i64,
    pub pq: f64,
    pub sq: f64,
    pub rq: f64,
    pub counted: bool,
}

/// Unweighted means over the `n` counted categories, and every category's own scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Average {
    pub pq: f64,
    pub sq: f64,
    pub rq: f64,
    pub n: usize,
    pub per_class: Vec<ClassScore>,
}

// Results must equal panopticapi's bit for bit, so floats are compared exactly.
#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    fn exact(x: f64) -> ExactSum {
        let mut s = ExactSum::ZERO;
        s.add_f64(x);
        s
    }

    fn stats(entries: &[(i64, CategoryStats)]) -> PqStats {
        let mut s = PqStats::new();
        for &(id, c) in entries {
            *s.entry(id) = c;
        }
        s
    }

    #[test]
    fn averages_like_panopticapi() {
        let s = stats(&[
            (1, CategoryStats { iou: exact(1.5), tp: 2, fp: 1, fn_: 1 }),
            (2, CategoryStats { iou: ExactSum::ZERO, tp: 0, fp: 3, fn_: 0 }),
        ]);
        let cats = [
            CategoryInfo { id: 1, isthing: true },
            CategoryInfo { id: 2, isthing: false },
            CategoryInfo { id: 3, isthing: false },
        ];
        let all = s.average(&cats, None);
        assert_eq!(all.n, 2);
        // category 1: PQ = 1.5 / 3, SQ = 0.75, RQ = 2 / 3; category 2: all zero.
        assert_eq!(all.per_class[0].pq, 0.5);
        assert_eq!(all.per_class[0].sq, 0.75);
        assert_eq!(all.pq, 0.25);
        assert!(!all.per_class[2].counted);
        let things = s.average(&cats, Some(true));
        assert_eq!((things.n, things.per_class.len()), (1, 1));
    }

    #[test]
    fn image_tables_number_images_across_appends() {
        let one = stats(&[(3, CategoryStats { iou: exact(0.75), tp: 1, fp: 0, fn_: 2 })]);
        let mut a = ImageTable::default();
        a.push_image(&one);
        a.push_image(&PqStats::new());
        let mut b = ImageTable::default();
        b.push_image(&one);
        a.append(&b);
        assert_eq!((a.images, a.image.clone(), a.class.clone()), (3, vec![0, 2], vec![3, 3]));
        assert_eq!((a.iou[1], a.tp[1], a.fp[1], a.fn_[1]), (0.75, 1, 0, 2));
    }

    #[test]
    fn empty_split_gives_zeros() {
        let avg = PqStats::new().average(&[CategoryInfo { id: 1, isthing: true }], Some(false));
        assert_eq!((avg.n, avg.pq, avg.sq, avg.rq), (0, 0.0, 0.0, 0.0));
    }
}
