//! The intersection histogram: how many pixels each (ground-truth id, predicted id) pair covers.
//!
//! Panoptic maps are long horizontal runs of one id, so pixels are counted run by run: a hash
//! lookup happens once per run of equal pairs, not once per pixel.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::runtime::parallel::Cancel;
use crate::PqError;

/// A multiply-rotate hasher for the one key type used here, a packed pair of ids. std's SipHash
/// guards against adversarial keys, which pixel ids are not, at several times the cost.
#[derive(Default)]
pub struct PairHasher(u64);

impl Hasher for PairHasher {
    #[inline]
    fn write_u64(&mut self, key: u64) {
        self.0 = (self.0.rotate_left(5) ^ key).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    #[inline]
    fn write_i64(&mut self, key: i64) {
        // Reinterpreting the bits is the point: any injective map to u64 hashes as well.
        #[allow(clippy::cast_sign_loss)]
        self.write_u64(key as u64);
    }

    #[inline]
    fn write_u32(&mut self, key: u32) {
        self.write_u64(u64::from(key));
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type PairMap = HashMap<u64, u64, BuildHasherDefault<PairHasher>>;

/// A hash map keyed by small integer tuples (ids, labels), hashed with [`PairHasher`].
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<PairHasher>>;

/// A set of small integer tuples, hashed with [`PairHasher`].
pub type IdSet<K> = std::collections::HashSet<K, BuildHasherDefault<PairHasher>>;

/// [`PairHasher`] with its state folded at the end, for keys whose low bits barely vary: labels
/// `(class << 16) + instance`, `(class, id)` tuples. The table picks a bucket by the hash's low
/// bits, which a multiply alone fills from the key's low bits only; the fold brings the high
/// bits down.
#[derive(Default)]
pub struct LabelHasher(PairHasher);

impl Hasher for LabelHasher {
    #[inline]
    fn write_u64(&mut self, key: u64) {
        self.0.write_u64(key);
    }

    #[inline]
    fn write_i64(&mut self, key: i64) {
        self.0.write_i64(key);
    }

    #[inline]
    fn write_u32(&mut self, key: u32) {
        self.0.write_u32(key);
    }

    #[inline]
    fn write_usize(&mut self, key: usize) {
        self.0.write_u64(key as u64);
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let h = self.0.finish();
        h ^ (h >> 29) ^ (h >> 47)
    }
}

/// A hash map keyed by labels or `(class, id)` tuples, hashed with [`LabelHasher`].
pub type LabelMap<K, V> = HashMap<K, V, BuildHasherDefault<LabelHasher>>;

/// A set of labels or `(class, id)` tuples, hashed with [`LabelHasher`].
pub type LabelSet<K> = std::collections::HashSet<K, BuildHasherDefault<LabelHasher>>;

/// A table's last key and the count held back for it: labels come in runs, so consecutive
/// updates mostly hit the same key, and the table is touched once per change of key.
pub struct Pending<K> {
    key: Option<K>,
    count: u64,
}

impl<K: std::hash::Hash + Eq + Copy> Default for Pending<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: std::hash::Hash + Eq + Copy> Pending<K> {
    #[must_use]
    pub fn new() -> Self {
        Self { key: None, count: 0 }
    }

    #[inline]
    pub fn add<S: std::hash::BuildHasher>(&mut self, key: K, count: u64, table: &mut HashMap<K, u64, S>) {
        if self.key == Some(key) {
            self.count += count;
        } else {
            self.flush(table);
            (self.key, self.count) = (Some(key), count);
        }
    }

    pub fn flush<S: std::hash::BuildHasher>(&mut self, table: &mut HashMap<K, u64, S>) {
        if let Some(key) = self.key.take() {
            *table.entry(key).or_default() += self.count;
        }
    }
}

#[inline]
fn key(gt: u32, pred: u32) -> u64 {
    (u64::from(gt) << 32) | u64::from(pred)
}

/// Pixel counts of (ground-truth id, predicted id) pairs, VOID included.
#[derive(Default, Debug, Clone)]
pub struct PairHistogram {
    counts: PairMap,
}

impl PairHistogram {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Empties the histogram but keeps its allocation, so one histogram can serve many images.
    pub fn clear(&mut self) {
        self.counts.clear();
    }

    /// Adds `len` pixels of the pair (`gt`, `pred`).
    // Called once per run of every changed row: measured, inlining it into the row loop pays.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub fn add_run(&mut self, gt: u32, pred: u32, len: u64) {
        let key = key(gt, pred);
        // Nearly every run meets a pair already counted: look up before paying for an entry.
        if let Some(count) = self.counts.get_mut(&key) {
            *count += len;
        } else {
            self.counts.insert(key, len);
        }
    }

    /// Adds every pixel of two id maps of the same length, pixel `i` of one paired with pixel
    /// `i` of the other.
    pub fn add_maps(&mut self, gt: &[u32], pred: &[u32]) -> Result<(), crate::PqError> {
        if gt.len() != pred.len() {
            return Err(crate::PqError::LengthMismatch {
                what: "predicted pixels",
                expected: gt.len(),
                got: pred.len(),
            });
        }
        let mut pairs = gt.iter().zip(pred);
        let Some((&g0, &p0)) = pairs.next() else {
            return Ok(());
        };
        let (mut run_gt, mut run_pred, mut run_len) = (g0, p0, 1u64);
        for (&g, &p) in pairs {
            if g == run_gt && p == run_pred {
                run_len += 1;
            } else {
                self.add_run(run_gt, run_pred, run_len);
                (run_gt, run_pred, run_len) = (g, p, 1);
            }
        }
        self.add_run(run_gt, run_pred, run_len);
        Ok(())
    }

    /// Pixels covered by the pair, 0 if it never occurs.
    #[must_use]
    pub fn get(&self, gt: u32, pred: u32) -> u64 {
        self.counts.get(&key(gt, pred)).copied().unwrap_or(0)
    }

    /// Number of distinct pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Every (gt, pred, pixels) triple, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32, u64)> + '_ {
        self.counts.iter().map(|(&k, &n)| {
            // The key is (gt << 32) | pred; both halves fit u32 by construction.
            #[allow(clippy::cast_possible_truncation)]
            let (gt, pred) = ((k >> 32) as u32, k as u32);
            (gt, pred, n)
        })
    }
}

/// A borrowed row-major id map.
#[derive(Debug, Clone, Copy)]
pub struct MapView<'a> {
    pub ids: &'a [u32],
    pub height: usize,
    pub width: usize,
}

/// Pixels counted between two looks at the cancel flag: well under a millisecond of work on
/// real maps, and still about 30 ms on random noise, where every pixel is a new pair.
const PIXELS_PER_CHECK: usize = 1 << 16;

/// The pair histogram of two id maps, after checking that their shapes agree.
pub fn map_histogram(
    image_id: &str,
    gt_map: MapView<'_>,
    pred_map: MapView<'_>,
    cancel: &Cancel,
) -> Result<PairHistogram, PqError> {
    if (gt_map.height, gt_map.width) != (pred_map.height, pred_map.width) {
        return Err(PqError::SizeMismatch {
            image_id: image_id.to_owned(),
            gt_height: gt_map.height,
            gt_width: gt_map.width,
            pred_height: pred_map.height,
            pred_width: pred_map.width,
        });
    }
    for (map, what) in [(gt_map, "ground-truth pixels"), (pred_map, "predicted pixels")] {
        if map.ids.len() != map.height * map.width {
            return Err(PqError::LengthMismatch {
                what,
                expected: map.height * map.width,
                got: map.ids.len(),
            });
        }
    }
    histogram_of(gt_map.ids, pred_map.ids, cancel)
}

/// The intersection histogram of two id maps of equal length; stops early once `cancel` is set.
pub fn histogram_of(gt: &[u32], pred: &[u32], cancel: &Cancel) -> Result<PairHistogram, PqError> {
    if gt.len() != pred.len() {
        return Err(PqError::LengthMismatch {
            what: "predicted pixels",
            expected: gt.len(),
            got: pred.len(),
        });
    }
    let mut histogram = PairHistogram::new();
    // A run cut at a chunk border is counted in two parts: the same totals.
    for (gt_ids, pred_ids) in gt.chunks(PIXELS_PER_CHECK).zip(pred.chunks(PIXELS_PER_CHECK)) {
        cancel.check()?;
        histogram.add_maps(gt_ids, pred_ids)?;
    }
    Ok(histogram)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(h: &PairHistogram) -> Vec<(u32, u32, u64)> {
        let mut v: Vec<_> = h.iter().collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn counts_pairs_across_runs() {
        let gt = [1, 1, 1, 2, 2, 0, 1, 1];
        let pred = [5, 5, 6, 6, 6, 6, 5, 5];
        let mut h = PairHistogram::new();
        h.add_maps(&gt, &pred).unwrap();
        assert_eq!(sorted(&h), vec![(0, 6, 1), (1, 5, 4), (1, 6, 1), (2, 6, 2)]);
        assert_eq!(h.get(1, 5), 4);
        assert_eq!(h.get(9, 9), 0);
    }

    #[test]
    fn total_equals_pixel_count_and_clear_empties() {
        let gt: Vec<u32> = (0..1000).map(|i| i / 7 % 5).collect();
        let pred: Vec<u32> = (0..1000).map(|i| (i / 3 % 4) << 20).collect();
        let mut h = PairHistogram::new();
        h.add_maps(&gt, &pred).unwrap();
        assert_eq!(h.iter().map(|(_, _, n)| n).sum::<u64>(), 1000);
        h.clear();
        assert!(h.is_empty());
    }

    #[test]
    fn empty_maps_and_length_mismatch() {
        let mut h = PairHistogram::new();
        h.add_maps(&[], &[]).unwrap();
        assert!(h.is_empty());
        assert!(h.add_maps(&[1], &[]).is_err());
    }
}
