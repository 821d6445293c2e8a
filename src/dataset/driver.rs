//! Dataset evaluation: image pairs read, decoded, matched and accumulated in parallel, streamed
//! so that only the images in flight are in memory.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;

use rayon::prelude::*;

use super::options::EvalOptions;
use super::pairs::PairJob;
use crate::convert::paint::ImageMasks;
use crate::error::Side;
use crate::eval::boundary::{dilation, BandScratch, Bands, RunImage};
use crate::eval::breakdown::{fixed_stats, image_errors};
use crate::eval::categories::Categories;
use crate::eval::histogram::PairHistogram;
use crate::eval::matching::{evaluate_image_with, merge_slices, ImageResult, IouType};
use crate::eval::records::ImageDetail;
use crate::eval::runs::{PairRows, RowRuns};
use crate::eval::segments::{GtSegment, PredSegment};
use crate::eval::stats::{ImageTable, PqStats};
use crate::io::Origin;
use crate::png::reader::RunReader;
use crate::png::{Buffers, Row, RunMap};
use crate::runtime::parallel::{catch_panic, try_map_ordered, Cancel};
use crate::PqError;

thread_local! {
    // One per worker thread, kept across calls: buffers stay allocated from batch to batch, and
    // at most one image pair per thread is in memory.
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Buffers one worker reuses from image to image.
#[derive(Default)]
struct Scratch {
    histogram: PairHistogram,
    pair_rows: PairRows,
    gt: Buffers,
    pred: Buffers,
    /// Boundary PQ only: both images' rows as runs, and the band histogram.
    gt_rows: RunImage,
    pred_rows: RunImage,
    bands: Bands,
    band_buffers: BandScratch,
}

/// Pairs evaluated in parallel before their results are folded into the totals.
const JOBS_PER_BLOCK: usize = 512;

/// Rows decoded between two looks at the cancel flag: a fraction of a millisecond of work.
pub(super) const ROWS_PER_CHECK: usize = 256;

/// Evaluates one pair, decoding both PNGs row by row straight into the histogram as runs: no
/// full-image id map is ever built. A panic is caught here and reported with the image.
fn evaluate_pair_with(
    job: &PairJob<'_>,
    categories: &Categories,
    iou: IouType,
    scratch: &mut Scratch,
    cancel: &Cancel,
    details: bool,
    breakdown: bool,
) -> Result<(ImageResult, Option<ImageDetail>), PqError> {
    let run = |scratch: &mut Scratch| -> Result<(ImageResult, Option<ImageDetail>), PqError> {
        let boundary = matches!(iou, IouType::Boundary { .. });
        let (gt, pred, (gt_height, gt_width), kept) = decode_pair(job, scratch, boundary, cancel)?;
        let gt_segments = kept_segments(job.gt_segments, kept[0].as_ref(), |s| s.id);
        let pred_segments = kept_segments(job.pred_segments, kept[1].as_ref(), |s| s.id);
        let Scratch { histogram, gt_rows, pred_rows, bands, band_buffers, .. } = scratch;
        let band_histogram = match iou {
            IouType::Mask => None,
            IouType::Boundary { dilation_ratio, reference_marker } => {
                let gt_listed: Vec<u32> = gt_segments.iter().map(|s| s.id).collect();
                let pred_listed: Vec<u32> = pred_segments.iter().map(|s| s.id).collect();
                crate::eval::boundary::band_histogram(
                    [gt_rows, pred_rows],
                    dilation(dilation_ratio, gt_height, gt_width),
                    [&gt_listed, &pred_listed],
                    categories.reference_marker().filter(|_| reference_marker),
                    band_buffers,
                    bands,
                    cancel,
                )?;
                Some(&*bands)
            }
        };
        let sides = (job.image_id, &*gt_segments, &*pred_segments);
        let outcome = finish_image(sides, histogram, categories, band_histogram, details, breakdown)?;
        scratch.gt = gt.into_buffers();
        scratch.pred = pred.into_buffers();
        Ok(outcome)
    };
    let outcome = catch_panic(|| run(scratch));
    if outcome.is_err() {
        // Stopped mid-image (bad data, an interrupt, a panic): the buffers may hold half an
        // image, which must not leak into the next one this thread evaluates.
        *scratch = Scratch::default();
    }
    outcome.map_err(|source| in_image(job, source))
}

/// An image's id and its two sides' segments.
pub(super) type Sides<'a> = (&'a str, &'a [GtSegment], &'a [PredSegment]);

/// Matches an image from its histogram (and band histogram under Boundary PQ), with its
/// error breakdown's fixed totals and its records when asked for.
pub(super) fn finish_image(
    (image_id, gt, pred): Sides<'_>,
    histogram: &PairHistogram,
    categories: &Categories,
    bands: Option<&Bands>,
    details: bool,
    breakdown: bool,
) -> Result<(ImageResult, Option<ImageDetail>), PqError> {
    let mut result = evaluate_image_with(image_id, histogram, gt, pred, categories, bands)?;
    let errors = if breakdown {
        let errors = image_errors(histogram, gt, pred, &result, categories)?;
        result.fixed = fixed_stats(&errors, gt, pred, &result, categories);
        Some(errors)
    } else {
        None
    };
    let detail = details.then(|| {
        let mut detail = ImageDetail::new(histogram, gt, pred, &result, bands, categories);
        if let Some(errors) = &errors {
            detail.label(errors, gt, pred);
        }
        detail
    });
    Ok((result, detail))
}

/// One side's rows: decoded from its PNG, or read off the id map painted from its masks.
enum SideRows {
    Png(RunReader),
    /// Masks painted down the columns, read as row runs once (see
    /// [`crate::convert::canvas::Canvas`]) and handed out a row at a time.
    Map {
        map: RunMap,
        y: usize,
        runs: RowRuns,
    },
}

impl SideRows {
    fn shape(&self) -> (usize, usize) {
        match self {
            SideRows::Png(reader) => reader.shape(),
            SideRows::Map { map, .. } => (map.height, map.width),
        }
    }

    fn next_row(&mut self, path: &Path) -> Result<Row, PqError> {
        match self {
            SideRows::Png(reader) => reader.next_row(path),
            SideRows::Map { map, y, runs } => {
                let same = *y > 0 && map.repeats(*y);
                if !same {
                    let (ends, ids) = map.row(*y);
                    runs.set_runs(ends.iter().copied().zip(ids.iter().copied()));
                }
                *y += 1;
                Ok(Row::from_changed(!same))
            }
        }
    }

    fn runs(&self) -> &RowRuns {
        match self {
            SideRows::Png(reader) => reader.runs(),
            SideRows::Map { runs, .. } => runs,
        }
    }

    fn into_buffers(self) -> Buffers {
        match self {
            SideRows::Png(reader) => reader.into_buffers(),
            SideRows::Map { .. } => Buffers::default(),
        }
    }
}

/// The ids of the segments a side painted from masks kept (`None`: a PNG side, all kept).
type Kept = [Option<Vec<u32>>; 2];

/// Opens both sides of `job`: PNGs first, then masks painted at their own size or, for
/// polygons, the other side's.
fn open_sides(job: &PairJob<'_>, scratch: &mut Scratch) -> Result<(SideRows, SideRows, Kept), PqError> {
    let gt_png = match job.gt_masks {
        None => Some(open(job.gt_from, job.gt_path, std::mem::take(&mut scratch.gt))?),
        Some(_) => None,
    };
    let pred_png = match job.pred_masks {
        None => Some(open(job.pred_from, job.pred_path, std::mem::take(&mut scratch.pred))?),
        Some(_) => None,
    };
    let other = |png: &Option<RunReader>, masks: Option<&ImageMasks>| {
        png.as_ref().map(RunReader::shape).or_else(|| masks.and_then(|m| m.size))
    };
    let gt_other = other(&pred_png, job.pred_masks);
    let pred_other = other(&gt_png, job.gt_masks);
    let side = |png: Option<RunReader>,
                masks: Option<&ImageMasks>,
                other: Option<(usize, usize)>,
                what: Side| {
        match (png, masks) {
            (Some(png), _) => Ok((SideRows::Png(png), None)),
            (None, Some(masks)) => {
                let (height, width) = masks.size_or(other).map_err(|e| in_side(what, &e))?;
                let (map, kept) = masks.paint_runs(height, width).map_err(|e| in_side(what, &e))?;
                let rows = SideRows::Map { map, y: 0, runs: RowRuns::default() };
                Ok((rows, Some(kept)))
            }
            (None, None) => Err(PqError::Panic { message: "a side with neither a PNG nor masks".into() }),
        }
    };
    let (gt, gt_kept) = side(gt_png, job.gt_masks, gt_other, Side::GroundTruth)?;
    let (pred, pred_kept) = side(pred_png, job.pred_masks, pred_other, Side::Prediction)?;
    Ok((gt, pred, [gt_kept, pred_kept]))
}

fn in_side(side: Side, error: &PqError) -> PqError {
    PqError::BadMask { message: format!("the {} masks: {error}", side.adjective()) }
}

/// Decodes both sides of `job` row by row into `scratch.histogram` (and, for Boundary PQ, keeps
/// the rows as runs); returns the two sides, done, the image's shape and, for sides given as
/// masks, the segments kept.
fn decode_pair(
    job: &PairJob<'_>,
    scratch: &mut Scratch,
    boundary: bool,
    cancel: &Cancel,
) -> Result<(SideRows, SideRows, (usize, usize), Kept), PqError> {
    let (mut gt, mut pred, kept) = open_sides(job, scratch)?;
    let ((gt_height, gt_width), (pred_height, pred_width)) = (gt.shape(), pred.shape());
    if (gt_height, gt_width) != (pred_height, pred_width) {
        return Err(PqError::SizeMismatch {
            image_id: job.image_id.to_owned(),
            gt_height,
            gt_width,
            pred_height,
            pred_width,
        });
    }
    let Scratch { histogram, pair_rows, gt_rows, pred_rows, .. } = scratch;
    histogram.clear();
    pair_rows.reset();
    if boundary {
        gt_rows.clear();
        pred_rows.clear();
    }
    for y in 0..gt_height {
        if y % ROWS_PER_CHECK == 0 {
            cancel.check()?;
        }
        let gt_row = gt.next_row(job.gt_path)?;
        let pred_row = pred.next_row(job.pred_path)?;
        if y > 0 && gt_row == Row::Same && pred_row == Row::Same {
            pair_rows.repeat();
        } else {
            pair_rows.start(gt.runs(), pred.runs(), histogram);
        }
        if boundary {
            // Boundary bands need rows above and below: the rows are kept, as runs.
            gt_rows.push(gt.runs(), y > 0 && gt_row == Row::Same);
            pred_rows.push(pred.runs(), y > 0 && pred_row == Row::Same);
        }
    }
    pair_rows.flush(histogram);
    Ok((gt, pred, (gt_height, gt_width), kept))
}

/// The segments of a side kept by its masks' overlap rule (all of them when not given as masks).
fn kept_segments<'s, S: Clone>(
    all: &'s [S],
    kept: Option<&Vec<u32>>,
    id: impl Fn(&S) -> u32,
) -> Cow<'s, [S]> {
    match kept {
        Some(kept) if kept.len() != all.len() => {
            let kept: HashSet<u32> = kept.iter().copied().collect();
            Cow::Owned(all.iter().filter(|s| kept.contains(&id(s))).cloned().collect())
        }
        _ => Cow::Borrowed(all),
    }
}

/// A pair's histogram and its image's `(height, width)`.
pub type FrameHistogram = (PairHistogram, (usize, usize));

/// Decodes the pairs of `jobs` in parallel into their pair histograms and shapes, in job order.
/// A failing job's error names its image and files, as [`evaluate_pairs`]'s do.
pub fn pair_histograms(jobs: &[PairJob<'_>], cancel: &Cancel) -> Result<Vec<FrameHistogram>, PqError> {
    try_map_ordered(jobs, |_, job| {
        cancel.check()?;
        SCRATCH.with_borrow_mut(|scratch| {
            let outcome = catch_panic(|| {
                let (gt, pred, shape, _) = decode_pair(job, scratch, false, cancel)?;
                scratch.gt = gt.into_buffers();
                scratch.pred = pred.into_buffers();
                Ok((scratch.histogram.clone(), shape))
            });
            if outcome.is_err() {
                *scratch = Scratch::default();
            }
            outcome.map_err(|source| in_image(job, source))
        })
    })
}

/// `source` with the image and files of `job` named, unless it is an interrupt.
pub(super) fn in_image(job: &PairJob<'_>, source: PqError) -> PqError {
    match source {
        PqError::Interrupted => PqError::Interrupted,
        source => PqError::InImage {
            image_id: job.image_id.to_owned(),
            gt_path: job.gt_path.to_owned(),
            pred_path: job.pred_path.to_owned(),
            json: job.json.map(|json| Box::new(json.clone())),
            source: Box::new(source),
        },
    }
}

/// Reads the PNG at `path` from `origin` into `buffers` and starts decoding it.
pub(super) fn open(origin: Origin<'_>, path: &Path, mut buffers: Buffers) -> Result<RunReader, PqError> {
    origin.read(path, buffers.file_mut())?;
    RunReader::from_buffers(path, buffers)
}

/// What evaluating pairs gave: their per-category totals, the same per size slice when the
/// categories slice by size, and what was asked for in job order: each image's
/// [`ImageDetail`] and each image's per-class statistics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluated {
    pub stats: PqStats,
    pub by_size: Vec<PqStats>,
    pub details: Vec<ImageDetail>,
    pub images: Option<ImageTable>,
    /// With the error breakdown, the totals with each kind of error fixed.
    pub fixed: Vec<PqStats>,
}

impl Evaluated {
    /// Folds in the next image's result (and its detail, when records are kept).
    pub(super) fn add(&mut self, result: &ImageResult, detail: Option<ImageDetail>) {
        self.stats.merge(&result.stats);
        merge_slices(&mut self.by_size, &result.by_size);
        merge_slices(&mut self.fixed, &result.fixed);
        if let Some(images) = &mut self.images {
            images.push_image(&result.stats);
        }
        self.details.extend(detail);
    }
}

/// Evaluates `jobs` in parallel on the current rayon pool. IoU sums are exact, so the totals are
/// bit-identical whatever the number of threads. On failure, the error of the first failing job
/// (in job order) is returned and nothing else. Once `cancel` is set, no new pair starts and
/// pairs under way stop within a few hundred rows.
pub fn evaluate_pairs(
    jobs: &[PairJob<'_>],
    categories: &Categories,
    options: &EvalOptions,
    cancel: &Cancel,
) -> Result<Evaluated, PqError> {
    let mut evaluated =
        Evaluated { images: options.image_stats.then(ImageTable::default), ..Evaluated::default() };
    // Pairs are evaluated a block at a time and folded in, so that the per-image results held at
    // once do not grow with the dataset.
    for block in jobs.chunks(JOBS_PER_BLOCK) {
        let results: Vec<Result<(ImageResult, Option<ImageDetail>), PqError>> = block
            .par_iter()
            .map(|job| {
                cancel.check()?;
                SCRATCH.with_borrow_mut(|scratch| {
                    evaluate_pair_with(
                        job,
                        categories,
                        options.iou,
                        scratch,
                        cancel,
                        options.records,
                        options.breakdown,
                    )
                })
            })
            .collect();
        cancel.check()?;
        for result in results {
            let (result, detail) = result?;
            evaluated.add(&result, detail);
        }
    }
    Ok(evaluated)
}

/// Reads and decodes every file in parallel and throws the ids away; returns the pixel count.
///
/// This is the floor of any evaluation (benchmarks compare against it): the same reading and
/// decoding, without histogram, matching or accumulation.
pub fn decode_only(paths: &[&Path], cancel: &Cancel) -> Result<u64, PqError> {
    paths
        .par_iter()
        .map(|path| {
            SCRATCH.with_borrow_mut(|scratch| {
                let mut rows = RunReader::open(path, std::mem::take(&mut scratch.gt))?;
                let (height, width) = rows.shape();
                for y in 0..height {
                    if y % ROWS_PER_CHECK == 0 {
                        cancel.check()?;
                    }
                    rows.next_row(path)?;
                }
                scratch.gt = rows.into_buffers();
                Ok((width * height) as u64)
            })
        })
        .sum()
}

// Totals must be bit-identical across thread counts, so floats are compared exactly.
#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::eval::segments::{GtSegment, PredSegment};
    use crate::io::DISK;
    use crate::png::encode::write_id_map;
    use crate::runtime::parallel::with_threads;

    struct Fixture {
        dir: PathBuf,
        gt: Vec<GtSegment>,
        pred: Vec<PredSegment>,
    }

    /// Image i: ground truth segment 1 (category 1) on the left 8 columns, a prediction shifted
    /// right by i pixels.
    fn fixture(name: &str, images: u32) -> Fixture {
        let dir = std::env::temp_dir().join(format!("panoptiq-dataset-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (h, w) = (4usize, 16usize);
        for i in 0..images {
            let gt: Vec<u32> = (0..h * w).map(|p| u32::from(p % w < 8)).collect();
            let pred: Vec<u32> = (0..h * w)
                .map(|p| 5 * u32::from((p % w) >= i as usize && (p % w) < 8 + i as usize))
                .collect();
            write_id_map(&dir.join(format!("gt{i}.png")), &gt, h, w, false).unwrap();
            write_id_map(&dir.join(format!("pred{i}.png")), &pred, h, w, i % 2 == 1).unwrap();
        }
        Fixture {
            dir,
            gt: vec![GtSegment { id: 1, category_id: 1, iscrowd: false, area: 32 }],
            pred: vec![PredSegment { id: 5, category_id: 1 }],
        }
    }

    fn run(f: &Fixture, images: u32, threads: usize) -> Result<PqStats, PqError> {
        let paths: Vec<(String, PathBuf, PathBuf)> = (0..images)
            .map(|i| (i.to_string(), f.dir.join(format!("gt{i}.png")), f.dir.join(format!("pred{i}.png"))))
            .collect();
        let jobs: Vec<PairJob<'_>> = paths
            .iter()
            .map(|(id, gt_path, pred_path)| PairJob {
                image_id: id,
                gt_path,
                pred_path,
                gt_segments: &f.gt,
                pred_segments: &f.pred,
                json: None,
                gt_from: Origin::Folder(&DISK),
                pred_from: Origin::Folder(&DISK),
                gt_masks: None,
                pred_masks: None,
            })
            .collect();
        let options = EvalOptions::default();
        let evaluated = with_threads(Some(threads), || {
            evaluate_pairs(&jobs, &Categories::new([1]), &options, &Cancel::new())
        })??;
        Ok(evaluated.stats)
    }

    #[test]
    fn totals_are_identical_across_thread_counts() {
        let f = fixture("threads", 7);
        let one = run(&f, 7, 1).unwrap();
        // The right half of the ground truth is VOID, which leaves the union: a shift of i gives
        // IoU (8 - i) / 8, a match for i < 4. Of the rest, only the prediction shifted by 4 has
        // no more than half of its pixels on VOID, so it alone is a false positive.
        assert_eq!(one.get(1).tp, 4);
        assert_eq!(one.get(1).iou.to_f64(), 1.0 + 7.0 / 8.0 + 6.0 / 8.0 + 5.0 / 8.0);
        assert_eq!((one.get(1).fp, one.get(1).fn_), (1, 3));
        for threads in 2..=4 {
            assert_eq!(run(&f, 7, threads).unwrap(), one);
        }
        std::fs::remove_dir_all(&f.dir).unwrap();
    }

    #[test]
    fn an_image_that_fails_midway_leaves_nothing_behind_for_the_next() {
        let f = fixture("midway", 2);
        let expected = run(&f, 2, 1).unwrap();
        // An image larger than one inflate chunk whose compressed data turns to garbage halfway:
        // decoding fails after some rows were already counted.
        let (h, w) = (300usize, 1000usize);
        let ids: Vec<u32> = (0..h * w).map(|p| u32::try_from((p / w + p % w) % 7 + 1).unwrap()).collect();
        write_id_map(&f.dir.join("gt0.png"), &ids, h, w, false).unwrap();
        let mut bytes = std::fs::read(f.dir.join("gt0.png")).unwrap();
        let idat = bytes.windows(4).position(|w| w == b"IDAT").unwrap();
        let len = usize::try_from(u32::from_be_bytes(bytes[idat - 4..idat].try_into().unwrap())).unwrap();
        bytes[idat + 4 + len / 2..idat + 4 + len].fill(0xff);
        std::fs::write(f.dir.join("gt0.png"), &bytes).unwrap();
        std::fs::write(f.dir.join("pred0.png"), std::fs::read(f.dir.join("gt0.png")).unwrap()).unwrap();
        assert!(matches!(run(&f, 1, 1).unwrap_err().root(), PqError::Decode { .. }));
        let fresh = fixture("midway-again", 2);
        assert_eq!(run(&fresh, 2, 1).unwrap(), expected);
        std::fs::remove_dir_all(&f.dir).unwrap();
        std::fs::remove_dir_all(&fresh.dir).unwrap();
    }

    #[test]
    fn the_first_failing_image_is_reported_with_its_files() {
        let f = fixture("errors", 4);
        std::fs::remove_file(f.dir.join("pred1.png")).unwrap();
        std::fs::write(f.dir.join("gt3.png"), b"garbage").unwrap();
        let e = run(&f, 4, 2).unwrap_err();
        assert!(matches!(e.root(), PqError::Io { .. }));
        let message = e.to_string();
        assert!(
            message.starts_with("In the image with ID 1: cannot read ") && message.contains("pred1.png"),
            "{message}"
        );
        std::fs::remove_dir_all(&f.dir).unwrap();
    }
}
