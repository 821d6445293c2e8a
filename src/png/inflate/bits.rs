//! Deflate's bit stream: bits taken least significant first from a byte slice, 56 or more
//! buffered at a time so that one refill serves a whole symbol with its extra bits.

/// A position in the compressed bytes and the bits read ahead of it. The bytes are passed to
/// every call rather than borrowed, so the reader can live beside the buffer that holds them.
#[derive(Debug, Default, Clone)]
pub struct Bits {
    /// Next byte to load.
    pos: usize,
    buf: u64,
    count: u32,
    /// Zero bytes loaded past the end of the input: the stream is short if any is consumed.
    padded: u32,
}

impl Bits {
    /// Loads bytes until at least 56 bits are buffered; past the input's end, zero bytes.
    #[inline]
    pub fn refill(&mut self, input: &[u8]) {
        if self.count >= 56 {
            return;
        }
        if let Some(word) = input.get(self.pos..self.pos + 8) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(word);
            self.buf |= u64::from_le_bytes(bytes) << self.count;
            let take = (63 - self.count) / 8;
            self.pos += take as usize;
            self.count += take * 8;
        } else {
            while self.count <= 56 {
                match input.get(self.pos) {
                    Some(&byte) => {
                        self.buf |= u64::from(byte) << self.count;
                        self.pos += 1;
                    }
                    None => self.padded += 1,
                }
                self.count += 8;
            }
        }
    }

    /// The next `n` (at most 32) bits without consuming them; refilled first by the caller.
    #[inline]
    pub fn peek(&self, n: u32) -> u32 {
        // n <= 32: the mask fits and the value fits in u32.
        #[allow(clippy::cast_possible_truncation)]
        let bits = (self.buf & ((1u64 << n) - 1)) as u32;
        bits
    }

    #[inline]
    pub fn consume(&mut self, n: u32) {
        self.buf >>= n;
        self.count -= n;
    }

    /// Takes `n` (at most 32) bits; refilled first by the caller.
    #[inline]
    pub fn take(&mut self, n: u32) -> u32 {
        let bits = self.peek(n);
        self.consume(n);
        bits
    }

    /// Drops the bits up to the next byte boundary (stored blocks start there).
    pub fn align(&mut self) {
        let drop = self.count % 8;
        self.consume(drop);
    }

    /// Whether more bits were consumed than the input holds.
    #[inline]
    pub fn overran(&self) -> bool {
        self.count < self.padded * 8
    }

    /// Takes `out.len()` whole bytes (after [`Bits::align`]): buffered bytes first, then straight
    /// from the input. `false` when the input is too short.
    pub fn take_bytes(&mut self, input: &[u8], out: &mut Vec<u8>, n: usize) -> bool {
        let mut n = n;
        while n > 0 && self.count >= 8 && !self.overran() {
            if self.count - 8 < self.padded * 8 {
                return false;
            }
            #[allow(clippy::cast_possible_truncation)] // one byte
            out.push(self.take(8) as u8);
            n -= 1;
        }
        if n == 0 {
            return true;
        }
        // The buffer is empty (whole bytes only after align): read straight from the input.
        let Some(bytes) = input.get(self.pos..self.pos + n) else { return false };
        out.extend_from_slice(bytes);
        self.pos += n;
        true
    }
}
