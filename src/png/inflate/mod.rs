//! A zlib inflater whose zero output is never written: it inflates into a [`Ring`] that knows
//! which of its blocks may hold a non-zero byte, so that decoding costs in proportion to the
//! deflate symbols and the non-zero bytes — about the compressed size — not to the inflated size.
//! A panoptic PNG's image data is nearly all zeros (filtered rows that repeat the row above) and
//! copies of them.
//!
//! The Adler-32 checksum is not computed: the PNG specification calls it mainly a cross-check of
//! the deflate and inflate implementations and the chunk CRCs enough to trust the transfer, and
//! those are checked (`crate::png::scan_chunks`); the png crate skips it by default too.

mod bits;
mod huffman;
pub mod window;

use bits::Bits;
use huffman::{entry, extra, kind, value, Code, Entry, BASE, END, INVALID, LITERAL};
pub use window::Ring;

use super::deflate_codes::{DISTANCE_BASE, DISTANCE_EXTRA, LENGTH_BASE, LENGTH_EXTRA};

/// What literal/length symbol `s` means.
fn length_meaning(s: usize) -> Entry {
    match s {
        #[allow(clippy::cast_possible_truncation)] // below 256
        0..=255 => entry(LITERAL, s as u32, 0),
        256 => entry(END, 0, 0),
        257..=285 => entry(BASE, u32::from(LENGTH_BASE[s - 257]), u32::from(LENGTH_EXTRA[s - 257])),
        _ => entry(INVALID, 0, 0),
    }
}

/// What distance symbol `s` means.
fn distance_meaning(s: usize) -> Entry {
    match s {
        0..=29 => entry(BASE, u32::from(DISTANCE_BASE[s]), u32::from(DISTANCE_EXTRA[s])),
        _ => entry(INVALID, 0, 0),
    }
}

/// A code length symbol means itself.
fn plain_meaning(s: usize) -> Entry {
    #[allow(clippy::cast_possible_truncation)] // below 19
    entry(LITERAL, s as u32, 0)
}

/// The order in which code length code lengths are sent.
const CLEN_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the zlib header.
    Start,
    /// At a block header.
    Header,
    /// Inside a Huffman-coded block.
    Coded,
    /// Inside a stored block, this many bytes to go.
    Stored(usize),
    /// After the last block.
    Done,
}

/// Inflates a zlib stream into a [`Ring`], as far as asked at a time.
#[derive(Debug)]
pub struct Inflater {
    bits: Bits,
    state: State,
    last: bool,
    lengths: Code,
    distances: Code,
    clens: Code,
    lens_buf: Vec<u8>,
    stored: Vec<u8>,
    pub out: Ring,
}

impl Default for Inflater {
    fn default() -> Self {
        Self {
            bits: Bits::default(),
            state: State::Start,
            last: false,
            lengths: Code::default(),
            distances: Code::default(),
            clens: Code::default(),
            lens_buf: Vec::new(),
            stored: Vec::new(),
            out: Ring::default(),
        }
    }
}

impl Inflater {
    /// Starts a new stream whose output is read `line` bytes at a time (a filtered row),
    /// keeping the allocations. `Err` when the ring cannot be allocated.
    pub fn reset(&mut self, line: usize) -> Result<(), &'static str> {
        self.bits = Bits::default();
        self.state = State::Start;
        self.last = false;
        self.out.reset(Ring::size_for(line).ok_or("rows too long for the inflate window")?)
    }

    #[must_use]
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Inflates `input` (the whole zlib stream) until at least `target` bytes are out or the
    /// stream ends. When `target` is at most `line` bytes (see [`Inflater::reset`]) past what
    /// was written, every byte from there to `target` can be read from [`Inflater::out`] until
    /// the next call; a farther target is reached in steps, and only its last step is kept.
    pub fn fill_to(&mut self, input: &[u8], target: u64) -> Result<(), &'static str> {
        while self.out.written() < target {
            let step = target.min(self.out.written() + self.out.step());
            self.out.clear_ahead(step);
            while self.out.written() < step {
                match self.state {
                    State::Start => self.zlib_header(input)?,
                    State::Header => self.block_header(input)?,
                    State::Coded => self.coded(input, step)?,
                    State::Stored(n) => self.stored_bytes(input, n, step)?,
                    State::Done => return Ok(()),
                }
            }
        }
        Ok(())
    }

    /// Decodes the whole stream's symbols and extra bits without producing any output, and
    /// returns how many bytes it would inflate to: the floor any inflater of this stream pays,
    /// for benchmarks.
    pub fn symbols_only(&mut self, input: &[u8]) -> Result<u64, &'static str> {
        self.reset(0)?;
        let mut inflated = 0u64;
        loop {
            match self.state {
                State::Start => self.zlib_header(input)?,
                State::Header => self.block_header(input)?,
                State::Stored(n) => {
                    self.stored.clear();
                    if !self.bits.take_bytes(input, &mut self.stored, n) {
                        return Err("image data ends early");
                    }
                    inflated += n as u64;
                    self.state = State::Header;
                }
                State::Coded => loop {
                    self.bits.refill(input);
                    let e = self.lengths.decode(&mut self.bits)?;
                    match kind(e) {
                        LITERAL => inflated += 1,
                        BASE => {
                            inflated += u64::from(value(e) + self.bits.take(extra(e)));
                            let d = self.distances.decode(&mut self.bits)?;
                            self.bits.take(extra(d));
                        }
                        END => {
                            self.state = State::Header;
                            break;
                        }
                        _ => return Err("bad length symbol"),
                    }
                    if self.bits.overran() {
                        return Err("image data ends early");
                    }
                },
                State::Done => return Ok(inflated),
            }
        }
    }

    fn zlib_header(&mut self, input: &[u8]) -> Result<(), &'static str> {
        self.bits.refill(input);
        let (cmf, flg) = (self.bits.take(8), self.bits.take(8));
        if self.bits.overran() {
            return Err("image data ends early");
        }
        if cmf & 15 != 8 || cmf >> 4 > 7 || (cmf << 8 | flg) % 31 != 0 {
            return Err("bad zlib header");
        }
        if flg & 32 != 0 {
            return Err("zlib preset dictionary");
        }
        self.state = State::Header;
        Ok(())
    }

    fn block_header(&mut self, input: &[u8]) -> Result<(), &'static str> {
        if self.last {
            self.state = State::Done;
            return Ok(());
        }
        self.bits.refill(input);
        self.last = self.bits.take(1) == 1;
        match self.bits.take(2) {
            0 => {
                self.bits.align();
                self.bits.refill(input);
                let (len, nlen) = (self.bits.take(16), self.bits.take(16));
                if self.bits.overran() {
                    return Err("image data ends early");
                }
                if len != !nlen & 0xffff {
                    return Err("bad stored block length");
                }
                self.state = State::Stored(len as usize);
            }
            1 => {
                self.fixed_codes()?;
                self.state = State::Coded;
            }
            2 => {
                self.dynamic_codes(input)?;
                self.state = State::Coded;
            }
            _ => return Err("bad block type"),
        }
        if self.bits.overran() {
            return Err("image data ends early");
        }
        Ok(())
    }

    fn fixed_codes(&mut self) -> Result<(), &'static str> {
        self.lens_buf.clear();
        self.lens_buf.extend(std::iter::repeat_n(8, 144));
        self.lens_buf.extend(std::iter::repeat_n(9, 112));
        self.lens_buf.extend(std::iter::repeat_n(7, 24));
        self.lens_buf.extend(std::iter::repeat_n(8, 8));
        self.lengths.build(&self.lens_buf, length_meaning)?;
        // 30 distance codes of 5 bits, of which 30 and 31 are invalid: complete with 32.
        self.distances.build(&[5; 32], distance_meaning)
    }

    fn dynamic_codes(&mut self, input: &[u8]) -> Result<(), &'static str> {
        self.bits.refill(input);
        let hlit = self.bits.take(5) as usize + 257;
        let hdist = self.bits.take(5) as usize + 1;
        let hclen = self.bits.take(4) as usize + 4;
        if hlit > 286 || hdist > 30 {
            return Err("bad code counts");
        }
        let mut clen = [0u8; 19];
        for &k in &CLEN_ORDER[..hclen] {
            self.bits.refill(input);
            #[allow(clippy::cast_possible_truncation)] // 3 bits
            let l = self.bits.take(3) as u8;
            clen[k] = l;
        }
        self.clens.build(&clen, plain_meaning)?;
        self.lens_buf.clear();
        while self.lens_buf.len() < hlit + hdist {
            self.bits.refill(input);
            if self.bits.overran() {
                return Err("image data ends early");
            }
            let symbol = value(self.clens.decode(&mut self.bits)?);
            let (value, repeat) = match symbol {
                0..=15 => {
                    #[allow(clippy::cast_possible_truncation)]
                    let length = symbol as u8;
                    (length, 1)
                }
                16 => {
                    let &previous = self.lens_buf.last().ok_or("repeat with no previous length")?;
                    (previous, 3 + self.bits.take(2) as usize)
                }
                17 => (0, 3 + self.bits.take(3) as usize),
                _ => (0, 11 + self.bits.take(7) as usize),
            };
            if self.lens_buf.len() + repeat > hlit + hdist {
                return Err("code lengths overflow");
            }
            self.lens_buf.extend(std::iter::repeat_n(value, repeat));
        }
        if self.lens_buf[256] == 0 {
            return Err("no end-of-block code");
        }
        self.lengths.build(&self.lens_buf[..hlit], length_meaning)?;
        self.distances.build(&self.lens_buf[hlit..], distance_meaning)?;
        Ok(())
    }

    fn coded(&mut self, input: &[u8], target: u64) -> Result<(), &'static str> {
        // The bit reader is worked on as a local, so that it stays in registers across the
        // window's calls, and put back on every way out.
        let mut bits = self.bits.clone();
        let result = Self::coded_symbols(&mut bits, input, target, self);
        self.bits = bits;
        result?;
        if self.bits.overran() {
            return Err("image data ends early");
        }
        Ok(())
    }

    #[inline]
    fn coded_symbols(
        bits: &mut Bits,
        input: &[u8],
        target: u64,
        this: &mut Self,
    ) -> Result<(), &'static str> {
        let Self { lengths, distances, out, state, .. } = this;
        while out.written() < target {
            bits.refill(input);
            let e = lengths.decode(bits)?;
            // Copies first, then literals, in plain branches: nearly all symbols of a panoptic
            // PNG are one of the two, and a jump table would cost an indirect jump each.
            let k = kind(e);
            if k == BASE {
                let len = value(e) + bits.take(extra(e));
                let d = distances.decode(bits)?;
                if kind(d) != BASE {
                    return Err("bad distance symbol");
                }
                let distance = value(d) + bits.take(extra(d));
                out.copy(u64::from(distance), u64::from(len))?;
            } else if k == LITERAL {
                #[allow(clippy::cast_possible_truncation)] // a byte
                out.push_byte(value(e) as u8);
            } else if k == END {
                *state = State::Header;
                break;
            } else {
                return Err("bad length symbol");
            }
            if bits.overran() {
                return Err("image data ends early");
            }
        }
        Ok(())
    }

    fn stored_bytes(&mut self, input: &[u8], left: usize, target: u64) -> Result<(), &'static str> {
        #[allow(clippy::cast_possible_truncation)] // bounded by `left`
        let n = left.min((target - self.out.written()).min(left as u64) as usize);
        self.stored.clear();
        if !self.bits.take_bytes(input, &mut self.stored, n) {
            return Err("image data ends early");
        }
        self.out.push_bytes(&self.stored);
        self.state = if n == left { State::Header } else { State::Stored(left - n) };
        Ok(())
    }
}

#[cfg(test)]
mod tests;
