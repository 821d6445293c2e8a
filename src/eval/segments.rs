//! `segments_info` of one image, checked and indexed: the segment records that matching looks
//! ids up in.

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
