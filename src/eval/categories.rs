//! The categories an evaluation knows, each a thing or a stuff, in the order the dataset lists
//! them, and the rules that say what is scored: what matching checks predicted categories
//! against, which class a category is scored as (itself, or the group `class_groups` puts it in),
//! which classes the averages run over (in that order, which fixes the order of their float
//! sums), which stuff PQ† scores its own way, the IoU a match must exceed, and the area edges
//! that slice the statistics by object size.

use crate::error::PqError;

/// A category: its id and whether it is a thing (countable objects) or stuff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryInfo {
    pub id: i64,
    pub isthing: bool,
}

/// panopticapi's matching threshold: a match needs IoU above one half.
pub const DEFAULT_IOU_THRESHOLD: f64 = 0.5;

/// Every category of an evaluation, built once and shared by every image pair.
///
/// Without grouping, every category is its own class. With [`Categories::grouped`], categories
/// are merged into classes (groups) before matching: segments match across the categories of a
/// group, and every statistic is kept per group.
#[derive(Debug, Clone, PartialEq)]
pub struct Categories {
    /// The classes, in the given order; a repeated id keeps its first place.
    ordered: Vec<CategoryInfo>,
    /// `(class id, isthing)` sorted by id, for lookups.
    sorted: Vec<(i64, bool)>,
    /// `(category id, class id)` sorted by category id; empty when every category is its own class.
    groups: Vec<(i64, i64)>,
    /// The classes averaged over, in `ordered`'s order (all of them unless a subset was chosen).
    averaged: Vec<CategoryInfo>,
    /// Stuff classes scored as PQ† scores them, sorted.
    modified_stuff: Vec<i64>,
    /// A match needs an IoU above this (0.5 unless chosen, always in [0.5, 1)).
    iou_threshold: f64,
    /// Area edges of the size slices, strictly increasing and above 0; empty: no slices.
    size_edges: Vec<u64>,
}

impl Default for Categories {
    fn default() -> Self {
        Self::with_kinds([])
    }
}

fn rules(argument: &'static str, message: String) -> PqError {
    PqError::BadRules { argument, message }
}

impl Categories {
    /// Categories known by id alone (all counted as stuff by a Things/Stuff split).
    #[must_use]
    pub fn new(ids: impl IntoIterator<Item = i64>) -> Self {
        Self::with_kinds(ids.into_iter().map(|id| (id, false)))
    }

    /// Categories from `(id, isthing)` pairs, in the order given.
    #[must_use]
    pub fn with_kinds(kinds: impl IntoIterator<Item = (i64, bool)>) -> Self {
        let mut ordered: Vec<CategoryInfo> = Vec::new();
        let mut sorted: Vec<(i64, bool)> = Vec::new();
        for (id, isthing) in kinds {
            sorted.push((id, isthing));
            ordered.push(CategoryInfo { id, isthing });
        }
        sorted.sort_by_key(|&(id, _)| id);
        sorted.dedup_by_key(|&mut (id, _)| id);
        if sorted.len() != ordered.len() {
            let mut seen = std::collections::HashSet::new();
            ordered.retain(|c| seen.insert(c.id));
        }
        let averaged = ordered.clone();
        Self {
            ordered,
            sorted,
            groups: Vec::new(),
            averaged,
            modified_stuff: Vec::new(),
            iou_threshold: DEFAULT_IOU_THRESHOLD,
            size_edges: Vec::new(),
        }
    }

    /// Classes (`classes`: `(class id, isthing)` in order) made of categories
    /// (`members`: `(category id, class id)`): each category is scored as its class.
    ///
    /// # Errors
    /// A category listed twice, or put in a class `classes` does not list.
    pub fn grouped(
        classes: impl IntoIterator<Item = (i64, bool)>,
        members: impl IntoIterator<Item = (i64, i64)>,
    ) -> Result<Self, PqError> {
        let mut c = Self::with_kinds(classes);
        let mut groups: Vec<(i64, i64)> = members.into_iter().collect();
        groups.sort_unstable();
        if let Some(w) = groups.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(rules("class_groups", format!("category {} is put in more than one group", w[0].0)));
        }
        if let Some(&(category, class)) = groups.iter().find(|&&(_, class)| c.isthing(class).is_none()) {
            return Err(rules(
                "class_groups",
                format!("category {category} is put in group {class}, which is not listed"),
            ));
        }
        c.groups = groups;
        Ok(c)
    }

    /// These rules averaging over `subset` of the classes only (in the classes' order); every
    /// class is still matched and counted as before.
    ///
    /// # Errors
    /// A class of `subset` that is not listed.
    pub fn averaging_over(mut self, subset: &[i64]) -> Result<Self, PqError> {
        if let Some(&id) = subset.iter().find(|&&id| self.isthing(id).is_none()) {
            return Err(rules("category_ids", format!("{id} is not one of the evaluation's classes")));
        }
        self.averaged = self.ordered.iter().copied().filter(|c| subset.contains(&c.id)).collect();
        Ok(self)
    }

    /// These rules with matches needing an IoU above `threshold`.
    ///
    /// # Errors
    /// A threshold outside [0.5, 1): below one half a segment could match twice.
    pub fn with_iou_threshold(mut self, threshold: f64) -> Result<Self, PqError> {
        if !(DEFAULT_IOU_THRESHOLD..1.0).contains(&threshold) {
            return Err(rules("iou_threshold", format!("must be in [0.5, 1), got {threshold}")));
        }
        self.iou_threshold = threshold;
        Ok(self)
    }

    /// These rules with the statistics also kept per object size: `edges` e₁ < e₂ < … cut areas
    /// into the half-open slices [0, e₁), [e₁, e₂), …, [eₙ, ∞), so that an area exactly on an
    /// edge falls in the upper slice and the slices add up to the totals.
    ///
    /// # Errors
    /// Edges that are not strictly increasing or include 0 (an empty first slice).
    pub fn with_size_edges(mut self, edges: &[u64]) -> Result<Self, PqError> {
        if edges.first() == Some(&0) || edges.windows(2).any(|w| w[0] >= w[1]) {
            return Err(rules(
                "size_edges",
                format!("must be strictly increasing areas above 0, got {edges:?}"),
            ));
        }
        self.size_edges = edges.to_vec();
        Ok(self)
    }

    /// The area edges of the size slices (empty: no slices).
    #[must_use]
    pub fn size_edges(&self) -> &[u64] {
        &self.size_edges
    }

    /// The size slice an area falls in, `None` without slices.
    #[must_use]
    pub fn size_slice(&self, area: u64) -> Option<usize> {
        (!self.size_edges.is_empty()).then(|| self.size_edges.partition_point(|&edge| edge <= area))
    }

    /// These categories with every stuff class scored as PQ† does (Porzi et al., 2019):
    /// every overlapping same-class pair adds its IoU, every ground-truth segment counts once,
    /// no FP or FN.
    #[must_use]
    pub fn with_modified_stuff(mut self) -> Self {
        self.modified_stuff =
            self.sorted.iter().filter(|&&(_, isthing)| !isthing).map(|&(id, _)| id).collect();
        self
    }

    /// The classes averaged over, in order (every class unless a subset was chosen).
    #[must_use]
    pub fn infos(&self) -> &[CategoryInfo] {
        &self.averaged
    }

    /// Whether the averages run over `class_id` (a known class, in the subset if one was chosen).
    #[must_use]
    pub fn is_averaged(&self, class_id: i64) -> bool {
        if self.averaged.len() == self.ordered.len() {
            return self.isthing(class_id).is_some();
        }
        self.averaged.iter().any(|c| c.id == class_id)
    }

    /// Every class, in order, averaged over or not.
    #[must_use]
    pub fn classes(&self) -> &[CategoryInfo] {
        &self.ordered
    }

    /// `(category id, class id)` of every grouped category, sorted; empty without grouping.
    #[must_use]
    pub fn groups(&self) -> &[(i64, i64)] {
        &self.groups
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.ordered.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }

    /// Whether `category_id` is a category of the dataset (a member of a group, when grouped).
    #[must_use]
    pub fn contains(&self, category_id: i64) -> bool {
        if self.groups.is_empty() {
            self.isthing(category_id).is_some()
        } else {
            self.groups.binary_search_by_key(&category_id, |&(c, _)| c).is_ok()
        }
    }

    /// The class a category is scored as: its group, or itself.
    #[must_use]
    pub fn class_of(&self, category_id: i64) -> i64 {
        if self.groups.is_empty() {
            return category_id;
        }
        match self.groups.binary_search_by_key(&category_id, |&(c, _)| c) {
            Ok(i) => self.groups[i].1,
            Err(_) => category_id,
        }
    }

    /// `Some(isthing)` of the class a known category is scored as, `None` for a category the
    /// dataset lacks.
    #[must_use]
    pub fn kind_of(&self, category_id: i64) -> Option<bool> {
        if self.groups.is_empty() {
            return self.isthing(category_id);
        }
        self.contains(category_id).then(|| self.isthing(self.class_of(category_id))).flatten()
    }

    /// `Some(isthing)` for a known class, `None` otherwise.
    #[must_use]
    pub fn isthing(&self, class_id: i64) -> Option<bool> {
        self.sorted.binary_search_by_key(&class_id, |&(id, _)| id).ok().map(|i| self.sorted[i].1)
    }

    /// Whether `class_id` (a class, see [`Categories::class_of`]) is stuff scored as PQ† does.
    #[must_use]
    pub fn is_modified_stuff(&self, class_id: i64) -> bool {
        !self.modified_stuff.is_empty() && self.modified_stuff.binary_search(&class_id).is_ok()
    }

    /// Whether stuff is scored as PQ† scores it.
    #[must_use]
    pub fn modified(&self) -> bool {
        !self.modified_stuff.is_empty()
    }

    /// The IoU a match must exceed.
    #[must_use]
    pub fn iou_threshold(&self) -> f64 {
        self.iou_threshold
    }

    /// boundary-iou-api's interior marker: the largest category id + 1 (None when that is no
    /// possible segment id).
    #[must_use]
    pub fn reference_marker(&self) -> Option<u32> {
        let largest = if self.groups.is_empty() {
            self.sorted.last().map(|&(m, _)| m)
        } else {
            self.groups.last().map(|&(m, _)| m)
        };
        largest.and_then(|m| u32::try_from(m.checked_add(1)?).ok())
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn lookups_and_order() {
        let c = Categories::with_kinds([(5, true), (1, false), (3, true), (3, false)]);
        assert!(c.contains(3) && c.contains(1) && !c.contains(2));
        assert_eq!(c.isthing(5), Some(true));
        let order: Vec<i64> = c.infos().iter().map(|i| i.id).collect();
        assert_eq!(order, [5, 1, 3]);
        assert_eq!(c.reference_marker(), Some(6));
        let m = c.clone().with_modified_stuff();
        assert!(m.is_modified_stuff(1) && !m.is_modified_stuff(5) && !c.is_modified_stuff(1));
        assert_eq!(c.class_of(5), 5);
    }

    #[test]
    fn groups_subsets_and_thresholds() {
        let c = Categories::grouped([(100, true), (200, false)], [(1, 100), (2, 100), (7, 200)]).unwrap();
        assert!(c.contains(1) && c.contains(7) && !c.contains(100));
        assert_eq!((c.class_of(2), c.class_of(7)), (100, 200));
        assert_eq!((c.kind_of(2), c.kind_of(7), c.kind_of(100)), (Some(true), Some(false), None));
        assert_eq!(c.reference_marker(), Some(8));
        let e = Categories::grouped([(100, true)], [(1, 100), (1, 100)]).unwrap_err();
        assert!(e.to_string().contains("category 1"), "{e}");
        let e = Categories::grouped([(100, true)], [(1, 300)]).unwrap_err();
        assert!(e.to_string().starts_with("class_groups: ") && e.to_string().contains("group 300"), "{e}");
        let s = c.clone().averaging_over(&[200]).unwrap();
        assert_eq!(s.infos(), &[CategoryInfo { id: 200, isthing: false }]);
        assert_eq!(s.classes().len(), 2);
        assert!(c.clone().averaging_over(&[3]).is_err());
        assert!(c.clone().with_iou_threshold(0.49).is_err() && c.clone().with_iou_threshold(1.0).is_err());
        assert!(c.clone().with_iou_threshold(f64::NAN).is_err());
        assert_eq!(c.clone().with_iou_threshold(0.75).unwrap().iou_threshold(), 0.75);
    }

    #[test]
    fn size_slices_are_half_open_with_an_edge_in_the_upper_slice() {
        let c = Categories::new([1]);
        assert_eq!(c.size_slice(5), None);
        let sized = c.clone().with_size_edges(&[1024, 9216]).unwrap();
        let slices: Vec<_> =
            [1, 1023, 1024, 9215, 9216, u64::MAX].map(|a| sized.size_slice(a).unwrap()).into();
        assert_eq!(slices, [0, 0, 1, 1, 2, 2]);
        for bad in [&[0, 5][..], &[5, 5], &[9, 3]] {
            assert!(c.clone().with_size_edges(bad).unwrap_err().to_string().starts_with("size_edges: "));
        }
    }
}
