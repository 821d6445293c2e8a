//! Differential fuzzing of Boundary PQ's bands: `band_histogram`, which works on runs and
//! interval lists, against boundary-iou-api's procedure applied pixel by pixel (segments painted
//! one by one in their listed order, bands from the chessboard distance transform), on arbitrary
//! small id maps, band widths, listed ids and orders, with and without the reference's marker.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

use panoptiq::eval::boundary::{band_histogram, BandIou, BandScratch, Bands, RunImage, INTERIOR};
use panoptiq::draw::distance::chessboard;
use panoptiq::eval::histogram::PairHistogram;
use panoptiq::runtime::parallel::Cancel;

struct Case {
    height: usize,
    width: usize,
    gt: Vec<u32>,
    pred: Vec<u32>,
    d: usize,
    /// Each side's listed ids, in order.
    listed: [Vec<u32>; 2],
    marker: Option<u32>,
}

fn case(u: &mut Unstructured<'_>) -> Result<Case> {
    let (height, width) = (u.int_in_range(1..=16usize)?, u.int_in_range(1..=16usize)?);
    // Runs of random lengths, so that segments are thick as well as thin.
    let map = |u: &mut Unstructured<'_>| -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(height * width);
        while out.len() < height * width {
            let id = u.int_in_range(0..=5u32)?;
            let len = u.int_in_range(1..=(2 * width))?;
            out.extend(std::iter::repeat_n(id, len.min(height * width - out.len())));
        }
        Ok(out)
    };
    let (gt, pred) = (map(u)?, map(u)?);
    Ok(Case {
        height,
        width,
        gt,
        pred,
        d: u.int_in_range(1..=9usize)?,
        listed: [listed(u)?, listed(u)?],
        marker: if u.arbitrary()? { Some(u.int_in_range(0..=6u32)?) } else { None },
    })
}

/// Distinct ids among 0..=5 in an arbitrary order.
fn listed(u: &mut Unstructured<'_>) -> Result<Vec<u32>> {
    let mut ids: Vec<u32> = (0..=5).collect();
    for i in (1..ids.len()).rev() {
        ids.swap(i, u.int_in_range(0..=i)?);
    }
    ids.truncate(u.int_in_range(0..=6usize)?);
    Ok(ids)
}

/// boundary-iou-api's painting: each listed segment's mask from the map painted so far, its
/// pixels painted `marker`, then its band its id. The painted map and the band areas.
fn repaint(c: &Case, ids: &[u32], listed: &[u32], marker: u32) -> (Vec<u32>, HashMap<u32, u64>) {
    let mut map = ids.to_vec();
    let mut areas = HashMap::new();
    for &id in listed {
        let mask: Vec<u32> = map.iter().map(|&v| u32::from(v == id)).collect();
        let distance = chessboard(&mask, c.height, c.width).unwrap();
        let mut area = 0;
        for i in 0..map.len() {
            if mask[i] == 1 {
                map[i] = if distance[i] as usize <= c.d { id } else { marker };
                area += u64::from(distance[i] as usize <= c.d);
            }
        }
        areas.insert(id, area);
    }
    (map, areas)
}

fn image(ids: &[u32], width: usize) -> RunImage {
    let mut out = RunImage::default();
    for row in ids.chunks_exact(width) {
        out.push_ids(row);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(c) = case(&mut Unstructured::new(data)) else { return };
    let mut ours = Bands::default();
    band_histogram(
        [&image(&c.gt, c.width), &image(&c.pred, c.width)],
        c.d,
        [&c.listed[0], &c.listed[1]],
        c.marker,
        &mut BandScratch::default(),
        &mut ours,
        &Cancel::new(),
    )
    .unwrap();
    // The reference paints with the marker only when a side lists it (else with an id no
    // segment has: the same numbers).
    let side = |k: usize, ids: &[u32]| {
        let marker = c.marker.filter(|m| c.listed[k].contains(m)).unwrap_or(INTERIOR);
        repaint(&c, ids, &c.listed[k], marker)
    };
    let ((gt_map, gt_areas), (pred_map, pred_areas)) = (side(0, &c.gt), side(1, &c.pred));
    let mut theirs = PairHistogram::new();
    for (&g, &p) in gt_map.iter().zip(&pred_map) {
        theirs.add_run(g, p, 1);
    }
    let sorted = |h: &PairHistogram| {
        let mut all: Vec<_> = h.iter().collect();
        all.sort_unstable();
        all
    };
    assert_eq!(sorted(&ours.histogram), sorted(&theirs));
    // Every listed pair's boundary IoU from the reference's band areas.
    let iou = BandIou::new(&ours);
    for &g in &c.listed[0] {
        for &p in &c.listed[1] {
            let intersection = theirs.get(g, p);
            let union = (gt_areas[&g] + pred_areas[&p]).saturating_sub(intersection + theirs.get(0, p));
            let expected = if union == 0 { 0.0 } else { intersection as f64 / union as f64 };
            assert_eq!(iou.iou(g, p).to_bits(), expected.to_bits(), "pair ({g}, {p})");
        }
    }
});
