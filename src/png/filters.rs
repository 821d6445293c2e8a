//! PNG's five row filters undone in place, skipping the zero spans that make up almost all of a
//! panoptic map's filtered bytes, with the runs of the row updated where it changed.

use super::row::Row;
use crate::eval::runs::RowRuns;

/// Un-filters one row of `BPP`-byte pixels in place and updates `runs`; `None` for an unknown
/// filter type. `BPP` is a constant so that byte-to-pixel arithmetic never divides.
pub(super) fn unfilter<const BPP: usize>(
    filter: u8,
    data: &[u8],
    row: &mut [u8],
    spans: &mut Vec<(usize, usize)>,
    runs: &mut RowRuns,
) -> Option<Row> {
    spans.clear();
    let change = match filter {
        0 => replace(row, data),
        1 => sub::<BPP>(row, data),
        2 => up(row, data, spans),
        3 => average::<BPP>(row, data),
        4 => paeth::<BPP>(row, data, spans),
        _ => return None,
    };
    if change == Row::Changed {
        // Up and Paeth say where the row changed: only runs there are looked at again.
        if spans.is_empty() {
            runs.set_from_pixels::<BPP>(row);
        } else {
            runs.update_spans::<BPP>(row, spans);
        }
    }
    Some(change)
}

#[inline]
fn load8(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// Bytes tested per branch by `zero_run`.
const BLOCK: usize = 32;

/// Length of the run of zero bytes of `data` starting at `at`.
fn zero_run(data: &[u8], at: usize) -> usize {
    let rest = &data[at..];
    // Changes cluster: the next non-zero byte is often in the very next word.
    if rest.len() >= 8 {
        let word = load8(rest, 0);
        if word != 0 {
            return word.trailing_zeros() as usize / 8;
        }
    }
    let mut k = 0;
    // Nearly all of a panoptic map's filtered data is zero: test 32 bytes per branch. An OR
    // fold over a fixed-size block has no early exit, so it compiles to vector ORs.
    for block in rest.chunks_exact(BLOCK) {
        if block.iter().fold(0u8, |acc, &b| acc | b) != 0 {
            break;
        }
        k += BLOCK;
    }
    while k + 8 <= rest.len() {
        let word = load8(rest, k);
        if word != 0 {
            return k + word.trailing_zeros() as usize / 8;
        }
        k += 8;
    }
    while k < rest.len() && rest[k] == 0 {
        k += 1;
    }
    k
}

fn replace(row: &mut [u8], data: &[u8]) -> Row {
    if row == data {
        return Row::Same;
    }
    row.copy_from_slice(data);
    Row::Changed
}

fn up(row: &mut [u8], data: &[u8], spans: &mut Vec<(usize, usize)>) -> Row {
    up_part(row, data, 0, spans);
    Row::from_changed(!spans.is_empty())
}

/// Up on 16 filtered bytes from `offset`: one lane-wise add of two words each, and the span
/// from the first to the last non-zero byte recorded.
#[inline]
pub(super) fn up_16(row: &mut [u8], data: [u8; 16], offset: usize, spans: &mut Vec<(usize, usize)>) {
    let delta = u128::from_le_bytes(data);
    if delta == 0 {
        return;
    }
    let target = &mut row[offset..offset + 16];
    let (lo, hi) = (load8(target, 0), load8(target, 8));
    target[..8].copy_from_slice(&add_bytes(lo, load8(&data, 0)).to_le_bytes());
    target[8..].copy_from_slice(&add_bytes(hi, load8(&data, 8)).to_le_bytes());
    let first = delta.trailing_zeros() as usize / 8;
    let last = 16 - delta.leading_zeros() as usize / 8;
    push_span(spans, offset + first, offset + last);
}

/// Up on part of a row: adds `data`, the filtered bytes from `offset` on, to the row above in
/// `row`, recording the spans where it changed.
pub(super) fn up_part(row: &mut [u8], data: &[u8], offset: usize, spans: &mut Vec<(usize, usize)>) {
    let row = &mut row[offset..offset + data.len()];
    let mut k = 0;
    loop {
        k += zero_run(data, k);
        if k >= data.len() {
            break;
        }
        // `k` is the first non-zero byte: add a word from there, and record the span up to the
        // word's last non-zero byte, so that runs are looked at again only where bytes changed.
        if k + 8 <= data.len() {
            let (word, above) = (load8(data, k), load8(row, k));
            row[k..k + 8].copy_from_slice(&add_bytes(above, word).to_le_bytes());
            push_span(spans, offset + k, offset + k + 8 - word.leading_zeros() as usize / 8);
            k += 8;
        } else {
            for i in k..data.len() {
                row[i] = row[i].wrapping_add(data[i]);
            }
            push_span(spans, offset + k, offset + data.len());
            break;
        }
    }
}

/// Adds the eight bytes of `a` and `b` lane by lane, each modulo 256.
#[inline]
fn add_bytes(a: u64, b: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Add the low seven bits of every lane (no carry crosses a lane), then put back the top bits.
    ((a & !HIGH) + (b & !HIGH)) ^ ((a ^ b) & HIGH)
}

/// Records bytes `start..end` as changed, merging with the previous span when it ends less than
/// a word before: each span costs a merge of runs, a few unchanged bytes between two cost less.
#[inline]
pub(super) fn push_span(spans: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    match spans.last_mut() {
        Some(last) if last.1 + 8 >= start => last.1 = end,
        _ => spans.push((start, end)),
    }
}

fn sub<const BPP: usize>(row: &mut [u8], data: &[u8]) -> Row {
    let mut changed = false;
    let mut k = 0;
    while k < data.len() {
        // A zero span repeats the left pixel: copy it pixel by pixel, no byte-serial adds.
        if k >= BPP && k % BPP == 0 {
            let skip = zero_run(data, k) / BPP * BPP;
            if skip > 0 {
                let left: [u8; BPP] = std::array::from_fn(|i| row[k - BPP + i]);
                for pixel in row[k..k + skip].chunks_exact_mut(BPP) {
                    // Compared as a fixed-size array: inline, where a slice comparison would
                    // call memcmp for every pixel.
                    if pixel != left {
                        pixel.copy_from_slice(&left);
                        changed = true;
                    }
                }
                k += skip;
                continue;
            }
        }
        let left = if k >= BPP { row[k - BPP] } else { 0 };
        let value = data[k].wrapping_add(left);
        changed |= value != row[k];
        row[k] = value;
        k += 1;
    }
    Row::from_changed(changed)
}

fn average<const BPP: usize>(row: &mut [u8], data: &[u8]) -> Row {
    let mut changed = false;
    for i in 0..data.len() {
        // row[i] still holds the byte above; row[i - BPP] already holds this row's left byte.
        let left = if i >= BPP { row[i - BPP] } else { 0 };
        let value = data[i].wrapping_add(left.midpoint(row[i]));
        changed |= value != row[i];
        row[i] = value;
    }
    Row::from_changed(changed)
}

#[inline]
pub(super) fn paeth_predictor(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    let p = ia + ib - ic;
    let (pa, pb, pc) = ((p - ia).abs(), (p - ib).abs(), (p - ic).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Paeth, in place. Where the filtered bytes are zero and the left pixel equals the one above
/// it, the predictor returns the byte above, so the row above is already the answer.
fn paeth<const BPP: usize>(row: &mut [u8], data: &[u8], spans: &mut Vec<(usize, usize)>) -> Row {
    if data.len() < BPP {
        return Row::Same;
    }
    // The pixel of the row above under the left pixel, overwritten in `row` by now.
    let mut above_left: [u8; BPP] = std::array::from_fn(|i| row[i]);
    // The first pixel has no left neighbours: Paeth then predicts the byte above, as Up does.
    let mut changed = false;
    for i in 0..BPP {
        let value = data[i].wrapping_add(row[i]);
        changed |= value != row[i];
        row[i] = value;
    }
    if changed {
        push_span(spans, 0, BPP);
    }
    // Whether the left pixel equals the one above it.
    let mut left_same = !changed;
    let mut k = BPP;
    while k + BPP <= data.len() {
        if left_same {
            let skip = zero_run(data, k) / BPP * BPP;
            if skip > 0 {
                k += skip;
                // The row above is unchanged there, so its last pixel is both left and above-left.
                above_left.copy_from_slice(&row[k - BPP..k]);
                continue;
            }
        }
        let (done, rest) = row.split_at_mut(k);
        let left = &done[k - BPP..];
        let pixel = &mut rest[..BPP];
        let mut same = true;
        for i in 0..BPP {
            let above = pixel[i];
            let value = data[k + i].wrapping_add(paeth_predictor(left[i], above, above_left[i]));
            above_left[i] = above;
            same &= value == above;
            pixel[i] = value;
        }
        if !same {
            push_span(spans, k, k + BPP);
        }
        left_same = same;
        k += BPP;
    }
    Row::from_changed(!spans.is_empty())
}
