//! Kernel benchmarks with divan: `cargo bench --bench kernels`.
//!
//! Inputs are the real COCO panoptic ground truths shipped in the Python package, so the numbers
//! reflect real run lengths and PNG filters.

use std::path::{Path, PathBuf};

use divan::counter::{BytesCount, ItemsCount};
use divan::Bencher;
use panoptiq::eval::histogram::PairHistogram;
use panoptiq::eval::ids::rgb_to_ids;
use panoptiq::png::inflate::Inflater;
use panoptiq::png::{read_id_map, read_id_map_reference, RunReader};
use panoptiq::png::{Buffers, Engine, FastRows};

fn main() {
    divan::main();
}

fn sample_pngs() -> Vec<PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("python/panoptiq/data/coco_sample/panoptic_examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the COCO sample ships with the repository")
        .map(|entry| entry.expect("readable directory entry").path())
        .collect();
    files.sort();
    files
}

#[divan::bench(args = [(480, 640), (2000, 3000)])]
fn rgb2id(bencher: Bencher, (height, width): (usize, usize)) {
    // Long runs of slowly changing colours, wrapping at 256 on purpose.
    let pixels: Vec<u8> = (0..height * width * 3).map(|i| (i * 7 / 1000).to_le_bytes()[0]).collect();
    let mut ids = vec![0u32; height * width];
    bencher
        .counter(BytesCount::new(pixels.len()))
        .bench_local(|| rgb_to_ids(divan::black_box(&pixels), 3, &mut ids));
}

/// The histogram of a real ground truth against itself shifted by one row.
#[divan::bench]
fn histogram(bencher: Bencher) {
    let map =
        read_id_map(&sample_pngs()[0], &panoptiq::runtime::parallel::Cancel::new()).expect("sample decodes");
    let pred: Vec<u32> = map.ids[map.width..].iter().chain(&map.ids[..map.width]).copied().collect();
    let mut histogram = PairHistogram::new();
    bencher.counter(ItemsCount::new(map.ids.len())).bench_local(|| {
        histogram.clear();
        histogram.add_maps(&map.ids, &pred)
    });
}

/// Decoding both sample files to runs, as evaluation does: panoptiq's decoder.
#[divan::bench]
fn decode_pair_runs(bencher: Bencher) {
    let files = sample_pngs();
    let mut buffers = Buffers::default();
    bencher.bench_local(|| {
        for path in &files {
            let mut reader = RunReader::open(path, std::mem::take(&mut buffers)).expect("sample opens");
            for _ in 0..reader.shape().0 {
                reader.next_row(path).expect("sample decodes");
            }
            buffers = reader.into_buffers();
        }
    });
}

/// Decoding both sample files to full id maps with the png crate, for comparison.
#[divan::bench]
fn decode_pair_png_crate(bencher: Bencher) {
    let files = sample_pngs();
    bencher.bench_local(|| {
        for path in &files {
            divan::black_box(read_id_map_reference(path).expect("sample decodes"));
        }
    });
}

/// The PNGs of the decoder benchmarks, read into memory: the shipped COCO ground truths (written
/// by PIL, as COCO's are), and the first 100 files of the folder `PANOPTIQ_BENCH_PNGS` names
/// (benches/bench_decoder.py points it at Pillow-written COCO-like data).
fn bench_files() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = sample_pngs();
    if let Ok(dir) = std::env::var("PANOPTIQ_BENCH_PNGS") {
        let mut more: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("PANOPTIQ_BENCH_PNGS is a folder")
            .map(|entry| entry.expect("readable directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "png"))
            .collect();
        more.sort();
        more.truncate(100);
        files = more;
    }
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).expect("readable PNG"))).collect()
}

/// The image data of a PNG: its IDAT chunks joined.
fn image_data(file: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 8;
    while at + 8 <= file.len() {
        let len = u32::from_be_bytes(file[at..at + 4].try_into().expect("4 bytes")) as usize;
        if &file[at + 4..at + 8] == b"IDAT" {
            out.extend_from_slice(&file[at + 8..at + 8 + len]);
        }
        at += 12 + len;
    }
    out
}

/// Decoding files to runs, per file: the dense engine, the sparse one, and each file's choice
/// between them (the default).
#[divan::bench(args = ["dense", "sparse", "auto"])]
fn decode_file(bencher: Bencher, engine: &str) {
    let engine = match engine {
        "sparse" => Engine::Sparse,
        "dense" => Engine::Dense,
        _ => Engine::Auto,
    };
    let files = bench_files();
    let mut buffers = Buffers::default();
    bencher.counter(ItemsCount::new(files.len())).bench_local(|| {
        for (path, bytes) in &files {
            let mut b = std::mem::take(&mut buffers);
            b.file_mut().clone_from(bytes);
            let Ok(mut rows) = FastRows::from_file_bytes_with(path, b, engine).expect("opens") else {
                panic!("{} is not 8-bit RGB(A)", path.display())
            };
            for _ in 0..rows.height() {
                rows.next_row(path).expect("decodes");
            }
            buffers = rows.into_buffers();
        }
    });
}

/// The floor: Huffman decoding of the same streams, symbols and extra bits, no output.
#[divan::bench]
fn huffman_only(bencher: Bencher) {
    let streams: Vec<Vec<u8>> = bench_files().iter().map(|(_, f)| image_data(f)).collect();
    let mut inflater = Inflater::default();
    bencher.counter(ItemsCount::new(streams.len())).bench_local(|| {
        for s in &streams {
            divan::black_box(inflater.symbols_only(s).expect("valid stream"));
        }
    });
}

/// The sparse engine's inflater alone: the same streams into its ring, a row's worth at a time,
/// as the sparse engine drives it (rows 640 RGB pixels long).
#[divan::bench]
fn sparse_inflate_only(bencher: Bencher) {
    let streams: Vec<Vec<u8>> = bench_files().iter().map(|(_, f)| image_data(f)).collect();
    let mut inflater = Inflater::default();
    bencher.counter(ItemsCount::new(streams.len())).bench_local(|| {
        for s in &streams {
            inflater.reset(1921).expect("a ring");
            let mut target = 0;
            while !inflater.is_done() {
                target += 1921;
                inflater.fill_to(s, target).expect("valid stream");
            }
        }
    });
}

/// Inflating the same streams to bytes and nothing else, with fdeflate, miniz_oxide and zlib-rs
/// (zlib's inflate in Rust), each into an output buffer kept between files.
#[divan::bench(args = ["fdeflate", "miniz_oxide", "zlib_rs"])]
fn inflate_only(bencher: Bencher, library: &str) {
    let streams: Vec<Vec<u8>> = bench_files().iter().map(|(_, f)| image_data(f)).collect();
    let size = streams
        .iter()
        .map(|s| fdeflate::decompress_to_vec(s).expect("valid stream").len())
        .max()
        .unwrap_or(0);
    let mut out = vec![0u8; size];
    bencher.counter(ItemsCount::new(streams.len())).bench_local(|| {
        for s in &streams {
            match library {
                "fdeflate" => {
                    let mut inflater = fdeflate::Decompressor::new();
                    divan::black_box(inflater.read(s, &mut out, 0, true).expect("valid stream"));
                }
                "miniz_oxide" => {
                    divan::black_box(miniz_oxide::inflate::decompress_slice_iter_to_slice(
                        &mut out,
                        std::iter::once(&s[..]),
                        true,
                        false,
                    ))
                    .expect("valid stream");
                }
                _ => {
                    let (inflated, rc) =
                        zlib_rs::decompress_slice(&mut out, s, zlib_rs::InflateConfig::default());
                    assert_eq!(rc, zlib_rs::ReturnCode::Ok);
                    divan::black_box(inflated);
                }
            }
        }
    });
}
