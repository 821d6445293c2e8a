//! What a decoder says of each row it hands on: changed, or the same as the row above.

/// Whether a row is the same as the row above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Same,
    Changed,
}

impl Row {
    /// `Changed` if `changed`, else `Same`.
    #[must_use]
    pub fn from_changed(changed: bool) -> Self {
        if changed {
            Row::Changed
        } else {
            Row::Same
        }
    }
}
