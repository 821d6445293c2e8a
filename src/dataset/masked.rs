//! COCO panoptic JSON files whose segments may carry their masks (`segmentation`) instead of a
//! PNG, read in Rust into the pairs and the masks evaluation paints: no segment becomes a Python
//! object.
//!
//! The strict form is [`super::annotations`]'s, and, on a side that may be given as masks, an
//! optional `file_name` (a masked image is named `<image_id>.png`) and each segment's optional
//! `score` and `segmentation` (see [`crate::convert::fields`]); the files' `images` lists give
//! the images' sizes. Such a side whose segments all carry masks is read as masks, one where
//! none does as PNGs. Anything else — a side where only some segments carry masks, a ground
//! truth given as masks that names an image twice, a field Python would convert — gives `None`:
//! Python's reader then runs, which explains what it refuses. So this path never changes a
//! result or a message.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::annotations::Annotations;
use super::pairs::Pairs;
use crate::convert::fields::{Mask, Score};
use crate::convert::paint::{ImageMasks, MaskSegment, OverlapRule};
use crate::error::JsonFiles;
use crate::eval::segments::{GtSegment, PredSegment};
use crate::io::json::{parse_cancellable, ImageId, List};
use crate::runtime::parallel::Cancel;
use crate::PqError;

#[derive(Deserialize)]
struct Annotation<S> {
    image_id: ImageId,
    file_name: Option<String>,
    segments_info: Vec<S>,
}

#[derive(Deserialize)]
struct GtRecord {
    id: u32,
    category_id: i64,
    iscrowd: i64,
    area: i64,
    score: Option<Score>,
    segmentation: Option<Mask>,
}

#[derive(Deserialize)]
struct PredRecord {
    id: u32,
    category_id: i64,
    score: Option<Score>,
    segmentation: Option<Mask>,
}

/// An `images` record: the size of the image with that id.
#[derive(Deserialize)]
struct ImageRecord {
    id: ImageId,
    height: usize,
    width: usize,
}

#[derive(Deserialize)]
struct GtFile {
    annotations: List<Annotation<GtRecord>>,
    categories: Box<RawValue>,
    images: Option<List<ImageRecord>>,
}

#[derive(Deserialize)]
struct PredFile {
    annotations: List<Annotation<PredRecord>>,
    images: Option<List<ImageRecord>>,
}

/// A category's id and whether it is a thing: its `isthing` equals 1 as Python compares (`1`,
/// `1.0` or `true`); anything else, or none, is stuff.
#[derive(Deserialize)]
struct CategoryRecord {
    id: i64,
    isthing: Option<serde_json::Value>,
}

impl CategoryRecord {
    fn is_thing(&self) -> bool {
        match &self.isthing {
            Some(serde_json::Value::Bool(value)) => *value,
            Some(serde_json::Value::Number(n)) => n.as_f64() == Some(1.0),
            _ => false,
        }
    }
}

/// One segment as the masks' side needs it.
trait Record {
    fn id(&self) -> u32;
    fn category_id(&self) -> i64;
    fn score(&self) -> Option<f64>;
    fn segmentation(&self) -> Option<&Mask>;
}

impl Record for GtRecord {
    fn id(&self) -> u32 {
        self.id
    }
    fn category_id(&self) -> i64 {
        self.category_id
    }
    fn score(&self) -> Option<f64> {
        self.score.map(|s| s.0)
    }
    fn segmentation(&self) -> Option<&Mask> {
        self.segmentation.as_ref()
    }
}

impl Record for PredRecord {
    fn id(&self) -> u32 {
        self.id
    }
    fn category_id(&self) -> i64 {
        self.category_id
    }
    fn score(&self) -> Option<f64> {
        self.score.map(|s| s.0)
    }
    fn segmentation(&self) -> Option<&Mask> {
        self.segmentation.as_ref()
    }
}

/// Where one side's images are: the folder of its PNGs, and, for a side that may be given as
/// masks, the name standing for its folder when it is.
#[derive(Debug, Clone, Copy)]
pub struct SideFolders<'a> {
    pub pngs: &'a Path,
    pub masks: Option<&'a Path>,
}

/// Reads both files (at once, on two threads) and matches their images as
/// [`super::annotations::read_annotations`] does; a side that carries masks holds them, painted
/// under `rule` when evaluated. `Ok(None)` when a file cannot be read or is not in the strict
/// form above; `Err(Interrupted)` once `cancel` is set.
pub fn read_masked(
    gt_json: &Path,
    pred_json: &Path,
    folders: [SideFolders<'_>; 2],
    rule: OverlapRule,
    cancel: &Cancel,
) -> Result<Option<Annotations>, PqError> {
    let (gt, pred) = rayon::join(|| std::fs::read(gt_json), || std::fs::read(pred_json));
    let (Ok(gt), Ok(pred)) = (gt, pred) else { return Ok(None) };
    let files = JsonFiles { gt: gt_json.to_owned(), pred: pred_json.to_owned() };
    parse_masked(&gt, &pred, files, folders, rule, cancel)
}

/// [`read_masked`] of the two files' contents; `files` only names them in errors.
pub fn parse_masked(
    gt_text: &[u8],
    pred_text: &[u8],
    files: JsonFiles,
    folders: [SideFolders<'_>; 2],
    rule: OverlapRule,
    cancel: &Cancel,
) -> Result<Option<Annotations>, PqError> {
    let (gt, pred) = rayon::join(
        || parse_cancellable::<GtFile>(gt_text, cancel),
        || parse_cancellable::<PredFile>(pred_text, cancel),
    );
    cancel.check()?;
    let (Some(gt), Some(pred)) = (gt, pred) else { return Ok(None) };
    Ok(match_masked(&gt, &pred, files, folders, rule))
}

/// Whether a side is read as masks: `Some(true)` when every segment of its file carries one
/// (and there is one), `Some(false)` when none does or the side takes PNGs only, `None` when
/// only some do (Python's reader says so).
fn carries_masks<S: Record>(annotations: &[Annotation<S>], may: bool) -> Option<bool> {
    if !may {
        return Some(false);
    }
    let segments = annotations.iter().flat_map(|a| &a.segments_info);
    let (total, with) =
        segments.fold((0usize, 0usize), |(t, w), s| (t + 1, w + usize::from(s.segmentation().is_some())));
    match with {
        0 => Some(false),
        w if w == total => Some(true),
        _ => None,
    }
}

/// Where an image of a side is: its PNG's path, or, read as masks, its name under the masks'
/// folder (`<image_id>.png` without a `file_name`). `None`: a PNG side without a `file_name`.
fn path_of<S>(annotation: &Annotation<S>, folders: SideFolders<'_>, masked: bool) -> Option<PathBuf> {
    match (&annotation.file_name, masked.then_some(folders.masks).flatten()) {
        (Some(name), Some(masks)) => Some(masks.join(name)),
        (None, Some(masks)) => Some(masks.join(format!("{}.png", annotation.image_id.to_text()))),
        (Some(name), None) => Some(folders.pngs.join(name)),
        (None, None) => None,
    }
}

/// One image side's masks, in `segments_info` order.
fn image_masks<S: Record>(
    segments: &[S],
    size: Option<(usize, usize)>,
    things: &HashMap<i64, bool>,
    rule: OverlapRule,
) -> Option<ImageMasks> {
    let segments = segments
        .iter()
        .map(|s| {
            Some(MaskSegment {
                id: s.id(),
                isthing: things.get(&s.category_id()).copied().unwrap_or(false),
                score: s.score(),
                mask: s.segmentation()?.0.clone(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(ImageMasks { size, segments, rule })
}

/// Whether no two annotations' ids read the same as text but differ (or, `strictly`, read
/// the same at all).
fn distinct_texts<S>(annotations: &[Annotation<S>], strictly: bool) -> bool {
    let mut seen: HashMap<String, &ImageId> = HashMap::new();
    annotations.iter().all(|a| match seen.insert(a.image_id.to_text(), &a.image_id) {
        None => true,
        Some(earlier) => !strictly && earlier == &a.image_id,
    })
}

fn match_masked(
    gt: &GtFile,
    pred: &PredFile,
    files: JsonFiles,
    [gt_folders, pred_folders]: [SideFolders<'_>; 2],
    rule: OverlapRule,
) -> Option<Annotations> {
    let categories: Vec<CategoryRecord> = serde_json::from_str(gt.categories.get()).ok()?;
    // Later records of an id replace earlier ones, as in Python's dict of them.
    let things: HashMap<i64, bool> = categories.iter().map(|c| (c.id, c.is_thing())).collect();
    let gt_masked = carries_masks(&gt.annotations.0, gt_folders.masks.is_some())?;
    let pred_masked = carries_masks(&pred.annotations.0, pred_folders.masks.is_some())?;
    let mut sizes: HashMap<String, (usize, usize)> = HashMap::new();
    for image in [&gt.images, &pred.images].into_iter().flatten().flat_map(|list| &list.0) {
        // The first record of an image gives its size.
        sizes.entry(image.id.to_text()).or_insert((image.height, image.width));
    }
    let predictions: HashMap<&ImageId, &Annotation<PredRecord>> =
        pred.annotations.0.iter().map(|annotation| (&annotation.image_id, annotation)).collect();
    // Python finds a masked side's annotations by `str(image_id)`, the last of each: a ground
    // truth naming an image twice, or ids such as `7` and `"7"` on one side, are left to it.
    if (gt_masked && !distinct_texts(&gt.annotations.0, true))
        || (pred_masked && !distinct_texts(&pred.annotations.0, false))
    {
        return None;
    }
    let mut pairs = Pairs::new(Some(files));
    let (mut gt_masks, mut pred_masks) = (Vec::new(), Vec::new());
    for gt_annotation in &gt.annotations.0 {
        let pred_annotation = predictions.get(&gt_annotation.image_id)?;
        let image_id = gt_annotation.image_id.to_text();
        let paths = [
            path_of(gt_annotation, gt_folders, gt_masked)?,
            path_of(pred_annotation, pred_folders, pred_masked)?,
        ];
        let size = sizes.get(&image_id).copied();
        if gt_masked {
            gt_masks.push(image_masks(&gt_annotation.segments_info, size, &things, rule)?);
        }
        if pred_masked {
            pred_masks.push(image_masks(&pred_annotation.segments_info, size, &things, rule)?);
        }
        pairs.push(
            image_id,
            paths,
            gt_annotation.segments_info.iter().map(|s| GtSegment {
                id: s.id,
                category_id: s.category_id,
                iscrowd: s.iscrowd == 1,
                area: s.area,
            }),
            pred_annotation
                .segments_info
                .iter()
                .map(|s| PredSegment { id: s.id, category_id: s.category_id }),
        );
    }
    let pairs = pairs.with_masks([gt_masked.then_some(gt_masks), pred_masked.then_some(pred_masks)]).ok()?;
    Some(Annotations { pairs, categories_json: gt.categories.get().to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::Segmentation;
    use crate::io::{Origin, DISK};

    const GT: &str = r#"{"annotations": [
        {"image_id": 7, "file_name": "a.png",
         "segments_info": [{"id": 5, "category_id": 1, "iscrowd": 0, "area": 10}]},
        {"image_id": "x", "file_name": "b.png", "segments_info": []}],
        "images": [{"id": 7, "height": 4, "width": 6, "file_name": "a.jpg"}, {"id": 7, "height": 1, "width": 1}],
        "categories": [{"id": 1, "isthing": 1}, {"id": 2, "isthing": 1.0}, {"id": 3, "isthing": true},
                       {"id": 4, "isthing": "1"}, {"id": 5}, {"id": 2, "isthing": 0}]}"#;

    const PRED: &str = r#"{"annotations": [
        {"image_id": "x", "file_name": "bx.png", "segments_info": [
            {"id": 9, "category_id": 3, "segmentation": [[0, 0, 2, 0, 2, 2]]}]},
        {"image_id": 7, "segments_info": [
            {"id": 4, "category_id": 1, "score": 0.75, "segmentation": {"size": [4, 6], "counts": "0P0"}},
            {"id": 6, "category_id": 2, "score": 1, "segmentation": {"size": [4, 6], "counts": [24]}},
            {"id": 8, "category_id": 4, "segmentation": []}]}]}"#;

    fn read_files(name: &str, gt: &str, pred: &str, pred_masks: Option<&Path>) -> Option<Annotations> {
        let dir = std::env::temp_dir().join(format!("panoptiq-masked-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("gt.json"), gt).unwrap();
        std::fs::write(dir.join("pred.json"), pred).unwrap();
        let folders = [
            SideFolders { pngs: Path::new("gt"), masks: None },
            SideFolders { pngs: Path::new("pred"), masks: pred_masks },
        ];
        let read = read_masked(
            &dir.join("gt.json"),
            &dir.join("pred.json"),
            folders,
            OverlapRule::Error,
            &Cancel::new(),
        );
        std::fs::remove_dir_all(&dir).unwrap();
        read.unwrap()
    }

    #[test]
    fn a_side_whose_segments_carry_masks_is_held_as_masks() {
        let masks_folder = Path::new("<masks>");
        let read = read_files("held", GT, PRED, Some(masks_folder)).expect("strict input is read");
        assert_eq!(read.pairs.masked(), [false, true]);
        let jobs = read.pairs.jobs(0..2, Origin::Folder(&DISK), Origin::Folder(&DISK));
        assert_eq!(jobs[0].gt_path, Path::new("gt/a.png"));
        // No file_name: the image id names a masked image.
        assert_eq!(jobs[0].pred_path, Path::new("<masks>/7.png"));
        assert_eq!(jobs[1].pred_path, Path::new("<masks>/bx.png"));
        assert!(jobs[0].gt_masks.is_none());
        let masks = jobs[0].pred_masks.expect("held masks");
        // The first images record of an image gives its size; the ground truth has no other.
        assert_eq!(masks.size, Some((4, 6)));
        assert_eq!(jobs[1].pred_masks.unwrap().size, None);
        let seen: Vec<_> = masks.segments.iter().map(|s| (s.id, s.isthing, s.score)).collect();
        // Category 2's later record (stuff) replaces its first; "1" is not 1.
        assert_eq!(seen, [(4, true, Some(0.75)), (6, false, Some(1.0)), (8, false, None)]);
        assert_eq!(
            masks.segments[0].mask,
            Segmentation::Compressed { height: 4, width: 6, counts: b"0P0".to_vec() }
        );
        assert_eq!(
            masks.segments[1].mask,
            Segmentation::Uncompressed { height: 4, width: 6, counts: vec![24] }
        );
        assert!(jobs[1].pred_masks.unwrap().segments[0].isthing);
        assert_eq!(
            jobs[0].pred_segments,
            [
                PredSegment { id: 4, category_id: 1 },
                PredSegment { id: 6, category_id: 2 },
                PredSegment { id: 8, category_id: 4 }
            ]
        );
        // A part keeps its pairs' masks.
        let part = read.pairs.slice(1..2);
        let job = part.jobs(0..1, Origin::Folder(&DISK), Origin::Folder(&DISK))[0];
        assert_eq!(job.pred_masks.unwrap().segments[0].id, 9);
    }

    #[test]
    fn a_side_without_masks_or_that_takes_pngs_reads_its_pngs() {
        let plain = PRED.replace(
            r#""image_id": 7, "segments_info""#,
            r#""image_id": 7, "file_name": "p.png", "segments_info""#,
        );
        // Masks on a side that takes PNGs are not looked at.
        let read = read_files("pngs", GT, &plain, None).expect("strict input is read");
        assert_eq!(read.pairs.masked(), [false, false]);
        let jobs = read.pairs.jobs(0..2, Origin::Folder(&DISK), Origin::Folder(&DISK));
        assert_eq!(jobs[0].pred_path, Path::new("pred/p.png"));
        let none = r#"{"annotations": [{"image_id": 7, "file_name": "p.png", "segments_info": [{"id": 4, "category_id": 1}]},
                                      {"image_id": "x", "file_name": "q.png", "segments_info": []}]}"#;
        let read = read_files("none", GT, none, Some(Path::new("<masks>"))).expect("strict input is read");
        assert_eq!(read.pairs.masked(), [false, false]);
    }

    #[test]
    fn what_pythons_reader_must_explain_or_decide_is_left_to_it() {
        let masks = Some(Path::new("<masks>"));
        assert!(read_files("base", GT, PRED, masks).is_some());
        let cases = [
            ("some segments without masks", GT.to_owned(), PRED.replace(r#", "segmentation": []"#, "")),
            ("a PNG side without file_name", GT.to_owned(), PRED.to_owned()),
            (
                "7 and \"7\"",
                GT.to_owned(),
                PRED.replace(
                    r#"{"image_id": "x", "file_name": "bx.png""#,
                    r#"{"image_id": "7", "file_name": "bx.png""#,
                ),
            ),
            ("a string score", GT.to_owned(), PRED.replace("0.75", "\"0.75\"")),
            ("a float size", GT.replace(r#""height": 4,"#, r#""height": 4.0,"#), PRED.to_owned()),
            ("a malformed mask", GT.to_owned(), PRED.replace(r#""counts": [24]"#, r#""counts": [-24]"#)),
            (
                "a category id that is not an integer",
                GT.replace(r#"{"id": 5}"#, r#"{"id": "5"}"#),
                PRED.to_owned(),
            ),
        ];
        for (what, gt, pred) in cases {
            let masks = if what == "a PNG side without file_name" { None } else { masks };
            assert!(read_files("bad", &gt, &pred, masks).is_none(), "{what}");
        }
    }
}
