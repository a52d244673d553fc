//! Finding the needles of base64 runs (base64 and hex forms of keywords) inside runs of base64
//! characters in one pass: each position's first three characters, read as three base64 values
//! (18 bits), are looked up in a bit table of the needles' starts, and only the few positions
//! that pass are compared with the needles starting so. Hundreds of needles cost one table
//! scan of each run, where packed searchers took one pass per 32 needles.
//!
//! Only every other position is looked up: the table holds each needle's characters from its
//! first and from its second on (a needle of three characters followed by any character), so
//! that a needle starting at `p` is seen at whichever of `p` and `p + 1` is looked at, and the
//! needles seen at a position start there or one before.

/// The needles' first three characters as base64 values: 2^18 keys, one bit each.
const KEYS: usize = 1 << 18;

/// Every needle of at least three bytes, leftmost first as one automaton over them gives.
#[derive(Debug)]
pub struct RunSearcher {
    /// Each byte's base64 value (`+`, `-` and `/`, `_` share theirs); any other byte reads 0,
    /// which only lets more positions through to the comparison.
    value: Box<[u8; 256]>,
    /// Whether some needle holds a key at its offset 0 or 1 (bit `key`).
    starts: Box<[u64; KEYS / 64]>,
    /// (key, 1 - its offset in the needle, needle index), sorted: the needles holding each key,
    /// those starting earlier first, then in priority order.
    by_key: Vec<(u32, usize, usize)>,
    needles: Vec<Vec<u8>>,
}

impl RunSearcher {
    /// The searcher for `needles` (earlier ones win a tie), if each is three bytes or more.
    pub fn new<'a>(needles: impl IntoIterator<Item = &'a Vec<u8>>) -> Option<RunSearcher> {
        let needles: Vec<Vec<u8>> = needles.into_iter().cloned().collect();
        if needles.is_empty() || needles.iter().any(|n| n.len() < 3) {
            return None;
        }
        let mut value = Box::new([0u8; 256]);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (v, &c) in (0u8..).zip(alphabet.iter()) {
            value[usize::from(c)] = v;
        }
        value[usize::from(b'-')] = 62;
        value[usize::from(b'_')] = 63;
        let mut searcher = RunSearcher {
            value,
            starts: vec![0; KEYS / 64]
                .into_boxed_slice()
                .try_into()
                .expect("a slice of KEYS / 64 words"),
            by_key: Vec::new(),
            needles: Vec::new(),
        };
        for (i, n) in needles.iter().enumerate() {
            searcher.add(searcher.key(n[0], n[1], n[2]), 1, i);
            // From its second character, a needle of three is followed by any character.
            let third = n.get(3).map(|&c| u32::from(searcher.value[usize::from(c)]));
            let key = searcher.key(n[1], n[2], 0);
            for last in third.map_or(0..64, |v| v..v + 1) {
                searcher.add(key | last, 0, i);
            }
        }
        searcher.by_key.sort_unstable();
        searcher.needles = needles;
        Some(searcher)
    }

    fn add(&mut self, key: u32, order: usize, needle: usize) {
        self.starts[key as usize / 64] |= 1 << (key % 64);
        self.by_key.push((key, order, needle));
    }

    /// Three characters' base64 values, the first the highest bits; the fourth is 0.
    fn key(&self, a: u8, b: u8, c: u8) -> u32 {
        let v = |x: u8| u32::from(self.value[usize::from(x)]);
        v(a) << 12 | v(b) << 6 | v(c)
    }

    /// The leftmost needle wholly inside `span`, the earliest one of those starting there:
    /// (its index, start, end). Positions `span.start`, `+ 2`, … are looked up, the key there
    /// being its three characters (two and any at the span's end).
    pub fn find_in(
        &self,
        hay: &[u8],
        span: std::ops::Range<usize>,
    ) -> Option<(usize, usize, usize)> {
        if span.len() < 3 {
            return None;
        }
        let bytes = &hay[..span.end];
        let v = |c: u8| u32::from(self.value[usize::from(c)]);
        let mut key = v(bytes[span.start]);
        let mut at = span.start;
        // The next two characters at each step, without a bounds check on either.
        for pair in bytes[span.start + 1..].chunks_exact(2) {
            key = (key << 12 | v(pair[0]) << 6 | v(pair[1])) & (KEYS as u32 - 1);
            if self.has_key(key)
                && let Some(hit) = self.hit_at(bytes, at, key, span.start)
            {
                return Some(hit);
            }
            at += 2;
        }
        if at + 2 == bytes.len() {
            // A needle of three ending the span, at its last position but one.
            // Looked up in the table first, as in the loop: most runs end with no needle, and
            // the search of the sorted keys at the end of each was 1.5 % of a tree scan.
            key = (key << 12 | v(bytes[at + 1]) << 6) & (KEYS as u32 - 1);
            return self
                .has_key(key)
                .then(|| self.hit_at(bytes, at, key, span.start))
                .flatten();
        }
        None
    }

    /// The first needle (leftmost, then by priority) seen at `at` with `key` there, starting at
    /// or after `from`: (its index, start, end). Out of line: few positions get this far.
    /// Whether some needle has `key` (see `starts`).
    #[inline]
    fn has_key(&self, key: u32) -> bool {
        self.starts[key as usize / 64] & (1 << (key % 64)) != 0
    }

    #[inline(never)]
    fn hit_at(
        &self,
        bytes: &[u8],
        at: usize,
        key: u32,
        from: usize,
    ) -> Option<(usize, usize, usize)> {
        let first = self.by_key.partition_point(|&(k, _, _)| k < key);
        self.by_key[first..]
            .iter()
            .take_while(|&&(k, _, _)| k == key)
            .map(|&(_, order, n)| (n, (at + order).checked_sub(1)))
            .find_map(|(n, start)| {
                let start = start.filter(|&s| s >= from)?;
                let needle = &self.needles[n];
                bytes[start..]
                    .starts_with(needle)
                    .then_some((n, start, start + needle.len()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasick, MatchKind};

    fn all_hits(s: &RunSearcher, hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(hit) = s.find_in(hay, at..hay.len()) {
            out.push(hit);
            at = hit.2;
        }
        out
    }

    #[test]
    fn short_needles_and_spans_find_nothing() {
        assert!(RunSearcher::new(&[b"ab".to_vec()]).is_none());
        let s = RunSearcher::new(&[b"abc".to_vec()]).unwrap();
        assert_eq!(s.find_in(b"xabcx", 1..3), None);
        assert_eq!(s.find_in(b"xabcx", 1..4), Some((0, 1, 4)));
        assert_eq!(s.find_in(b"xabcx", 2..5), None);
    }

    proptest::proptest! {
        /// Needles over base64 characters of both alphabets (`+` and `-` share a value) give
        /// the hits one leftmost-first automaton gives.
        #[test]
        fn agrees_with_one_automaton(
            needles in proptest::collection::vec("[ab+/_-]{3,6}", 1..60),
            hay in "[abc+/_-]{0,400}",
        ) {
            let bytes: Vec<Vec<u8>> = needles.iter().map(|n| n.as_bytes().to_vec()).collect();
            let s = RunSearcher::new(&bytes).unwrap();
            let want: Vec<(usize, usize, usize)> = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .build(&bytes)
                .unwrap()
                .find_iter(hay.as_bytes())
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect();
            proptest::prop_assert_eq!(all_hits(&s, hay.as_bytes()), want);
        }

        /// The same from any span start (a hit on either side of a position looked up, needles
        /// of three ending the span).
        #[test]
        fn agrees_with_one_automaton_from_any_start(
            needles in proptest::collection::vec("[ab+/_-]{3,7}", 1..60),
            hay in "[abc+/_-]{0,400}",
            from in 0usize..8,
        ) {
            let bytes: Vec<Vec<u8>> = needles.iter().map(|n| n.as_bytes().to_vec()).collect();
            let s = RunSearcher::new(&bytes).unwrap();
            let hay = hay.as_bytes();
            let from = from.min(hay.len());
            let want: Vec<(usize, usize, usize)> = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .build(&bytes)
                .unwrap()
                .find_iter(&hay[from..])
                .map(|m| (m.pattern().as_usize(), from + m.start(), from + m.end()))
                .collect();
            let mut got = Vec::new();
            let mut at = from;
            while let Some(hit) = s.find_in(hay, at..hay.len()) {
                got.push(hit);
                at = hit.2;
            }
            proptest::prop_assert_eq!(got, want);
        }
    }
}
