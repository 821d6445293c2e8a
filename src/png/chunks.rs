//! A PNG's chunks walked and checked: the signature, the header's layout, every chunk's CRC-32,
//! and image data too small for the pixels the header declares.

use std::path::Path;

use crate::PqError;

pub(crate) const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// What a PNG's chunks say about its image, checked for consistency.
pub(crate) struct Layout {
    pub width: usize,
    pub height: usize,
    pub bit_depth: u8,
    pub color_type: u8,
    pub interlaced: bool,
}

/// Deflate expands at most 1032-fold (a 258-byte match coded in two bits), so image data of
/// `n` compressed bytes inflates to at most this many bytes (plus a little for the zlib frame).
fn max_inflated(compressed: usize) -> u128 {
    compressed as u128 * 1032 + 1024
}

/// Walks a PNG's chunks: checks the signature and header, and shows `visit` every chunk before
/// IEND (type and body; a body cut short by the end of the file as far as it goes). A header
/// declaring more pixels than the image data can inflate to is refused here, before anything
/// of that size is allocated.
pub(crate) fn scan_chunks(
    path: &Path,
    file: &[u8],
    mut visit: impl FnMut(&[u8], &[u8]) -> Result<(), PqError>,
) -> Result<Layout, PqError> {
    if file.len() < 8 || &file[..8] != SIGNATURE {
        return Err(malformed(path, "not a PNG file (bad signature)"));
    }
    let mut layout = None;
    let mut idat_bytes = 0usize;
    let mut at = 8usize;
    // A file cut short is read as far as it goes, as Pillow reads it: if the image data that is
    // there holds every row, the image is fine; if not, inflating it fails.
    while let Some(head) = file.get(at..at.saturating_add(8)) {
        let (len, kind) = (be32(head) as usize, &head[4..8]);
        let body_end = (at + 8).saturating_add(len);
        if idat_bytes > 0 && kind != b"IDAT" {
            // The image data is over (its chunks must follow one another): what comes after it
            // cannot change the pixels and is not read, as the png crate and Pillow do not.
            break;
        }
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(malformed(path, format!("bad chunk type {kind:?} at byte {at}")));
        }
        let body = &file[at + 8..body_end.min(file.len())];
        check_crc(path, kind, body, file.get(body_end..body_end.saturating_add(4)), at)?;
        at = body_end.saturating_add(4);
        match kind {
            b"IHDR" => {
                if body.len() != 13 || layout.is_some() {
                    return Err(malformed(path, "bad IHDR chunk"));
                }
                let (width, height) = (be32(body) as usize, be32(&body[4..]) as usize);
                let (bit_depth, color_type, compression, filter, interlace) =
                    (body[8], body[9], body[10], body[11], body[12]);
                if width == 0 || height == 0 || compression != 0 || filter != 0 || interlace > 1 {
                    return Err(malformed(path, "bad IHDR chunk"));
                }
                layout = Some(Layout { width, height, bit_depth, color_type, interlaced: interlace == 1 });
            }
            b"IDAT" => idat_bytes += body.len(),
            b"IEND" => break,
            b"PLTE" => {}
            // An unknown chunk that the PNG specification marks critical (upper-case first
            // letter) may change how pixels are read: refused, as the png crate refuses it.
            _ if kind[0].is_ascii_uppercase() => {
                return Err(malformed(
                    path,
                    format!("unknown critical chunk {}", String::from_utf8_lossy(kind)),
                ));
            }
            _ => {}
        }
        visit(kind, body)?;
    }
    let layout = layout.ok_or_else(|| malformed(path, "no IHDR chunk"))?;
    let samples = match layout.color_type {
        0 | 3 => 1,
        4 => 2,
        2 => 3,
        6 => 4,
        _ => return Err(malformed(path, format!("unknown colour type {}", layout.color_type))),
    };
    let row_bits = layout.width as u128 * samples * u128::from(layout.bit_depth);
    let needed = layout.height as u128 * row_bits.div_ceil(8);
    if needed > max_inflated(idat_bytes) {
        return Err(malformed(
            path,
            format!(
                "its header declares {}x{} pixels ({needed} bytes of image data), more than its {idat_bytes} \
                 compressed bytes can hold",
                layout.width, layout.height
            ),
        ));
    }
    Ok(layout)
}

/// Checks a chunk's CRC-32 (of its type and body), as the PNG specification strongly recommends
/// and the png crate does: a damaged byte of compressed image data often still inflates, to
/// wrong pixels, so without it a corrupt file could give a silently wrong number. (Pillow checks
/// the CRCs of the chunks before the image data only.) The Adler-32 sum that ends the zlib
/// stream is not checked, as the png crate does not by default: the PNG specification (section
/// 5, "Deflate/Inflate Compression") calls it mainly a cross-check of the deflate and inflate
/// implementations, and the chunk CRCs enough to trust that a file arrived undamaged. A chunk
/// cut short by the end of the file has no CRC to check; it is read as far as it goes (see
/// [`scan_chunks`]).
///
/// Fuzzing builds skip the check (as the png crate's do), so that mutated files reach the
/// inflaters instead of stopping here.
fn check_crc(path: &Path, kind: &[u8], body: &[u8], stored: Option<&[u8]>, at: usize) -> Result<(), PqError> {
    let Some(stored) = stored.map(be32) else { return Ok(()) };
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(kind);
    hasher.update(body);
    let actual = hasher.finalize();
    if actual == stored || cfg!(fuzzing) {
        return Ok(());
    }
    Err(malformed(
        path,
        format!(
            "the {} chunk at byte {at} fails its CRC-32 check (stored {stored:08x}, computed {actual:08x}): \
             the file is corrupt",
            String::from_utf8_lossy(kind)
        ),
    ))
}

/// A decoding error naming the file.
pub(crate) fn malformed(path: &Path, message: impl Into<String>) -> PqError {
    PqError::Decode { path: path.to_owned(), message: message.into() }
}

pub(crate) fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}
