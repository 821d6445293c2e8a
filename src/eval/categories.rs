//! The categories an evaluation knows, each a thing or a stuff, in the order the dataset lists
//! them: what matching checks predicted categories against, what averages run over (in that
//! order, which fixes the order of their float sums), and which stuff PQ† scores its own way.

/// A category: its id and whether it is a thing (countable objects) or stuff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryInfo {
    pub id: i64,
    pub isthing: bool,
}

/// Every category of an evaluation, built once and shared by every image pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Categories {
    /// In the given order; a repeated id keeps its first place.
    ordered: Vec<CategoryInfo>,
    /// `(id, isthing)` sorted by id, for lookups.
    sorted: Vec<(i64, bool)>,
    /// Stuff scored as PQ† scores it, sorted.
    modified_stuff: Vec<i64>,
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
        Self { ordered, sorted, modified_stuff: Vec::new() }
    }

    /// These categories with every stuff category scored as PQ† does (Porzi et al., 2019):
    /// every overlapping same-category pair adds its IoU, every ground-truth segment counts once,
    /// no FP or FN.
    #[must_use]
    pub fn with_modified_stuff(mut self) -> Self {
        self.modified_stuff =
            self.sorted.iter().filter(|&&(_, isthing)| !isthing).map(|&(id, _)| id).collect();
        self
    }

    /// The categories in the order given.
    #[must_use]
    pub fn infos(&self) -> &[CategoryInfo] {
        &self.ordered
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.ordered.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }

    #[must_use]
    pub fn contains(&self, category_id: i64) -> bool {
        self.isthing(category_id).is_some()
    }

    /// `Some(isthing)` for a known category, `None` otherwise.
    #[must_use]
    pub fn isthing(&self, category_id: i64) -> Option<bool> {
        self.sorted.binary_search_by_key(&category_id, |&(id, _)| id).ok().map(|i| self.sorted[i].1)
    }

    #[must_use]
    pub fn is_modified_stuff(&self, category_id: i64) -> bool {
        !self.modified_stuff.is_empty() && self.modified_stuff.binary_search(&category_id).is_ok()
    }

    /// Whether stuff is scored as PQ† scores it.
    #[must_use]
    pub fn modified(&self) -> bool {
        !self.modified_stuff.is_empty()
    }

    /// boundary-iou-api's interior marker: the largest category id + 1 (None when that is no
    /// possible segment id).
    #[must_use]
    pub fn reference_marker(&self) -> Option<u32> {
        self.sorted.last().and_then(|&(m, _)| u32::try_from(m.checked_add(1)?).ok())
    }
}

#[cfg(test)]
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
    }
}
