//! Segment interiors as labelled column intervals, row by row: the pixels a `d`-fold erosion by a
//! 3x3 square keeps, found from each row's runs without visiting pixels.

use std::ops::Range;

/// Columns `start..end` of a row that belong to the interior of segment `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub start: u32,
    pub end: u32,
    pub id: u32,
}

/// Appends to `out` the intersection of two sorted, disjoint interval lists, keeping only the
/// overlaps of intervals with the same id.
pub fn intersect(first: &[Interval], second: &[Interval], out: &mut Vec<Interval>) {
    let (mut i, mut j) = (0, 0);
    while i < first.len() && j < second.len() {
        let (one, two) = (first[i], second[j]);
        let (start, end) = (one.start.max(two.start), one.end.min(two.end));
        if start < end && one.id == two.id {
            out.push(Interval { start, end, id: one.id });
        }
        if one.end <= two.end {
            i += 1;
        } else {
            j += 1;
        }
    }
}

/// The columns of a row whose horizontal segment of radius `d` lies inside one run (the row's
/// ends at 0 and `width` count as outside): a run `s..e` keeps `s + d..e - d`, for the ids `keep`
/// accepts.
pub fn horizontal(ends: &[u32], ids: &[u32], d: u32, keep: &dyn Fn(u32) -> bool, out: &mut Vec<Interval>) {
    let mut start = 0u32;
    for (&end, &id) in ends.iter().zip(ids) {
        let (lo, hi) = (start.saturating_add(d), end.saturating_sub(d));
        if lo < hi && keep(id) {
            out.push(Interval { start: lo, end: hi, id });
        }
        start = end;
    }
}

/// Interval lists stored end to end, each addressed by its range: no allocation per list.
#[derive(Debug, Default)]
pub struct Lists {
    items: Vec<Interval>,
    ranges: Vec<Range<usize>>,
}

impl Lists {
    pub fn clear(&mut self) {
        self.items.clear();
        self.ranges.clear();
    }

    /// Sizes the table for `count` lists, all empty.
    fn reset(&mut self, count: usize) {
        self.items.clear();
        self.ranges.clear();
        self.ranges.resize(count, 0..0);
    }

    pub fn get(&self, k: usize) -> &[Interval] {
        &self.items[self.ranges[k].clone()]
    }

    /// Makes list `k` with `fill`, which reads the lists so far and writes to `scratch`.
    fn set_with(
        &mut self,
        k: usize,
        scratch: &mut Vec<Interval>,
        fill: impl FnOnce(&[Interval], &mut Vec<Interval>),
    ) {
        scratch.clear();
        fill(&self.items, scratch);
        let start = self.items.len();
        self.items.extend_from_slice(scratch);
        self.ranges[k] = start..self.items.len();
    }

    /// Appends a list that `fill` pushes onto the shared vector.
    pub fn push_with(&mut self, fill: impl FnOnce(&mut Vec<Interval>)) {
        let start = self.items.len();
        fill(&mut self.items);
        self.ranges.push(start..self.items.len());
    }
}

/// Buffers of [`vertical`], kept from image to image.
#[derive(Debug, Default)]
pub struct Window {
    prefix: Lists,
    suffix: Lists,
    scratch: Vec<Interval>,
}

/// The interior of every row into `interior` (list `y` for row `y`): row `y` keeps the columns
/// inside the horizontal interiors of rows `y - d..=y + d` with the same id, and nothing when
/// that window leaves the image. `row(y)` is row `y`'s horizontal interior.
///
/// The window intersections use van Herk and Gil-Werman's running intersections over blocks of
/// `2d + 1` rows: three list intersections a row whatever `d`.
pub fn vertical<'a>(
    height: usize,
    row: impl Fn(usize) -> &'a [Interval],
    d: usize,
    window: &mut Window,
    interior: &mut Lists,
) {
    interior.reset(height);
    let k = 2 * d + 1;
    if k > height {
        return;
    }
    let Window { prefix, suffix, scratch } = window;
    prefix.reset(height);
    suffix.reset(height);
    for block in (0..height).step_by(k) {
        let last = (block + k).min(height) - 1;
        prefix.set_with(block, scratch, |_, out| out.extend_from_slice(row(block)));
        for y in block + 1..=last {
            let previous = prefix.ranges[y - 1].clone();
            prefix.set_with(y, scratch, |done, out| intersect(&done[previous], row(y), out));
        }
        suffix.set_with(last, scratch, |_, out| out.extend_from_slice(row(last)));
        for y in (block..last).rev() {
            let next = suffix.ranges[y + 1].clone();
            suffix.set_with(y, scratch, |done, out| intersect(row(y), &done[next], out));
        }
    }
    for y in d..height - d {
        let (top, bottom) = (y - d, y + d);
        if top % k == 0 {
            interior.set_with(y, scratch, |_, out| out.extend_from_slice(prefix.get(bottom)));
        } else {
            interior.set_with(y, scratch, |_, out| intersect(suffix.get(top), prefix.get(bottom), out));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersections_keep_equal_ids_only() {
        let a = [Interval { start: 0, end: 5, id: 1 }, Interval { start: 6, end: 9, id: 2 }];
        let b = [Interval { start: 3, end: 7, id: 1 }, Interval { start: 7, end: 12, id: 2 }];
        let mut out = Vec::new();
        intersect(&a, &b, &mut out);
        assert_eq!(out, [Interval { start: 3, end: 5, id: 1 }, Interval { start: 7, end: 9, id: 2 }]);
    }

    #[test]
    fn horizontal_interiors_stay_clear_of_run_and_row_ends() {
        let mut out = Vec::new();
        horizontal(&[3, 10, 12], &[1, 2, 3], 2, &|_| true, &mut out);
        assert_eq!(out, [Interval { start: 5, end: 8, id: 2 }]);
        out.clear();
        horizontal(&[3, 10, 12], &[1, 2, 3], 2, &|id| id != 2, &mut out);
        assert!(out.is_empty());
    }
}
