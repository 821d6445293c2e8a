//! Output files appear whole or not at all: each is written under a hidden temporary name in
//! its folder and renamed over the final name when complete, so an interrupted or failed
//! conversion leaves no half-written file (a rename within one folder is atomic).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::PqError;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The temporary name `path` is written under.
fn temporary(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{n}.part", std::process::id()))
}

/// Runs `write` on a temporary path beside `path`, then renames it to `path`; on any error the
/// temporary file is removed and `path` is left as it was.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), PqError>,
) -> Result<(), PqError> {
    let part = temporary(path);
    let result = write(&part).and_then(|()| {
        std::fs::rename(&part, path).map_err(|source| PqError::Io { path: path.to_owned(), source })
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("panoptiq-output-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.png");
        let failed = write_atomically(&path, |part| {
            std::fs::write(part, b"half").unwrap();
            Err(PqError::Interrupted)
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        write_atomically(&path, |part| {
            std::fs::write(part, b"whole").map_err(|source| PqError::Io { path: part.to_owned(), source })
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
