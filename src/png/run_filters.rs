//! None, Sub and Paeth rows of RGB pixels undone without reading the row's zeros: the ring's
//! marked blocks give the pixels whose filtered bytes are not all zero, the runs of the row above
//! give where it changes, and in between the row repeats its left pixel (Sub; Paeth where the
//! pixel above equals its left neighbour) or is zero (None). The runs are built at those pixels
//! only; the row's bytes are written where they differ from the row above (Paeth) or wholesale.

use super::filters::paeth_predictor;
use super::row::Row;
use crate::eval::runs::{to_u32, RowRuns};
use crate::png::inflate::window::Ring;

const BPP: usize = 3;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Sets `out` to the pixels of the filtered bytes `from..to` of `ring` (a row, after its filter
/// type byte) that have a non-zero byte, in order.
pub(super) fn nonzero_pixels(ring: &Ring, from: u64, to: u64, out: &mut Vec<u32>) {
    out.clear();
    ring.marked_parts(from, to, |pos, bytes| {
        #[allow(clippy::cast_possible_truncation)] // within the row
        let offset = (pos - from) as usize;
        let mut push = |i: usize| {
            let pixel = to_u32((offset + i) / BPP);
            if out.last() != Some(&pixel) {
                out.push(pixel);
            }
        };
        let mut words = bytes.chunks_exact(8);
        for (w, word) in words.by_ref().enumerate() {
            // The top bit of each byte lane set where the byte is not zero, then lane by lane.
            let x = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            let mut nonzero = (((x & LOW7) + LOW7) | x) & HIGH;
            while nonzero != 0 {
                push(w * 8 + nonzero.trailing_zeros() as usize / 8);
                nonzero &= nonzero - 1;
            }
        }
        let done = bytes.len() / 8 * 8;
        for (i, &byte) in words.remainder().iter().enumerate() {
            if byte != 0 {
                push(done + i);
            }
        }
    });
}

/// The filtered bytes of `pixel`.
#[inline]
fn filtered(ring: &Ring, from: u64, pixel: usize) -> [u8; BPP] {
    let at = from + (pixel * BPP) as u64;
    [ring.byte(at), ring.byte(at + 1), ring.byte(at + 2)]
}

#[inline]
fn id_of(pixel: [u8; BPP]) -> u32 {
    u32::from(pixel[0]) | u32::from(pixel[1]) << 8 | u32::from(pixel[2]) << 16
}

#[inline]
fn pixel_of(id: u32) -> [u8; BPP] {
    let b = id.to_le_bytes();
    [b[0], b[1], b[2]]
}

#[inline]
fn add(a: [u8; BPP], b: [u8; BPP]) -> [u8; BPP] {
    [a[0].wrapping_add(b[0]), a[1].wrapping_add(b[1]), a[2].wrapping_add(b[2])]
}

/// Writes `value` into pixels `from..to` of `row`.
fn fill(row: &mut [u8], from: usize, to: usize, value: [u8; BPP]) {
    for pixel in row[from * BPP..to * BPP].chunks_exact_mut(BPP) {
        pixel.copy_from_slice(&value);
    }
}

/// None: the row is its filtered bytes, zero but at `pixels`.
pub(super) fn none(ring: &Ring, from: u64, pixels: &[u32], row: &mut [u8], runs: &mut RowRuns) -> Row {
    let width = row.len() / BPP;
    row.fill(0);
    let first = match pixels.first() {
        Some(0) => id_of(filtered(ring, from, 0)),
        _ => 0,
    };
    Row::from_changed(runs.rebuild(width, first, |_, _, build| {
        for (k, &p) in pixels.iter().enumerate() {
            let p = p as usize;
            let value = filtered(ring, from, p);
            row[p * BPP..(p + 1) * BPP].copy_from_slice(&value);
            if p > 0 {
                build.set(p, id_of(value));
            }
            // The pixel after it is zero, unless it is listed too.
            if p + 1 < width && pixels.get(k + 1).is_none_or(|&next| next as usize != p + 1) {
                build.set(p + 1, 0);
            }
        }
    }))
}

/// Sub: each pixel is its filtered bytes plus its left neighbour, so the row repeats its left
/// pixel except at `pixels`.
pub(super) fn sub(ring: &Ring, from: u64, pixels: &[u32], row: &mut [u8], runs: &mut RowRuns) -> Row {
    let width = row.len() / BPP;
    let mut cur = match pixels.first() {
        Some(0) => filtered(ring, from, 0),
        _ => [0; BPP],
    };
    Row::from_changed(runs.rebuild(width, id_of(cur), |_, _, build| {
        let mut x = 0; // pixels before x are written, x - 1 (or a virtual pixel) is `cur`
        for &p in pixels {
            let p = p as usize;
            if p == 0 {
                continue;
            }
            fill(row, x, p, cur);
            cur = add(filtered(ring, from, p), cur);
            row[p * BPP..(p + 1) * BPP].copy_from_slice(&cur);
            build.set(p, id_of(cur));
            x = p + 1;
        }
        fill(row, x, width, cur);
    }))
}

/// Paeth, from the row above's runs: where the filtered bytes are zero and the pixel above
/// equals its left neighbour, the predictor gives the left pixel, so the row repeats it; it is
/// computed only at `pixels` and where a run of the row above starts. Bytes are written where the
/// row differs from the one above, which `row` holds.
pub(super) fn paeth(ring: &Ring, from: u64, pixels: &[u32], row: &mut [u8], runs: &mut RowRuns) -> Row {
    let width = row.len() / BPP;
    let mut listed = pixels.iter().map(|&p| p as usize).peekable();
    // The first pixel has no left neighbours: Paeth predicts the byte above, as Up does.
    let above_first = pixel_of(runs.ids()[0]);
    let first_filtered = if listed.next_if_eq(&0).is_some() { filtered(ring, from, 0) } else { [0; BPP] };
    let mut cur = add(first_filtered, above_first);
    Row::from_changed(runs.rebuild(width, id_of(cur), |above_ends, above_ids, build| {
        row[..BPP].copy_from_slice(&cur);
        let mut run = 0; // the run above that holds pixel x - 1
        let mut above_left = above_first; // the pixel above x - 1
        let mut x = 1;
        loop {
            if cur == above_left {
                // The row equals the one above so far: with zero filtered bytes it goes on doing
                // so across the runs above (the predictor gives the byte above where the pixels
                // above and above-left differ), so copy their boundaries up to the next listed
                // pixel.
                let stop = listed.peek().copied().unwrap_or(width);
                while (above_ends[run] as usize) < stop {
                    build.set(above_ends[run] as usize, above_ids[run + 1]);
                    run += 1;
                }
                if stop >= width {
                    break;
                }
                (cur, x) = (pixel_of(above_ids[run]), stop);
                above_left = cur;
            }
            let boundary = above_ends[run] as usize;
            let event = listed.peek().map_or(boundary, |&p| p.min(boundary));
            // Pixels x..event repeat `cur`; the row above holds `above_left` there.
            if cur != above_left {
                fill(row, x, event.min(width), cur);
            }
            if event >= width {
                break;
            }
            if event == boundary {
                run += 1;
            }
            let above = pixel_of(above_ids[run]);
            let filtered =
                if listed.next_if_eq(&event).is_some() { filtered(ring, from, event) } else { [0; BPP] };
            // Where the pixel above equals its left neighbour the predictor gives the left pixel,
            // where the left pixel equals the one above-left it gives the one above: the usual
            // cases, without the predictor's arithmetic.
            let value = if above == above_left {
                add(filtered, cur)
            } else if cur == above_left {
                add(filtered, above)
            } else {
                std::array::from_fn(|i| {
                    filtered[i].wrapping_add(paeth_predictor(cur[i], above[i], above_left[i]))
                })
            };
            if value != above {
                row[event * BPP..(event + 1) * BPP].copy_from_slice(&value);
            }
            build.set(event, id_of(value));
            (cur, above_left, x) = (value, above, event + 1);
        }
    }))
}
