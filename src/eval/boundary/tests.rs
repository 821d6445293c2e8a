// Small test images: every count fits every integer type.
#![allow(clippy::cast_possible_truncation)]

use super::*;
use crate::draw::distance::chessboard;
use std::collections::HashMap;

/// Ids 0 (VOID) and 3 are not listed: they keep all their pixels. The order is segments_info's.
const LISTED: [u32; 5] = [2, 5, 1, 4, 6];

/// boundary-iou-api's procedure, pixel by pixel: the listed segments one by one, each one's mask
/// taken from the map painted so far, its pixels painted `marker` and then its band (the mask's
/// pixels within chessboard distance `d` of another pixel or the edge) its own id. Returns the
/// painted map and each listed segment's band area.
fn repaint(
    ids: &[u32],
    height: usize,
    width: usize,
    d: usize,
    listed: &[u32],
    marker: u32,
) -> (Vec<u32>, HashMap<u32, u64>) {
    let mut map = ids.to_vec();
    let mut areas = HashMap::new();
    for &id in listed {
        let mask: Vec<u32> = map.iter().map(|&v| u32::from(v == id)).collect();
        let distance = chessboard(&mask, height, width).unwrap();
        let mut area = 0;
        for i in 0..map.len() {
            if mask[i] == 1 {
                let band = distance[i] as usize <= d;
                map[i] = if band { id } else { marker };
                area += u64::from(band);
            }
        }
        areas.insert(id, area);
    }
    (map, areas)
}

/// The counts [`band_histogram`] must give: the histogram of the two painted maps (interiors as
/// [`INTERIOR`], or as `marker` on a side that lists a segment with that id) and the band area of
/// that segment.
fn brute(gt: &[u32], pred: &[u32], height: usize, width: usize, d: usize, marker: Option<u32>) -> Expected {
    let side = |ids: &[u32]| {
        let m = marker.filter(|m| LISTED.contains(m));
        let (map, areas) = repaint(ids, height, width, d, &LISTED, m.unwrap_or(INTERIOR));
        (map, m.map(|m| (m, areas[&m])))
    };
    let ((g, gt_marker), (p, pred_marker)) = (side(gt), side(pred));
    let mut histogram = PairHistogram::new();
    for (&g, &p) in g.iter().zip(&p) {
        histogram.add_run(g, p, 1);
    }
    (sorted(&histogram), [gt_marker, pred_marker])
}

type Expected = (Vec<(u32, u32, u64)>, [Option<(u32, u64)>; 2]);

fn ours(gt: &[u32], pred: &[u32], height: usize, width: usize, d: usize, marker: Option<u32>) -> Expected {
    let mut bands = Bands::default();
    band_histogram(
        [&image(gt, height, width), &image(pred, height, width)],
        d,
        [&LISTED, &LISTED],
        marker,
        &mut BandScratch::default(),
        &mut bands,
        &Cancel::new(),
    )
    .unwrap();
    (sorted(&bands.histogram), bands.marker_bands)
}

fn sorted(histogram: &PairHistogram) -> Vec<(u32, u32, u64)> {
    let mut all: Vec<_> = histogram.iter().collect();
    all.sort_unstable();
    all
}

fn image(ids: &[u32], height: usize, width: usize) -> RunImage {
    let mut out = RunImage::default();
    for y in 0..height {
        out.push_ids(&ids[y * width..(y + 1) * width]);
    }
    out
}

/// Blocky random maps with some noise: thick segments, thin ones, one-pixel ones.
fn random_map(state: &mut u64, height: usize, width: usize, labels: u32, block: usize) -> Vec<u32> {
    (0..height * width)
        .map(|i| {
            *state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let (y, x) = (i / width, i % width);
            if (*state >> 59) == 0 {
                (*state >> 33) as u32 % labels
            } else {
                u32::try_from((y / block + 2 * (x / (block + 1))) % labels as usize).unwrap()
            }
        })
        .collect()
}

/// Round `round`'s pair of maps, `height` x `width`: labels and block sizes from `least` up.
fn random_pair(state: &mut u64, round: usize, least: usize) -> (Vec<u32>, Vec<u32>, usize, usize) {
    let (height, width) = (1 + round % 23, 1 + (round * 7) % 29);
    let labels = least as u32 + (round % (8 - least)) as u32;
    let block = least + round % 9;
    let gt = random_map(state, height, width, labels, block);
    let pred = random_map(state, height, width, labels + 1, block + 1);
    (gt, pred, height, width)
}

#[test]
fn band_histogram_matches_the_definition() {
    let mut state = 7u64;
    for round in 0..300 {
        let (gt, pred, height, width) = random_pair(&mut state, round, 1);
        let d = 1 + round % 6;
        let expected = brute(&gt, &pred, height, width, d, None);
        assert_eq!(ours(&gt, &pred, height, width, d, None), expected, "round {round}, d {d}");
        // A marker no segment has changes nothing.
        assert_eq!(ours(&gt, &pred, height, width, d, Some(9)), expected, "round {round}, d {d}");
    }
}

#[test]
fn the_reference_marker_takes_earlier_interiors_into_its_segment() {
    let mut state = 11u64;
    let mut differed = 0;
    for round in 0..300 {
        let (gt, pred, height, width) = random_pair(&mut state, round, 2);
        let d = 1 + round % 4;
        // Every listed id in turn as the marker: first, in the middle and last in the order.
        for marker in LISTED {
            let expected = brute(&gt, &pred, height, width, d, Some(marker));
            assert_eq!(
                ours(&gt, &pred, height, width, d, Some(marker)),
                expected,
                "round {round}, marker {marker}"
            );
            differed += usize::from(expected != brute(&gt, &pred, height, width, d, None));
        }
    }
    assert!(differed > 100, "the marker changed only {differed} cases");
}

#[test]
fn a_large_band_covers_everything() {
    let ids = vec![5u32; 12];
    assert_eq!(ours(&ids, &ids, 3, 4, 100, None).0, [(5, 5, 12)]);
}

#[test]
fn dilation_rounds_half_to_even_and_is_at_least_one() {
    assert_eq!(dilation(0.02, 480, 640), 16);
    assert_eq!(dilation(0.5, 3, 4), 2); // 2.5
    assert_eq!(dilation(0.7, 3, 4), 4); // 3.5
    assert_eq!(dilation(1e-9, 3, 4), 1);
    assert_eq!(dilation(0.02, 1024, 2048), 46);
}
