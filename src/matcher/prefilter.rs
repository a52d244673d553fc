//! The one pass over the bytes: every keyword and encoded form at once. Packed SIMD searchers
//! (Teddy) when the CPU allows — one, or one per group of at most 64 needles, their hits merged
//! — otherwise an Aho-Corasick automaton.
//!
//! Aho-Corasick alone would pick a rare-byte prefilter for our patterns (the UTF-16 forms hold
//! NUL bytes), which stalls on binary and base64-heavy data; Teddy does not. Teddy takes at
//! most 64 needles; with every provider's keywords and their encoded forms there are several
//! times that, and the automaton they fell back to took 70 % of a tree scan: a few Teddy passes
//! over the same cached bytes cost less than one automaton pass.
//!
//! Needles holding a NUL byte (the UTF-16 forms) cannot match bytes without one, which is most
//! text: there a second prefilter without them does the same search in fewer passes.

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// A hit: which needle, where.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub pattern: usize,
    pub start: usize,
    pub end: usize,
}

/// The search over every needle, and one over the needles without a NUL byte (with their ids
/// among all) for bytes that hold none.
#[derive(Debug)]
pub struct Prefilter {
    all: Searcher,
    text: Option<(Searcher, Vec<usize>)>,
}

#[derive(Debug)]
enum Searcher {
    Packed(packed::Searcher),
    /// Several packed searchers, each with the global ids of its needles.
    Groups(Vec<(packed::Searcher, Vec<usize>)>),
    Automaton(AhoCorasick),
}

/// Teddy's limit on needles per searcher.
const GROUP: usize = 64;

fn packed_searcher<'a>(needles: impl IntoIterator<Item = &'a Vec<u8>>) -> Option<packed::Searcher> {
    packed::Config::new()
        .match_kind(packed::MatchKind::LeftmostFirst)
        .builder()
        .extend(needles)
        .build()
}

/// Groups of at most `GROUP` needles, similar lengths together (Teddy's fingerprint is as long
/// as a group's shortest needle allows), each group's ids in their global order so that a tie
/// within a group goes to the earlier needle as it would in one searcher.
fn groups(needles: &[Vec<u8>]) -> Option<Vec<(packed::Searcher, Vec<usize>)>> {
    let mut order: Vec<usize> = (0..needles.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(needles[i].len()), i));
    order
        .chunks(GROUP)
        .map(|chunk| {
            let mut ids = chunk.to_vec();
            ids.sort_unstable();
            packed_searcher(ids.iter().map(|&i| &needles[i])).map(|s| (s, ids))
        })
        .collect()
}

impl Prefilter {
    pub fn new(needles: &[Vec<u8>]) -> Self {
        let ids: Vec<usize> = (0..needles.len())
            .filter(|&i| !needles[i].contains(&0))
            .collect();
        let text = (ids.len() < needles.len()).then(|| {
            let kept: Vec<Vec<u8>> = ids.iter().map(|&i| needles[i].clone()).collect();
            (Searcher::new(&kept), ids)
        });
        Prefilter {
            all: Searcher::new(needles),
            text,
        }
    }

    /// Every non-overlapping hit in `hay`, leftmost first.
    pub fn hits<'h>(&'h self, hay: &'h [u8]) -> Box<dyn Iterator<Item = Hit> + 'h> {
        match &self.text {
            Some((searcher, ids)) if memchr::memchr(0, hay).is_none() => {
                Box::new(searcher.hits(hay).map(|h| Hit {
                    pattern: ids[h.pattern],
                    ..h
                }))
            }
            _ => self.all.hits(hay),
        }
    }
}

impl Searcher {
    fn new(needles: &[Vec<u8>]) -> Self {
        if needles.len() > GROUP
            && let Some(groups) = groups(needles)
        {
            return Searcher::Groups(groups);
        }
        match packed_searcher(needles) {
            Some(searcher) => Searcher::Packed(searcher),
            None => Searcher::Automaton(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(needles)
                    .expect("keyword automaton fits in memory"),
            ),
        }
    }

    fn hits<'h>(&'h self, hay: &'h [u8]) -> Box<dyn Iterator<Item = Hit> + 'h> {
        let hit = |m: aho_corasick::Match| Hit {
            pattern: m.pattern().as_usize(),
            start: m.start(),
            end: m.end(),
        };
        match self {
            Searcher::Packed(s) => Box::new(s.find_iter(hay).map(hit)),
            Searcher::Groups(groups) => Box::new(Merged::new(groups, hay)),
            Searcher::Automaton(ac) => Box::new(ac.find_iter(hay).map(hit)),
        }
    }
}

/// The groups' hits as one searcher over all needles gives them: the leftmost, a tie to the
/// earlier needle, the search resuming where the hit ends. Each group keeps its next hit from
/// where it last searched, and searches again when that hit starts inside one given since.
struct Merged<'h> {
    groups: &'h [(packed::Searcher, Vec<usize>)],
    hay: &'h [u8],
    next: Vec<Option<Hit>>,
    end: usize,
}

impl<'h> Merged<'h> {
    fn new(groups: &'h [(packed::Searcher, Vec<usize>)], hay: &'h [u8]) -> Self {
        let mut merged = Merged {
            groups,
            hay,
            next: vec![None; groups.len()],
            end: 0,
        };
        for g in 0..groups.len() {
            merged.next[g] = merged.search(g);
        }
        merged
    }

    /// Group `g`'s leftmost hit starting at or after `self.end`.
    fn search(&self, g: usize) -> Option<Hit> {
        let (searcher, ids) = &self.groups[g];
        let span = aho_corasick::Span {
            start: self.end,
            end: self.hay.len(),
        };
        searcher.find_in(self.hay, span).map(|m| Hit {
            pattern: ids[m.pattern().as_usize()],
            start: m.start(),
            end: m.end(),
        })
    }
}

impl Iterator for Merged<'_> {
    type Item = Hit;

    fn next(&mut self) -> Option<Hit> {
        let (g, hit) = self
            .next
            .iter()
            .enumerate()
            .filter_map(|(g, h)| h.map(|h| (g, h)))
            .min_by_key(|(_, h)| (h.start, h.pattern))?;
        // An empty needle matches everywhere: the search moves on by one byte after it.
        self.end = hit.end.max(hit.start + 1);
        for other in 0..self.next.len() {
            if other == g || self.next[other].is_some_and(|h| h.start < self.end) {
                self.next[other] = self.search(other);
            }
        }
        Some(hit)
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

    #[test]
    fn groups_give_the_hits_one_automaton_gives() {
        // 200 needles: words, their overlapping prefixes and longer forms, so that ties and
        // overlaps cross groups.
        let mut needles: Vec<Vec<u8>> = Vec::new();
        for i in 0..50u32 {
            let w = format!("kw{i:02}x");
            needles.push(w.as_bytes().to_vec());
            needles.push(format!("{w}long").into_bytes());
            needles.push(w.as_bytes()[..4].to_vec());
            needles.push(format!("z{w}").into_bytes());
        }
        let grouped = Prefilter::new(&needles);
        assert!(matches!(grouped.all, Searcher::Groups(_)));
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&needles)
            .unwrap();
        let mut hay = Vec::new();
        for i in (0..50u32).rev() {
            hay.extend(format!("..kw{i:02}xlong zkw{i:02}x kw{i:02} kw{i:02}xkw{i:02}x.").bytes());
        }
        let got: Vec<(usize, usize, usize)> = grouped
            .hits(&hay)
            .map(|h| (h.pattern, h.start, h.end))
            .collect();
        let want: Vec<(usize, usize, usize)> = automaton
            .find_iter(&hay)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        assert_eq!(got, want);
    }

    proptest::proptest! {
        #[test]
        fn groups_agree_with_one_automaton_on_any_bytes(
            needles in proptest::collection::vec("[ab]{1,5}", 65..140),
            hay in "[abc]{0,400}",
        ) {
            let needles: Vec<Vec<u8>> = needles.into_iter().map(String::into_bytes).collect();
            let automaton = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(&needles)
                .unwrap();
            let got: Vec<(usize, usize, usize)> = Prefilter::new(&needles)
                .hits(hay.as_bytes())
                .map(|h| (h.pattern, h.start, h.end))
                .collect();
            let want: Vec<(usize, usize, usize)> = automaton
                .find_iter(hay.as_bytes())
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect();
            proptest::prop_assert_eq!(got, want);
        }

        /// With needles holding NUL bytes, text without one goes to the smaller search: the
        /// hits stay those of one automaton over every needle.
        #[test]
        fn the_search_without_nul_needles_agrees_on_text_and_binary(
            needles in proptest::collection::vec("[ab\u{0}]{1,5}", 1..140),
            hay in proptest::prop_oneof!["[abc]{0,400}", "[abc\u{0}]{0,400}"],
        ) {
            let needles: Vec<Vec<u8>> = needles.into_iter().map(String::into_bytes).collect();
            let automaton = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(&needles)
                .unwrap();
            let got: Vec<(usize, usize, usize)> = Prefilter::new(&needles)
                .hits(hay.as_bytes())
                .map(|h| (h.pattern, h.start, h.end))
                .collect();
            let want: Vec<(usize, usize, usize)> = automaton
                .find_iter(hay.as_bytes())
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
