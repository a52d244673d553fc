//! Where the UTF-16 forms of keywords can be (`s\0k\0-`): stretches of bytes that alternate a
//! byte other than NUL and a NUL, two pairs or more. Binary data holds a NUL every few hundred
//! bytes but such a stretch seldom, so the UTF-16 needles (five Teddy passes with every rule)
//! are searched in these stretches only, not over each chunk that holds a NUL.

use std::ops::Range;

/// Whether `needle` has the shape of a UTF-16 form, which only [`wide_runs`] hold: non-NUL bytes
/// at even offsets, NULs at odd ones, three characters or more (`x\0y\0z`), the last one's NUL
/// left out (see `decode::utf16_form`).
pub fn is_wide(needle: &[u8]) -> bool {
    needle.len() >= 5
        && needle.len() % 2 == 1
        && needle
            .iter()
            .enumerate()
            .all(|(i, &b)| (b == 0) == (i % 2 == 1))
}

/// The stretches of `hay` of two or more pairs of a non-NUL byte then a NUL, with the non-NUL
/// byte that may follow the last pair: every occurrence of a needle [`is_wide`] lies wholly in
/// one. Sorted and disjoint. Each NUL is found by `memchr`, and a stretch is walked pair by pair.
pub fn wide_runs(hay: &[u8]) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let pair = |i: usize| i + 1 < hay.len() && hay[i] != 0 && hay[i + 1] == 0;
    // A pair's NUL is never the first byte.
    let mut at = 1;
    while let Some(z) = hay.get(at..).and_then(|rest| memchr::memchr(0, rest)) {
        let start = at + z - 1;
        at += z + 1;
        if !pair(start) {
            continue;
        }
        let mut end = start;
        while pair(end) {
            end += 2;
        }
        if end - start < 4 {
            continue;
        }
        // No other stretch starts inside this one: its odd offsets are NULs.
        at = at.max(end);
        if end < hay.len() && hay[end] != 0 {
            end += 1;
        }
        runs.push(start..end);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_alternating_needles_are_wide() {
        assert!(is_wide(b"s\0k\0-"));
        assert!(!is_wide(b"s\0k\0"));
        assert!(!is_wide(b"s\0k"));
        assert!(!is_wide(b"\0s\0k\0-"));
        assert!(!is_wide(b"s\0\0\0k\0"));
        assert!(!is_wide(b"sk-ant"));
    }

    #[test]
    fn stretches_of_two_pairs_or_more_are_found_in_either_byte_order() {
        // `b\0c\0d\0e` and `z\0w\0`; `x\0y` and `-\0\0` are one pair each.
        let hay = b"ab\0c\0d\0e--x\0y--\0\0z\0w\0";
        assert_eq!(wide_runs(hay), vec![1..8, 17..21]);
        assert_eq!(wide_runs(b"\0s\0k\0-"), vec![1..6]);
        assert!(wide_runs(b"s\0k").is_empty());
        assert!(wide_runs(b"").is_empty());
    }

    proptest::proptest! {
        /// Every occurrence of a wide needle lies in one stretch.
        #[test]
        fn every_wide_needle_lies_in_a_stretch(
            hay in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(0u8), proptest::strategy::Just(b'a'),
                proptest::strategy::Just(b'b')], 0..300),
            len in 5usize..9,
        ) {
            let runs = wide_runs(&hay);
            for s in 0..hay.len().saturating_sub(len - 1) {
                if is_wide(&hay[s..s + len]) {
                    proptest::prop_assert!(
                        runs.iter().any(|r| r.start <= s && s + len <= r.end),
                        "{:?} at {}", &hay[s..s + len], s);
                }
            }
            for w in runs.windows(2) {
                proptest::prop_assert!(w[0].end <= w[1].start);
            }
        }
    }
}
