//! Kernel benchmarks with divan: `cargo bench --bench kernels`.
//!
//! Inputs are the real COCO panoptic ground truths shipped in the Python package, so the numbers
//! reflect real run lengths and PNG filters.

use std::path::{Path, PathBuf};

use divan::counter::{BytesCount, ItemsCount};
use divan::Bencher;
use panoptiq::decode::{read_id_map, read_id_map_reference, RunReader};
use panoptiq::fastpng::Buffers;
use panoptiq::histogram::PairHistogram;
use panoptiq::ids::rgb_to_ids;

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
    let map = read_id_map(&sample_pngs()[0], &panoptiq::parallel::Cancel::new()).expect("sample decodes");
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
