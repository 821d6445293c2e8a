//! The decoders' tests: every filter, layout and engine against the `png` crate, and broken files.

use std::path::{Path, PathBuf};

use png::{BitDepth, ColorType, Filter};

use super::chunks::{be32, SIGNATURE};
use super::*;
use crate::eval::runs::RowRuns;
use crate::PqError;

/// A small xorshift generator: tests stay deterministic without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A panoptic-like map: rectangles of random ids over a background, some rows shifted.
fn blocky(rng: &mut Rng, width: usize, height: usize) -> Vec<u32> {
    let mut ids = vec![0u32; width * height];
    for _ in 0..rng.below(12) {
        let id = u32::try_from(rng.below(1 << 24)).unwrap();
        let (x0, y0) = (rng.below(width as u64) as usize, rng.below(height as u64) as usize);
        let (w, h) = (1 + rng.below(width as u64) as usize, 1 + rng.below(height as u64) as usize);
        for y in y0..(y0 + h).min(height) {
            let shift = rng.below(3) as usize;
            for x in (x0 + shift).min(width)..(x0 + w + shift).min(width) {
                ids[y * width + x] = id;
            }
        }
    }
    ids
}

fn write(path: &Path, ids: &[u32], width: usize, height: usize, channels: usize, filter: Filter) {
    let data: Vec<u8> = ids
        .iter()
        .flat_map(|id| {
            let b = id.to_le_bytes();
            // Alpha varies: it must be ignored.
            [b[0], b[1], b[2], b[0] ^ 0x5a][..channels].to_vec()
        })
        .collect();
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, width as u32, height as u32);
    encoder.set_color(if channels == 3 { ColorType::Rgb } else { ColorType::Rgba });
    encoder.set_depth(BitDepth::Eight);
    encoder.set_filter(filter);
    encoder.write_header().unwrap().write_image_data(&data).unwrap();
}

fn runs_of(ids: &[u32]) -> RowRuns {
    let mut runs = RowRuns::default();
    runs.set_from_ids(ids);
    runs
}

#[test]
fn every_filter_decodes_as_the_png_crate_does() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let dir = std::env::temp_dir().join(format!("panoptiq-fastpng-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let filters = [Filter::NoFilter, Filter::Sub, Filter::Up, Filter::Avg, Filter::Paeth, Filter::Adaptive];
    let mut buffers = Buffers::default();
    for case in 0..240 {
        let (width, height) = (1 + rng.below(70) as usize, 1 + rng.below(30) as usize);
        let channels = if case % 2 == 0 { 3 } else { 4 };
        let filter = filters[case % filters.len()];
        let ids = blocky(&mut rng, width, height);
        let path: PathBuf = dir.join(format!("{case}.png"));
        write(&path, &ids, width, height, channels, filter);

        // Both inflaters: fdeflate's bytes (the default) and the sparse ring.
        let engine = if case % 4 < 2 { Engine::Dense } else { Engine::Sparse };
        let mut reference = IdRows::open(&path).unwrap();
        let mut b = std::mem::take(&mut buffers);
        b.file_mut().clone_from(&std::fs::read(&path).unwrap());
        let mut fast = FastRows::from_file_bytes_with(&path, b, engine).unwrap().ok().unwrap();
        assert_eq!((fast.width(), fast.height()), (width, height));
        let mut row = vec![0u32; width];
        let mut previous = runs_of(&vec![0; width]);
        for y in 0..height {
            reference.next_row(&mut row).unwrap();
            let expected = runs_of(&row);
            let change = fast.next_row(&path).unwrap();
            assert_eq!(fast.runs(), &expected, "case {case} ({filter:?}, {channels} channels) row {y}");
            // Same means the bytes repeat the row above; equal ids may still differ in alpha.
            if change == Row::Same {
                assert_eq!(expected, previous, "case {case} row {y} reported as repeated");
            }
            previous = expected;
        }
        assert!(fast.next_row(&path).is_err(), "rows past the end are an error");
        buffers = fast.into_buffers();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_engine_is_chosen_by_how_many_fold_the_image_data_inflates() {
    let dir = std::env::temp_dir().join(format!("panoptiq-engine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("choice.png");
    let mut rng = Rng(5);
    // Large flat segments inflate thousands-fold; a map of noise barely at all.
    let (width, height) = (400, 300);
    let flat: Vec<u32> = (0..width * height).map(|i| if i % width < 150 { 7 } else { 66_051 }).collect();
    let noise: Vec<u32> = (0..width * height).map(|_| rng.below(1 << 24) as u32).collect();
    for (ids, channels, expected) in [
        (&flat, 3, Engine::Sparse),
        (&flat, 4, Engine::Sparse),
        (&noise, 3, Engine::Dense),
        (&noise, 4, Engine::Dense),
    ] {
        write(&path, ids, width, height, channels, Filter::Adaptive);
        let file = std::fs::read(&path).unwrap();
        let mut rows = FastRows::from_file_bytes(&path, Buffers::with_file(file)).unwrap().ok().unwrap();
        let ratio = rows.inflation();
        assert_eq!(rows.engine(), expected, "inflates {ratio}-fold, {channels} channels");
        assert_eq!(ratio >= sparse_from(channels), expected == Engine::Sparse);
        for row in ids.chunks_exact(width) {
            rows.next_row(&path).unwrap();
            assert_eq!(rows.runs(), &runs_of(row));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn engines_are_named_as_panoptiq_decoder_names_them() {
    assert_eq!(parse_engine("auto"), Some(Engine::Auto));
    assert_eq!(parse_engine("dense"), Some(Engine::Dense));
    assert_eq!(parse_engine("sparse"), Some(Engine::Sparse));
    assert_eq!(parse_engine("Sparse"), None);
    assert_eq!(parse_engine(""), None);
}

#[test]
fn other_layouts_are_left_to_the_png_crate() {
    let path = std::env::temp_dir().join(format!("panoptiq-fastpng-gray-{}.png", std::process::id()));
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut encoder = png::Encoder::new(file, 2, 2);
    encoder.set_color(ColorType::Grayscale);
    encoder.write_header().unwrap().write_image_data(&[0, 1, 2, 3]).unwrap();
    assert!(FastRows::open(&path, Buffers::default()).unwrap().is_err());
    std::fs::write(&path, b"\x89PNG\r\n\x1a\nshort").unwrap();
    assert!(matches!(FastRows::open(&path, Buffers::default()), Err(PqError::Decode { .. })));
    std::fs::remove_file(&path).unwrap();
}

/// Every row's runs with `engine`, or the first error.
fn all_rows(path: &Path, file: &[u8], engine: Engine) -> Result<Vec<RowRuns>, String> {
    rows_and_engine(path, file, engine).map(|(runs, _)| runs)
}

/// [`all_rows`], and the engine that decoded the last row: the sparse engine hands a stream
/// it refuses to the dense one, which would hide its mistakes from a comparison of rows.
fn rows_and_engine(path: &Path, file: &[u8], engine: Engine) -> Result<(Vec<RowRuns>, Engine), String> {
    let mut rows = FastRows::from_file_bytes_with(path, Buffers::with_file(file.to_vec()), engine)
        .map_err(|e| e.to_string())?
        .ok()
        .unwrap();
    let runs = (0..rows.height())
        .map(|_| rows.next_row(path).map(|_| rows.runs().clone()).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    Ok((runs, rows.engine()))
}

#[test]
fn the_sparse_inflater_gives_the_dense_ones_rows_or_error_on_damaged_data() {
    let mut rng = Rng(7);
    let dir = std::env::temp_dir().join(format!("panoptiq-sparse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("damaged.png");
    let (width, height) = (61, 40);
    write(&path, &blocky(&mut rng, width, height), width, height, 3, Filter::Adaptive);
    let file = std::fs::read(&path).unwrap();
    let idat = file.windows(4).position(|w| w == b"IDAT").unwrap() + 4;
    let idat_len = u32::from_be_bytes(file[idat - 8..idat - 4].try_into().unwrap()) as usize;
    let mut failed = 0;
    for k in 0..200 {
        let mut damaged = file.clone();
        let at = idat + 2 + rng.below(idat_len as u64 - 2) as usize;
        damaged[at] ^= 1 << (k % 8);
        if k % 5 == 0 {
            damaged.truncate(at); // cut short as well
        } else {
            reseal(&mut damaged); // as if damaged before its CRCs were written
        }
        let sparse = all_rows(&path, &damaged, Engine::Sparse);
        assert_eq!(sparse, all_rows(&path, &damaged, Engine::Dense), "damage {k} at byte {at}");
        failed += usize::from(sparse.is_err());
    }
    assert!(failed > 20, "only {failed} damaged files were refused");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `file` with every whole chunk's CRC made right for its bytes.
fn reseal(file: &mut [u8]) {
    let mut at = 8;
    while at + 12 <= file.len() {
        let end = at + 8 + be32(&file[at..]) as usize;
        if end + 4 > file.len() {
            break;
        }
        let crc = crc32fast::hash(&file[at + 4..end]);
        file[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        at = end + 4;
    }
}

#[test]
fn a_chunk_whose_crc_does_not_match_its_bytes_is_refused_on_every_path() {
    let dir = std::env::temp_dir().join(format!("panoptiq-crc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("corrupt.png");
    let (width, height) = (40, 30);
    write(&path, &blocky(&mut Rng(3), width, height), width, height, 3, Filter::Up);
    let file = std::fs::read(&path).unwrap();
    let idat = file.windows(4).position(|w| w == b"IDAT").unwrap();
    // One flipped bit in the IHDR chunk's body, in the image data, in the IDAT's stored CRC.
    for (at, kind) in
        [(8 + 8 + 9, "IHDR"), (idat + 4 + 20, "IDAT"), (idat + 4 + be32(&file[idat - 4..]) as usize, "IDAT")]
    {
        let mut damaged = file.clone();
        damaged[at] ^= 0x10;
        let expected = format!("the {kind} chunk at byte");
        for engine in [Engine::Sparse, Engine::Dense] {
            let error = all_rows(&path, &damaged, engine).unwrap_err();
            assert!(error.contains(&expected) && error.contains("fails its CRC-32 check"), "{error}");
            assert!(error.contains("corrupt.png"), "{error}");
        }
        let error = crate::png::reader::read_id_map_from_bytes(
            &path,
            damaged.clone(),
            &crate::runtime::parallel::Cancel::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains(&expected) && error.contains("fails its CRC-32 check"), "{error}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `level`/`strategy` zlib (miniz_oxide: 0 default, 1 filtered, 2 Huffman only, 3 RLE,
/// 4 fixed codes).
fn zlib(data: &[u8], level: i32, strategy: i32) -> Vec<u8> {
    use miniz_oxide::deflate::core::{
        compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
    };
    let mut compressor = CompressorOxide::new(create_comp_flags_from_zip_params(level, 1, strategy));
    let (mut input, mut output, mut at) = (data, vec![0u8; data.len() + 64], 0);
    loop {
        let (status, read, written) = compress(&mut compressor, input, &mut output[at..], TDEFLFlush::Finish);
        at += written;
        input = &input[read..];
        if status == TDEFLStatus::Done {
            output.truncate(at);
            return output;
        }
        output.resize(output.len() * 2, 0);
    }
}

/// Rows filtered with `filter(y)` (PNG's five filters written here from the specification).
fn filtered(pixels: &[u8], stride: usize, bpp: usize, filter: impl Fn(usize) -> u8) -> Vec<u8> {
    let mut out = Vec::new();
    let zeros = vec![0u8; stride];
    for (y, row) in pixels.chunks_exact(stride).enumerate() {
        let above = if y == 0 { &zeros[..] } else { &pixels[(y - 1) * stride..y * stride] };
        let f = filter(y);
        out.push(f);
        for i in 0..stride {
            let (a, b) = (if i >= bpp { row[i - bpp] } else { 0 }, above[i]);
            let c = if i >= bpp { above[i - bpp] } else { 0 };
            let predicted = match f {
                0 => 0,
                1 => a,
                2 => b,
                3 => a.midpoint(b),
                _ => filters::paeth_predictor(a, b, c),
            };
            out.push(row[i].wrapping_sub(predicted));
        }
    }
    out
}

/// A PNG of `stream` (its image data) cut into IDAT chunks of `split` bytes.
fn png_file(width: usize, height: usize, channels: usize, stream: &[u8], split: usize) -> Vec<u8> {
    let mut file = SIGNATURE.to_vec();
    let mut chunk = |kind: &[u8], body: &[u8]| {
        file.extend_from_slice(&(body.len() as u32).to_be_bytes());
        let start = file.len();
        file.extend_from_slice(kind);
        file.extend_from_slice(body);
        let crc = crc32fast::hash(&file[start..]);
        file.extend_from_slice(&crc.to_be_bytes());
    };
    let mut header = Vec::new();
    header.extend_from_slice(&(width as u32).to_be_bytes());
    header.extend_from_slice(&(height as u32).to_be_bytes());
    header.extend_from_slice(&[8, if channels == 3 { 2 } else { 6 }, 0, 0, 0]);
    chunk(b"IHDR", &header);
    for body in stream.chunks(split.max(1)) {
        chunk(b"IDAT", body);
    }
    chunk(b"IEND", &[]);
    file
}

#[test]
fn both_inflaters_decode_every_level_strategy_filter_and_chunking() {
    let mut rng = Rng(99);
    let dir = std::env::temp_dir().join(format!("panoptiq-streams-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("stream.png");
    let mut cases = 0;
    for case in 0..60usize {
        let (width, height) = (1 + rng.below(90) as usize, 1 + rng.below(40) as usize);
        let channels = if case % 2 == 0 { 3 } else { 4 };
        let ids = blocky(&mut rng, width, height);
        let pixels: Vec<u8> = ids
            .iter()
            .flat_map(|id| {
                let b = id.to_le_bytes();
                [b[0], b[1], b[2], 255][..channels].to_vec()
            })
            .collect();
        let expected: Vec<RowRuns> = ids.chunks_exact(width).map(runs_of).collect();
        // One filter for all rows, or a mix as adaptive encoders (Pillow's zlib) choose.
        let mix = rng.next();
        let filter = |y: usize| if case % 6 == 5 { ((mix >> (y % 60)) % 5) as u8 } else { (case % 6) as u8 };
        let data = filtered(&pixels, width * channels, channels, filter);
        let mut streams: Vec<(String, Vec<u8>)> = Vec::new();
        for level in 0..=10 {
            streams.push((format!("level {level}"), zlib(&data, level, 0)));
        }
        for (strategy, name) in [(1, "filtered"), (2, "Huffman only"), (3, "RLE"), (4, "fixed codes")] {
            streams.push((name.to_owned(), zlib(&data, 6, strategy)));
        }
        streams.push(("fdeflate".to_owned(), fdeflate::compress_to_vec(&data)));
        for (name, stream) in streams {
            for split in [stream.len(), 1 + stream.len() / 3, 7] {
                let file = png_file(width, height, channels, &stream, split);
                let (sparse, engine) = rows_and_engine(&path, &file, Engine::Sparse).unwrap();
                assert_eq!(engine, Engine::Sparse, "case {case}, {name}, split {split}: fell back");
                assert_eq!(
                    Ok(&sparse),
                    all_rows(&path, &file, Engine::Dense).as_ref(),
                    "case {case}, {name}, split {split}"
                );
                assert_eq!(sparse, expected, "case {case}, {name}, split {split}");
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 60 * 16 * 3);
    std::fs::remove_dir_all(&dir).unwrap();
}
