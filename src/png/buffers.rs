//! The buffers a decoder keeps from file to file: the file, its image data, the inflated bytes and
//! the row being un-filtered, so that a worker allocates once, not once per image.

use super::sparse;

/// Buffers a decoder reuses from file to file.
#[derive(Default)]
pub struct Buffers {
    pub(super) file: Vec<u8>,
    pub(super) compressed: Vec<u8>,
    pub(super) raw: Vec<u8>,
    pub(super) row: Vec<u8>,
    /// Boxed: large, and unused by the default engine.
    pub(super) sparse: Box<sparse::SparseBuffers>,
}

impl Buffers {
    /// Buffers holding `file`, a whole PNG file, for [`FastRows::from_file_bytes`].
    #[must_use]
    pub fn with_file(file: Vec<u8>) -> Self {
        Self { file, ..Self::default() }
    }

    /// The file bytes these buffers hold.
    #[must_use]
    pub fn into_file(self) -> Vec<u8> {
        self.file
    }

    /// The buffer the next file is read into, for [`FastRows::from_file_bytes`].
    pub fn file_mut(&mut self) -> &mut Vec<u8> {
        &mut self.file
    }
}
