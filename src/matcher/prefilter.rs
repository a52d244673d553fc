//! The one pass over the bytes: every keyword and encoded form at once. A packed SIMD searcher
//! (Teddy) when the CPU and the pattern count allow; otherwise an Aho-Corasick automaton.
//!
//! Aho-Corasick alone would pick a rare-byte prefilter for our patterns (the UTF-16 forms hold
//! NUL bytes), which stalls on binary and base64-heavy data; Teddy does not.

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// A hit: which needle, where.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub pattern: usize,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug)]
pub enum Prefilter {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Prefilter {
    pub fn new(needles: &[Vec<u8>]) -> Self {
        let packed = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(needles)
            .build();
        match packed {
            Some(searcher) => Prefilter::Packed(searcher),
            None => Prefilter::Automaton(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(needles)
                    .expect("keyword automaton fits in memory"),
            ),
        }
    }

    /// Every non-overlapping hit in `hay`, leftmost first.
    pub fn hits<'h>(&'h self, hay: &'h [u8]) -> Box<dyn Iterator<Item = Hit> + 'h> {
        let hit = |m: aho_corasick::Match| Hit {
            pattern: m.pattern().as_usize(),
            start: m.start(),
            end: m.end(),
        };
        match self {
            Prefilter::Packed(s) => Box::new(s.find_iter(hay).map(hit)),
            Prefilter::Automaton(ac) => Box::new(ac.find_iter(hay).map(hit)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_leftmost_first_hits() {
        let p = Prefilter::new(&[
            b"T3BlbkFJ".to_vec(),
            b"T\x003\x00B".to_vec(),
            b"VDNCbGJrRk".to_vec(),
        ]);
        let hay = b"..T3BlbkFJ..VDNCbGJrRk..T\x003\x00B";
        let got: Vec<(usize, usize)> = p.hits(hay).map(|h| (h.pattern, h.start)).collect();
        assert_eq!(got, vec![(0, 2), (2, 12), (1, 24)]);
    }
}
