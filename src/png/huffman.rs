//! Length-limited canonical Huffman codes, for the deflate blocks [`super::run_deflate`] writes:
//! code lengths from symbol counts, and the codes deflate derives from lengths (RFC 1951, 3.2.2).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Code lengths (0 for unused symbols) of an optimal prefix code for `counts`, no longer than
/// `limit` bits, forming a complete code — inflaters such as zlib's refuse incomplete ones. Fewer
/// than two used symbols get two codes of one bit (the first used symbol and another).
#[must_use]
pub fn code_lengths(counts: &[u32], limit: u8) -> Vec<u8> {
    let mut lengths = vec![0u8; counts.len()];
    let used: Vec<usize> = (0..counts.len()).filter(|&s| counts[s] > 0).collect();
    if used.len() < 2 {
        let first = used.first().copied().unwrap_or(0);
        lengths[first] = 1;
        lengths[usize::from(first == 0)] = 1;
        return lengths;
    }
    // Huffman's merging; each node remembers its leaves' depths through `parent`.
    let mut parent: Vec<usize> = vec![usize::MAX; used.len()];
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> =
        used.iter().enumerate().map(|(i, &s)| Reverse((u64::from(counts[s]), i))).collect();
    while heap.len() > 1 {
        let (Some(Reverse((a, i))), Some(Reverse((b, j)))) = (heap.pop(), heap.pop()) else { break };
        let node = parent.len();
        parent.push(usize::MAX);
        parent[i] = node;
        parent[j] = node;
        heap.push(Reverse((a + b, node)));
    }
    let mut depth = vec![0u32; parent.len()];
    for node in (0..parent.len()).rev() {
        if parent[node] != usize::MAX {
            depth[node] = depth[parent[node]] + 1;
        }
    }
    let limit_u32 = u32::from(limit);
    for (i, &s) in used.iter().enumerate() {
        // At most `limit`, at least 1: both fit in a byte.
        lengths[s] = u8::try_from(depth[i].min(limit_u32)).unwrap_or(limit);
    }
    complete(&mut lengths, &used, limit);
    lengths
}

/// Adjusts clamped lengths until the Kraft sum is exactly one: lengthen the longest codes below
/// the limit while it is over, shorten the longest ones while it is under.
fn complete(lengths: &mut [u8], used: &[usize], limit: u8) {
    let cap = 1u64 << limit;
    let weight = |len: u8| 1u64 << (limit - len);
    let mut total: u64 = used.iter().map(|&s| weight(lengths[s])).sum();
    while total > cap {
        // The longest code under the limit: lengthening it gives up the least.
        let Some(&s) = used.iter().filter(|&&s| lengths[s] < limit).max_by_key(|&&s| lengths[s]) else {
            break;
        };
        total -= weight(lengths[s]) / 2;
        lengths[s] += 1;
    }
    while total < cap {
        // Shortening a code of length L adds 2^(limit-L); take the longest that still fits.
        let Some(&s) = used
            .iter()
            .filter(|&&s| lengths[s] > 1 && total + weight(lengths[s]) <= cap)
            .max_by_key(|&&s| lengths[s])
        else {
            break;
        };
        total += weight(lengths[s]);
        lengths[s] -= 1;
    }
}

/// The canonical code of each symbol from its length, bit-reversed for deflate's stream order.
#[must_use]
pub fn codes(lengths: &[u8]) -> Vec<u32> {
    let max = usize::from(lengths.iter().copied().max().unwrap_or(0));
    let mut per_length = vec![0u32; max + 1];
    for &len in lengths {
        if len > 0 {
            per_length[usize::from(len)] += 1;
        }
    }
    let mut next = vec![0u32; max + 2];
    let mut code = 0u32;
    for len in 1..=max {
        code = (code + per_length[len - 1]) << 1;
        next[len] = code;
    }
    lengths
        .iter()
        .map(|&len| {
            if len == 0 {
                return 0;
            }
            let c = next[usize::from(len)];
            next[usize::from(len)] += 1;
            c.reverse_bits() >> (32 - u32::from(len))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kraft(lengths: &[u8], limit: u8) -> u64 {
        lengths.iter().filter(|&&l| l > 0).map(|&l| 1u64 << (limit - l)).sum()
    }

    #[test]
    fn codes_are_complete_and_limited() {
        // Fibonacci counts force a deep tree; a limit of 7 must cut it.
        let mut fib = vec![1u32, 1];
        while fib.len() < 30 {
            let n = fib.len();
            fib.push(fib[n - 1] + fib[n - 2]);
        }
        for limit in [7u8, 15] {
            let lengths = code_lengths(&fib, limit);
            assert!(lengths.iter().all(|&l| (1..=limit).contains(&l)));
            assert_eq!(kraft(&lengths, limit), 1 << limit);
        }
        let lengths = code_lengths(&[0, 5, 0, 0], 15);
        assert_eq!(lengths, [1, 1, 0, 0]);
        assert_eq!(kraft(&code_lengths(&[3, 3, 3, 0, 1], 15), 15), 1 << 15);
    }

    #[test]
    fn canonical_codes_follow_rfc1951() {
        // The example of RFC 1951, 3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) give codes 010, 011,
        // 100, 101, 110, 00, 1110, 1111 (here bit-reversed).
        let codes = codes(&[3, 3, 3, 3, 3, 2, 4, 4]);
        let expected = [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111];
        let lengths = [3, 3, 3, 3, 3, 2, 4, 4];
        for ((&c, &e), &l) in codes.iter().zip(&expected).zip(&lengths) {
            assert_eq!(c, u32::reverse_bits(e) >> (32 - l));
        }
    }
}
