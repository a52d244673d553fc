//! Finding the needles of base64 runs (base64 and hex forms of keywords) inside runs of base64
//! characters in one pass: each position's first three characters, read as three base64 values
//! (18 bits), are looked up in a bit table of the needles' starts, and only the few positions
//! that pass are compared with the needles starting so. Hundreds of needles cost one table
//! scan of each run, where packed searchers took one pass per 32 needles.

/// The needles' first three characters as base64 values: 2^18 keys, one bit each.
const KEYS: usize = 1 << 18;

/// Every needle of at least three bytes, leftmost first as one automaton over them gives.
#[derive(Debug)]
pub struct RunSearcher {
    /// Each byte's base64 value (`+`, `-` and `/`, `_` share theirs); any other byte reads 0,
    /// which only lets more positions through to the comparison.
    value: Box<[u8; 256]>,
    /// Whether some needle starts with a key (bit `key`).
    starts: Vec<u64>,
    /// (key, needle index), sorted: the needles starting with each key, in priority order.
    by_key: Vec<(u32, usize)>,
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
            starts: vec![0; KEYS / 64],
            by_key: Vec::new(),
            needles: Vec::new(),
        };
        for (i, n) in needles.iter().enumerate() {
            let key = searcher.key(n[0], n[1], n[2]);
            searcher.starts[key as usize / 64] |= 1 << (key % 64);
            searcher.by_key.push((key, i));
        }
        searcher.by_key.sort_unstable();
        searcher.needles = needles;
        Some(searcher)
    }

    fn key(&self, a: u8, b: u8, c: u8) -> u32 {
        let v = |x: u8| u32::from(self.value[usize::from(x)]);
        v(a) << 12 | v(b) << 6 | v(c)
    }

    /// The leftmost needle wholly inside `span`, the earliest one of those starting there:
    /// (its index, start, end).
    pub fn find_in(
        &self,
        hay: &[u8],
        span: std::ops::Range<usize>,
    ) -> Option<(usize, usize, usize)> {
        let bytes = &hay[..span.end];
        if span.len() < 3 {
            return None;
        }
        let mut key = self.key(0, bytes[span.start], bytes[span.start + 1]);
        for at in span.start..span.end - 2 {
            key =
                (key << 6 | u32::from(self.value[usize::from(bytes[at + 2])])) & (KEYS as u32 - 1);
            if self.starts[key as usize / 64] & (1 << (key % 64)) == 0 {
                continue;
            }
            if let Some(n) = self.matching(bytes, at, key) {
                return Some((n, at, at + self.needles[n].len()));
            }
        }
        None
    }

    /// The first needle (by priority) starting with `key` that `bytes` spells at `at`.
    fn matching(&self, bytes: &[u8], at: usize, key: u32) -> Option<usize> {
        let from = self.by_key.partition_point(|&(k, _)| k < key);
        self.by_key[from..]
            .iter()
            .take_while(|&&(k, _)| k == key)
            .map(|&(_, n)| n)
            .find(|&n| bytes[at..].starts_with(&self.needles[n]))
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
    }
}
