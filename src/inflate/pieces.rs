//! The inflated stream kept as pieces: spans of zero bytes, and runs of literal bytes stored in
//! one buffer. Copying a back-reference walks the pieces it covers, so a copy of a zero span costs
//! one step however long it is.

use std::cell::Cell;

/// Deflate's back-references reach at most this far back.
pub const WINDOW: u64 = 32 * 1024;

/// Literal bytes at `lit` in the literal store, or zeros when `lit` is [`ZEROS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Position of the first byte in the stream.
    pub start: u64,
    pub len: u64,
    lit: u64,
}

const ZEROS: u64 = u64::MAX;

impl Piece {
    #[must_use]
    pub fn end(&self) -> u64 {
        self.start + self.len
    }

    #[must_use]
    pub fn is_zeros(&self) -> bool {
        self.lit == ZEROS
    }
}

/// The stream so far, from the oldest piece still needed.
#[derive(Debug, Default)]
pub struct Pieces {
    /// The pieces, from `head` on; those before it are forgotten, dropped in batches.
    queue: Vec<Piece>,
    head: usize,
    /// Where the last search ended: searches mostly land near the last one.
    hint: Cell<usize>,
    /// Literal bytes; byte `i` of the store is `lits[i - lit_base]`.
    lits: Vec<u8>,
    lit_base: u64,
    /// Bytes written so far.
    end: u64,
    /// A copy's repeating pattern, gathered.
    pattern: Vec<u8>,
}

impl Pieces {
    pub fn clear(&mut self) {
        self.queue.clear();
        self.head = 0;
        self.hint.set(0);
        self.lits.clear();
        self.lit_base = 0;
        self.end = 0;
    }

    /// Bytes written so far.
    #[must_use]
    pub fn written(&self) -> u64 {
        self.end
    }

    pub fn push_zeros(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        match self.queue.last_mut() {
            Some(last) if last.is_zeros() => last.len += n,
            _ => self.queue.push(Piece { start: self.end, len: n, lit: ZEROS }),
        }
        self.end += n;
    }

    /// Appends a literal byte (a zero one joins the zero spans).
    #[inline]
    pub fn push_byte(&mut self, byte: u8) {
        if byte == 0 {
            self.push_zeros(1);
            return;
        }
        let at = self.lit_base + self.lits.len() as u64;
        self.lits.push(byte);
        self.extend_literal(at, 1);
    }

    /// Records `n` literal bytes just stored at `at`.
    fn extend_literal(&mut self, at: u64, n: u64) {
        match self.queue.last_mut() {
            Some(last) if !last.is_zeros() && last.lit + last.len == at => last.len += n,
            _ => self.queue.push(Piece { start: self.end, len: n, lit: at }),
        }
        self.end += n;
    }

    /// The index of the piece holding stream byte `pos` (which must be held).
    fn find(&self, pos: u64) -> usize {
        let q = &self.queue;
        // Short copies read the last pieces.
        let last = q.len() - 1;
        if pos >= q[last].start {
            return last;
        }
        if last > self.head && pos >= q[last - 1].start {
            return last - 1;
        }
        // Rows and copies of the row above advance through the stream together: a few steps
        // from where the last of those searches ended, mostly.
        let mut k = self.hint.get().clamp(self.head, last);
        for _ in 0..8 {
            let piece = q[k];
            if pos < piece.start {
                k -= 1;
            } else if pos >= piece.end() {
                k += 1;
            } else {
                self.hint.set(k);
                return k;
            }
        }
        // Farther: binary search.
        let k = self.head + q[self.head..].partition_point(|p| p.end() <= pos);
        self.hint.set(k);
        k
    }

    /// Copies `len` bytes from `distance` bytes back (deflate's back-reference).
    pub fn copy(&mut self, distance: u64, len: u64) -> Result<(), &'static str> {
        let oldest = self.queue.get(self.head).map_or(self.end, |p| p.start);
        if distance == 0 || distance > self.end - oldest {
            return Err("back-reference before the start of the image data");
        }
        let from = self.end - distance;
        // Most copies repeat zeros from the zero span the stream ends in.
        if self.queue.last().is_some_and(|last| last.is_zeros() && last.start <= from) {
            self.push_zeros(len);
            return Ok(());
        }
        if distance >= len {
            self.copy_from(from, len);
            return Ok(());
        }
        // The copy overlaps itself: it repeats the last `distance` bytes.
        if self.all_zeros(from, distance) {
            self.push_zeros(len);
            return Ok(());
        }
        self.gather(from, distance);
        let at = self.lit_base + self.lits.len() as u64;
        let pattern = std::mem::take(&mut self.pattern);
        #[allow(clippy::cast_possible_truncation)] // len <= 258
        let n = len as usize;
        self.lits.extend(pattern.iter().cycle().take(n));
        self.pattern = pattern;
        self.extend_literal(at, len);
        Ok(())
    }

    /// Appends stream bytes `from..from + len`, all already written.
    fn copy_from(&mut self, from: u64, len: u64) {
        let mut k = self.find(from);
        let mut pos = from;
        let stop = from + len;
        while pos < stop {
            let piece = self.queue[k];
            let n = piece.end().min(stop) - pos;
            if piece.is_zeros() {
                self.push_zeros(n);
            } else {
                let src = piece.lit + (pos - piece.start) - self.lit_base;
                #[allow(clippy::cast_possible_truncation)] // within the store
                let range = src as usize..(src + n) as usize;
                let at = self.lit_base + self.lits.len() as u64;
                self.lits.extend_from_within(range);
                self.extend_literal(at, n);
            }
            pos += n;
            k += 1;
        }
    }

    fn all_zeros(&self, from: u64, len: u64) -> bool {
        let k = self.find(from);
        self.queue[k..].iter().take_while(|p| p.start < from + len).all(Piece::is_zeros)
    }

    /// Stream bytes `from..from + len` into `self.pattern`.
    fn gather(&mut self, from: u64, len: u64) {
        self.pattern.clear();
        let k = self.find(from);
        let stop = from + len;
        let mut pos = from;
        for piece in &self.queue[k..] {
            if pos >= stop {
                break;
            }
            let n = piece.end().min(stop) - pos;
            #[allow(clippy::cast_possible_truncation)] // n <= 32 KiB
            if piece.is_zeros() {
                self.pattern.resize(self.pattern.len() + n as usize, 0);
            } else {
                let src = (piece.lit + (pos - piece.start) - self.lit_base) as usize;
                self.pattern.extend_from_slice(&self.lits[src..src + n as usize]);
            }
            pos += n;
        }
    }

    /// Appends stored bytes.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push_byte(b);
        }
    }

    /// The pieces of stream bytes `from..to` (all written), each as its start, length and its
    /// literal bytes (None for zeros), clipped to the range.
    pub fn range(&self, from: u64, to: u64) -> impl Iterator<Item = (u64, u64, Option<&[u8]>)> + '_ {
        let k = if from < self.end { self.find(from) } else { self.queue.len() };
        self.queue[k..].iter().take_while(move |p| p.start < to).map(move |p| {
            let (start, end) = (p.start.max(from), p.end().min(to));
            let bytes = (!p.is_zeros()).then(|| {
                #[allow(clippy::cast_possible_truncation)] // within the store
                let src = (p.lit + (start - p.start) - self.lit_base) as usize;
                #[allow(clippy::cast_possible_truncation)]
                let n = (end - start) as usize;
                &self.lits[src..src + n]
            });
            (start, end - start, bytes)
        })
    }

    /// Forgets what lies before `pos` and out of the window, keeping the allocations.
    pub fn release_before(&mut self, pos: u64) {
        let keep = pos.min(self.end.saturating_sub(WINDOW));
        while self.queue.len() - self.head > 1 && self.queue[self.head].end() <= keep {
            self.head += 1;
        }
        if self.head > 1024 && self.head * 2 > self.queue.len() {
            self.queue.drain(..self.head);
            self.hint.set(self.hint.get().saturating_sub(self.head));
            self.head = 0;
        }
        // The literal store is shifted down once its dead front outweighs what lives on.
        if self.lits.len() < 128 * 1024 {
            return;
        }
        let first_lit = self.queue[self.head..]
            .iter()
            .find(|p| !p.is_zeros())
            .map_or(self.lit_base + self.lits.len() as u64, |p| p.lit);
        #[allow(clippy::cast_possible_truncation)] // within the store
        let dead = (first_lit - self.lit_base) as usize;
        if dead * 2 > self.lits.len() {
            self.lits.drain(..dead);
            self.lit_base += dead as u64;
        }
    }
}
