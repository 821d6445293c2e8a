//! COCO panoptic JSON files read straight into the image pairs evaluation needs, without
//! building a Python object per segment.
//!
//! Only the strict form that COCO and panoptic models write is taken: integer segment ids,
//! category ids, `iscrowd` and areas; integer or string image ids; a prediction for every
//! ground-truth image. Anything else gives `None`, and the caller falls back to the general reader
//! (Python's), which accepts what panopticapi accepts and explains what it refuses. So this
//! reader never changes a result or an error message: it only makes the common case fast.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::dataset::PairJob;
use crate::error::JsonFiles;
use crate::eval::segments::{GtSegment, PredSegment};
use crate::io::Origin;
use crate::runtime::parallel::Cancel;
use crate::PqError;

/// An `image_id` as JSON holds it. panopticapi matches predictions to images by Python equality,
/// under which `1` and `"1"` differ, as they do here.
#[derive(Debug, Deserialize, PartialEq, Eq, Hash)]
#[serde(untagged)]
enum ImageId {
    Int(i64),
    Text(String),
}

impl ImageId {
    /// The id as Python's `str()` writes it, which is how error messages name the image.
    fn to_text(&self) -> String {
        match self {
            ImageId::Int(id) => id.to_string(),
            ImageId::Text(id) => id.clone(),
        }
    }
}

#[derive(Deserialize)]
struct Annotation<S> {
    image_id: ImageId,
    file_name: String,
    segments_info: Vec<S>,
}

thread_local! {
    /// The cancel flag of the parse under way on this thread, looked at between annotations.
    static PARSE_CANCEL: std::cell::RefCell<Option<Cancel>> = const { std::cell::RefCell::new(None) };
}

/// Parses `text` as `T` on this thread, stopping between two annotations once `cancel` is set.
fn parse_cancellable<'a, T: Deserialize<'a>>(text: &'a [u8], cancel: &Cancel) -> Option<T> {
    PARSE_CANCEL.set(Some(cancel.clone()));
    let parsed = serde_json::from_slice::<T>(text).ok();
    PARSE_CANCEL.set(None);
    parsed
}

/// The `annotations` list: a JSON array read element by element, so that a cancelled parse of
/// a large file stops within one annotation.
struct AnnotationList<S>(Vec<Annotation<S>>);

impl<'de, S: Deserialize<'de>> Deserialize<'de> for AnnotationList<S> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Elements<S>(std::marker::PhantomData<S>);
        impl<'de, S: Deserialize<'de>> serde::de::Visitor<'de> for Elements<S> {
            type Value = AnnotationList<S>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of annotations")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut annotations = Vec::new();
                while let Some(annotation) = seq.next_element()? {
                    if PARSE_CANCEL.with_borrow(|cancel| cancel.as_ref().is_some_and(Cancel::is_cancelled)) {
                        return Err(serde::de::Error::custom("interrupted"));
                    }
                    annotations.push(annotation);
                }
                Ok(AnnotationList(annotations))
            }
        }
        deserializer.deserialize_seq(Elements(std::marker::PhantomData))
    }
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
    annotations: AnnotationList<GtRecord>,
    categories: Box<RawValue>,
}

#[derive(Deserialize)]
struct PredFile {
    annotations: AnnotationList<PredRecord>,
}

/// Matched (ground truth, prediction) image pairs with their files and segments, in
/// ground-truth order.
#[derive(Debug, Default)]
pub struct Annotations {
    image_ids: Vec<String>,
    gt_paths: Vec<PathBuf>,
    pred_paths: Vec<PathBuf>,
    gt_segments: Vec<GtSegment>,
    /// Image `i`'s ground-truth segments are `gt_segments[gt_offsets[i]..gt_offsets[i + 1]]`.
    gt_offsets: Vec<usize>,
    pred_segments: Vec<PredSegment>,
    pred_offsets: Vec<usize>,
    categories_json: String,
    files: JsonFiles,
}

impl Annotations {
    /// Number of image pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.image_ids.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.image_ids.is_empty()
    }

    /// The ground truth's `categories` list, as the JSON text it was in the file.
    #[must_use]
    pub fn categories_json(&self) -> &str {
        &self.categories_json
    }

    /// The evaluation jobs of pairs `range` (clamped to the pairs there are), whose PNGs are
    /// read from `gt_from` and `pred_from`.
    #[must_use]
    pub fn jobs<'a>(
        &'a self,
        range: Range<usize>,
        gt_from: Origin<'a>,
        pred_from: Origin<'a>,
    ) -> Vec<PairJob<'a>> {
        let end = range.end.min(self.len());
        (range.start.min(end)..end)
            .map(|i| PairJob {
                image_id: &self.image_ids[i],
                gt_path: &self.gt_paths[i],
                pred_path: &self.pred_paths[i],
                gt_segments: &self.gt_segments[self.gt_offsets[i]..self.gt_offsets[i + 1]],
                pred_segments: &self.pred_segments[self.pred_offsets[i]..self.pred_offsets[i + 1]],
                json: Some(&self.files),
                gt_from,
                pred_from,
            })
            .collect()
    }
}

/// Reads both JSON files (at once, on two threads) and matches every ground-truth image with its
/// prediction, as panopticapi does: a later prediction of the same image replaces an earlier one.
///
/// `Ok(None)` when a file cannot be read or is not in the strict form described in the module
/// documentation, including when an image has no prediction; `Err(Interrupted)` once `cancel`
/// is set.
pub fn read_annotations(
    gt_json: &Path,
    pred_json: &Path,
    gt_folder: &Path,
    pred_folder: &Path,
    cancel: &Cancel,
) -> Result<Option<Annotations>, PqError> {
    // Each file's text is dropped as soon as it is parsed: the peak holds one file's text and
    // the parsed tables, not both texts besides.
    let (gt, pred) = rayon::join(
        || std::fs::read(gt_json).ok().and_then(|text| parse_cancellable::<GtFile>(&text, cancel)),
        || std::fs::read(pred_json).ok().and_then(|text| parse_cancellable::<PredFile>(&text, cancel)),
    );
    let files = JsonFiles { gt: gt_json.to_owned(), pred: pred_json.to_owned() };
    match_parsed(gt, pred, files, gt_folder, pred_folder, cancel)
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

    let images = gt.annotations.0.len();
    let mut out = Annotations {
        image_ids: Vec::with_capacity(images),
        gt_paths: Vec::with_capacity(images),
        pred_paths: Vec::with_capacity(images),
        gt_offsets: Vec::with_capacity(images + 1),
        pred_offsets: Vec::with_capacity(images + 1),
        categories_json: gt.categories.get().to_owned(),
        files,
        ..Annotations::default()
    };
    out.gt_offsets.push(0);
    out.pred_offsets.push(0);
    for gt_annotation in &gt.annotations.0 {
        let pred_annotation = predictions.get(&gt_annotation.image_id)?;
        out.image_ids.push(gt_annotation.image_id.to_text());
        out.gt_paths.push(gt_folder.join(&gt_annotation.file_name));
        out.pred_paths.push(pred_folder.join(&pred_annotation.file_name));
        out.gt_segments.extend(gt_annotation.segments_info.iter().map(|s| GtSegment {
            id: s.id,
            category_id: s.category_id,
            // panopticapi tests `iscrowd == 1`.
            iscrowd: s.iscrowd == 1,
            area: s.area,
        }));
        out.pred_segments.extend(
            pred_annotation
                .segments_info
                .iter()
                .map(|s| PredSegment { id: s.id, category_id: s.category_id }),
        );
        out.gt_offsets.push(out.gt_segments.len());
        out.pred_offsets.push(out.pred_segments.len());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::DISK;

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
            read_annotations(
                &self.dir.join("gt.json"),
                &self.dir.join("pred.json"),
                Path::new("gt"),
                Path::new("/abs/pred"),
                &Cancel::new(),
            )
            .unwrap()
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
        let a = files.read().expect("strict input is read");
        assert_eq!(a.len(), 2);
        assert!(a.categories_json().starts_with("[{\"id\": 1"));
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
