//! `segments_info` of one image, checked and indexed: the segment and category records that
//! matching looks ids up in.

use std::collections::HashMap;

use crate::error::Side;
use crate::{PqError, VOID};

/// A ground-truth segment. Its area is the JSON `area`, not a pixel count: panopticapi uses the
/// JSON value in the union, and so must we to give the same IoU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GtSegment {
    pub id: u32,
    pub category_id: i64,
    pub iscrowd: bool,
    pub area: i64,
}

/// A predicted segment; its area is always counted from the PNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PredSegment {
    pub id: u32,
    pub category_id: i64,
}

/// The category ids a dataset defines, and those scored as PQ† scores stuff.
#[derive(Debug, Clone, Default)]
pub struct Categories {
    sorted_ids: Vec<i64>,
    modified_stuff: Vec<i64>,
}

fn sorted(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl Categories {
    #[must_use]
    pub fn new(ids: impl IntoIterator<Item = i64>) -> Self {
        Self { sorted_ids: sorted(ids), modified_stuff: Vec::new() }
    }

    /// boundary-iou-api's interior marker: the largest category id + 1 (None when that is no
    /// possible segment id).
    #[must_use]
    pub fn reference_marker(&self) -> Option<u32> {
        self.sorted_ids.last().and_then(|&m| u32::try_from(m.checked_add(1)?).ok())
    }

    /// Scores `stuff` as PQ† does (Porzi et al., 2019): every overlapping same-category pair adds
    /// its IoU, every ground-truth segment counts once, no FP or FN.
    #[must_use]
    pub fn with_modified_stuff(mut self, stuff: impl IntoIterator<Item = i64>) -> Self {
        self.modified_stuff = sorted(stuff);
        self
    }

    #[must_use]
    pub fn contains(&self, category_id: i64) -> bool {
        self.sorted_ids.binary_search(&category_id).is_ok()
    }

    #[must_use]
    pub fn is_modified_stuff(&self, category_id: i64) -> bool {
        !self.modified_stuff.is_empty() && self.modified_stuff.binary_search(&category_id).is_ok()
    }
}

/// Maps each segment id to its position in `segments_info`.
///
/// panopticapi builds `{el['id']: el}`, so a repeated id silently keeps only its last record,
/// and an id of 0 turns VOID pixels into a segment; both are malformed input, and both are
/// refused here rather than evaluated into a wrong number.
pub(crate) fn index_ids(
    image_id: &str,
    side: Side,
    ids: impl Iterator<Item = u32>,
) -> Result<HashMap<u32, usize>, PqError> {
    let mut index = HashMap::new();
    for (position, id) in ids.enumerate() {
        if id == VOID {
            return Err(PqError::VoidSegment { image_id: image_id.to_owned(), side });
        }
        if index.insert(id, position).is_some() {
            return Err(PqError::DuplicateSegment { image_id: image_id.to_owned(), side, segment_id: id });
        }
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_lookup() {
        let c = Categories::new([5, 1, 3, 3]);
        assert!(c.contains(3) && c.contains(1) && !c.contains(2));
    }

    #[test]
    fn index_rejects_void_and_duplicates() {
        let ok = index_ids("7", Side::GroundTruth, [4, 9].into_iter()).unwrap();
        assert_eq!(ok[&9], 1);
        let void = index_ids("7", Side::Prediction, [4, 0].into_iter()).unwrap_err();
        assert!(matches!(void, PqError::VoidSegment { side: Side::Prediction, .. }));
        let dup = index_ids("7", Side::GroundTruth, [4, 4].into_iter()).unwrap_err();
        assert!(matches!(dup, PqError::DuplicateSegment { segment_id: 4, .. }));
    }
}

/// Segment records written shortly, for the tests of the modules that apply the rules.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::{GtSegment, PredSegment};

    pub(crate) fn gt(id: u32, category_id: i64, iscrowd: bool, area: i64) -> GtSegment {
        GtSegment { id, category_id, iscrowd, area }
    }

    pub(crate) fn pred(id: u32, category_id: i64) -> PredSegment {
        PredSegment { id, category_id }
    }
}
