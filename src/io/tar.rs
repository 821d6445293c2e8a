//! The members of a tar archive (ustar, GNU long names, pax paths), found by walking its headers.

use super::backing::Backing;
use super::{Compression, Entry};

const BLOCK: u64 = 512;

/// Whether `head`, an archive's first 512 bytes or more, is a tar header: the ustar magic, or
/// (old v7 archives have none) a valid header checksum.
#[must_use]
pub fn looks_like_tar(head: &[u8]) -> bool {
    head.len() >= 512 && (&head[257..262] == b"ustar" || checksum_ok(&head[..512]))
}

/// The header checksum: the sum of its bytes with the checksum field read as spaces. Some old
/// writers summed signed bytes, so that sum is accepted too.
fn checksum_ok(header: &[u8]) -> bool {
    let Some(stored) = octal(&header[148..156]) else { return false };
    let field = 148..156;
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (i, &b) in header.iter().enumerate() {
        let b = if field.contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(i8::from_ne_bytes([b]));
    }
    stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
}

/// A numeric field: octal text (NUL or space terminated), or GNU's base-256 for large sizes.
fn octal(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        if field[0] & 0x40 != 0 {
            return None; // negative
        }
        let mut value = u64::from(field[0] & 0x3f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    let text = field.iter().position(|&b| b == 0).map_or(field, |end| &field[..end]);
    let text = std::str::from_utf8(text).ok()?.trim();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// The `path` (and `size`) of a pax extended header: records `"<len> <key>=<value>\n"`.
fn pax(records: &[u8], path: &mut Option<String>, size: &mut Option<u64>) {
    let mut rest = records;
    while let Some(space) = rest.iter().position(|&b| b == b' ') {
        let Some(len) = std::str::from_utf8(&rest[..space]).ok().and_then(|n| n.parse::<usize>().ok()) else {
            return;
        };
        if len <= space || len > rest.len() {
            return;
        }
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(eq) = record.iter().position(|&b| b == b'=') {
            let value = String::from_utf8_lossy(&record[eq + 1..]).into_owned();
            match &record[..eq] {
                b"path" => *path = Some(value),
                b"size" => *size = value.parse().ok(),
                _ => {}
            }
        }
        rest = &rest[len..];
    }
}

/// Every regular file of the archive, in archive order.
pub fn entries(backing: &Backing) -> Result<Vec<Entry>, String> {
    let total = backing.len();
    let mut entries = Vec::new();
    let mut header = [0u8; 512];
    let (mut long_name, mut pax_path, mut pax_size): (Option<String>, Option<String>, Option<u64>) =
        (None, None, None);
    let mut at = 0u64;
    while at + BLOCK <= total {
        backing.read_at(at, &mut header).map_err(|e| e.to_string())?;
        if header.iter().all(|&b| b == 0) {
            return Ok(entries); // the end-of-archive blocks
        }
        if !checksum_ok(&header) {
            return Err(format!("the header at byte {at} is corrupt (checksum mismatch)"));
        }
        let size = pax_size.take().map_or_else(|| octal(&header[124..136]), Some);
        let size = size.ok_or_else(|| format!("the header at byte {at} has an unreadable size"))?;
        let data = at + BLOCK;
        let next = size
            .checked_add(BLOCK - 1)
            .map(|s| s / BLOCK * BLOCK)
            .and_then(|s| data.checked_add(s))
            .filter(|&next| next <= total)
            .ok_or_else(|| {
                format!("the member at byte {at} runs past the end of the archive (cut short?)")
            })?;
        let extension = |what: &str| -> Result<Vec<u8>, String> {
            // Extended headers are small; a huge one is corrupt data, not a name.
            if size > 1 << 20 {
                return Err(format!("the {what} header at byte {at} is {size} bytes long"));
            }
            let mut body = vec![0u8; usize::try_from(size).map_err(|e| e.to_string())?];
            backing.read_at(data, &mut body).map_err(|e| e.to_string())?;
            Ok(body)
        };
        match header[156] {
            b'L' => long_name = Some(text(&extension("long name")?)),
            b'x' => pax(&extension("pax")?, &mut pax_path, &mut pax_size),
            kind @ (b'0' | 0 | b'7') => {
                let name = pax_path.take().or_else(|| long_name.take()).unwrap_or_else(|| {
                    let (prefix, name) = (text(&header[345..500]), text(&header[..100]));
                    if &header[257..262] == b"ustar" && !prefix.is_empty() {
                        format!("{prefix}/{name}")
                    } else {
                        name
                    }
                });
                // A v7 "regular file" whose name ends in a slash is a directory.
                if !(kind == 0 && name.ends_with('/')) {
                    entries.push(Entry {
                        name,
                        offset: data,
                        compressed: size,
                        size,
                        compression: Compression::Stored,
                        crc: None,
                        local_header: false,
                    });
                }
            }
            _ => {
                // Directories, links, global pax headers: nothing to read.
                (long_name, pax_path) = (None, None);
            }
        }
        at = next;
    }
    // No end-of-archive blocks: tolerated when the last member ends exactly at the end of the file
    // (some writers omit them), refused when a header is cut.
    if at == total {
        Ok(entries)
    } else {
        Err("the archive is cut short inside a header".into())
    }
}
