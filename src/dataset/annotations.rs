//! COCO panoptic JSON files read straight into the image pairs evaluation needs, without
//! building a Python object per segment.
//!
//! Only the strict form that COCO and panoptic models write is taken: integer segment ids,
//! category ids, `iscrowd` and areas; integer or string image ids; a prediction for every
//! ground-truth image. Anything else gives `None`, and the caller falls back to the general reader
//! (Python's), which accepts what panopticapi accepts and explains what it refuses. So this
//! reader never changes a result or an error message: it only makes the common case fast.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::dataset::pairs::Pairs;
use crate::error::JsonFiles;
use crate::eval::segments::{GtSegment, PredSegment};
use crate::io::json::{parse_cancellable, ImageId, List};
use crate::runtime::parallel::Cancel;
use crate::PqError;

#[derive(Deserialize)]
struct Annotation<S> {
    image_id: ImageId,
    file_name: String,
    segments_info: Vec<S>,
}

#[derive(Deserialize)]
struct GtRecord {
    id: u32,
    category_id: i64,
    iscrowd: i64,
    area: i64,
}

#[derive(Deserialize)]
struct PredRecord {
    id: u32,
    category_id: i64,
}

#[derive(Deserialize)]
struct GtFile {
    annotations: List<Annotation<GtRecord>>,
    categories: Box<RawValue>,
}

#[derive(Deserialize)]
struct PredFile {
    annotations: List<Annotation<PredRecord>>,
}

/// What a strict pair of files gives: the matched pairs, and the ground truth's `categories` list
/// as the JSON text it was in the file (Python reads it: it is small, and its records are
/// panopticapi's `categories` dict).
#[derive(Debug)]
pub struct Annotations {
    pub pairs: Pairs,
    pub categories_json: String,
}

/// What [`read_annotations`] found: the pairs, or, when a file is not in the strict form, the
/// bytes of each file that could be read, for the general reader to parse without reading it again.
#[derive(Debug)]
pub enum Read {
    Strict(Box<Annotations>),
    Loose { gt: Option<Vec<u8>>, pred: Option<Vec<u8>> },
}

/// Reads both JSON files (at once, on two threads) and matches every ground-truth image with its
/// prediction, as panopticapi does: a later prediction of the same image replaces an earlier one.
///
/// [`Read::Loose`] when a file cannot be read or is not in the strict form described in the
/// module documentation, including when an image has no prediction; `Err(Interrupted)` once
/// `cancel` is set.
pub fn read_annotations(
    gt_json: &Path,
    pred_json: &Path,
    gt_folder: &Path,
    pred_folder: &Path,
    cancel: &Cancel,
) -> Result<Read, PqError> {
    // Each file's text is dropped as soon as it parsed: the peak holds one file's text and the
    // parsed tables, not both texts besides. A text that did not parse is kept for the general
    // reader.
    let (gt, pred) = rayon::join(
        || read_and_parse::<GtFile>(gt_json, cancel),
        || read_and_parse::<PredFile>(pred_json, cancel),
    );
    let files = JsonFiles { gt: gt_json.to_owned(), pred: pred_json.to_owned() };
    cancel.check()?;
    match (gt, pred) {
        (Ok(gt), Ok(pred)) => Ok(match match_pairs(&gt, &pred, files, gt_folder, pred_folder) {
            Some(read) => Read::Strict(Box::new(read)),
            None => Read::Loose { gt: std::fs::read(gt_json).ok(), pred: std::fs::read(pred_json).ok() },
        }),
        (gt, pred) => Ok(Read::Loose { gt: text_of(gt, gt_json), pred: text_of(pred, pred_json) }),
    }
}

/// One ground truth against several prediction files, for a comparison: the ground truth read
/// and parsed once, the predictions in parallel, each matched to it as [`read_annotations`]
/// matches a pair. `None` for a set whose files are not in the strict form (the general reader
/// then reads that pair).
pub fn read_comparison(
    gt_json: &Path,
    pred_jsons: &[PathBuf],
    gt_folder: &Path,
    pred_folders: &[PathBuf],
    cancel: &Cancel,
) -> Result<Vec<Option<Annotations>>, PqError> {
    if pred_jsons.len() != pred_folders.len() {
        return Err(PqError::LengthMismatch {
            what: "prediction folders",
            expected: pred_jsons.len(),
            got: pred_folders.len(),
        });
    }
    let (gt, preds) = rayon::join(
        || read_and_parse::<GtFile>(gt_json, cancel).ok(),
        || {
            pred_jsons
                .par_iter()
                .map(|path| read_and_parse::<PredFile>(path, cancel).ok())
                .collect::<Vec<_>>()
        },
    );
    cancel.check()?;
    let Some(gt) = gt else { return Ok(pred_jsons.iter().map(|_| None).collect()) };
    Ok(preds
        .into_iter()
        .zip(pred_jsons.iter().zip(pred_folders))
        .map(|(pred, (pred_json, pred_folder))| {
            let files = JsonFiles { gt: gt_json.to_owned(), pred: pred_json.clone() };
            pred.and_then(|pred| match_pairs(&gt, &pred, files, gt_folder, pred_folder))
        })
        .collect())
}

/// A file's parse, or its bytes (`None` when it could not be read) when it is not in the strict form.
fn read_and_parse<T: for<'a> Deserialize<'a>>(path: &Path, cancel: &Cancel) -> Result<T, Option<Vec<u8>>> {
    let text = std::fs::read(path).map_err(|_| None)?;
    parse_cancellable::<T>(&text, cancel).ok_or(Some(text))
}

/// The bytes of a file whose pair did not parse strictly: kept, or read again when it was the
/// other file that failed (the common case keeps no text at all).
fn text_of<T>(parsed: Result<T, Option<Vec<u8>>>, path: &Path) -> Option<Vec<u8>> {
    match parsed {
        Err(text) => text,
        Ok(_) => std::fs::read(path).ok(),
    }
}

/// [`read_annotations`] of the two files' contents; `files` only names them in errors.
pub fn parse_annotations(
    gt_text: &[u8],
    pred_text: &[u8],
    files: JsonFiles,
    gt_folder: &Path,
    pred_folder: &Path,
    cancel: &Cancel,
) -> Result<Option<Annotations>, PqError> {
    let (gt, pred) = rayon::join(
        || parse_cancellable::<GtFile>(gt_text, cancel),
        || parse_cancellable::<PredFile>(pred_text, cancel),
    );
    match_parsed(gt, pred, files, gt_folder, pred_folder, cancel)
}

/// The pairs of two parsed files; `None` where either was not in the strict form.
fn match_parsed(
    gt: Option<GtFile>,
    pred: Option<PredFile>,
    files: JsonFiles,
    gt_folder: &Path,
    pred_folder: &Path,
    cancel: &Cancel,
) -> Result<Option<Annotations>, PqError> {
    // An interrupted parse also gives `None`: the interrupt is what to report.
    cancel.check()?;
    let (Some(gt), Some(pred)) = (gt, pred) else { return Ok(None) };
    Ok(match_pairs(&gt, &pred, files, gt_folder, pred_folder))
}

fn match_pairs(
    gt: &GtFile,
    pred: &PredFile,
    files: JsonFiles,
    gt_folder: &Path,
    pred_folder: &Path,
) -> Option<Annotations> {
    if !gt.categories.get().starts_with('[') {
        return None;
    }
    let predictions: HashMap<&ImageId, &Annotation<PredRecord>> =
        pred.annotations.0.iter().map(|annotation| (&annotation.image_id, annotation)).collect();
    let mut pairs = Pairs::new(Some(files));
    for gt_annotation in &gt.annotations.0 {
        let pred_annotation = predictions.get(&gt_annotation.image_id)?;
        pairs.push(
            gt_annotation.image_id.to_text(),
            [gt_folder.join(&gt_annotation.file_name), pred_folder.join(&pred_annotation.file_name)],
            gt_annotation.segments_info.iter().map(|s| GtSegment {
                id: s.id,
                category_id: s.category_id,
                // panopticapi tests `iscrowd == 1`.
                iscrowd: s.iscrowd == 1,
                area: s.area,
            }),
            pred_annotation
                .segments_info
                .iter()
                .map(|s| PredSegment { id: s.id, category_id: s.category_id }),
        );
    }
    Some(Annotations { pairs, categories_json: gt.categories.get().to_owned() })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::io::{Origin, DISK};

    struct Files {
        dir: PathBuf,
    }

    impl Files {
        fn new(name: &str, gt: &str, pred: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("panoptiq-annotations-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("gt.json"), gt).unwrap();
            std::fs::write(dir.join("pred.json"), pred).unwrap();
            Self { dir }
        }

        fn read(&self) -> Option<Annotations> {
            let read = read_annotations(
                &self.dir.join("gt.json"),
                &self.dir.join("pred.json"),
                Path::new("gt"),
                Path::new("/abs/pred"),
                &Cancel::new(),
            )
            .unwrap();
            match read {
                Read::Strict(annotations) => Some(*annotations),
                Read::Loose { gt, pred } => {
                    // The general reader gets the files' bytes, exactly, for every file there is.
                    assert_eq!(gt, std::fs::read(self.dir.join("gt.json")).ok());
                    assert_eq!(pred, std::fs::read(self.dir.join("pred.json")).ok());
                    None
                }
            }
        }
    }

    impl Drop for Files {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    const GT: &str = r#"{"annotations": [
        {"image_id": 7, "file_name": "a.png", "extra": [1, 2],
         "segments_info": [{"id": 5, "category_id": 1, "iscrowd": 0, "area": 10, "bbox": [0, 0, 1, 1]},
                           {"id": 6, "category_id": 2, "iscrowd": 1, "area": 3}]},
        {"image_id": "x", "file_name": "b.png", "segments_info": []}],
        "categories": [{"id": 1, "isthing": 1}, {"id": 2, "isthing": 0}]}"#;

    #[test]
    fn pairs_are_matched_in_ground_truth_order_and_the_last_prediction_wins() {
        let pred = r#"{"annotations": [
            {"image_id": "x", "file_name": "bx.png", "segments_info": [{"id": 9, "category_id": 2}]},
            {"image_id": 7, "file_name": "old.png", "segments_info": []},
            {"image_id": 7, "file_name": "a.png", "segments_info": [{"id": 4, "category_id": 1}]}]}"#;
        let files = Files::new("ok", GT, pred);
        let read = files.read().expect("strict input is read");
        let a = read.pairs;
        assert_eq!(a.len(), 2);
        assert!(read.categories_json.starts_with("[{\"id\": 1"));
        let jobs = a.jobs(0..5, Origin::Folder(&DISK), Origin::Folder(&DISK));
        assert_eq!((jobs[0].image_id, jobs[1].image_id), ("7", "x"));
        assert_eq!(jobs[0].gt_path, Path::new("gt/a.png"));
        assert_eq!(jobs[0].pred_path, Path::new("/abs/pred/a.png"));
        assert_eq!(
            jobs[0].gt_segments,
            [
                GtSegment { id: 5, category_id: 1, iscrowd: false, area: 10 },
                GtSegment { id: 6, category_id: 2, iscrowd: true, area: 3 }
            ]
        );
        assert_eq!(jobs[0].pred_segments, [PredSegment { id: 4, category_id: 1 }]);
        assert!(jobs[1].gt_segments.is_empty());
        assert_eq!(jobs[1].pred_segments, [PredSegment { id: 9, category_id: 2 }]);
        assert_eq!(a.jobs(1..2, Origin::Bytes(b""), Origin::Bytes(b"")).len(), 1);
    }

    #[test]
    fn a_comparison_reads_the_ground_truth_once_and_each_set_against_it() {
        let good = r#"{"annotations": [
            {"image_id": "x", "file_name": "bx.png", "segments_info": []},
            {"image_id": 7, "file_name": "a.png", "segments_info": [{"id": 4, "category_id": 1}]}]}"#;
        let short = r#"{"annotations": [{"image_id": 7, "file_name": "a.png", "segments_info": []}]}"#;
        let files = Files::new("comparison", GT, good);
        std::fs::write(files.dir.join("short.json"), short).unwrap();
        let preds = [files.dir.join("pred.json"), files.dir.join("short.json"), files.dir.join("pred.json")];
        let folders = [PathBuf::from("p0"), PathBuf::from("p1"), PathBuf::from("p2")];
        let read =
            read_comparison(&files.dir.join("gt.json"), &preds, Path::new("gt"), &folders, &Cancel::new())
                .unwrap();
        assert_eq!(read.len(), 3);
        // A set missing an image is left to the general reader, which names the image.
        assert!(read[1].is_none());
        let (first, third) = (read[0].as_ref().unwrap(), read[2].as_ref().unwrap());
        let jobs = third.pairs.jobs(0..2, Origin::Folder(&DISK), Origin::Folder(&DISK));
        assert_eq!((jobs[0].image_id, jobs[1].image_id), ("7", "x"));
        assert_eq!(jobs[0].pred_path, Path::new("p2/a.png"));
        assert_eq!(first.categories_json, third.categories_json);
        let unread =
            read_comparison(&files.dir.join("none.json"), &preds, Path::new("gt"), &folders, &Cancel::new());
        assert!(unread.unwrap().iter().all(Option::is_none));
        let mismatched = read_comparison(
            &files.dir.join("gt.json"),
            &preds,
            Path::new("gt"),
            &folders[..1],
            &Cancel::new(),
        );
        assert!(matches!(mismatched, Err(PqError::LengthMismatch { .. })));
    }

    #[test]
    fn anything_but_the_strict_form_is_left_to_the_general_reader() {
        let pred = r#"{"annotations": [
            {"image_id": "x", "file_name": "b.png", "segments_info": []},
            {"image_id": 7, "file_name": "a.png", "segments_info": []}]}"#;
        assert!(Files::new("base", GT, pred).read().is_some());
        let cases = [
            ("float area", GT.replace("\"area\": 10", "\"area\": 10.0"), pred.to_owned()),
            ("negative id", GT.replace("\"id\": 5", "\"id\": -5"), pred.to_owned()),
            ("id past u32", GT.replace("\"id\": 5", "\"id\": 4294967296"), pred.to_owned()),
            ("missing iscrowd", GT.replace("\"iscrowd\": 0,", ""), pred.to_owned()),
            ("bool iscrowd", GT.replace("\"iscrowd\": 0", "\"iscrowd\": false"), pred.to_owned()),
            (
                "categories not a list",
                GT.replace(r#"[{"id": 1, "isthing": 1}, {"id": 2, "isthing": 0}]"#, "{}"),
                pred.to_owned(),
            ),
            ("float image id", GT.replace("\"image_id\": 7", "\"image_id\": 7.0"), pred.to_owned()),
            ("no prediction", GT.to_owned(), pred.replace("\"image_id\": 7", "\"image_id\": \"7\"")),
            (
                "segments not a list",
                GT.to_owned(),
                pred.replace("\"segments_info\": []}]", "\"segments_info\": 3}]"),
            ),
            ("not JSON", GT.to_owned(), "{\"annotations\": [".to_owned()),
            (
                "duplicate key",
                GT.replace("\"image_id\": 7,", "\"image_id\": 7, \"image_id\": 8,"),
                pred.to_owned(),
            ),
        ];
        for (what, gt, bad_pred) in cases {
            assert!(gt != GT || bad_pred != pred, "{what}: the case changes nothing");
            let pred = bad_pred;
            assert!(Files::new("bad", &gt, &pred).read().is_none(), "{what}");
        }
        let files = Files::new("missing", GT, pred);
        std::fs::remove_file(files.dir.join("pred.json")).unwrap();
        assert!(files.read().is_none());
    }
}
