//! The inflated stream's recent bytes in a ring, with one bit per 16-byte block saying whether the
//! block may hold a non-zero byte. A panoptic PNG's filtered rows are nearly all zero, so the
//! zeros are never written: the ring ahead of the output is cleared block by block (only the
//! blocks marked), a copy of zeros (whose source blocks are unmarked) only moves the end, and a
//! row is read back from its marked blocks alone.

/// Deflate's back-references reach at most this far back.
pub const WINDOW: u64 = 32 * 1024;
/// Bytes per block of the bitmap: a block is tested as one `u128`.
const BLOCK: u64 = 16;
const BLOCK_LEN: usize = 16;
/// Stream bytes a copy may write past its target: a longest match.
const OVERSHOOT: u64 = 258;

/// The ring. Invariant: a block whose bit is clear holds only zeros, and so does every byte
/// from the end of the output to `clean`.
#[derive(Debug, Default)]
pub struct Ring {
    bytes: Vec<u8>,
    /// One bit per block, set when the block may hold a non-zero byte.
    marked: Vec<u64>,
    /// Bytes written so far.
    end: u64,
    /// Stream bytes `end..clean` are zero in the ring (block-aligned once set).
    clean: u64,
}

impl Ring {
    /// Bytes in the ring for rows `line` bytes long read one at a time: the window behind the
    /// row being filled, the row, a copy's overshoot and the block cleared ahead.
    #[must_use]
    pub fn size_for(line: usize) -> Option<usize> {
        (32 * 1024 + 2 * (258 + 2 * BLOCK_LEN)).checked_add(line)?.checked_next_power_of_two()
    }

    /// Starts a new stream in a ring of `size` bytes (a power of two, at least 64 KiB): the
    /// blocks still marked from the last stream are cleared. `Err` when it cannot be allocated.
    pub fn reset(&mut self, size: usize) -> Result<(), &'static str> {
        debug_assert!(size.is_power_of_two() && size >= 64 * 1024);
        if self.bytes.len() == size {
            for word in 0..self.marked.len() {
                self.clear_blocks(word as u64 * 64, self.marked[word]);
            }
        } else {
            self.bytes.clear();
            self.marked.clear();
            self.bytes.try_reserve_exact(size).map_err(|_| "out of memory for the inflate window")?;
            self.bytes.resize(size, 0);
            self.marked.resize(size / (BLOCK_LEN * 64), 0);
        }
        self.end = 0;
        self.clean = 0;
        Ok(())
    }

    /// How far past the end of the output a fill may aim at a time: the bytes behind it stay
    /// readable until the next fill.
    #[must_use]
    pub fn step(&self) -> u64 {
        (self.bytes.len() as u64).saturating_sub(WINDOW + 2 * (OVERSHOOT + 2 * BLOCK))
    }

    /// Bytes written so far.
    #[must_use]
    pub fn written(&self) -> u64 {
        self.end
    }

    fn mask(&self) -> usize {
        self.bytes.len() - 1
    }

    /// The block holding ring byte `at`, as (word, bit) of the bitmap.
    fn block(at: usize) -> (usize, usize) {
        let b = at / BLOCK_LEN;
        (b / 64, b % 64)
    }

    /// Clears the ring ahead so that bytes up to `target` plus a copy's overshoot are zero;
    /// called before writing towards `target`. Only marked blocks are touched.
    pub fn clear_ahead(&mut self, target: u64) {
        let upto = target + OVERSHOOT + BLOCK;
        debug_assert!(self.clean >= self.end, "written past the cleared ring");
        // Whole words of marks at a time: nearly all blocks are unmarked.
        while self.clean < upto {
            let first = self.clean / BLOCK;
            let n = (upto.div_ceil(BLOCK) - first).min(64 - first % 64);
            let bits = self.marks(first, n);
            if bits != 0 {
                self.clear_blocks(first, bits);
            }
            self.clean += n * BLOCK;
        }
    }

    /// Zeroes and unmarks the blocks of `bits` (set bits of the word holding stream block `first`,
    /// counted from it).
    fn clear_blocks(&mut self, first: u64, mut bits: u64) {
        let blocks = self.marked.len() * 64;
        while bits != 0 {
            #[allow(clippy::cast_possible_truncation)] // masked to the ring
            let b = (first + u64::from(bits.trailing_zeros())) as usize & (blocks - 1);
            bits &= bits - 1;
            self.marked[b / 64] &= !(1 << (b % 64));
            let at = b * BLOCK_LEN;
            self.bytes[at..at + BLOCK_LEN].fill(0);
        }
    }

    /// Appends one byte (room made by [`Ring::clear_ahead`]).
    #[inline]
    pub fn push_byte(&mut self, byte: u8) {
        #[allow(clippy::cast_possible_truncation)] // masked to the ring
        let at = self.end as usize & self.mask();
        self.bytes[at] = byte;
        let (word, bit) = Self::block(at);
        self.marked[word] |= u64::from(byte != 0) << bit;
        self.end += 1;
    }

    /// Appends bytes (a stored block's).
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push_byte(b);
        }
    }

    /// The marks of `n` (at most 64) blocks from stream block `first`, lowest bit first.
    #[inline]
    fn marks(&self, first: u64, n: u64) -> u64 {
        // The ring's block count is a power of two: masks, not divisions.
        let words = self.marked.len();
        #[allow(clippy::cast_possible_truncation)] // masked to the ring
        let b = first as usize & (words * 64 - 1);
        let (word, shift) = (b / 64, b % 64);
        let mut bits = self.marked[word] >> shift;
        if shift > 0 {
            bits |= self.marked[(word + 1) & (words - 1)] << (64 - shift);
        }
        if n < 64 {
            bits &= (1 << n) - 1;
        }
        bits
    }

    /// Whether stream bytes `from..to` (written, within the ring) may hold a non-zero byte.
    #[inline]
    fn any_marked(&self, from: u64, to: u64) -> bool {
        let (first, last) = (from / BLOCK, (to - 1) / BLOCK);
        let mut b = first;
        while b <= last {
            let n = (last + 1 - b).min(64);
            if self.marks(b, n) != 0 {
                return true;
            }
            b += n;
        }
        false
    }

    /// Copies `len` bytes from `distance` bytes back (deflate's back-reference).
    #[inline]
    pub fn copy(&mut self, distance: u64, len: u64) -> Result<(), &'static str> {
        if distance == 0 || distance > self.end.min(WINDOW) {
            return Err("back-reference before the start of the image data");
        }
        let from = self.end - distance;
        if distance < len {
            // An overlapping copy repeats the bytes already written from `from` on.
            if self.any_marked(from, self.end) {
                self.copy_overlapping(from, distance, len);
            }
            self.end += len;
            return Ok(());
        }
        // At most 18 blocks: their marks in one word.
        let first = from / BLOCK;
        let source = self.marks(first, (from + len - 1) / BLOCK + 1 - first);
        if source != 0 {
            self.copy_marked(from, len, source);
        }
        // Zeros onto zeros otherwise: the ring ahead is clear already.
        self.end += len;
        Ok(())
    }

    /// A copy that does not overlap itself, whose source blocks from `from`'s have the marks
    /// `source`: copied whole (one move costs less than picking out the marked blocks), then
    /// the destination blocks a marked source block lands on are tested and marked.
    fn copy_marked(&mut self, from: u64, len: u64, source: u64) {
        let mask = self.mask();
        #[allow(clippy::cast_possible_truncation)] // masked to the ring; len <= 258
        let (src, dst, n) = (from as usize & mask, self.end as usize & mask, len as usize);
        if src + n <= self.bytes.len() && dst + n <= self.bytes.len() {
            self.bytes.copy_within(src..src + n, dst);
        } else {
            for i in 0..n {
                self.bytes[(dst + i) & mask] = self.bytes[(src + i) & mask];
            }
        }
        // Source block `first + k` lands on destination blocks `first + q + k` and, unless the
        // distance is a whole number of blocks, the one after. Testing a block outside the copy
        // is harmless: before it, the block is written and its mark right; after, it is zero.
        let distance = self.end - from;
        let landed = if distance % BLOCK == 0 { source } else { source | source << 1 };
        let base = from / BLOCK + distance / BLOCK;
        let mut bits = landed;
        while bits != 0 {
            self.test_block(base + u64::from(bits.trailing_zeros()));
            bits &= bits - 1;
        }
    }

    /// A copy that overlaps itself: it repeats the last `distance` bytes.
    fn copy_overlapping(&mut self, from: u64, distance: u64, len: u64) {
        let mask = self.mask();
        #[allow(clippy::cast_possible_truncation)] // masked to the ring; len <= 258
        let (src, dst, n) = (from as usize & mask, self.end as usize & mask, len as usize);
        if src < dst && dst + n <= self.bytes.len() {
            // The bytes from `src` on are the pattern over and over, so each step copies from
            // `src` all the whole patterns written so far, doubling what the next can copy.
            #[allow(clippy::cast_possible_truncation)] // below len
            let (d, mut done) = (distance as usize, 0);
            while done < n {
                let k = (done + d).min(n - done);
                self.bytes.copy_within(src..src + k, dst + done);
                done += k;
            }
        } else {
            for i in 0..n {
                self.bytes[(dst + i) & mask] = self.bytes[(src + i) & mask];
            }
        }
        self.mark(self.end, self.end + len);
    }

    /// Marks the blocks of stream bytes `from..to` (just written) that hold a non-zero byte.
    /// Whole blocks are tested: the bytes before `from` in the first block were marked when
    /// written, and those after `to` in the last are zero.
    fn mark(&mut self, from: u64, to: u64) {
        for b in from / BLOCK..=(to - 1) / BLOCK {
            self.test_block(b);
        }
    }

    /// Marks stream block `b` if it holds a non-zero byte.
    #[inline]
    fn test_block(&mut self, b: u64) {
        #[allow(clippy::cast_possible_truncation)] // masked to the ring
        let b = b as usize & (self.marked.len() * 64 - 1);
        let at = b * BLOCK_LEN;
        let mut word = [0u8; BLOCK_LEN];
        word.copy_from_slice(&self.bytes[at..at + BLOCK_LEN]);
        self.marked[b / 64] |= u64::from(u128::from_le_bytes(word) != 0) << (b % 64);
    }

    /// Stream byte `pos` (written, within the ring).
    #[must_use]
    pub fn byte(&self, pos: u64) -> u8 {
        #[allow(clippy::cast_possible_truncation)] // masked to the ring
        self.bytes[pos as usize & self.mask()]
    }

    /// Stream bytes `from..to` (written, within the ring) as the one or two slices they lie in.
    #[must_use]
    pub fn slices(&self, from: u64, to: u64) -> (&[u8], &[u8]) {
        #[allow(clippy::cast_possible_truncation)] // masked to the ring; to - from fits
        let (at, n) = (from as usize & self.mask(), (to - from) as usize);
        if at + n <= self.bytes.len() {
            (&self.bytes[at..at + n], &[])
        } else {
            (&self.bytes[at..], &self.bytes[..n - (self.bytes.len() - at)])
        }
    }

    /// Calls `visit(pos, bytes)` for each marked block's part of stream bytes `from..to`
    /// (written, within the ring), in order: every non-zero byte there is in one of them.
    #[inline]
    pub fn marked_parts(&self, from: u64, to: u64, mut visit: impl FnMut(u64, &[u8])) {
        if from >= to {
            return;
        }
        let mask = self.mask();
        let (first, last) = (from / BLOCK, (to - 1) / BLOCK);
        let mut b = first;
        while b <= last {
            let n = (last + 1 - b).min(64);
            let mut bits = self.marks(b, n);
            while bits != 0 {
                let k = b + u64::from(bits.trailing_zeros());
                bits &= bits - 1;
                let (start, stop) = ((k * BLOCK).max(from), ((k + 1) * BLOCK).min(to));
                #[allow(clippy::cast_possible_truncation)] // masked to the ring; within a block
                let (at, len) = (start as usize & mask, (stop - start) as usize);
                visit(start, &self.bytes[at..at + len]);
            }
            b += n;
        }
    }
}
