//! Where a dataset's PNGs come from: files on disk, members of zip and tar archives (read in
//! place, never extracted; an archive inside an archive too), or bytes already in memory; and
//! [`json`], JSON files read strictly and interruptibly.

mod backing;
pub mod json;
mod tar;
mod zip;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

pub use backing::Backing;

use crate::runtime::memory::grow;
use crate::PqError;

/// How a member's bytes are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compression {
    Stored,
    Deflate,
    /// Encrypted, or a zip method other than deflate: the reason, said when the member is read.
    Unsupported(String),
}

/// One member as the archive's directory (zip) or headers (tar) describe it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    /// The data's offset (tar), or the local header's (zip, `local_header`).
    pub offset: u64,
    pub compressed: u64,
    pub size: u64,
    pub compression: Compression,
    pub crc: Option<u32>,
    pub local_header: bool,
}

/// The two archive formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Tar,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Zip => "zip",
            Kind::Tar => "tar",
        })
    }
}

/// Largest member read: far above any panoptic PNG, low enough that a corrupt size cannot make
/// us allocate without bound.
const MAX_MEMBER_BYTES: u64 = 1 << 31;
/// Deflate expands at most 1032:1; a member claiming more is corrupt.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// An open archive: its members by name (a later member of the same name wins, as when a tar
/// archive is appended to).
#[derive(Debug)]
pub struct Archive {
    /// The archive as named in messages: its file, or `outer.zip/inner.zip` for a nested one.
    path: PathBuf,
    kind: Kind,
    backing: Backing,
    members: HashMap<String, Entry>,
}

fn bad_archive(path: &Path, message: impl Into<String>) -> PqError {
    PqError::BadArchive { path: path.to_owned(), message: message.into() }
}

fn not_found(path: &Path, message: String) -> PqError {
    PqError::Io { path: path.to_owned(), source: std::io::Error::new(std::io::ErrorKind::NotFound, message) }
}

/// A member name as a key: `./` prefixes and empty components dropped, as archivers differ there.
fn normalize(name: &str) -> String {
    name.split('/').filter(|part| !part.is_empty() && *part != ".").collect::<Vec<_>>().join("/")
}

impl Archive {
    /// Opens the zip or tar archive at `path` and reads its directory.
    pub fn open(path: &Path) -> Result<Self, PqError> {
        let file =
            std::fs::File::open(path).map_err(|source| PqError::Io { path: path.to_owned(), source })?;
        let backing = Backing::file(file).map_err(|source| PqError::Io { path: path.to_owned(), source })?;
        Self::from_backing(path.to_owned(), backing)
    }

    /// An archive held in memory (fetched whole from object storage); `path` names it.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self, PqError> {
        Self::from_backing(path.to_owned(), Backing::memory(bytes))
    }

    fn from_backing(path: PathBuf, backing: Backing) -> Result<Self, PqError> {
        let mut head = vec![0u8; usize::try_from(backing.len().min(512)).unwrap_or(0)];
        backing.read_at(0, &mut head).map_err(|source| PqError::Io { path: path.clone(), source })?;
        let kind = match kind_of(&head) {
            Ok(kind) => kind,
            Err(message) => return Err(bad_archive(&path, message)),
        };
        let entries = match kind {
            Kind::Zip => zip::entries(&backing),
            Kind::Tar => tar::entries(&backing),
        }
        .map_err(|message| bad_archive(&path, format!("{kind} archive: {message}")))?;
        let members = entries
            .into_iter()
            .filter(|entry| !entry.name.ends_with('/'))
            .map(|entry| (normalize(&entry.name), entry))
            .collect();
        Ok(Self { path, kind, backing, members })
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    #[must_use]
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Number of files in the archive.
    #[must_use]
    pub fn len(&self) -> usize {
        self.members.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The names of the archive's files, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.members.keys().map(String::as_str)
    }

    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.members.contains_key(&normalize(name))
    }

    /// Whether some member lies under folder `prefix` (`""` is the root).
    #[must_use]
    pub fn has_folder(&self, prefix: &str) -> bool {
        let prefix = normalize(prefix);
        prefix.is_empty()
            || self
                .members
                .keys()
                .any(|name| name.starts_with(&prefix) && name[prefix.len()..].starts_with('/'))
    }

    /// The one folder every member lies in, if there is exactly one and no file at the top: COCO's
    /// `panoptic_val2017.zip` holds `panoptic_val2017/*.png`, and is meant as that folder.
    #[must_use]
    pub fn single_top_folder(&self) -> Option<String> {
        let mut top: Option<&str> = None;
        for name in self.members.keys() {
            let (first, rest) = name.split_once('/')?;
            if rest.is_empty() || top.is_some_and(|t| t != first) {
                return None;
            }
            top = Some(first);
        }
        top.map(str::to_owned)
    }

    /// The directory entry of member `name`, or a not-found error naming it.
    fn entry(&self, name: &str) -> Result<&Entry, PqError> {
        self.members.get(&normalize(name)).ok_or_else(|| {
            not_found(
                &self.path.join(name),
                format!("no such member in the {} archive {}", self.kind, self.path.display()),
            )
        })
    }

    /// Where the data of `entry` starts: after its local header in a zip archive.
    fn data_start(&self, entry: &Entry) -> Result<u64, String> {
        if entry.local_header {
            zip::data_offset(&self.backing, entry.offset)
        } else {
            Ok(entry.offset)
        }
    }

    /// Reads member `name` into `out` (replacing its contents), inflating and checking its CRC.
    pub fn read(&self, name: &str, out: &mut Vec<u8>) -> Result<(), PqError> {
        let entry = self.entry(name)?;
        let bad = |message: String| bad_archive(&self.path, format!("member {name}: {message}"));
        if entry.size > MAX_MEMBER_BYTES {
            return Err(bad(format!("{} bytes, more than panoptiq reads from one member", entry.size)));
        }
        let data = self.data_start(entry).map_err(bad)?;
        let io = |source: std::io::Error| bad(source.to_string());
        if entry.compressed > self.backing.len() {
            return Err(bad(format!("{} bytes, past the end of the archive", entry.compressed)));
        }
        // Both fit: checked against MAX_MEMBER_BYTES above and by the ratio below.
        let size = usize::try_from(entry.size).map_err(|e| bad(e.to_string()))?;
        out.clear();
        match &entry.compression {
            Compression::Unsupported(reason) => return Err(bad_archive(&self.path, reason.clone())),
            Compression::Stored => {
                if entry.compressed != entry.size {
                    return Err(bad("a stored member whose two sizes differ".into()));
                }
                grow(out, size, 0, "an archive member")?;
                self.backing.read_at(data, out).map_err(io)?;
            }
            Compression::Deflate => {
                if entry.size > entry.compressed.saturating_mul(MAX_DEFLATE_RATIO) + 1024 {
                    return Err(bad(format!(
                        "claims {} bytes from {} compressed",
                        entry.size, entry.compressed
                    )));
                }
                let compressed = usize::try_from(entry.compressed).map_err(|e| bad(e.to_string()))?;
                // fdeflate reads zlib streams: a zip member is the raw deflate data in between, so
                // a zlib header is put before it and a checksum (not checked) after it.
                let mut stream = Vec::new();
                grow(&mut stream, compressed + 6, 0, "an archive member")?;
                stream[..2].copy_from_slice(&[0x78, 0x01]);
                self.backing.read_at(data, &mut stream[2..2 + compressed]).map_err(io)?;
                inflate(&stream, out, size).map_err(bad)?;
            }
        }
        if let Some(crc) = entry.crc {
            let actual = crc32fast::hash(out);
            if actual != crc {
                return Err(bad(format!(
                    "CRC-32 mismatch (stored {crc:08x}, data {actual:08x}): the archive is corrupt"
                )));
            }
        }
        Ok(())
    }

    /// Member `name`, itself an archive, opened in place when stored, else inflated to memory.
    pub fn nested(&self, name: &str) -> Result<Self, PqError> {
        let entry = self.entry(name)?;
        let path = self.path.join(name);
        if entry.compression == Compression::Stored && entry.compressed == entry.size {
            let data = self.data_start(entry).map_err(|m| bad_archive(&self.path, m))?;
            let window = self.backing.window(data, entry.size).ok_or_else(|| {
                bad_archive(&self.path, format!("member {name} runs past the end of the archive"))
            })?;
            return Self::from_backing(path, window);
        }
        let mut bytes = Vec::new();
        self.read(name, &mut bytes)?;
        Self::from_backing(path, Backing::memory(bytes))
    }
}

/// The archive format `head` (the first bytes, up to 512) starts, or why it is neither.
fn kind_of(head: &[u8]) -> Result<Kind, String> {
    if zip::looks_like_zip(head) {
        return Ok(Kind::Zip);
    }
    if tar::looks_like_tar(head) {
        return Ok(Kind::Tar);
    }
    let compressed = [
        (&b"\x1f\x8b"[..], "gzip"),
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
    ];
    if let Some((_, name)) = compressed.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Err(format!(
            "it is {name}-compressed; panoptiq reads members of zip and uncompressed tar archives in place: \
             decompress it first (a .tar.gz to a .tar)"
        ));
    }
    Err("it is neither a zip nor a tar archive".into())
}

/// Inflates the zlib-wrapped `stream` into `out`, which must come out exactly `size` bytes long.
fn inflate(stream: &[u8], out: &mut Vec<u8>, size: usize) -> Result<(), String> {
    // One byte more than the directory says: a stream that fills it says more than it declared.
    // (The inflater copies back-references out of this same buffer: it must be one buffer.)
    grow(out, size + 1, 0, "an archive member").map_err(|e| e.to_string())?;
    let mut inflater = fdeflate::Decompressor::new();
    inflater.ignore_adler32();
    let (mut consumed, mut written) = (0, 0);
    while !inflater.is_done() {
        if written == out.len() {
            return Err("the data inflates to more bytes than the directory says".into());
        }
        let (used, made) = inflater
            .read(&stream[consumed..], out, written, true)
            .map_err(|e| format!("corrupt deflate data ({e:?})"))?;
        consumed += used;
        written += made;
        if used == 0 && made == 0 && !inflater.is_done() {
            return Err("the deflate data ends early".into());
        }
    }
    if written != size {
        return Err(format!("the data inflates to {written} bytes, the directory says {size}"));
    }
    out.truncate(size);
    Ok(())
}

/// Reads the file at `path` into `out`, replacing its contents.
pub fn read_file(path: &Path, out: &mut Vec<u8>) -> Result<(), PqError> {
    out.clear();
    let mut file =
        std::fs::File::open(path).map_err(|source| PqError::Io { path: path.to_owned(), source })?;
    std::io::Read::read_to_end(&mut file, out)
        .map_err(|source| PqError::Io { path: path.to_owned(), source })?;
    Ok(())
}

/// A folder of PNGs: on disk, or inside an archive.
#[derive(Debug)]
pub enum Folder {
    Disk,
    /// Files `root/<name>` are members `prefix<name>` of `archive`.
    Archive {
        archive: Archive,
        root: PathBuf,
        prefix: String,
    },
}

/// The folder on disk, for jobs that name files by their paths.
pub static DISK: Folder = Folder::Disk;

impl Folder {
    /// The folder `inner` (a path inside the archive, `""` for its root) of `archive`, named `root` in messages. A member on the way that is itself an archive is
    /// opened in turn (`panoptic_annotations_trainval2017.zip/annotations/panoptic_val2017.zip`);
    /// an archive whose members all lie in one folder stands for that folder.
    pub fn in_archive(mut archive: Archive, inner: &str, root: PathBuf) -> Result<Self, PqError> {
        let mut parts: Vec<String> =
            normalize(inner).split('/').filter(|p| !p.is_empty()).map(str::to_owned).collect();
        loop {
            // A file on the way cannot be a folder: it must be an archive to go on into.
            let nested = (1..=parts.len()).find(|&n| archive.contains(&parts[..n].join("/")));
            let Some(n) = nested else { break };
            archive = archive.nested(&parts[..n].join("/"))?;
            parts.drain(..n);
        }
        let folder = parts.join("/");
        if !archive.has_folder(&folder) {
            return Err(not_found(
                &root,
                format!("the {} archive {} has no folder {folder}", archive.kind, archive.path.display()),
            ));
        }
        let prefix = match (folder.is_empty(), archive.single_top_folder()) {
            (true, Some(top)) => format!("{top}/"),
            (true, None) => String::new(),
            (false, _) => format!("{folder}/"),
        };
        Ok(Folder::Archive { archive, root, prefix })
    }

    /// Reads the file at `path` (a path under this folder) into `out`.
    pub fn read(&self, path: &Path, out: &mut Vec<u8>) -> Result<(), PqError> {
        match self {
            Folder::Disk => read_file(path, out),
            Folder::Archive { archive, root, prefix } => {
                let relative = path.strip_prefix(root).ok().and_then(|rel| {
                    rel.components()
                        .map(|c| match c {
                            Component::Normal(part) => part.to_str(),
                            _ => None,
                        })
                        .collect::<Option<Vec<_>>>()
                });
                let Some(relative) = relative else {
                    return Err(not_found(path, format!("it is not a file under {}", root.display())));
                };
                archive.read(&format!("{prefix}{}", relative.join("/")), out).map_err(|error| match error {
                    PqError::Io { source, .. } => PqError::Io { path: path.to_owned(), source },
                    other => other,
                })
            }
        }
    }
}

/// Where one PNG of a job comes from.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// The file at the job's path in this folder.
    Folder(&'a Folder),
    /// These bytes (fetched from object storage); the job's path names them.
    Bytes(&'a [u8]),
}

impl Origin<'_> {
    /// The PNG's bytes into `out`, replacing its contents.
    pub fn read(&self, path: &Path, out: &mut Vec<u8>) -> Result<(), PqError> {
        match self {
            Origin::Folder(folder) => folder.read(path, out),
            Origin::Bytes(bytes) => {
                out.clear();
                out.try_reserve(bytes.len()).map_err(|_| PqError::OutOfMemory {
                    what: "a PNG file".into(),
                    bytes: bytes.len() as u128,
                })?;
                out.extend_from_slice(bytes);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests;
