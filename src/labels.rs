//! In-memory label maps — per-pixel (category, instance) pairs, `category × label_divisor +
//! instance` integers, or id maps whose ids `segments_info` explains — turned into the dense id
//! maps and segment lists that the intersection histogram and the matching rules work on.

use std::collections::HashMap;
use std::hash::BuildHasher;

use crate::error::Side;
use crate::memory::filled_vec;
use crate::{PqError, VOID};

/// Every category the metric knows, each a thing or a stuff.
#[derive(Debug, Clone, Default)]
pub struct CategoryKinds {
    /// (category id, isthing), sorted by id.
    sorted: Vec<(i64, bool)>,
}

impl CategoryKinds {
    #[must_use]
    pub fn new(categories: impl IntoIterator<Item = (i64, bool)>) -> Self {
        let mut sorted: Vec<(i64, bool)> = categories.into_iter().collect();
        sorted.sort_unstable_by_key(|&(id, _)| id);
        sorted.dedup_by_key(|&mut (id, _)| id);
        Self { sorted }
    }

    /// `Some(isthing)` for a known category, `None` otherwise.
    #[must_use]
    pub fn isthing(&self, category_id: i64) -> Option<bool> {
        self.sorted.binary_search_by_key(&category_id, |&(id, _)| id).ok().map(|i| self.sorted[i].1)
    }

    /// The known category ids, ascending.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.sorted.iter().map(|&(id, _)| id)
    }
}

/// How one side's labels become segments.
#[derive(Debug, Clone, Copy, Default)]
pub struct LabelPolicy {
    /// A category whose pixels are VOID (an ignore label such as Cityscapes' 255).
    pub void_category: Option<i64>,
    /// Pixels of a category that is neither thing nor stuff become VOID instead of an error.
    pub unknown_is_void: bool,
    /// Stuff instance ids are set to 0, so each stuff category is one segment per image
    /// (torchmetrics); otherwise a non-zero one is an error (panopticapi's data has none).
    pub merge_stuff_instances: bool,
    /// The hint an unknown-category error ends with.
    pub unknown_hint: &'static str,
}

/// A segment of a [`Labelled`] map: its dense id, category and pixel count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub id: u32,
    pub category_id: i64,
    pub area: u64,
}

/// An id map whose non-VOID ids are `1..=segments.len()`, segment `i` having id `i + 1`.
#[derive(Debug, Clone, Default)]
pub struct Labelled {
    pub ids: Vec<u32>,
    pub segments: Vec<Segment>,
}

/// What a raw label stands for, before the policy applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Void,
    Segment { category_id: i64, instance_id: i64 },
}

/// Labels `keys` (one per pixel) through `decode`, which turns a raw key into a [`Label`].
///
/// Panoptic maps are long runs of one key, so `decode` and the segment lookup run once per run.
pub fn label_map<K: Copy + Eq>(
    image_id: &str,
    side: Side,
    keys: impl ExactSizeIterator<Item = K>,
    decode: impl Fn(K) -> Result<Label, PqError>,
    kinds: &CategoryKinds,
    policy: &LabelPolicy,
) -> Result<Labelled, PqError> {
    let mut ids = filled_vec(keys.len(), VOID, "an id map")?;
    let mut segments: Vec<Segment> = Vec::new();
    let mut index: HashMap<(i64, i64), u32> = HashMap::new();
    let mut last: Option<(K, u32)> = None;
    let mut assign = |label: Label| -> Result<u32, PqError> {
        let Label::Segment { category_id, mut instance_id } = label else {
            return Ok(VOID);
        };
        if policy.void_category == Some(category_id) {
            return Ok(VOID);
        }
        match kinds.isthing(category_id) {
            None if policy.unknown_is_void => return Ok(VOID),
            None => {
                return Err(PqError::UnknownLabel {
                    image_id: image_id.to_owned(),
                    side,
                    category_id,
                    hint: policy.unknown_hint,
                })
            }
            Some(false) if instance_id != 0 => {
                if !policy.merge_stuff_instances {
                    return Err(PqError::StuffInstance {
                        image_id: image_id.to_owned(),
                        side,
                        category_id,
                        instance_id,
                    });
                }
                instance_id = 0;
            }
            Some(_) => {}
        }
        let next = u32::try_from(segments.len() + 1).map_err(|_| PqError::LengthMismatch {
            what: "segments in one image (at most 2^32 - 1)",
            expected: u32::MAX as usize,
            got: segments.len() + 1,
        })?;
        let id = *index.entry((category_id, instance_id)).or_insert(next);
        if id == next {
            segments.push(Segment { id, category_id, area: 0 });
        }
        Ok(id)
    };
    for (slot, key) in ids.iter_mut().zip(keys) {
        let id = match last {
            Some((k, id)) if k == key => id,
            _ => {
                let id = assign(decode(key)?)?;
                last = Some((key, id));
                id
            }
        };
        *slot = id;
    }
    for &id in &ids {
        if id != VOID {
            segments[id as usize - 1].area += 1;
        }
    }
    Ok(Labelled { ids, segments })
}

/// Decodes `category × label_divisor + instance`; negative values are refused.
pub fn encoded_label(
    image_id: &str,
    side: Side,
    label_divisor: i64,
) -> impl Fn(i64) -> Result<Label, PqError> + '_ {
    move |value| {
        if value < 0 {
            return Err(PqError::NegativeLabel { image_id: image_id.to_owned(), side, value });
        }
        Ok(Label::Segment { category_id: value / label_divisor, instance_id: value % label_divisor })
    }
}

/// An id map's ids as labels: VOID stays VOID, a listed id is its segment; an unlisted id is
/// VOID in the ground truth (as panopticapi ignores it) and an error in a prediction.
pub fn listed_label<'a, S: BuildHasher>(
    image_id: &'a str,
    side: Side,
    listed: &'a HashMap<u32, (i64, bool), S>,
) -> impl Fn(u32) -> Result<Label, PqError> + 'a {
    move |id| {
        if id == VOID {
            return Ok(Label::Void);
        }
        match (listed.get(&id), side) {
            // Crowd regions are ignored regions: VOID under rules that have no crowd.
            (Some(&(_, true)), _) | (None, Side::GroundTruth) => Ok(Label::Void),
            (Some(&(category_id, false)), _) => {
                Ok(Label::Segment { category_id, instance_id: i64::from(id) })
            }
            (None, Side::Prediction) => {
                Err(PqError::SegmentNotInJson { image_id: image_id.to_owned(), segment_id: id })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds() -> CategoryKinds {
        CategoryKinds::new([(1, true), (7, false)])
    }

    fn pairs(values: &[(i64, i64)], policy: &LabelPolicy) -> Result<Labelled, PqError> {
        let decode = |(c, i)| Ok(Label::Segment { category_id: c, instance_id: i });
        label_map("9", Side::GroundTruth, values.iter().copied(), decode, &kinds(), policy)
    }

    #[test]
    fn pairs_become_dense_segments() {
        let l = pairs(&[(1, 4), (1, 4), (7, 0), (1, 2), (1, 4)], &LabelPolicy::default()).unwrap();
        assert_eq!(l.ids, vec![1, 1, 2, 3, 1]);
        assert_eq!(l.segments[0], Segment { id: 1, category_id: 1, area: 3 });
        assert_eq!(l.segments[1].area, 1);
    }

    #[test]
    fn void_unknown_and_stuff_instances_follow_the_policy() {
        let strict = LabelPolicy { void_category: Some(255), ..LabelPolicy::default() };
        let l = pairs(&[(255, 3), (7, 0)], &strict).unwrap();
        assert_eq!(l.ids, vec![VOID, 1]);
        assert!(matches!(pairs(&[(5, 0)], &strict), Err(PqError::UnknownLabel { category_id: 5, .. })));
        assert!(matches!(pairs(&[(7, 2)], &strict), Err(PqError::StuffInstance { instance_id: 2, .. })));
        let lenient = LabelPolicy { unknown_is_void: true, merge_stuff_instances: true, ..strict };
        let l = pairs(&[(5, 0), (7, 2), (7, 3)], &lenient).unwrap();
        assert_eq!(l.ids, vec![VOID, 1, 1]);
    }

    #[test]
    fn encoded_labels_decode_and_refuse_negatives() {
        let decode = encoded_label("3", Side::Prediction, 1000);
        assert_eq!(decode(7002).unwrap(), Label::Segment { category_id: 7, instance_id: 2 });
        assert!(matches!(decode(-1), Err(PqError::NegativeLabel { value: -1, .. })));
    }
}
