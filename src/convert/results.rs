//! COCO segmentation results — the semantic and instance files `combine` reads — parsed in Rust
//! and grouped by image, so that tens of thousands of masks never become Python objects.
//!
//! Only the strict form models write is taken (see [`crate::io::json`]): records with an integer
//! or string `image_id`, an integer `category_id`, a number `score` (instances) and a
//! `segmentation` that is a compressed or uncompressed RLE or a list of polygons. A file in any
//! other form, or a record that Python's checks would refuse, gives `None`: Python's reader then
//! runs and raises its own error, so this path never changes a result or a message.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::fields::{Mask, Score};
use super::Segmentation;
use crate::io::json::{parse_cancellable, ImageId, List};
use crate::runtime::parallel::Cancel;
use crate::PqError;

/// One result, as combine reads it; other fields are skipped.
#[derive(Debug, Deserialize)]
pub struct ResultRecord {
    image_id: ImageId,
    category_id: i64,
    score: Option<Score>,
    segmentation: Mask,
}

/// Both results files, parsed.
#[derive(Debug)]
pub struct ResultFiles {
    semantic: Vec<ResultRecord>,
    instances: Vec<ResultRecord>,
}

/// One result placed in its image: its position in its file (which names it in errors), its
/// category and its mask.
#[derive(Debug)]
pub struct Placed {
    pub position: usize,
    pub category_id: i64,
    pub segmentation: Segmentation,
}

/// One image's inputs to the combination: instances by descending score, then stuff regions.
#[derive(Debug, Default)]
pub struct ImageResults {
    pub instances: Vec<Placed>,
    pub stuff: Vec<Placed>,
}

/// Reads and parses both files at once (on two threads). `Ok(None)` when either cannot be read
/// or is not a list of strict records; `Err(Interrupted)` once `cancel` is set.
pub fn read_results(
    semantic: &Path,
    instances: &Path,
    cancel: &Cancel,
) -> Result<Option<ResultFiles>, PqError> {
    let parse = |path: &Path| {
        let text = std::fs::read(path).ok()?;
        parse_cancellable::<List<ResultRecord>>(&text, cancel).map(|list| list.0)
    };
    let (semantic, instances) = rayon::join(|| parse(semantic), || parse(instances));
    cancel.check()?;
    Ok(semantic.zip(instances).map(|(semantic, instances)| ResultFiles { semantic, instances }))
}

impl ResultFiles {
    /// The records grouped by image, in the order of `images`, as panopticapi's script groups
    /// them: instances scoring at least `confidence_thr`, stably sorted by descending score;
    /// stuff regions (of categories whose `isthing` is not 1) in file order.
    ///
    /// `categories` are every category id with whether its `isthing == 1` (`None`: it has no
    /// `isthing`). `None` when a record names an image or category not listed, an instance has no
    /// score, or a semantic record's category has no `isthing`: Python's checks then raise the
    /// error.
    #[must_use]
    pub fn group(
        self,
        images: &[ImageId],
        categories: &[(i64, Option<bool>)],
        confidence_thr: f64,
    ) -> Option<Vec<ImageResults>> {
        let image_of: HashMap<&ImageId, usize> = images.iter().enumerate().map(|(i, id)| (id, i)).collect();
        let is_thing: HashMap<i64, Option<bool>> = categories.iter().copied().collect();
        let mut grouped: Vec<ImageResults> = images.iter().map(|_| ImageResults::default()).collect();
        // Every record is checked, kept or not, as Python checks them all before grouping.
        let mut scored: Vec<Vec<f64>> = vec![Vec::new(); images.len()];
        for (position, record) in self.instances.into_iter().enumerate() {
            let image = *image_of.get(&record.image_id)?;
            is_thing.get(&record.category_id)?;
            let Score(score) = record.score?;
            if score < confidence_thr {
                continue;
            }
            scored[image].push(score);
            grouped[image].instances.push(Placed {
                position,
                category_id: record.category_id,
                segmentation: record.segmentation.0,
            });
        }
        for (position, record) in self.semantic.into_iter().enumerate() {
            let image = *image_of.get(&record.image_id)?;
            match is_thing.get(&record.category_id)? {
                None => return None,
                Some(true) => continue,
                Some(false) => {}
            }
            grouped[image].stuff.push(Placed {
                position,
                category_id: record.category_id,
                segmentation: record.segmentation.0,
            });
        }
        for (image, scores) in grouped.iter_mut().zip(scored) {
            image.instances = by_descending_score(std::mem::take(&mut image.instances), &scores);
        }
        Some(grouped)
    }
}

/// `items` stably sorted by descending `scores` (no NaN: JSON has none). Equal scores, `0.0` and
/// `-0.0` among them, keep their order, as Python's `sort(key=-score)` keeps it.
fn by_descending_score(items: Vec<Placed>, scores: &[f64]) -> Vec<Placed> {
    let mut pairs: Vec<(f64, Placed)> = scores.iter().copied().zip(items).collect();
    pairs.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    pairs.into_iter().map(|(_, item)| item).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Option<Vec<ResultRecord>> {
        parse_cancellable::<List<ResultRecord>>(text.as_bytes(), &Cancel::new()).map(|list| list.0)
    }

    fn files(semantic: &str, instances: &str) -> Option<ResultFiles> {
        Some(ResultFiles { semantic: parse(semantic)?, instances: parse(instances)? })
    }

    const CATEGORIES: &[(i64, Option<bool>)] = &[(1, Some(true)), (2, Some(true)), (7, Some(false))];

    fn ids(images: &[i64]) -> Vec<ImageId> {
        images.iter().map(|&i| ImageId::Int(i)).collect()
    }

    #[test]
    fn strict_forms_parse_to_the_core_segmentation() {
        let records = parse(
            r#"[{"image_id": 1, "category_id": 2, "score": 1, "bbox": [0, 1],
                 "segmentation": {"counts": "0\\5", "size": [2, 3], "extra": {"a": [1]}}},
                {"image_id": "x", "category_id": 2, "segmentation": {"size": [2, 3], "counts": [1, 5]}},
                {"image_id": 3, "category_id": 2, "segmentation": [[0, 0.5, 2, 1e0]]}]"#,
        )
        .unwrap();
        assert_eq!(records[0].image_id, ImageId::Int(1));
        assert!(matches!(records[0].score, Some(Score(s)) if s.to_bits() == 1.0_f64.to_bits()));
        assert!(
            matches!(&records[0].segmentation.0, Segmentation::Compressed { height: 2, width: 3, counts } if counts == b"0\\5")
        );
        assert_eq!(records[1].image_id, ImageId::Text("x".into()));
        assert!(records[1].score.is_none());
        assert!(
            matches!(&records[1].segmentation.0, Segmentation::Uncompressed { height: 2, width: 3, counts } if counts == &[1, 5])
        );
        assert!(
            matches!(&records[2].segmentation.0, Segmentation::Polygons(p) if p == &[vec![0.0, 0.5, 2.0, 1.0]])
        );
    }

    #[test]
    fn forms_python_reads_otherwise_are_not_strict() {
        for text in [
            // Python keeps the last of a repeated key; a float id matches an int one.
            r#"[{"image_id": 1, "image_id": 2, "category_id": 1, "segmentation": []}]"#,
            r#"[{"image_id": 1.0, "category_id": 1, "segmentation": []}]"#,
            r#"[{"image_id": 1, "category_id": 1.0, "segmentation": []}]"#,
            r#"[{"image_id": true, "category_id": 1, "segmentation": []}]"#,
            r#"[{"image_id": 1, "category_id": 1, "score": 9007199254740993, "segmentation": []}]"#,
            r#"[{"image_id": 1, "category_id": 1, "score": NaN, "segmentation": []}]"#,
            r#"[{"image_id": 1, "category_id": 1, "score": "0.9", "segmentation": []}]"#,
            r#"[{"image_id": 1, "category_id": 1, "segmentation": {"size": [2, 3], "counts": "é"}}]"#,
            r#"[{"image_id": 1, "category_id": 1, "segmentation": {"size": [2, 3], "counts": [1.0]}}]"#,
            r#"[{"image_id": 1, "category_id": 1, "segmentation": {"size": [2, -3], "counts": ""}}]"#,
            r#"[{"image_id": 1, "category_id": 1, "segmentation": {"size": [2, 3], "size": [2, 3], "counts": ""}}]"#,
            r#"[{"image_id": 1, "category_id": 1, "segmentation": {"counts": ""}}]"#,
            r#"[{"image_id": 1, "category_id": 1, "segmentation": [["1"]]}]"#,
            r#"[{"image_id": 1, "category_id": 1}]"#,
            r#"{"image_id": 1}"#,
        ] {
            assert!(parse(text).is_none(), "{text}");
        }
    }

    #[test]
    fn scores_parse_as_python_floats() {
        // Shortest round-trip forms and a hard case for a fast float parser (correctly rounded).
        for (text, value) in [
            ("0.1", 0.1_f64),
            ("0.30000000000000004", 0.300_000_000_000_000_04),
            ("2.2250738585072011e-308", 2.225_073_858_507_201e-308),
        ] {
            let records = parse(&format!(
                r#"[{{"image_id": 1, "category_id": 1, "score": {text}, "segmentation": []}}]"#
            ))
            .unwrap();
            assert!(matches!(records[0].score, Some(Score(s)) if s.to_bits() == value.to_bits()), "{text}");
        }
    }

    #[test]
    fn grouping_follows_the_script() {
        let semantic = r#"[{"image_id": 2, "category_id": 7, "segmentation": []},
                          {"image_id": 2, "category_id": 1, "segmentation": []},
                          {"image_id": 1, "category_id": 7, "segmentation": []}]"#;
        let instances = r#"[{"image_id": 1, "category_id": 1, "score": 0.5, "segmentation": []},
                           {"image_id": 1, "category_id": 2, "score": 0.9, "segmentation": []},
                           {"image_id": 1, "category_id": 1, "score": 0.4, "segmentation": []},
                           {"image_id": 1, "category_id": 2, "score": 0.5, "segmentation": []},
                           {"image_id": 2, "category_id": 2, "score": -0.0, "segmentation": []},
                           {"image_id": 2, "category_id": 1, "score": 0.0, "segmentation": []}]"#;
        let grouped = files(semantic, instances).unwrap().group(&ids(&[2, 1, 3]), CATEGORIES, 0.0).unwrap();
        let positions = |placed: &[Placed]| placed.iter().map(|p| p.position).collect::<Vec<_>>();
        // Image 1: descending score, ties (0.5) in file order; 0.4 kept at a threshold of 0.
        assert_eq!(positions(&grouped[1].instances), [1, 0, 3, 2]);
        // Image 2: -0.0 and 0.0 are equal scores, kept in file order.
        assert_eq!(positions(&grouped[0].instances), [4, 5]);
        // Thing classes of the semantic file are dropped.
        assert_eq!(positions(&grouped[0].stuff), [0]);
        assert_eq!(positions(&grouped[1].stuff), [2]);
        assert!(grouped[2].instances.is_empty() && grouped[2].stuff.is_empty());
        let above = files(semantic, instances).unwrap().group(&ids(&[2, 1]), CATEGORIES, 0.5).unwrap();
        assert_eq!(positions(&above[1].instances), [1, 0, 3]);
        assert!(above[0].instances.is_empty());
    }

    #[test]
    fn records_python_would_refuse_are_left_to_it() {
        let stuff = r#"[{"image_id": 1, "category_id": 7, "segmentation": []}]"#;
        let thing = r#"[{"image_id": 1, "category_id": 1, "score": 0.9, "segmentation": []}]"#;
        // Every record is checked, below the threshold too.
        let unknown_image = r#"[{"image_id": 9, "category_id": 1, "score": 0.1, "segmentation": []}]"#;
        let unknown_category = r#"[{"image_id": 1, "category_id": 5, "score": 0.1, "segmentation": []}]"#;
        let no_score = r#"[{"image_id": 1, "category_id": 1, "segmentation": []}]"#;
        let text_id = r#"[{"image_id": "1", "category_id": 1, "score": 0.9, "segmentation": []}]"#;
        assert!(files(stuff, thing).unwrap().group(&ids(&[1]), CATEGORIES, 0.5).is_some());
        for instances in [unknown_image, unknown_category, no_score, text_id] {
            assert!(
                files(stuff, instances).unwrap().group(&ids(&[1]), CATEGORIES, 0.5).is_none(),
                "{instances}"
            );
        }
        for semantic in [unknown_image, unknown_category] {
            assert!(
                files(semantic, thing).unwrap().group(&ids(&[1]), CATEGORIES, 0.5).is_none(),
                "{semantic}"
            );
        }
        let no_isthing = [(1, Some(true)), (7, None)];
        assert!(files(stuff, thing).unwrap().group(&ids(&[1]), &no_isthing, 0.5).is_none());
    }
}
