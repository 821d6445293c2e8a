//! Canonical Huffman codes of deflate: a lookup table on the next [`FAST`] bits for the short
//! codes, which carry nearly every symbol, and a walk over the code lengths for the long ones.
//!
//! A code decodes to an [`Entry`], which says what its symbol means (a literal, a length or
//! distance base with its extra bits, the end of a block) so that the caller looks nothing up.

use super::bits::Bits;

/// Bits looked up at once; longer codes take the slow path.
const FAST: u32 = 11;
const MAX_BITS: usize = 15;

/// What a decoded symbol means: `value << 16 | kind << 8 | extra bits << 4 | code length`.
pub type Entry = u32;
pub const LITERAL: u32 = 0;
pub const BASE: u32 = 1;
pub const END: u32 = 2;
pub const INVALID: u32 = 3;

#[must_use]
pub const fn entry(kind: u32, value: u32, extra: u32) -> Entry {
    value << 16 | kind << 8 | extra << 4
}

#[must_use]
pub const fn kind(e: Entry) -> u32 {
    (e >> 8) & 3
}

#[must_use]
pub const fn value(e: Entry) -> u32 {
    e >> 16
}

#[must_use]
pub const fn extra(e: Entry) -> u32 {
    (e >> 4) & 15
}

/// One code: its table and what the slow path needs.
#[derive(Debug, Clone)]
pub struct Code {
    /// Indexed by the next `FAST` bits: the entry with its code length, or 0 for a longer code.
    fast: Box<[Entry; 1 << FAST]>,
    /// Codes of each length.
    counts: [u16; MAX_BITS + 1],
    /// Entries in canonical order.
    symbols: Vec<Entry>,
}

impl Default for Code {
    fn default() -> Self {
        Self { fast: Box::new([0; 1 << FAST]), counts: [0; MAX_BITS + 1], symbols: Vec::new() }
    }
}

/// Reverses the low `n` bits of `code`: deflate packs codes most significant bit first.
fn reverse(code: u32, n: u32) -> u32 {
    code.reverse_bits() >> (32 - n)
}

impl Code {
    /// Builds the code of `lengths` (one per symbol, 0 for unused), symbol `s` decoding to
    /// `meaning(s)`. Over-subscribed lengths are refused, and so are incomplete ones unless they
    /// hold a single code or none (which deflate allows for distances), as zlib does.
    pub fn build(&mut self, lengths: &[u8], meaning: impl Fn(usize) -> Entry) -> Result<(), &'static str> {
        self.counts = [0; MAX_BITS + 1];
        for &l in lengths {
            self.counts[usize::from(l)] += 1;
        }
        self.counts[0] = 0;
        let mut left = 1i32;
        for len in 1..=MAX_BITS {
            left = (left << 1) - i32::from(self.counts[len]);
            if left < 0 {
                return Err("over-subscribed Huffman code");
            }
        }
        let used: u32 = self.counts.iter().map(|&c| u32::from(c)).sum();
        // An empty code is allowed too: a block without back-references may give its distance
        // code no lengths at all (miniz's Huffman-only strategy does), and zlib, fdeflate and
        // the png crate accept it. A symbol decoded from it is an error.
        if left > 0 && used > 1 {
            return Err("incomplete Huffman code");
        }
        // Canonical order: by length, then by symbol.
        let mut offsets = [0u16; MAX_BITS + 2];
        for len in 1..=MAX_BITS {
            offsets[len + 1] = offsets[len] + self.counts[len];
        }
        self.symbols.clear();
        self.symbols.resize(used as usize, 0);
        let mut next = offsets;
        for (symbol, &l) in lengths.iter().enumerate() {
            if l != 0 {
                let l = usize::from(l);
                self.symbols[usize::from(next[l])] = meaning(symbol);
                next[l] += 1;
            }
        }
        self.fast.fill(0);
        let mut code = 0u32;
        let mut k = 0usize;
        for len in 1..=MAX_BITS {
            for _ in 0..self.counts[len] {
                #[allow(clippy::cast_possible_truncation)] // len <= 15
                let l = len as u32;
                if l <= FAST {
                    let entry = self.symbols[k] | l;
                    let mut at = reverse(code, l) as usize;
                    while at < 1 << FAST {
                        self.fast[at] = entry;
                        at += 1 << l;
                    }
                }
                code += 1;
                k += 1;
            }
            code <<= 1;
        }
        Ok(())
    }

    /// Decodes one symbol to its entry; `bits` holds at least 15 bits (refilled by the caller).
    #[inline]
    pub fn decode(&self, bits: &mut Bits) -> Result<Entry, &'static str> {
        let mut entry = self.fast[(bits.peek(FAST) & ((1 << FAST) - 1)) as usize];
        if entry == 0 {
            // The slow path sees the bits by value: the reader never leaves registers.
            #[allow(clippy::cast_possible_truncation)] // 15
            let peeked = bits.peek(MAX_BITS as u32);
            entry = self.decode_slow(peeked)?;
        }
        bits.consume(entry & 15);
        Ok(entry)
    }

    /// The long codes: the canonical code grows a bit at a time until it falls in a length's
    /// range. The entry carries the code's length, as the table's do.
    #[cold]
    fn decode_slow(&self, peeked: u32) -> Result<Entry, &'static str> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..=MAX_BITS {
            code |= i32::from((peeked >> (len - 1)) & 1 == 1);
            let count = i32::from(self.counts[len]);
            if code - first < count {
                #[allow(clippy::cast_sign_loss)] // index + code - first is in 0..symbols.len()
                let symbol = self.symbols[(index + code - first) as usize];
                #[allow(clippy::cast_possible_truncation)] // len <= 15
                return Ok(symbol | len as u32);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err("invalid Huffman code")
    }
}
