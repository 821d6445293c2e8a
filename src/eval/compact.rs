//! Labels renumbered 0, 1, 2, … in order of first sight, and the joint count of two renumbered
//! columns: the histogram for data without long runs of one label (point clouds), where a hash
//! lookup per point and per table was the cost.
//!
//! A scan holds tens of distinct labels a side, so once each point's label is a small index the
//! (ground truth × prediction) counts fit a dense matrix in the L1 cache: every derived table (the
//! class confusion, segment areas, intersections) is then read off that matrix, not counted
//! point by point again.

use std::ops::Range;

use crate::eval::histogram::LabelMap;

/// A key the [`Compactor`] can renumber: its bits spread into one `u64` for the table's hash.
pub trait CompactKey: Copy + Eq + Default {
    /// An injective-enough `u64` of the key (collisions only cost probes).
    fn spread(self) -> u64;
}

impl CompactKey for u32 {
    #[inline]
    fn spread(self) -> u64 {
        u64::from(self)
    }
}

impl CompactKey for (i64, i64) {
    #[inline]
    fn spread(self) -> u64 {
        // Reinterpreting the bits is the point; the odd multiplier keeps the pair injective
        // enough that two (class, instance) keys rarely share a spread.
        #[allow(clippy::cast_sign_loss)]
        let (a, b) = (self.0 as u64, self.1 as u64);
        a.wrapping_mul(0xff51_afd7_ed55_8ccd) ^ b
    }
}

/// Fibonacci hashing's multiplier (2^64 / φ): the product's top bits depend on every key bit.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// An open-addressing table from keys to their index of first sight.
#[derive(Debug, Clone)]
pub struct Compactor<K> {
    /// Per slot, the key and 1 + its index, or an index of 0 for an empty slot: the key is
    /// held in the slot, so that a lookup is one load, not two dependent ones.
    slots: Vec<(K, u32)>,
    keys: Vec<K>,
    /// 64 − log2(slots.len()): the hash's top bits pick the slot.
    shift: u32,
}

/// The table's first size (slots): a scan's labels fit without growing.
const FIRST_BITS: u32 = 9;

impl<K: CompactKey> Default for Compactor<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: CompactKey> Compactor<K> {
    #[must_use]
    pub fn new() -> Self {
        Self { slots: vec![(K::default(), 0); 1 << FIRST_BITS], keys: Vec::new(), shift: 64 - FIRST_BITS }
    }

    /// The keys in order of first sight: `keys()[i]` is the key of index `i`.
    #[must_use]
    pub fn keys(&self) -> &[K] {
        &self.keys
    }

    #[inline]
    fn home(&self, key: K) -> usize {
        // The top bits of the product, which is what `shift` keeps, fit in usize.
        #[allow(clippy::cast_possible_truncation)]
        let slot = (key.spread().wrapping_mul(GOLDEN) >> self.shift) as usize;
        slot
    }

    /// The key's index, given it the next one if it is new.
    #[inline]
    pub fn index(&mut self, key: K) -> u32 {
        let mask = self.slots.len() - 1;
        let mut slot = self.home(key);
        loop {
            let (held, index) = self.slots[slot];
            if held == key && index != 0 {
                return index - 1;
            }
            if index == 0 {
                return self.insert(slot, key);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The key's index, if it has been seen.
    #[inline]
    #[must_use]
    pub fn get(&self, key: K) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut slot = self.home(key);
        loop {
            let (held, index) = self.slots[slot];
            if index == 0 {
                return None;
            }
            if held == key {
                return Some(index - 1);
            }
            slot = (slot + 1) & mask;
        }
    }

    #[cold]
    fn insert(&mut self, slot: usize, key: K) -> u32 {
        let index = u32::try_from(self.keys.len()).expect("fewer than 2^32 distinct labels in one scan");
        self.keys.push(key);
        self.slots[slot] = (key, index + 1);
        // A quarter full at most: a lookup mostly ends at its first slot, and a mispredicted
        // probe costs more than the table's few kilobytes.
        if self.keys.len() * 4 > self.slots.len() {
            self.grow();
        }
        index
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        self.slots = vec![(K::default(), 0); size];
        self.shift -= 1;
        let mask = size - 1;
        for (index, &key) in self.keys.iter().enumerate() {
            let mut slot = self.home(key);
            while self.slots[slot].1 != 0 {
                slot = (slot + 1) & mask;
            }
            // Below 2^32: checked as each key came in.
            #[allow(clippy::cast_possible_truncation)]
            let held = index as u32 + 1;
            self.slots[slot] = (key, held);
        }
    }

    /// Renumbers a column into `out` (cleared first). Every point is looked up: remembering the
    /// last key to skip repeats measured slower, its branch mispredicted at every change of
    /// label, where the table's lookup mostly ends at its first slot.
    pub fn column(&mut self, keys: impl Iterator<Item = K>, out: &mut Vec<u32>) {
        out.clear();
        for key in keys {
            let index = self.index(key);
            out.push(index);
        }
    }
}

/// The joint counts of two renumbered columns: how many points have row index `r` and column
/// index `c`, dense while the matrix is small (see [`JointCounter`]), else hashed.
#[derive(Debug, Clone)]
pub struct Joint {
    rows: usize,
    cols: usize,
    cells: Cells,
}

#[derive(Debug, Clone)]
enum Cells {
    /// Row `r` at `counts[r * stride..][..cols]`.
    Dense {
        stride: usize,
        counts: Vec<u64>,
    },
    Sparse(LabelMap<(u32, u32), u64>),
}

/// Cells beyond which the joint is hashed rather than dense (2 MiB of counts).
const DENSE_LIMIT: usize = 1 << 18;

/// Points renumbered and counted at a time: their indices stay in the L1 cache between the
/// renumbering and the counting, rather than going out to memory as two whole columns.
pub const CHUNK: usize = 4096;

/// The joint counts, built chunk by chunk while the two [`Compactor`]s still see new keys: a
/// dense matrix whose row length doubles when the columns outgrow it, hashed once too large.
#[derive(Debug, Default)]
pub struct JointCounter {
    stride: usize,
    rows: usize,
    dense: Vec<u64>,
    sparse: Option<LabelMap<(u32, u32), u64>>,
}

impl JointCounter {
    /// Counts one chunk: `rows_of[i]`, `cols_of[i]`, every index below `rows` and `cols`.
    ///
    /// # Panics
    /// If the two chunks differ in length or an index is out of its bound.
    pub fn add(&mut self, rows_of: &[u32], cols_of: &[u32], rows: usize, cols: usize) {
        assert_eq!(rows_of.len(), cols_of.len(), "one row and one column index per point");
        if self.sparse.is_none() {
            self.reshape(rows, cols);
        }
        if let Some(sparse) = &mut self.sparse {
            let mut pairs = rows_of.iter().zip(cols_of).map(|(&r, &c)| (r, c));
            let Some(mut key) = pairs.next() else { return };
            let mut run = 1u64;
            for pair in pairs {
                if pair == key {
                    run += 1;
                } else {
                    *sparse.entry(key).or_default() += run;
                    (key, run) = (pair, 1);
                }
            }
            *sparse.entry(key).or_default() += run;
            return;
        }
        let stride = self.stride;
        for (&r, &c) in rows_of.iter().zip(cols_of) {
            self.dense[r as usize * stride + c as usize] += 1;
        }
    }

    /// Makes room for `rows` × `cols`, or turns to the hashed form when that is too large.
    fn reshape(&mut self, rows: usize, cols: usize) {
        let stride = if cols > self.stride { cols.next_power_of_two() } else { self.stride };
        let rows = rows.max(self.rows);
        if rows.saturating_mul(stride) > DENSE_LIMIT {
            let mut sparse = LabelMap::default();
            self.for_each_dense(|r, c, count| {
                #[allow(clippy::cast_possible_truncation)] // indices are u32s
                sparse.insert((r as u32, c as u32), count);
            });
            (self.sparse, self.dense) = (Some(sparse), Vec::new());
            return;
        }
        if stride != self.stride && self.rows > 0 {
            let mut wider = vec![0u64; rows * stride];
            for (r, row) in self.dense.chunks_exact(self.stride).enumerate() {
                wider[r * stride..r * stride + self.stride].copy_from_slice(row);
            }
            self.dense = wider;
        } else {
            self.dense.resize(rows * stride, 0);
        }
        (self.stride, self.rows) = (stride, rows);
    }

    fn for_each_dense(&self, mut f: impl FnMut(usize, usize, u64)) {
        for (cell, &count) in self.dense.iter().enumerate() {
            if count != 0 {
                f(cell / self.stride, cell % self.stride, count);
            }
        }
    }

    /// The counts, for `rows` × `cols` indices in all.
    #[must_use]
    pub fn finish(self, rows: usize, cols: usize) -> Joint {
        let cells = match self.sparse {
            Some(sparse) => Cells::Sparse(sparse),
            None => Cells::Dense { stride: self.stride, counts: self.dense },
        };
        Joint { rows, cols, cells }
    }
}

impl Joint {
    /// Counts `rows_of[i]`, `cols_of[i]` over the points; `rows` and `cols` bound the indices.
    ///
    /// # Panics
    /// If an index is out of its bound or the two columns differ in length (callers pass a
    /// [`Compactor`]'s output and its number of keys).
    #[must_use]
    pub fn count(rows_of: &[u32], cols_of: &[u32], rows: usize, cols: usize) -> Self {
        let mut counter = JointCounter::default();
        counter.add(rows_of, cols_of, rows, cols);
        counter.finish(rows, cols)
    }

    /// Renumbers two columns of `n` keys each and counts their joint, chunk by chunk:
    /// `row_keys(range)` and `col_keys(range)` give the keys of the points in `range`.
    pub fn of_columns<R: CompactKey, C: CompactKey, RI, CI>(
        (rows, cols): (&mut Compactor<R>, &mut Compactor<C>),
        n: usize,
        row_keys: impl Fn(Range<usize>) -> RI,
        col_keys: impl Fn(Range<usize>) -> CI,
    ) -> Self
    where
        RI: Iterator<Item = R>,
        CI: Iterator<Item = C>,
    {
        let (mut rows_of, mut cols_of) = (Vec::with_capacity(CHUNK), Vec::with_capacity(CHUNK));
        let mut counter = JointCounter::default();
        for start in (0..n).step_by(CHUNK) {
            let chunk = start..(start + CHUNK).min(n);
            rows.column(row_keys(chunk.clone()), &mut rows_of);
            cols.column(col_keys(chunk), &mut cols_of);
            counter.add(&rows_of, &cols_of, rows.keys().len(), cols.keys().len());
        }
        counter.finish(rows.keys().len(), cols.keys().len())
    }

    #[must_use]
    pub fn rows(&self) -> usize {
        self.rows
    }

    #[must_use]
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Calls `f(row, col, count)` for every non-zero cell (in no particular order when hashed).
    pub fn for_each(&self, mut f: impl FnMut(usize, usize, u64)) {
        match &self.cells {
            Cells::Dense { stride, counts } => {
                for (r, row) in counts.chunks_exact((*stride).max(1)).enumerate().take(self.rows) {
                    for (c, &count) in row.iter().enumerate().take(self.cols) {
                        if count != 0 {
                            f(r, c, count);
                        }
                    }
                }
            }
            Cells::Sparse(sparse) => {
                for (&(r, c), &count) in sparse {
                    f(r as usize, c as usize, count);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_follow_first_sight_and_survive_growth() {
        let mut compactor = Compactor::<u32>::new();
        let labels: Vec<u32> = (0..1000u32).map(|i| (i % 300) << 16 | (i % 7)).collect();
        let mut out = Vec::new();
        compactor.column(labels.iter().copied(), &mut out);
        let mut seen: Vec<u32> = Vec::new();
        for (&label, &index) in labels.iter().zip(&out) {
            if let Some(at) = seen.iter().position(|&l| l == label) {
                assert_eq!(index as usize, at);
            } else {
                assert_eq!(index as usize, seen.len());
                seen.push(label);
            }
        }
        assert_eq!(compactor.keys(), &seen[..]);
    }

    #[test]
    fn chunked_counts_equal_whole_columns_while_the_matrix_grows() {
        // New labels keep arriving in later chunks, so the row length doubles mid-way; the
        // second case outgrows the dense limit and turns to the hashed form.
        for spread in [3u32, 700] {
            let gt: Vec<u32> = (0..30_000u32).map(|i| (i / 40) % (spread * 2) + (i % 3)).collect();
            let pred: Vec<u32> = (0..30_000u32).map(|i| (i * 31 / 7) % (i / 50 + spread)).collect();
            let (mut a, mut b) = (Compactor::new(), Compactor::new());
            let chunked = Joint::of_columns(
                (&mut a, &mut b),
                gt.len(),
                |r| gt[r].iter().copied(),
                |r| pred[r].iter().copied(),
            );
            let (mut c, mut d) = (Compactor::new(), Compactor::new());
            let (mut rows_of, mut cols_of) = (Vec::new(), Vec::new());
            c.column(gt.iter().copied(), &mut rows_of);
            d.column(pred.iter().copied(), &mut cols_of);
            let whole = Joint::count(&rows_of, &cols_of, c.keys().len(), d.keys().len());
            let cells = |joint: &Joint| {
                let mut cells = Vec::new();
                joint.for_each(|r, c, n| cells.push((r, c, n)));
                cells.sort_unstable();
                cells
            };
            assert_eq!(cells(&chunked), cells(&whole));
            assert_eq!((chunked.rows(), chunked.cols()), (whole.rows(), whole.cols()));
            assert_eq!(cells(&chunked).iter().map(|c| c.2).sum::<u64>(), 30_000);
        }
    }

    #[test]
    fn dense_and_sparse_joints_agree() {
        let rows_of: Vec<u32> = (0..20_000u32).map(|i| (i * 7919) % 97).collect();
        let cols_of: Vec<u32> = (0..20_000u32).map(|i| (i / 3) % 89).collect();
        let collect = |joint: &Joint| {
            let mut cells = Vec::new();
            joint.for_each(|r, c, n| cells.push((r, c, n)));
            cells.sort_unstable();
            cells
        };
        let dense = Joint::count(&rows_of, &cols_of, 97, 89);
        assert!(matches!(dense.cells, Cells::Dense { .. }));
        // Bounds far above the indices force the hashed form on the same points.
        let sparse = Joint::count(&rows_of, &cols_of, 97_000, 89_000);
        assert!(matches!(sparse.cells, Cells::Sparse(_)));
        let mut expected = std::collections::BTreeMap::new();
        for (&r, &c) in rows_of.iter().zip(&cols_of) {
            *expected.entry((r as usize, c as usize)).or_insert(0u64) += 1;
        }
        let expected: Vec<_> = expected.into_iter().map(|((r, c), n)| (r, c, n)).collect();
        assert_eq!(collect(&dense), expected);
        assert_eq!(collect(&sparse), expected);
    }
}
