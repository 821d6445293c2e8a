//! The bytes an archive lies in: a window of a file on disk, read in place at offsets, or a
//! buffer in memory (an archive fetched whole, or one nested in another and compressed there).

use std::fs::File;
use std::sync::Arc;

/// Where an archive's bytes are; clones share the file or the buffer.
#[derive(Debug, Clone)]
pub enum Backing {
    /// Bytes `base..base + len` of a file.
    File { file: Arc<File>, base: u64, len: u64 },
    /// Bytes `base..base + len` of a buffer.
    Memory { bytes: Arc<Vec<u8>>, base: usize, len: usize },
}

impl Backing {
    /// A whole file.
    pub fn file(file: File) -> std::io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Backing::File { file: Arc::new(file), base: 0, len })
    }

    #[must_use]
    pub fn memory(bytes: Vec<u8>) -> Self {
        let len = bytes.len();
        Backing::Memory { bytes: Arc::new(bytes), base: 0, len }
    }

    #[must_use]
    pub fn len(&self) -> u64 {
        match self {
            Backing::File { len, .. } => *len,
            Backing::Memory { len, .. } => *len as u64,
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes `offset..offset + len` of this backing as a backing of its own (a stored member).
    #[must_use]
    pub fn window(&self, offset: u64, len: u64) -> Option<Self> {
        if offset.checked_add(len)? > self.len() {
            return None;
        }
        Some(match self {
            Backing::File { file, base, .. } => {
                Backing::File { file: Arc::clone(file), base: base + offset, len }
            }
            Backing::Memory { bytes, base, .. } => Backing::Memory {
                bytes: Arc::clone(bytes),
                base: base + usize::try_from(offset).ok()?,
                len: usize::try_from(len).ok()?,
            },
        })
    }

    /// Fills `buf` from `offset`; reading past the end is an `UnexpectedEof` error.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let end = offset.checked_add(buf.len() as u64).filter(|&end| end <= self.len());
        if end.is_none() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the archive ends before the data its directory points to",
            ));
        }
        match self {
            Backing::File { file, base, .. } => read_exact_at(file, buf, base + offset),
            Backing::Memory { bytes, base, .. } => {
                // In bounds: checked against `len` above, and the window lies inside `bytes`.
                let start = base + usize::try_from(offset).map_err(std::io::Error::other)?;
                buf.copy_from_slice(&bytes[start..start + buf.len()]);
                Ok(())
            }
        }
    }
}

// Positioned reads: threads read members of one archive at once without sharing a file cursor.
#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_nest_and_reads_stay_inside() {
        let outer = Backing::memory((0u8..100).collect());
        let inner = outer.window(10, 50).unwrap().window(5, 10).unwrap();
        let mut buf = [0u8; 3];
        inner.read_at(7, &mut buf).unwrap();
        assert_eq!(buf, [22, 23, 24]);
        assert!(inner.read_at(8, &mut buf).is_err());
        assert!(outer.window(90, 11).is_none());
        assert!(outer.window(u64::MAX, 2).is_none());
    }
}
