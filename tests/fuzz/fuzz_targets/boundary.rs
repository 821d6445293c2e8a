//! Differential fuzzing of Boundary PQ's bands: `band_histogram`, which works on runs and
//! interval lists, against the definition applied pixel by pixel with the chessboard distance
//! transform, on arbitrary small id maps, band widths and listed-id sets.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use panoptiq::boundary::{band_histogram, BandScratch, RunImage, INTERIOR};
use panoptiq::distance::chessboard;
use panoptiq::histogram::PairHistogram;
use panoptiq::parallel::Cancel;

struct Case {
    height: usize,
    width: usize,
    gt: Vec<u32>,
    pred: Vec<u32>,
    d: usize,
    /// Bit `i` set: id `i` is listed on that side.
    listed: [u8; 2],
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
        listed: [u.arbitrary()?, u.arbitrary()?],
    })
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
    let listed = |side: usize, id: u32| c.listed[side] >> id & 1 == 1;
    let mut ours = PairHistogram::new();
    band_histogram(
        &image(&c.gt, c.width),
        &image(&c.pred, c.width),
        c.d,
        [&|id| listed(0, id), &|id| listed(1, id)],
        &mut BandScratch::default(),
        &mut ours,
        &Cancel::new(),
    )
    .unwrap();
    let (gd, pd) =
        (chessboard(&c.gt, c.height, c.width).unwrap(), chessboard(&c.pred, c.height, c.width).unwrap());
    let mut theirs = PairHistogram::new();
    for i in 0..c.gt.len() {
        let g = if gd[i] as usize > c.d && listed(0, c.gt[i]) { INTERIOR } else { c.gt[i] };
        let p = if pd[i] as usize > c.d && listed(1, c.pred[i]) { INTERIOR } else { c.pred[i] };
        theirs.add_run(g, p, 1);
    }
    let sorted = |h: &PairHistogram| {
        let mut all: Vec<_> = h.iter().collect();
        all.sort_unstable();
        all
    };
    assert_eq!(sorted(&ours), sorted(&theirs));
});
