//! Where the quotes are (`"`, `'`, backtick): one pass that compares 64 bytes at a time and
//! hands each quote's offset over from a bit mask. Source code and JSON hold a quote every few
//! dozen bytes, where a `memchr3` iterator, restarted after each one, spent most of its time
//! starting again.

/// Calls `f` with the offset of every quote byte of `hay`, in order.
#[inline]
pub fn each(hay: &[u8], mut f: impl FnMut(usize)) {
    let mut at = 0;
    while at + 64 <= hay.len() {
        let mut mask = block_mask(&hay[at..at + 64]);
        while mask != 0 {
            f(at + mask.trailing_zeros() as usize);
            mask &= mask - 1;
        }
        at += 64;
    }
    for (i, &b) in hay[at..].iter().enumerate() {
        if super::concat::is_quote(b) {
            f(at + i);
        }
    }
}

/// One bit per quote byte of the 64 bytes of `block`, the first byte's the lowest.
#[cfg(target_arch = "x86_64")]
fn block_mask(block: &[u8]) -> u64 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    assert!(block.len() >= 64);
    // SAFETY: SSE2 is part of every x86_64 CPU (the target's baseline); the four loads read the
    // 64 bytes the assertion above guarantees, unaligned loads being allowed.
    unsafe {
        let set = |c: u8| _mm_set1_epi8(c.cast_signed());
        let (double, single, back) = (set(b'"'), set(b'\''), set(b'`'));
        let quarter = |i: usize| {
            let b = _mm_loadu_si128(block.as_ptr().add(16 * i).cast());
            let q = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(b, double), _mm_cmpeq_epi8(b, single)),
                _mm_cmpeq_epi8(b, back),
            );
            u64::from(_mm_movemask_epi8(q).cast_unsigned() & 0xFFFF)
        };
        quarter(0) | quarter(1) << 16 | quarter(2) << 32 | quarter(3) << 48
    }
}

/// One bit per quote byte of the 64 bytes of `block`, the first byte's the lowest.
#[cfg(not(target_arch = "x86_64"))]
fn block_mask(block: &[u8]) -> u64 {
    block[..64]
        .iter()
        .enumerate()
        .filter(|(_, b)| super::concat::is_quote(**b))
        .fold(0, |m, (i, _)| m | 1 << i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_quote_is_found_once_in_order() {
        // Quotes at every position of a block and across block edges, and none at all.
        let mut hay: Vec<u8> = (0..300u32)
            .map(|i| b"ab\"c'd`e\n\x80\xff"[i as usize % 11])
            .collect();
        hay.extend_from_slice(&[b'"'; 70]);
        hay.extend_from_slice(&[b'x'; 130]);
        for len in [0, 1, 63, 64, 65, 127, 128, 129, hay.len()] {
            let want: Vec<usize> = memchr::memchr3_iter(b'"', b'\'', b'`', &hay[..len]).collect();
            let mut got = Vec::new();
            each(&hay[..len], |q| got.push(q));
            assert_eq!(got, want, "{len}");
        }
    }
}
