//! Packing RGB pixels into segment ids (`R + 256·G + 256²·B`) and back, as panopticapi's
//! `rgb2id`/`id2rgb` do.

use rayon::prelude::*;

use crate::PqError;

/// Below this many pixels the work is done on the calling thread: splitting a small image
/// across rayon's pool costs more than it saves.
pub const PARALLEL_MIN_PIXELS: usize = 1 << 18;
/// Pixels per parallel task: large enough to amortise scheduling, small enough to balance.
const CHUNK_PIXELS: usize = 1 << 16;

/// A channel value `rgb2id` accepts. Arithmetic wraps in `u32` exactly as numpy's does for
/// `uint32` arrays, so results agree with panopticapi even for out-of-range channel values.
pub trait Channel: Copy + Send + Sync {
    fn widen(self) -> u32;
}

impl Channel for u8 {
    #[inline]
    fn widen(self) -> u32 {
        u32::from(self)
    }
}

impl Channel for u32 {
    #[inline]
    fn widen(self) -> u32 {
        self
    }
}

#[inline]
fn pack<C: Channel>(px: &[C]) -> u32 {
    px[0]
        .widen()
        .wrapping_add(px[1].widen().wrapping_mul(256))
        .wrapping_add(px[2].widen().wrapping_mul(65_536))
}

/// Whether to split `pixels` over threads: only when large, and only on a pool of panoptiq's
/// (rayon's global pool is never started: a forked child would not have its threads).
fn parallel(pixels: usize) -> bool {
    pixels >= PARALLEL_MIN_PIXELS && rayon::current_thread_index().is_some()
}

fn pack_all<C: Channel, const N: usize>(pixels: &[C], out: &mut [u32]) {
    for (id, px) in out.iter_mut().zip(pixels.chunks_exact(N)) {
        let px: &[C; N] = px.try_into().unwrap_or_else(|_| unreachable!("chunks_exact yields N values"));
        *id = pack(px);
    }
}

/// Writes the id of every pixel of `pixels` (row-major, `channels` values per pixel, the first
/// three being R, G, B; a fourth, alpha, is ignored as panopticapi ignores it) into `out`.
///
pub fn rgb_to_ids<C: Channel>(pixels: &[C], channels: usize, out: &mut [u32]) -> Result<(), PqError> {
    if channels < 3 {
        return Err(PqError::LengthMismatch {
            what: "channels per pixel (at least)",
            expected: 3,
            got: channels,
        });
    }
    if pixels.len() != out.len() * channels {
        return Err(PqError::LengthMismatch {
            what: "channel values",
            expected: out.len() * channels,
            got: pixels.len(),
        });
    }
    // A compile-time pixel width lets the compiler unroll and vectorise the common layouts.
    let serial = |pixels: &[C], out: &mut [u32]| match channels {
        3 => pack_all::<C, 3>(pixels, out),
        4 => pack_all::<C, 4>(pixels, out),
        _ => out.iter_mut().zip(pixels.chunks_exact(channels)).for_each(|(id, px)| *id = pack(px)),
    };
    if parallel(out.len()) {
        out.par_chunks_mut(CHUNK_PIXELS)
            .zip(pixels.par_chunks(CHUNK_PIXELS * channels))
            .for_each(|(out, pixels)| serial(pixels, out));
    } else {
        serial(pixels, out);
    }
    Ok(())
}

/// Writes the R, G, B bytes of every id into `out` (three bytes per id). Bytes above the third
/// are dropped, which is what panopticapi's repeated `% 256` and `//= 256` amount to.
pub fn ids_to_rgb(ids: &[u32], out: &mut [u8]) -> Result<(), PqError> {
    if out.len() != ids.len() * 3 {
        return Err(PqError::LengthMismatch { what: "RGB bytes", expected: ids.len() * 3, got: out.len() });
    }
    let serial = |ids: &[u32], out: &mut [u8]| {
        for (rgb, id) in out.chunks_exact_mut(3).zip(ids) {
            rgb.copy_from_slice(&id.to_le_bytes()[..3]);
        }
    };
    if parallel(ids.len()) {
        out.par_chunks_mut(CHUNK_PIXELS * 3)
            .zip(ids.par_chunks(CHUNK_PIXELS))
            .for_each(|(out, ids)| serial(ids, out));
    } else {
        serial(ids, out);
    }
    Ok(())
}

/// Writes into `out` every id's label from `labels` (`default` for an id it does not list).
/// Neighbouring pixels mostly share an id: the last id's label is kept, and the table is only
/// looked up where the id changes.
pub fn relabel_ids<S: std::hash::BuildHasher + Sync>(
    ids: &[u32],
    labels: &std::collections::HashMap<u32, i64, S>,
    default: i64,
    out: &mut [i64],
) -> Result<(), PqError> {
    if out.len() != ids.len() {
        return Err(PqError::LengthMismatch { what: "labels", expected: ids.len(), got: out.len() });
    }
    let serial = |ids: &[u32], out: &mut [i64]| {
        let mut last: Option<(u32, i64)> = None;
        for (label, &id) in out.iter_mut().zip(ids) {
            *label = match last {
                Some((seen, value)) if seen == id => value,
                _ => {
                    let value = labels.get(&id).copied().unwrap_or(default);
                    last = Some((id, value));
                    value
                }
            };
        }
    };
    if parallel(ids.len()) {
        out.par_chunks_mut(CHUNK_PIXELS)
            .zip(ids.par_chunks(CHUNK_PIXELS))
            .for_each(|(out, ids)| serial(ids, out));
    } else {
        serial(ids, out);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relabels_listed_ids_and_defaults_the_rest() {
        let labels = std::collections::HashMap::from([(5u32, 50i64), (7, -1)]);
        let mut out = [0i64; 6];
        relabel_ids(&[5, 5, 7, 9, 5, 0], &labels, 99, &mut out).unwrap();
        assert_eq!(out, [50, 50, -1, 99, 50, 99]);
        assert!(relabel_ids(&[1], &labels, 0, &mut [0; 2]).is_err());
    }

    #[test]
    fn packs_little_endian_rgb() {
        let mut out = [0u32; 2];
        rgb_to_ids(&[1u8, 2, 3, 255, 255, 255], 3, &mut out).unwrap();
        assert_eq!(out, [1 + 2 * 256 + 3 * 65_536, (1 << 24) - 1]);
    }

    #[test]
    fn ignores_alpha() {
        let mut out = [0u32; 1];
        rgb_to_ids(&[7u8, 0, 1, 200], 4, &mut out).unwrap();
        assert_eq!(out, [7 + 65_536]);
    }

    #[test]
    fn u32_channels_wrap_like_numpy() {
        let mut out = [0u32; 1];
        rgb_to_ids(&[0u32, 0, 1 << 16], 3, &mut out).unwrap();
        assert_eq!(out, [0]);
    }

    #[test]
    fn round_trips_on_a_large_image_in_parallel() {
        let n = PARALLEL_MIN_PIXELS * 3 + 17;
        #[allow(clippy::cast_possible_truncation)]
        let ids: Vec<u32> = (0..n as u32).map(|i| i.wrapping_mul(2_654_435_761) >> 8).collect();
        let mut rgb = vec![0u8; n * 3];
        ids_to_rgb(&ids, &mut rgb).unwrap();
        let mut back = vec![0u32; n];
        rgb_to_ids(&rgb, 3, &mut back).unwrap();
        assert_eq!(back, ids);
    }

    #[test]
    fn drops_the_fourth_byte() {
        let mut rgb = [0u8; 3];
        ids_to_rgb(&[0xFF_01_02_03], &mut rgb).unwrap();
        assert_eq!(rgb, [3, 2, 1]);
    }
}
