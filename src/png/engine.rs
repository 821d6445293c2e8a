//! Which engine inflates a file: dense or sparse, chosen per file from its sizes alone, or forced
//! for every file by `PANOPTIQ_DECODER`.

use std::sync::atomic::{AtomicU8, Ordering};

/// How a [`FastRows`](super::FastRows) inflates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The inflater of [`crate::png::inflate`], whose zeros are never written, rows read from the
    /// blocks it marks: the faster on streams that inflate many-fold (large segments, wide
    /// rows); on the least compressible COCO-sized maps its Huffman decoding and its bookkeeping
    /// of copies cost more than writing and scanning the zeros (see benches/kernels.rs).
    Sparse,
    /// fdeflate into a byte buffer, a chunk at a time. The sparse path falls back to it (from the first row) on any stream it does not decode, so that its verdict stands.
    Dense,
    /// `Sparse` when the image data inflates at least [`sparse_from`]-fold, else `Dense`.
    Auto,
}

/// The inflation ratio (image bytes over compressed bytes) from which the sparse engine is the
/// faster on a file of `channels`-byte pixels: its cost follows the deflate symbols, about the
/// compressed size, the dense engine's the inflated size.
///
/// Measured per file on Pillow-written COCO-like and Cityscapes-like PNGs (best of 15 decodes of
/// each, this project's machine kind; the median sparse/dense time of the files around each
/// ratio). 440 files, nine in ten RGB: 1.18 at 55-fold, 1.16 at 63, 1.07 at 86, 0.96-1.04 from 87 to 175
/// (even), 0.88 at 186, 0.84 at 256, 0.76 at 332, 0.71 at 439; the threshold sits in the even
/// stretch for RGB. RGBA files alone (72): 1.13 at 147, 1.07 at 195, 1.03 at 234, 1.00 at 261, 0.81 at 571 —
/// later, because the sparse engine un-filters RGBA rows other than Up densely (see
/// `run_filters`, which is RGB only).
#[must_use]
pub fn sparse_from(channels: usize) -> usize {
    if channels == 3 {
        128
    } else {
        300
    }
}

/// The engine named by `value`: `auto`, `dense` or `sparse`; `None` for anything else.
#[must_use]
pub fn parse_engine(value: &str) -> Option<Engine> {
    match value {
        "auto" => Some(Engine::Auto),
        "dense" => Some(Engine::Dense),
        "sparse" => Some(Engine::Sparse),
        _ => None,
    }
}

/// The engine every file is decoded with: `PANOPTIQ_DECODER` (`auto`, the default, `dense` or
/// `sparse`), to compare the engines on one's own data or run a test suite under one of them.
/// The Python package refuses other values when it is imported; here they mean `auto`. Read
/// once, into an atomic rather than a `OnceLock`: a process forked while another thread was
/// filling a `OnceLock` would wait for it forever.
#[must_use]
pub fn configured_engine() -> Engine {
    static ENGINE: AtomicU8 = AtomicU8::new(0);
    let engine = match ENGINE.load(Ordering::Relaxed) {
        1 => Engine::Auto,
        2 => Engine::Dense,
        3 => Engine::Sparse,
        _ => {
            let engine = std::env::var("PANOPTIQ_DECODER")
                .ok()
                .and_then(|value| parse_engine(value.trim()))
                .unwrap_or(Engine::Auto);
            let code = match engine {
                Engine::Auto => 1,
                Engine::Dense => 2,
                Engine::Sparse => 3,
            };
            ENGINE.store(code, Ordering::Relaxed);
            engine
        }
    };
    engine
}
