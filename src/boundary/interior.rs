//! Segment interiors as labelled column intervals, row by row: the pixels a `d`-fold erosion by a
//! 3x3 square keeps, found from each row's runs without visiting pixels.

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
/// ends at 0 and `width` count as outside): a run `s..e` keeps `s + d..e - d`.
pub fn horizontal(ends: &[u32], ids: &[u32], d: u32, out: &mut Vec<Interval>) {
    let mut start = 0u32;
    for (&end, &id) in ends.iter().zip(ids) {
        let (lo, hi) = (start.saturating_add(d), end.saturating_sub(d));
        if lo < hi {
            out.push(Interval { start: lo, end: hi, id });
        }
        start = end;
    }
}

/// The interior of every row: row `y` keeps the columns inside the horizontal interiors of rows
/// `y - d..=y + d` with the same id, and nothing when that window leaves the image.
///
/// `rows[y]` is row `y`'s horizontal interior. The window intersections use van Herk and
/// Gil-Werman's running intersections over blocks of `2d + 1` rows: three list intersections a
/// row whatever `d`.
pub fn vertical(rows: &[&[Interval]], d: usize) -> Vec<Vec<Interval>> {
    let height = rows.len();
    let k = 2 * d + 1;
    let mut interior = vec![Vec::new(); height];
    if k > height {
        return interior;
    }
    // prefix[y]: rows from the start of y's block to y; suffix[y]: rows from y to its block's end.
    let mut prefix: Vec<Vec<Interval>> = vec![Vec::new(); height];
    let mut suffix: Vec<Vec<Interval>> = vec![Vec::new(); height];
    for block in (0..height).step_by(k) {
        let last = (block + k).min(height) - 1;
        prefix[block] = rows[block].to_vec();
        for y in block + 1..=last {
            let mut out = Vec::new();
            intersect(&prefix[y - 1], rows[y], &mut out);
            prefix[y] = out;
        }
        suffix[last] = rows[last].to_vec();
        for y in (block..last).rev() {
            let mut out = Vec::new();
            intersect(rows[y], &suffix[y + 1], &mut out);
            suffix[y] = out;
        }
    }
    for (y, kept) in interior.iter_mut().enumerate().take(height - d).skip(d) {
        let (top, bottom) = (y - d, y + d);
        if top % k == 0 {
            kept.clone_from(&prefix[bottom]);
        } else {
            intersect(&suffix[top], &prefix[bottom], kept);
        }
    }
    interior
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
        horizontal(&[3, 10, 12], &[1, 2, 3], 2, &mut out);
        assert_eq!(out, [Interval { start: 5, end: 8, id: 2 }]);
    }
}
