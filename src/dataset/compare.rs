//! Comparison: one ground truth against several prediction sets in one pass, each ground-truth
//! PNG read and decoded once per image and paired row by row with every set's prediction.

use rayon::prelude::*;

use super::driver::{finish_image, in_image, open, Evaluated, ROWS_PER_CHECK};
use super::options::EvalOptions;
use super::pairs::PairJob;
use crate::eval::categories::Categories;
use crate::eval::histogram::PairHistogram;
use crate::eval::matching::{ImageResult, IouType};
use crate::eval::records::ImageDetail;
use crate::eval::runs::PairRows;
use crate::eval::stats::ImageTable;
use crate::png::{Buffers, Row};
use crate::runtime::parallel::{catch_panic, Cancel};
use crate::PqError;

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// One worker's buffers: the ground truth's, and one set of each per prediction set.
#[derive(Default)]
struct Scratch {
    gt: Buffers,
    preds: Vec<PredScratch>,
}

#[derive(Default)]
struct PredScratch {
    buffers: Buffers,
    rows: PairRows,
    histogram: PairHistogram,
}

/// Images compared in parallel before their results are folded into the totals.
const IMAGES_PER_BLOCK: usize = 256;

/// One image's result for each set, with its detail when records are asked for.
type Compared = Vec<(ImageResult, Option<ImageDetail>)>;

/// Evaluates image `i` of every set of `sets` (each a list of the same images' jobs, in the
/// same order) on the current rayon pool: what [`super::evaluate_pairs`] gives for each set,
/// bit for bit, with each ground-truth PNG decoded once. Mask IoU only; sides given as masks
/// are refused. On failure, the error of the first failing image (in image order) is returned,
/// naming the set's files.
pub fn compare_pairs(
    sets: &[Vec<PairJob<'_>>],
    categories: &Categories,
    options: &EvalOptions,
    cancel: &Cancel,
) -> Result<Vec<Evaluated>, PqError> {
    if !matches!(options.iou, IouType::Mask) {
        return Err(PqError::InvalidPairs { message: "a comparison scores mask IoU only".into() });
    }
    let images = check_sets(sets)?;
    let mut evaluated: Vec<Evaluated> = sets
        .iter()
        .map(|_| Evaluated { images: options.image_stats.then(ImageTable::default), ..Evaluated::default() })
        .collect();
    let indices: Vec<usize> = (0..images).collect();
    for block in indices.chunks(IMAGES_PER_BLOCK) {
        let results: Vec<Result<Compared, PqError>> = block
            .par_iter()
            .map(|&i| {
                cancel.check()?;
                let jobs: Vec<&PairJob<'_>> = sets.iter().map(|set| &set[i]).collect();
                SCRATCH.with_borrow_mut(|scratch| compare_image(&jobs, categories, scratch, cancel, options))
            })
            .collect();
        cancel.check()?;
        for result in results {
            for ((result, detail), evaluated) in result?.into_iter().zip(&mut evaluated) {
                evaluated.add(&result, detail);
            }
        }
    }
    Ok(evaluated)
}

/// The number of images; an error unless every set lists the same images, each with its PNGs.
fn check_sets(sets: &[Vec<PairJob<'_>>]) -> Result<usize, PqError> {
    let Some(first) = sets.first() else {
        return Err(PqError::InvalidPairs { message: "nothing to compare: no prediction set".into() });
    };
    for (k, set) in sets.iter().enumerate() {
        if set.len() != first.len() {
            return Err(PqError::InvalidPairs {
                message: format!(
                    "prediction set {k} has {} images and prediction set 0 {}: the sets must cover the same images",
                    set.len(),
                    first.len()
                ),
            });
        }
        for (a, b) in first.iter().zip(set) {
            if a.image_id != b.image_id || a.gt_path != b.gt_path {
                return Err(PqError::InvalidPairs {
                    message: format!(
                        "prediction set {k} has the image with ID {} where prediction set 0 has the image with ID {}: \
                         the sets must cover the same images in the same order",
                        b.image_id, a.image_id
                    ),
                });
            }
            if b.gt_masks.is_some() || b.pred_masks.is_some() {
                return Err(PqError::InvalidPairs {
                    message: format!(
                        "a comparison reads PNGs; the image with ID {} is given as masks",
                        b.image_id
                    ),
                });
            }
        }
    }
    Ok(first.len())
}

/// Decodes image `jobs[0].gt_path` once and every set's prediction of it alongside, row by row,
/// into one histogram per set; then matches each set. A panic is caught and reported with the
/// image.
fn compare_image(
    jobs: &[&PairJob<'_>],
    categories: &Categories,
    scratch: &mut Scratch,
    cancel: &Cancel,
    options: &EvalOptions,
) -> Result<Compared, PqError> {
    let work = |scratch: &mut Scratch| -> Result<Compared, (usize, PqError)> {
        let first = jobs[0];
        scratch.preds.resize_with(jobs.len(), PredScratch::default);
        let mut gt =
            open(first.gt_from, first.gt_path, std::mem::take(&mut scratch.gt)).map_err(|e| (0, e))?;
        let (height, width) = gt.shape();
        let mut preds = Vec::with_capacity(jobs.len());
        for (k, (job, pred)) in jobs.iter().zip(&mut scratch.preds).enumerate() {
            let reader =
                open(job.pred_from, job.pred_path, std::mem::take(&mut pred.buffers)).map_err(|e| (k, e))?;
            let (pred_height, pred_width) = reader.shape();
            if (pred_height, pred_width) != (height, width) {
                return Err((
                    k,
                    PqError::SizeMismatch {
                        image_id: job.image_id.to_owned(),
                        gt_height: height,
                        gt_width: width,
                        pred_height,
                        pred_width,
                    },
                ));
            }
            pred.histogram.clear();
            pred.rows.reset();
            preds.push(reader);
        }
        for y in 0..height {
            if y % ROWS_PER_CHECK == 0 {
                cancel.check().map_err(|e| (0, e))?;
            }
            let gt_row = gt.next_row(first.gt_path).map_err(|e| (0, e))?;
            for (k, (reader, pred)) in preds.iter_mut().zip(&mut scratch.preds).enumerate() {
                let pred_row = reader.next_row(jobs[k].pred_path).map_err(|e| (k, e))?;
                if y > 0 && gt_row == Row::Same && pred_row == Row::Same {
                    pred.rows.repeat();
                } else {
                    pred.rows.start(gt.runs(), reader.runs(), &mut pred.histogram);
                }
            }
        }
        let mut results = Vec::with_capacity(jobs.len());
        for (k, (reader, pred)) in preds.into_iter().zip(&mut scratch.preds).enumerate() {
            pred.rows.flush(&mut pred.histogram);
            pred.buffers = reader.into_buffers();
            let job = jobs[k];
            let sides = (job.image_id, job.gt_segments, job.pred_segments);
            let outcome =
                finish_image(sides, &pred.histogram, categories, None, options.records, options.breakdown)
                    .map_err(|e| (k, e))?;
            results.push(outcome);
        }
        scratch.gt = gt.into_buffers();
        Ok(results)
    };
    // The failing set's files are named; a panic is put on the first set's.
    let outcome = match catch_panic(|| Ok(work(scratch))) {
        Ok(outcome) => outcome,
        Err(panic) => Err((0, panic)),
    };
    outcome.map_err(|(k, source)| {
        // Stopped mid-image: the buffers may hold half an image, kept from the next one.
        *scratch = Scratch::default();
        in_image(jobs[k], source)
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::dataset::evaluate_pairs;
    use crate::eval::segments::{GtSegment, PredSegment};
    use crate::io::{Origin, DISK};
    use crate::png::encode::write_id_map;

    const H: usize = 6;
    const W: usize = 20;

    /// Image i: ground truth segment 1 (category 1) on the left 10 columns; set s predicts it
    /// shifted right by i + s pixels, as segment 5.
    fn fixture(name: &str, images: u32, sets: u32) -> (PathBuf, Vec<GtSegment>, Vec<PredSegment>) {
        let dir = std::env::temp_dir().join(format!("panoptiq-compare-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..images {
            let gt: Vec<u32> = (0..H * W).map(|p| u32::from(p % W < 10)).collect();
            write_id_map(&dir.join(format!("gt{i}.png")), &gt, H, W, false).unwrap();
            for s in 0..sets {
                let shift = (i + s) as usize;
                let pred: Vec<u32> =
                    (0..H * W).map(|p| 5 * u32::from(p % W >= shift && p % W < 10 + shift)).collect();
                write_id_map(&dir.join(format!("pred{s}-{i}.png")), &pred, H, W, s % 2 == 1).unwrap();
            }
        }
        let gt = vec![GtSegment { id: 1, category_id: 1, iscrowd: false, area: 60 }];
        (dir, gt, vec![PredSegment { id: 5, category_id: 1 }])
    }

    fn paths(dir: &std::path::Path, images: u32, set: u32) -> Vec<(String, PathBuf, PathBuf)> {
        (0..images)
            .map(|i| (i.to_string(), dir.join(format!("gt{i}.png")), dir.join(format!("pred{set}-{i}.png"))))
            .collect()
    }

    fn jobs<'a>(
        paths: &'a [(String, PathBuf, PathBuf)],
        gt: &'a [GtSegment],
        pred: &'a [PredSegment],
    ) -> Vec<PairJob<'a>> {
        paths
            .iter()
            .map(|(id, gt_path, pred_path)| PairJob {
                image_id: id,
                gt_path,
                pred_path,
                gt_segments: gt,
                pred_segments: pred,
                json: None,
                gt_from: Origin::Folder(&DISK),
                pred_from: Origin::Folder(&DISK),
                gt_masks: None,
                pred_masks: None,
            })
            .collect()
    }

    #[test]
    fn each_set_gets_what_its_own_evaluation_gives() {
        let (dir, gt, pred) = fixture("equal", 9, 3);
        let all: Vec<_> = (0..3).map(|s| paths(&dir, 9, s)).collect();
        let sets: Vec<_> = all.iter().map(|p| jobs(p, &gt, &pred)).collect();
        let options = EvalOptions { image_stats: true, records: true, ..EvalOptions::default() };
        let categories = Categories::new([1]);
        let compared = compare_pairs(&sets, &categories, &options, &Cancel::new()).unwrap();
        assert_eq!(compared.len(), 3);
        for (set, got) in sets.iter().zip(&compared) {
            let alone = evaluate_pairs(set, &categories, &options, &Cancel::new()).unwrap();
            assert_eq!(got, &alone);
        }
        // Shifts 0..=10 over a 10-pixel segment: the sets really differ.
        assert_ne!(compared[0].stats, compared[2].stats);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failing_prediction_is_named_with_its_set_and_image() {
        let (dir, gt, pred) = fixture("errors", 4, 2);
        std::fs::write(dir.join("pred1-2.png"), b"garbage").unwrap();
        std::fs::remove_file(dir.join("pred0-3.png")).unwrap();
        let all: Vec<_> = (0..2).map(|s| paths(&dir, 4, s)).collect();
        let sets: Vec<_> = all.iter().map(|p| jobs(p, &gt, &pred)).collect();
        let error =
            compare_pairs(&sets, &Categories::new([1]), &EvalOptions::default(), &Cancel::new()).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("In the image with ID 2: ") && message.contains("pred1-2.png"),
            "{message}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sets_of_other_images_are_refused() {
        let (dir, gt, pred) = fixture("refused", 3, 2);
        let first = paths(&dir, 3, 0);
        let mut second = paths(&dir, 3, 1);
        second.swap(0, 1);
        let sets = vec![jobs(&first, &gt, &pred), jobs(&second, &gt, &pred)];
        let error =
            compare_pairs(&sets, &Categories::new([1]), &EvalOptions::default(), &Cancel::new()).unwrap_err();
        assert!(error.to_string().contains("prediction set 1 has the image with ID 1"), "{error}");
        let short = vec![jobs(&first, &gt, &pred), jobs(&second[..2], &gt, &pred)];
        let error = compare_pairs(&short, &Categories::new([1]), &EvalOptions::default(), &Cancel::new())
            .unwrap_err();
        assert!(error.to_string().contains("prediction set 1 has 2 images"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
