//! The central directory of a zip archive (zip64 included), read without touching the members.

use super::backing::Backing;
use super::{Compression, Entry};

const END: u32 = 0x0605_4b50;
const END64_LOCATOR: u32 = 0x0706_4b50;
const END64: u32 = 0x0606_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const LOCAL: u32 = 0x0403_4b50;
/// The end record (22 bytes) may be followed by a comment of up to 65,535 bytes.
const END_SEARCH: u64 = 22 + 65_535;

/// Whether `head`, an archive's first bytes, opens a zip archive (a member or an empty archive).
#[must_use]
pub fn looks_like_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Reads `len` bytes at `offset`, or says the archive is cut short.
fn read(backing: &Backing, offset: u64, len: usize) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; len];
    backing.read_at(offset, &mut buf).map_err(|e| e.to_string())?;
    Ok(buf)
}

/// Every entry of the central directory, directories included, in directory order.
pub fn entries(backing: &Backing) -> Result<Vec<Entry>, String> {
    let size = backing.len();
    let tail_start = size.saturating_sub(END_SEARCH);
    let tail = read(backing, tail_start, usize::try_from(size - tail_start).map_err(|e| e.to_string())?)?;
    let end = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| le32(&tail, i) == END)
        .ok_or("no end of central directory record: the file is not a zip archive, or it is cut short")?;
    let mut count = u64::from(le16(&tail, end + 10));
    let mut dir_size = u64::from(le32(&tail, end + 12));
    let mut dir_offset = u64::from(le32(&tail, end + 16));
    if count == 0xffff || dir_size == 0xffff_ffff || dir_offset == 0xffff_ffff {
        // zip64: the real values are in a second end record, which a locator just before points to.
        let locator_at = (tail_start + end as u64).checked_sub(20).ok_or("zip64 locator missing")?;
        let locator = read(backing, locator_at, 20)?;
        if le32(&locator, 0) != END64_LOCATOR {
            return Err("zip64 end of central directory locator missing".into());
        }
        let record = read(backing, le64(&locator, 8), 56)?;
        if le32(&record, 0) != END64 {
            return Err("zip64 end of central directory record missing".into());
        }
        count = le64(&record, 32);
        dir_size = le64(&record, 40);
        dir_offset = le64(&record, 48);
    }
    if dir_offset.checked_add(dir_size).is_none_or(|end| end > size) {
        return Err("the central directory lies past the end of the file (cut short?)".into());
    }
    // Each entry takes at least 46 bytes, which bounds what a corrupt count can make us reserve.
    if count > dir_size / 46 + 1 {
        return Err(format!("the directory claims {count} entries in {dir_size} bytes"));
    }
    let directory = read(backing, dir_offset, usize::try_from(dir_size).map_err(|e| e.to_string())?)?;
    let mut entries = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut at = 0usize;
    for index in 0..count {
        if at + 46 > directory.len() || le32(&directory, at) != CENTRAL {
            return Err(format!("central directory entry #{index} is corrupt"));
        }
        let flags = le16(&directory, at + 8);
        let method = le16(&directory, at + 10);
        let crc = le32(&directory, at + 16);
        let mut compressed = u64::from(le32(&directory, at + 20));
        let mut size = u64::from(le32(&directory, at + 24));
        let (name_len, extra_len, comment_len) = (
            usize::from(le16(&directory, at + 28)),
            usize::from(le16(&directory, at + 30)),
            usize::from(le16(&directory, at + 32)),
        );
        let mut header = u64::from(le32(&directory, at + 42));
        let name_at = at + 46;
        let extra_at = name_at + name_len;
        let next = extra_at + extra_len + comment_len;
        if next > directory.len() {
            return Err(format!("central directory entry #{index} runs past the directory"));
        }
        let name = String::from_utf8_lossy(&directory[name_at..extra_at]).into_owned();
        zip64_sizes(&directory[extra_at..extra_at + extra_len], &mut size, &mut compressed, &mut header);
        let compression = match (flags & 1, method) {
            (1, _) => Compression::Unsupported(format!("{name} is encrypted")),
            (_, 0) => Compression::Stored,
            (_, 8) => Compression::Deflate,
            (_, other) => Compression::Unsupported(format!(
                "{name} is compressed with zip method {other}; panoptiq reads stored and deflated members"
            )),
        };
        entries.push(Entry {
            name,
            offset: header,
            compressed,
            size,
            compression,
            crc: Some(crc),
            local_header: true,
        });
        at = next;
    }
    Ok(entries)
}

/// Replaces the 32-bit fields saturated at 0xffffffff by their zip64 extra field values, which
/// come in this order for those fields only.
fn zip64_sizes(mut extra: &[u8], size: &mut u64, compressed: &mut u64, header: &mut u64) {
    while extra.len() >= 4 {
        let (id, len) = (le16(extra, 0), usize::from(le16(extra, 2)));
        let body = &extra[4..(4 + len).min(extra.len())];
        if id == 1 {
            let mut values = body.chunks_exact(8).map(|v| le64(v, 0));
            for field in [size, compressed, header] {
                if *field == 0xffff_ffff {
                    match values.next() {
                        Some(value) => *field = value,
                        None => break,
                    }
                }
            }
            return;
        }
        extra = &extra[(4 + len).min(extra.len())..];
    }
}

/// Where a member's data starts: after its local header, whose name and extra field lengths
/// may differ from the central directory's.
pub fn data_offset(backing: &Backing, header: u64) -> Result<u64, String> {
    let local = read(backing, header, 30)?;
    if le32(&local, 0) != LOCAL {
        return Err("a member's local header is corrupt".into());
    }
    Ok(header + 30 + u64::from(le16(&local, 26)) + u64::from(le16(&local, 28)))
}
