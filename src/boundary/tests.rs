// Small test images: every count fits every integer type.
#![allow(clippy::cast_possible_truncation)]

use super::*;
use crate::distance::chessboard;

/// Ids 0 (VOID) and 3 are not listed: they keep all their pixels.
fn listed(id: u32) -> bool {
    id != 0 && id != 3
}

/// The definition, pixel by pixel: a pixel of a listed segment is in its band when its chessboard
/// distance to another id or to the image's edge is at most `d`.
fn brute(gt: &[u32], pred: &[u32], height: usize, width: usize, d: usize) -> Vec<(u32, u32, u64)> {
    let (gd, pd) = (chessboard(gt, height, width).unwrap(), chessboard(pred, height, width).unwrap());
    let mut histogram = PairHistogram::new();
    for i in 0..gt.len() {
        let g = if gd[i] as usize <= d || !listed(gt[i]) { gt[i] } else { INTERIOR };
        let p = if pd[i] as usize <= d || !listed(pred[i]) { pred[i] } else { INTERIOR };
        histogram.add_run(g, p, 1);
    }
    sorted(&histogram)
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

#[test]
fn band_histogram_matches_the_definition() {
    let mut state = 7u64;
    for round in 0..300 {
        let (height, width) = (1 + round % 23, 1 + (round * 7) % 29);
        let labels = 1 + (round % 5) as u32;
        let block = 1 + round % 9;
        let d = 1 + round % 6;
        let gt = random_map(&mut state, height, width, labels, block);
        let pred = random_map(&mut state, height, width, labels + 1, block + 1);
        let mut histogram = PairHistogram::new();
        let (gt_image, pred_image) = (image(&gt, height, width), image(&pred, height, width));
        band_histogram(
            &gt_image,
            &pred_image,
            d,
            [&listed, &listed],
            &mut BandScratch::default(),
            &mut histogram,
            &Cancel::new(),
        )
        .unwrap();
        assert_eq!(sorted(&histogram), brute(&gt, &pred, height, width, d), "round {round}, d {d}");
    }
}

#[test]
fn a_large_band_covers_everything() {
    let ids = vec![5u32; 12];
    let mut histogram = PairHistogram::new();
    let all = |_: u32| true;
    band_histogram(
        &image(&ids, 3, 4),
        &image(&ids, 3, 4),
        100,
        [&all, &all],
        &mut BandScratch::default(),
        &mut histogram,
        &Cancel::new(),
    )
    .unwrap();
    assert_eq!(sorted(&histogram), [(5, 5, 12)]);
}

#[test]
fn dilation_rounds_half_to_even_and_is_at_least_one() {
    assert_eq!(dilation(0.02, 480, 640), 16);
    assert_eq!(dilation(0.5, 3, 4), 2); // 2.5
    assert_eq!(dilation(0.7, 3, 4), 4); // 3.5
    assert_eq!(dilation(1e-9, 3, 4), 1);
    assert_eq!(dilation(0.02, 1024, 2048), 46);
}
