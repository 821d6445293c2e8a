//! Differential fuzzing of panoptiq's PNG decoding against the `png` crate used directly: for
//! any bytes, both give the same ids, or both refuse. Neither may panic, hang or over-allocate.
//! And panoptiq's two inflaters (the sparse one of `panoptiq::png::inflate`, fdeflate) give the same
//! rows, or the same error; the sparse one hands no stream that the dense one decodes over to it.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use panoptiq::png::read_id_map_from_bytes;
use panoptiq::png::{Buffers, Engine, FastRows, Row};
use panoptiq::runtime::parallel::Cancel;

/// The ids the `png` crate decodes, or `None` where panoptiq must refuse the file too: anything
/// but 8-bit RGB, RGBA or palette images, and broken files.
fn reference(data: &[u8]) -> Option<(usize, usize, Vec<u32>)> {
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(data), png::Limits { bytes: 1 << 26 });
    decoder.set_transformations(png::Transformations::EXPAND);
    decoder.ignore_checksums(true);
    let mut reader = decoder.read_info().ok()?;
    let channels = match reader.output_color_type() {
        (png::ColorType::Rgb, png::BitDepth::Eight) => 3,
        (png::ColorType::Rgba, png::BitDepth::Eight) => 4,
        _ => return None,
    };
    let size = reader.output_buffer_size().filter(|&size| size <= 1 << 26)?;
    let mut pixels = vec![0u8; size];
    let frame = reader.next_frame(&mut pixels).ok()?;
    let ids = pixels[..frame.buffer_size()]
        .chunks_exact(channels)
        .map(|p| u32::from(p[0]) | u32::from(p[1]) << 8 | u32::from(p[2]) << 16)
        .collect();
    Some((frame.height as usize, frame.width as usize, ids))
}

/// `data` cut after its last IDAT chunk — a chunk cut short by the end of the file given the
/// length that remains — and closed with an IEND chunk.
///
/// panoptiq, like Pillow, reads a file cut short as far as it goes and ignores whatever follows
/// the image data (a missing, truncated or garbled IEND), while the png crate refuses some of
/// those files; the reference decodes this form of them instead.
fn with_clean_tail(data: &[u8]) -> Option<Vec<u8>> {
    let mut at = 8;
    let mut clean = data.get(..8)?.to_vec();
    let mut seen_idat = false;
    while let Some(head) = data.get(at..at + 8) {
        if !head[4..8].iter().all(u8::is_ascii_alphabetic) || &head[4..8] == b"IEND" {
            break;
        }
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let body = &data[at + 8..(at + 8).saturating_add(len).min(data.len())];
        clean.extend_from_slice(&u32::try_from(body.len()).ok()?.to_be_bytes());
        clean.extend_from_slice(&head[4..8]);
        clean.extend_from_slice(body);
        clean.extend_from_slice(&[0; 4]); // CRCs are ignored on both sides
        seen_idat |= &head[4..8] == b"IDAT";
        at = at.saturating_add(12).saturating_add(len);
    }
    seen_idat.then_some(())?;
    clean.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    Some(clean)
}

type Rows = Vec<(Vec<u32>, Vec<u32>)>;

/// Every row's runs with one engine, or its error, and the engine that decoded the last row;
/// `None` for layouts the fast decoder leaves to the png crate. A row said to be the same as the
/// one above must have its runs.
fn rows(data: &[u8], engine: Engine) -> Option<(Result<Rows, String>, Engine)> {
    let path = Path::new("fuzz.png");
    let mut rows = match FastRows::from_file_bytes_with(path, Buffers::with_file(data.to_vec()), engine) {
        Ok(Ok(rows)) => rows,
        Ok(Err(_)) => return None,
        Err(error) => return Some((Err(error.to_string()), engine)),
    };
    let mut out = Vec::new();
    for _ in 0..rows.height().min(1 << 12) {
        match rows.next_row(path) {
            Ok(change) => {
                let runs = (rows.runs().ends().to_vec(), rows.runs().ids().to_vec());
                if change == Row::Same {
                    if let Some(above) = out.last() {
                        assert_eq!(above, &runs, "a row said to be the same as the one above is not");
                    }
                }
                out.push(runs);
            }
            Err(error) => return Some((Err(error.to_string()), rows.engine())),
        }
    }
    Some((Ok(out), rows.engine()))
}

fuzz_target!(|data: &[u8]| {
    let (sparse, dense) = (rows(data, Engine::Sparse), rows(data, Engine::Dense));
    assert_eq!(
        sparse.as_ref().map(|(rows, _)| rows),
        dense.as_ref().map(|(rows, _)| rows),
        "the two inflaters differ"
    );
    // A stream the sparse engine refuses goes to the dense one, whose verdict is the answer; but
    // one the dense engine decodes the sparse one must decode too, not hand over.
    if let (Some((_, engine)), Some((Ok(_), _))) = (&sparse, &dense) {
        assert_eq!(*engine, Engine::Sparse, "the sparse engine handed a stream the dense one decodes over");
    }
    let ours = read_id_map_from_bytes(Path::new("fuzz.png"), data.to_vec(), &Cancel::new());
    // Sizes the reference refuses (its 64 MiB limit) are not compared.
    let expected = reference(data).or_else(|| reference(&with_clean_tail(data)?));
    match (ours, expected) {
        (Ok(map), Some((height, width, ids))) => {
            assert_eq!((map.height, map.width), (height, width));
            assert!(map.ids == ids, "panoptiq's ids differ from the png crate's");
        }
        (Err(_), None) => {}
        (Ok(map), None) => {
            // The png crate refuses what panoptiq decodes only past its memory limit.
            assert!(map.ids.len() * 4 > 1 << 26, "panoptiq decoded a file the png crate refuses");
        }
        (Err(error), Some(_)) => panic!("panoptiq refused a file the png crate decodes: {error}"),
    }
});
