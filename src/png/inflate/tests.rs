// Small test data: every count fits every integer type.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use super::*;

/// The whole stream, inflated, as bytes: read `step` bytes at a time, from the ring and from
/// its marked blocks alone (which must agree: unmarked blocks hold zeros).
fn inflate_by(stream: &[u8], step: usize) -> Result<Vec<u8>, &'static str> {
    let mut inflater = Inflater::default();
    inflater.reset(step)?;
    let (mut out, mut at) = (Vec::new(), 0u64);
    while !inflater.is_done() {
        inflater.fill_to(stream, at + step as u64)?;
        let end = inflater.out.written().min(at + step as u64);
        let (a, b) = inflater.out.slices(at, end);
        let from = out.len();
        out.extend_from_slice(a);
        out.extend_from_slice(b);
        let mut sparse = vec![0u8; out.len() - from];
        inflater.out.marked_parts(at, end, |pos, bytes| {
            let k = (pos - at) as usize;
            sparse[k..k + bytes.len()].copy_from_slice(bytes);
        });
        assert_eq!(sparse, out[from..], "marked blocks miss a non-zero byte");
        at = end;
    }
    Ok(out)
}

/// The whole stream, inflated, as bytes, read in steps of several sizes (which must agree).
fn inflate(stream: &[u8]) -> Result<Vec<u8>, &'static str> {
    let out = inflate_by(stream, 4096);
    for step in [1, 61, 1921, 70_000] {
        assert_eq!(inflate_by(stream, step), out, "step {step}");
    }
    out
}

/// Panoptic-like filtered rows: mostly zeros, a few changes, some rows of noise.
fn filtered_rows(seed: u64, rows: usize, stride: usize) -> Vec<u8> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    let mut data = Vec::new();
    for y in 0..rows {
        let filter = (next() % 5) as u8;
        data.push(filter);
        let noisy = y % 17 == 3;
        for _ in 0..stride {
            let r = next();
            data.push(if noisy || r % 97 == 0 { (r >> 8) as u8 } else { 0 });
        }
    }
    data
}

#[test]
fn equals_miniz_at_every_level() {
    for seed in 0..6u64 {
        let data = filtered_rows(seed, 60, 3 * (20 + seed as usize * 37));
        for level in 0..=10u8 {
            let stream = miniz_oxide::deflate::compress_to_vec_zlib(&data, level);
            assert_eq!(inflate(&stream).unwrap(), data, "seed {seed}, level {level}");
        }
        let stream = fdeflate::compress_to_vec(&data);
        assert_eq!(inflate(&stream).unwrap(), data, "seed {seed}, fdeflate");
    }
}

#[test]
fn long_runs_of_non_zero_bytes_and_patterns() {
    let mut data = vec![7u8; 5000];
    data.extend((0..3000).map(|i| [1u8, 2, 3][i % 3]));
    data.extend(std::iter::repeat_n(0, 70_000));
    data.extend((0..40_000).map(|i| (i % 251) as u8));
    for level in [1u8, 6, 9] {
        let stream = miniz_oxide::deflate::compress_to_vec_zlib(&data, level);
        assert_eq!(inflate(&stream).unwrap(), data, "level {level}");
    }
}

#[test]
fn corrupt_and_short_streams_are_refused() {
    let data = filtered_rows(1, 40, 90);
    let stream = miniz_oxide::deflate::compress_to_vec_zlib(&data, 6);
    assert_eq!(inflate(&stream[..stream.len() / 2]), Err("image data ends early"));
    assert_eq!(inflate(&[0x78, 0x9c]), Err("image data ends early"));
    assert_eq!(inflate(&[0x79, 0x9c, 0, 0]), Err("bad zlib header"));
    // Block type 3 does not exist.
    assert_eq!(inflate(&[0x78, 0x9c, 0b111, 0]), Err("bad block type"));
    // A back-reference before the first byte: fixed block, length 3 at distance 1.
    assert_eq!(
        inflate(&[0x78, 0x9c, 0x03, 0x02]).err(),
        Some("back-reference before the start of the image data")
    );
}

#[test]
fn equals_miniz_with_every_strategy() {
    use miniz_oxide::deflate::core::{
        compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
    };
    // 1 filtered, 2 Huffman only (its blocks have no back-references and, from miniz, a distance
    // code with no lengths at all), 3 RLE, 4 fixed codes.
    for strategy in 1..=4 {
        for seed in 0..4u64 {
            let data = filtered_rows(seed, 60, 3 * (20 + seed as usize * 37));
            let mut compressor = CompressorOxide::new(create_comp_flags_from_zip_params(6, 1, strategy));
            let mut stream = vec![0u8; data.len() * 2 + 64];
            let (_, _, written) = compress(&mut compressor, &data, &mut stream, TDEFLFlush::Finish);
            stream.truncate(written);
            assert_eq!(inflate(&stream).unwrap(), data, "strategy {strategy}, seed {seed}");
        }
    }
}
