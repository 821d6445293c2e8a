//! One image's pixel work for each of panopticapi's converters. Each function takes decoded
//! inputs and gives the id map to write plus what the JSON record needs; reading files, writing
//! PNGs and assembling records are the caller's.

use super::canvas::Canvas;
use super::colors::{color_id, IdGenerator};
use super::heuristic::combine_masks;
pub use super::heuristic::{combine_order, CombineRule};
use super::rle::Rle;
use crate::png::samples::Samples;
use crate::png::RunMap;
use crate::runtime::memory::filled_vec;
use crate::PqError;

/// A segment of a converted image: its id (the colour's) and category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub id: u32,
    pub category_id: i64,
}

fn bad(message: String) -> PqError {
    PqError::BadMask { message }
}

/// The distinct values of `keys`, ascending.
fn distinct(keys: &[u32]) -> Vec<u32> {
    let max = keys.iter().copied().max().unwrap_or(0) as usize;
    if max < 1 << 22 {
        let mut seen = vec![false; max + 1];
        for &k in keys {
            seen[k as usize] = true;
        }
        return (0..=max).filter(|&k| seen[k]).filter_map(|k| u32::try_from(k).ok()).collect();
    }
    let mut sorted = keys.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted
}

/// Replaces every key by its value in `table` (keys and table ascending by key), run by run.
fn relabel(keys: &mut [u32], distinct: &[u32], values: &[u32]) {
    let mut last_key = None;
    let mut last_value = 0;
    for k in keys.iter_mut() {
        if last_key != Some(*k) {
            last_key = Some(*k);
            last_value = distinct.binary_search(k).map_or(0, |i| values[i]);
        }
        *k = last_value;
    }
}

/// panopticapi's 2-channel converter: channel 0 is the semantic class, channel 1 the instance;
/// every distinct (class, instance) pair that is not `void` becomes a segment, in ascending
/// order of `1000 * class + instance`.
pub fn two_channels(
    height: usize,
    width: usize,
    pixel: impl Fn(usize) -> (u32, u32),
    void: i64,
    known: impl Fn(i64) -> bool,
    colors: &mut IdGenerator<'_>,
) -> Result<(Vec<u32>, Vec<Segment>), PqError> {
    let mut keys = filled_vec(height * width, 0u32, "the 2-channel labels")?;
    for (i, key) in keys.iter_mut().enumerate() {
        let (class, instance) = pixel(i);
        if instance >= 1000 {
            return Err(bad(format!(
                "pixel ({}, {}) has instance {instance}; the 2-channel format's instances are below 1000",
                i % width,
                i / width
            )));
        }
        *key = class * 1000 + instance;
    }
    let keys_present = distinct(&keys);
    let (ids, segments) = two_channel_segments(&keys_present, void, known, colors)?;
    relabel(&mut keys, &keys_present, &ids);
    Ok((keys, segments))
}

/// The segments of the 2-channel keys present (ascending): each key's id (0 for `void`), and the
/// segments in key order.
fn two_channel_segments(
    keys_present: &[u32],
    void: i64,
    known: impl Fn(i64) -> bool,
    colors: &mut IdGenerator<'_>,
) -> Result<(Vec<u32>, Vec<Segment>), PqError> {
    let mut ids = Vec::with_capacity(keys_present.len());
    let mut segments = Vec::new();
    for &key in keys_present {
        let class = i64::from(key / 1000);
        if class == void {
            ids.push(0);
            continue;
        }
        if !known(class) {
            return Err(bad(format!("Unknown semantic label {class} (instance {})", key % 1000)));
        }
        let id = color_id(colors.color(class)?);
        ids.push(id);
        // A stuff class split over several instances keeps its one colour: the pixels merge into
        // one segment, listed once (panopticapi lists it once per instance, under one id).
        if !segments.iter().any(|s: &Segment| s.id == id) {
            segments.push(Segment { id, category_id: class });
        }
    }
    Ok((ids, segments))
}

/// [`two_channels`] on an image held as runs of RGB ids (class = R, instance = G), relabelled in
/// place: each run is looked at, never a pixel.
pub fn two_channel_runs(
    map: &mut RunMap,
    void: i64,
    known: impl Fn(i64) -> bool,
    colors: &mut IdGenerator<'_>,
) -> Result<Vec<Segment>, PqError> {
    let key = |id: u32| (id & 0xff) * 1000 + ((id >> 8) & 0xff);
    let keys: Vec<u32> = map.ids().iter().map(|&id| key(id)).collect();
    let keys_present = distinct(&keys);
    let (ids, segments) = two_channel_segments(&keys_present, void, known, colors)?;
    map.relabel(|id| Ok::<_, PqError>(keys_present.binary_search(&key(id)).map_or(0, |i| ids[i])))?;
    Ok(segments)
}

/// Detection masks painted into one panoptic map, in annotation order, each with the next
/// colour of its category; two masks sharing a pixel are an error naming both.
pub fn paint_detections(
    height: usize,
    width: usize,
    masks: &[(i64, Rle)],
    names: &[String],
    colors: &mut IdGenerator<'_>,
) -> Result<(RunMap, Vec<u32>), PqError> {
    // Ids are never 0, so a pixel already painted is one that is not 0.
    let mut canvas = Canvas::new(height, width)?;
    let mut ids: Vec<u32> = Vec::with_capacity(masks.len());
    for (index, (category, mask)) in masks.iter().enumerate() {
        let id = color_id(colors.color(*category)?);
        let name = |i: usize| names.get(i).cloned().unwrap_or_else(|| format!("#{i}"));
        if let Some(first) = ids.iter().position(|&other| other == id) {
            return Err(bad(format!(
                "segments {} and {} are both of stuff category {category}; the panoptic format has one segment per stuff category and image (merge their masks)",
                name(first),
                name(index)
            )));
        }
        if let Some((painted, p)) = canvas.first_painted(mask) {
            let other = ids.iter().position(|&i| i == painted).unwrap_or(index);
            return Err(bad(format!(
                "segment {} overlaps segment {} at pixel (x={}, y={}); panoptic segments cannot overlap",
                name(index),
                name(other),
                p / height,
                p % height
            )));
        }
        canvas.paint_free(mask, id);
        ids.push(id);
    }
    Ok((canvas.into_run_map(), ids))
}

/// panopticapi's combination of instance and semantic predictions (the paper's section 7), with
/// instances in the order given (by descending score): see [`combine_masks`].
pub fn combine(
    height: usize,
    width: usize,
    instances: &[(i64, Rle)],
    stuff: &[(i64, Rle)],
    rule: CombineRule,
    colors: &mut IdGenerator<'_>,
) -> Result<(RunMap, Vec<Segment>), PqError> {
    let mut canvas = Canvas::new(height, width)?;
    let mut segments: Vec<Segment> = Vec::new();
    let things: Vec<&Rle> = instances.iter().map(|(_, m)| m).collect();
    let regions: Vec<&Rle> = stuff.iter().map(|(_, m)| m).collect();
    combine_masks(&mut canvas, &things, &regions, rule, |is_stuff, i| {
        let category = if is_stuff { stuff[i].0 } else { instances[i].0 };
        let id = color_id(colors.color(category)?);
        // A second region of one stuff class joins the first (one colour, one segment).
        if !(is_stuff && segments.iter().any(|s| s.id == id)) {
            segments.push(Segment { id, category_id: category });
        }
        Ok(id)
    })?;
    Ok((canvas.into_run_map(), segments))
}

/// A segment of a Cityscapes `instanceIds` map, with what the converter records for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CityscapesSegment {
    pub id: u32,
    pub category_id: i64,
    pub area: u64,
    /// `[x, y, width, height]` of its pixels.
    pub bbox: [u64; 4],
    pub iscrowd: bool,
}

/// The pixel count and `[x0, y0, x1, y1]` (inclusive) of every value of `present` in a row-major
/// map `width` wide, in one pass that costs its row runs: the position of a pixel is never
/// divided out of its index.
fn areas_and_boxes(keys: &[u32], width: usize, present: &[u32]) -> (Vec<u64>, Vec<[usize; 4]>) {
    let mut area = vec![0u64; present.len()];
    let mut boxes = vec![[usize::MAX, usize::MAX, 0usize, 0usize]; present.len()];
    if width == 0 {
        return (area, boxes);
    }
    let (mut last, mut slot) = (None, 0);
    for (y, row) in keys.chunks_exact(width).enumerate() {
        let mut x = 0;
        while let Some(&k) = row.get(x) {
            let end = row[x..].iter().position(|&v| v != k).map_or(row.len(), |n| x + n);
            if last != Some(k) {
                last = Some(k);
                slot = present.binary_search(&k).unwrap_or(0);
            }
            area[slot] += (end - x) as u64;
            let b = &mut boxes[slot];
            b[0] = b[0].min(x);
            b[1] = b[1].min(y);
            b[2] = b[2].max(end - 1);
            b[3] = b[3].max(y);
            x = end;
        }
    }
    (area, boxes)
}

/// Cityscapes' `instanceIds` (a label below 1000 is a class's crowd region, `1000 * class + k`
/// an instance) as a panoptic map: every distinct value of a known class a segment, ascending;
/// stuff is never crowd; values of unknown classes stay VOID.
pub fn cityscapes(
    samples: Samples,
    is_thing: impl Fn(i64) -> Option<bool>,
    colors: &mut IdGenerator<'_>,
) -> Result<(Vec<u32>, Vec<CityscapesSegment>), PqError> {
    if samples.channels != 1 {
        return Err(bad(format!("an instanceIds PNG has one channel; this one has {}", samples.channels)));
    }
    // The samples become the map in place: a 2048x1024 map is 8 MB not copied.
    let (width, mut keys) = (samples.width, samples.values);
    let present = distinct(&keys);
    let (area, boxes) = areas_and_boxes(&keys, width, &present);
    let mut ids = Vec::with_capacity(present.len());
    let mut segments = Vec::new();
    for (slot, &value) in present.iter().enumerate() {
        let (class, crowd) =
            if value < 1000 { (i64::from(value), true) } else { (i64::from(value / 1000), false) };
        let Some(thing) = is_thing(class) else {
            ids.push(0);
            continue;
        };
        let id = color_id(colors.color(class)?);
        ids.push(id);
        let [x0, y0, x1, y1] = boxes[slot];
        segments.push(CityscapesSegment {
            id,
            category_id: class,
            area: area[slot],
            bbox: [x0 as u64, y0 as u64, (x1 - x0 + 1) as u64, (y1 - y0 + 1) as u64],
            iscrowd: crowd && thing,
        });
    }
    relabel(&mut keys, &present, &ids);
    Ok((keys, segments))
}

#[cfg(test)]
mod tests {
    use super::super::colors::CategoryColor;
    use super::*;

    const CATEGORIES: [CategoryColor; 2] = [
        CategoryColor { id: 1, isthing: true, color: [200, 0, 0] },
        CategoryColor { id: 2, isthing: false, color: [0, 0, 200] },
    ];

    #[test]
    fn areas_and_boxes_follow_the_pixels() {
        // 4 wide, 3 rows: the runs of a value span rows and restart within them.
        let keys = [5, 5, 7, 5, 7, 7, 7, 5, 9, 5, 5, 5];
        let present = distinct(&keys);
        assert_eq!(present, [5, 7, 9]);
        let (area, boxes) = areas_and_boxes(&keys, 4, &present);
        for (slot, &value) in present.iter().enumerate() {
            let pixels: Vec<(usize, usize)> =
                (0..keys.len()).filter(|&i| keys[i] == value).map(|i| (i % 4, i / 4)).collect();
            assert_eq!(area[slot], pixels.len() as u64);
            let xs = pixels.iter().map(|p| p.0);
            let ys = pixels.iter().map(|p| p.1);
            let expected = [xs.clone().min(), ys.clone().min(), xs.max(), ys.max()].map(Option::unwrap);
            assert_eq!(boxes[slot], expected, "value {value}");
        }
        assert_eq!(areas_and_boxes(&[], 0, &[]).0.len(), 0);
    }

    #[test]
    fn two_channel_pairs_become_segments() {
        // (class, instance) per pixel: void, thing 1 instances 1 and 2, stuff 2.
        let pixels = [(0, 0), (1, 1), (1, 2), (2, 0)];
        let values = pixels.iter().flat_map(|&(c, i)| [c, i, 0]).collect();
        let samples = Samples { height: 2, width: 2, channels: 3, values };
        let mut colors = IdGenerator::new(&CATEGORIES, 0, 0);
        let pixel = |i| (samples.at(i, 0), samples.at(i, 1));
        let (map, segments) = two_channels(2, 2, pixel, 0, |c| c == 1 || c == 2, &mut colors).unwrap();
        assert_eq!(map[0], 0);
        assert_eq!(map[1], color_id([200, 0, 0]));
        assert_ne!(map[2], map[1]);
        assert_eq!(map[3], color_id([0, 0, 200]));
        assert_eq!(segments.iter().map(|s| s.category_id).collect::<Vec<_>>(), [1, 1, 2]);
    }

    #[test]
    fn overlapping_detections_are_named() {
        let a = Rle::encode_column_major(&[1, 1, 0, 0], 2, 2);
        let b = Rle::encode_column_major(&[0, 1, 1, 0], 2, 2);
        let mut colors = IdGenerator::new(&CATEGORIES, 0, 0);
        let names = vec!["7".to_owned(), "9".to_owned()];
        let error = paint_detections(2, 2, &[(1, a), (1, b)], &names, &mut colors).unwrap_err();
        // Column-major pixel 1 of a 2x2 image: column 0, row 1.
        assert!(error.to_string().contains("segment 9 overlaps segment 7 at pixel (x=0, y=1)"), "{error}");
    }

    #[test]
    fn combine_drops_covered_instances_and_small_stuff() {
        let first = Rle::encode_column_major(&[1, 1, 1, 0, 0, 0], 3, 2);
        let covered = Rle::encode_column_major(&[0, 1, 1, 1, 0, 0], 3, 2); // 2 of 3 covered
        let stuff = Rle::encode_column_major(&[1, 1, 1, 1, 1, 1], 3, 2); // 2 or 3 left
        let mut colors = IdGenerator::new(&CATEGORIES, 0, 0);
        let rule = CombineRule { overlap_thr: 0.5, stuff_area_limit: 3.0 };
        let (map, segments) =
            combine(3, 2, &[(1, first), (1, covered)], &[(2, stuff)], rule, &mut colors).unwrap();
        let map = map.to_ids().unwrap();
        assert_eq!(segments.len(), 2);
        // Column-major pixels 0..3 are column 0: map indices 0, 2, 4.
        assert_eq!([map[0], map[2], map[4]], [color_id([200, 0, 0]); 3]);
        assert_eq!([map[1], map[3], map[5]], [color_id([0, 0, 200]); 3]);
    }
}
