//! A zlib stream written from repeats instead of bytes: a pattern repeated n times costs its own
//! literals and a few copies, so compressing a panoptic map costs its runs, not its pixels. The
//! symbols are kept and written at the end as one deflate block with Huffman codes made for them
//! (RFC 1951, 3.2.7): a stream of mostly long copies at a handful of distances then costs a few
//! bits a copy.

use super::deflate_codes::{DISTANCE_EXTRA, LENGTH_EXTRA};
use super::huffman::{code_lengths, codes};

/// Longest and shortest copies deflate has, and how far back one may reach.
const MAX_COPY: usize = 258;
const MIN_COPY: usize = 3;
pub const WINDOW: usize = 32_768;

/// The order code-length code lengths are stored in.
const CODE_LENGTH_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const END_OF_BLOCK: usize = 256;

/// A copy distance as deflate codes it: symbol and extra bits.
#[derive(Debug, Clone, Copy)]
pub struct Distance {
    symbol: u8,
    extra: u16,
}

/// One symbol of the block: a literal byte, or a copy (length and distance, each a symbol and
/// its extra bits).
#[derive(Debug, Clone, Copy)]
enum Token {
    Literal(u8),
    Copy { length: u8, length_extra: u8, distance: Distance },
}

/// The symbols of a zlib stream, gathered and then written as one dynamic-Huffman block.
#[derive(Debug, Default)]
pub struct RunDeflate {
    tokens: Vec<Token>,
}

/// Bits written from each byte's low bit up, as deflate packs them.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    count: u32,
}

impl Bits {
    #[inline]
    fn put(&mut self, bits: u32, len: u32) {
        self.acc |= u64::from(bits) << self.count;
        self.count += len;
        if self.count >= 32 {
            #[allow(clippy::cast_possible_truncation)] // the low 32 bits, on purpose
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.count -= 32;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        let tail = self.count.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..tail]);
        self.out
    }
}

/// The length symbol (index from 257) and extra bits of a copy of `len` (3..=258) bytes. Past
/// the first eight, each power of two of `len - 3` spans four codes, told apart by the two bits
/// under its top bit (RFC 1951, 3.2.5), so the code comes from the bit length, not a search.
fn length_code(len: usize) -> (u8, u8) {
    debug_assert!((MIN_COPY..=MAX_COPY).contains(&len));
    if len == MAX_COPY {
        return (28, 0);
    }
    let l = len - MIN_COPY;
    if l < 8 {
        // Below 8.
        #[allow(clippy::cast_possible_truncation)]
        return (l as u8, 0);
    }
    let top = l.ilog2() as usize;
    // Below 28 and below 2^5.
    #[allow(clippy::cast_possible_truncation)]
    (((top - 1) * 4 + ((l >> (top - 2)) & 3)) as u8, (l & ((1 << (top - 2)) - 1)) as u8)
}

impl RunDeflate {
    /// How deflate codes a copy from `distance` (1..=32768) bytes back: past the first four, two
    /// codes for each power of two of `distance - 1`, told apart by the bit under its top bit.
    #[must_use]
    pub fn distance(distance: usize) -> Distance {
        debug_assert!((1..=WINDOW).contains(&distance));
        let d = distance - 1;
        if d < 4 {
            // Below 4.
            #[allow(clippy::cast_possible_truncation)]
            return Distance { symbol: d as u8, extra: 0 };
        }
        let top = d.ilog2() as usize;
        // Below 30 and below 2^13.
        #[allow(clippy::cast_possible_truncation)]
        Distance {
            symbol: (top * 2 + ((d >> (top - 1)) & 1)) as u8,
            extra: (d & ((1 << (top - 1)) - 1)) as u16,
        }
    }

    /// Bytes written as themselves.
    pub fn literals(&mut self, bytes: &[u8]) {
        self.tokens.extend(bytes.iter().map(|&b| Token::Literal(b)));
    }

    /// `len` (3 or more) bytes copied from `distance` back, which the stream already holds.
    pub fn copy(&mut self, mut len: usize, distance: Distance) {
        debug_assert!(len >= MIN_COPY, "copies are 3 bytes or more");
        while len >= MIN_COPY {
            // Pieces of at most 258, none shorter than 3 (the last two shared out if need be).
            let piece = if len <= MAX_COPY {
                len
            } else if len - MAX_COPY >= MIN_COPY {
                MAX_COPY
            } else {
                len - MIN_COPY
            };
            let (length, length_extra) = length_code(piece);
            self.tokens.push(Token::Copy { length, length_extra, distance });
            len -= piece;
        }
    }

    /// `pattern` written `times` times: the first as literals, unless `written` (the stream ends
    /// with the pattern already), then copies of the pattern before (literals when fewer than 3
    /// bytes are left to copy).
    pub fn repeat(&mut self, pattern: &[u8], times: usize, written: bool) {
        let (mut times, copies) = (times, pattern.len());
        if times == 0 {
            return;
        }
        if !written {
            self.literals(pattern);
            times -= 1;
        }
        let rest = copies * times;
        if rest >= MIN_COPY {
            self.copy(rest, Self::distance(copies));
        } else {
            for _ in 0..times {
                self.literals(pattern);
            }
        }
    }

    /// The zlib stream: header, the block, and `adler` (the checksum of the bytes it holds).
    #[must_use]
    pub fn finish(self, adler: u32) -> Vec<u8> {
        let mut literal_counts = [0u32; 286];
        let mut distance_counts = [0u32; 30];
        for token in &self.tokens {
            match *token {
                Token::Literal(b) => literal_counts[usize::from(b)] += 1,
                Token::Copy { length, distance, .. } => {
                    literal_counts[257 + usize::from(length)] += 1;
                    distance_counts[usize::from(distance.symbol)] += 1;
                }
            }
        }
        literal_counts[END_OF_BLOCK] = 1;
        let literal_lengths = code_lengths(&literal_counts, 15);
        let distance_lengths = code_lengths(&distance_counts, 15);
        let (literal_codes, distance_codes) = (codes(&literal_lengths), codes(&distance_lengths));

        // zlib header: deflate, 32 KiB window, "fastest" level, check bits making it a multiple of 31.
        let mut bits = Bits { out: vec![0x78, 0x01], acc: 0, count: 0 };
        // BFINAL = 1, BTYPE = 10 (dynamic Huffman): the whole stream is one block.
        bits.put(0b101, 3);
        write_tables(&mut bits, &literal_lengths, &distance_lengths);
        let literal = |bits: &mut Bits, s: usize| bits.put(literal_codes[s], u32::from(literal_lengths[s]));
        for token in &self.tokens {
            match *token {
                Token::Literal(b) => literal(&mut bits, usize::from(b)),
                Token::Copy { length, length_extra, distance } => {
                    let l = usize::from(length);
                    literal(&mut bits, 257 + l);
                    bits.put(u32::from(length_extra), u32::from(LENGTH_EXTRA[l]));
                    let d = usize::from(distance.symbol);
                    bits.put(distance_codes[d], u32::from(distance_lengths[d]));
                    bits.put(u32::from(distance.extra), u32::from(DISTANCE_EXTRA[d]));
                }
            }
        }
        literal(&mut bits, END_OF_BLOCK);
        let mut out = bits.finish();
        out.extend_from_slice(&adler.to_be_bytes());
        out
    }
}

/// The block's code lengths, themselves run-length coded (symbols 16, 17, 18) under a third
/// Huffman code.
fn write_tables(bits: &mut Bits, literal_lengths: &[u8], distance_lengths: &[u8]) {
    // Trailing unused codes are left out (at least 257 literal/length codes and 1 distance code).
    let hlit = literal_lengths.iter().rposition(|&l| l > 0).map_or(257, |i| (i + 1).max(257));
    let hdist = distance_lengths.iter().rposition(|&l| l > 0).map_or(1, |i| i + 1);
    let all: Vec<u8> = literal_lengths[..hlit].iter().chain(&distance_lengths[..hdist]).copied().collect();
    // (symbol, extra bits, their count)
    let mut symbols: Vec<(u8, u8, u8)> = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let len = all[i];
        let run = all[i..].iter().take_while(|&&l| l == len).count();
        // Each piece is at most 138 long: it fits in a byte.
        #[allow(clippy::cast_possible_truncation)]
        if len == 0 && run >= 11 {
            let n = run.min(138);
            symbols.push((18, (n - 11) as u8, 7));
            i += n;
        } else if len == 0 && run >= 3 {
            let n = run.min(10);
            symbols.push((17, (n - 3) as u8, 3));
            i += n;
        } else if len > 0 && run >= 4 {
            // The length once, then repeats of it, 3 to 6 at a time.
            symbols.push((len, 0, 0));
            let n = (run - 1).min(6);
            symbols.push((16, (n - 3) as u8, 2));
            i += 1 + n;
        } else {
            symbols.push((len, 0, 0));
            i += 1;
        }
    }
    let mut counts = [0u32; 19];
    for &(s, _, _) in &symbols {
        counts[usize::from(s)] += 1;
    }
    let lengths = code_lengths(&counts, 7);
    let code = codes(&lengths);
    let hclen = CODE_LENGTH_ORDER.iter().rposition(|&s| lengths[s] > 0).map_or(4, |i| (i + 1).max(4));
    // All three below their fields' limits: 286 - 257, 30 - 1, 19 - 4.
    #[allow(clippy::cast_possible_truncation)]
    {
        bits.put((hlit - 257) as u32, 5);
        bits.put((hdist - 1) as u32, 5);
        bits.put((hclen - 4) as u32, 4);
    }
    for &s in &CODE_LENGTH_ORDER[..hclen] {
        bits.put(u32::from(lengths[s]), 3);
    }
    for &(s, extra, extra_len) in &symbols {
        let s = usize::from(s);
        bits.put(code[s], u32::from(lengths[s]));
        bits.put(u32::from(extra), u32::from(extra_len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::png::adler::Adler;
    use crate::png::deflate_codes::{DISTANCE_BASE, LENGTH_BASE};

    fn check(deflate: RunDeflate, expected: &[u8]) {
        let stream = deflate.finish(Adler::of(expected).value());
        let mut d = fdeflate::Decompressor::new();
        d.ignore_adler32();
        let mut out = vec![0u8; expected.len() + 16];
        let (_, n) = d.read(&stream, &mut out, 0, true).unwrap();
        assert_eq!(&out[..n], expected, "bytes");
        // fdeflate checks the Adler-32 too; zlib (zlib-rs) also refuses incomplete codes.
        assert_eq!(fdeflate::decompress_to_vec(&stream).unwrap(), expected);
        let mut out = vec![0u8; expected.len() + 16];
        let (inflated, code) =
            zlib_rs::decompress_slice(&mut out, &stream, zlib_rs::InflateConfig::default());
        assert_eq!(code, zlib_rs::ReturnCode::Ok);
        assert_eq!(inflated, expected);
    }

    #[test]
    fn streams_inflate_to_their_bytes() {
        // Patterns of 1, 2 and 3 bytes, repeated from once to past several 258-byte copies.
        let mut expected = Vec::new();
        let mut deflate = RunDeflate::default();
        for (i, times) in [1usize, 2, 3, 4, 86, 87, 88, 500, 1, 1].into_iter().enumerate() {
            let len = i % 3 + 1;
            let pattern: Vec<u8> =
                (0..len).map(|j| u8::try_from((i * 37 + j * 101) % 256).unwrap()).collect();
            deflate.repeat(&pattern, times, false);
            for _ in 0..times {
                expected.extend_from_slice(&pattern);
            }
        }
        // A pattern continued from the bytes before it, and a copy from far back.
        let last: Vec<u8> = expected[expected.len() - 3..].to_vec();
        deflate.repeat(&last, 5, true);
        for _ in 0..5 {
            expected.extend_from_slice(&last);
        }
        let back = expected.len() - 1000;
        let copied = expected[back..back + 600].to_vec();
        deflate.copy(600, RunDeflate::distance(1000));
        expected.extend_from_slice(&copied);
        check(deflate, &expected);
    }

    #[test]
    fn every_length_and_distance_has_its_code() {
        for len in MIN_COPY..=MAX_COPY {
            let (code, extra) = length_code(len);
            let c = usize::from(code);
            assert_eq!(usize::from(LENGTH_BASE[c]) + usize::from(extra), len);
            assert!(u32::from(extra) < 1 << LENGTH_EXTRA[c], "{len}");
            assert!(c == 28 || len < usize::from(LENGTH_BASE[c + 1]), "{len}");
        }
        for distance in 1..=WINDOW {
            let d = RunDeflate::distance(distance);
            let c = usize::from(d.symbol);
            assert_eq!(usize::from(DISTANCE_BASE[c]) + usize::from(d.extra), distance);
            assert!(u32::from(d.extra) < 1 << DISTANCE_EXTRA[c], "{distance}");
        }
    }

    #[test]
    fn empty_and_single_symbol_streams() {
        check(RunDeflate::default(), &[]);
        let mut deflate = RunDeflate::default();
        deflate.literals(&[7]);
        check(deflate, &[7]);
    }
}
