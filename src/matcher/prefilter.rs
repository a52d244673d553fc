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
//! Needles that can only occur in some bytes are grouped apart and searched only there (a
//! [`Gate`]): those holding a NUL byte (UTF-16 forms) only in bytes that hold a NUL, and forms
//! nested in base64 only in bytes with a long base64 run. Most text has neither, and pays for
//! them a `memchr` and a sampled look, not a Teddy pass each.

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
    /// Several packed searchers, each with the global ids of its needles and whether they hold
    /// a NUL byte.
    Groups(Vec<Group>),
    Automaton(AhoCorasick),
}

/// Teddy's limit on needles per searcher.
const GROUP: usize = 64;

/// Where a needle can occur, so where its group is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Gate {
    /// Anywhere.
    Always,
    /// Only inside a run of at least [`LONG_RUN`] standard base64 characters (a form nested in
    /// base64, whose key fills such a run).
    Base64Run,
    /// Only in bytes holding a NUL (set for every needle that holds one).
    Nul,
}

/// The shortest base64 run a [`Gate::Base64Run`] needle is looked for in: a key of 18 bytes or
/// more encoded twice (or as UTF-16, then base64) is longer.
pub const LONG_RUN: usize = 32;

/// The runs of at least [`LONG_RUN`] standard base64 characters in `hay`, found 16 bytes at a
/// time: a run that long fills blocks or ends one block and starts the next, so only the ends
/// of each block's mask matter.
fn base64_runs(hay: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    // The run of base64 characters ending where the next block starts.
    let mut run = 0;
    let blocks = hay.chunks_exact(16);
    let mut tail = [0u8; 16];
    tail[..blocks.remainder().len()].copy_from_slice(blocks.remainder());
    let last = std::iter::once(base64_mask(&tail));
    let masks = blocks.map(|b| base64_mask(b.try_into().unwrap_or(&[0; 16])));
    for (k, mask) in masks.chain(last).enumerate() {
        if mask == u16::MAX {
            run += 16;
            continue;
        }
        let first = mask.trailing_ones() as usize;
        let (end, len) = (k * 16 + first, run + first);
        if len >= LONG_RUN {
            runs.push(end - len..end);
        }
        run = mask.leading_ones() as usize;
    }
    runs
}

/// Bit `i` set where `block[i]` is a standard base64 character (without `=`).
#[cfg(target_arch = "x86_64")]
fn base64_mask(block: &[u8; 16]) -> u16 {
    use std::arch::x86_64::{
        _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set_epi64x, _mm_set1_epi8,
    };
    let half = |i: usize| {
        let mut h = [0u8; 8];
        h.copy_from_slice(&block[i..i + 8]);
        i64::from_le_bytes(h)
    };
    // SAFETY: SSE2 is part of every x86_64 CPU (the target's baseline); these intrinsics only
    // compute on values, none reads memory.
    unsafe {
        let b = _mm_set_epi64x(half(8), half(0));
        // Signed comparisons: bytes from 0x80 are negative, below every range.
        let within = |v, lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8((lo - 1).cast_signed())),
                _mm_cmpgt_epi8(_mm_set1_epi8((hi + 1).cast_signed()), v),
            )
        };
        let slash_digits = within(b, b'/', b'9');
        let letters = within(_mm_or_si128(b, _mm_set1_epi8(0x20)), b'a', b'z');
        let plus = _mm_cmpeq_epi8(b, _mm_set1_epi8(b'+'.cast_signed()));
        let all = _mm_or_si128(_mm_or_si128(slash_digits, letters), plus);
        (_mm_movemask_epi8(all) & 0xFFFF) as u16
    }
}

/// Bit `i` set where `block[i]` is a standard base64 character (without `=`).
#[cfg(not(target_arch = "x86_64"))]
fn base64_mask(block: &[u8; 16]) -> u16 {
    let mut mask = 0u16;
    for (i, &b) in block.iter().enumerate() {
        let is = b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
        mask |= u16::from(is) << i;
    }
    mask
}

/// One packed searcher of a [`Prefilter::Groups`].
#[derive(Debug)]
pub struct Group {
    searcher: packed::Searcher,
    /// The global ids of its needles, in order.
    ids: Vec<usize>,
    /// Where its needles can occur.
    gate: Gate,
}

fn packed_searcher<'a>(needles: impl IntoIterator<Item = &'a Vec<u8>>) -> Option<packed::Searcher> {
    packed::Config::new()
        .match_kind(packed::MatchKind::LeftmostFirst)
        .builder()
        .extend(needles)
        .build()
}

/// Groups of at most `GROUP` needles, one gate's apart from another's, similar lengths together
/// (Teddy's fingerprint is as long as a group's shortest needle allows), each group's ids in
/// their global order so that a tie within a group goes to the earlier needle as it would in
/// one searcher.
fn groups(needles: &[Vec<u8>], gates: &[Gate]) -> Option<Vec<Group>> {
    let gate = |i: usize| gates[i];
    let mut order: Vec<usize> = (0..needles.len()).collect();
    order.sort_by_key(|&i| (gate(i), std::cmp::Reverse(needles[i].len()), i));
    let mut out = Vec::new();
    for part in order.chunk_by(|&a, &b| gate(a) == gate(b)) {
        for chunk in part.chunks(GROUP) {
            let mut ids = chunk.to_vec();
            ids.sort_unstable();
            out.push(Group {
                searcher: packed_searcher(ids.iter().map(|&i| &needles[i]))?,
                gate: gate(ids[0]),
                ids,
            });
        }
    }
    Some(out)
}

impl Prefilter {
    /// A prefilter over `needles`, searched anywhere but for those holding a NUL.
    #[cfg(test)]
    pub fn new(needles: &[Vec<u8>]) -> Self {
        Self::gated(needles, &vec![Gate::Always; needles.len()])
    }

    /// A prefilter over `needles`, each searched where its gate says (a needle holding a NUL
    /// byte only where the bytes hold one).
    pub fn gated(needles: &[Vec<u8>], gates: &[Gate]) -> Self {
        let gates: Vec<Gate> = needles
            .iter()
            .zip(gates)
            .map(|(n, &g)| if n.contains(&0) { Gate::Nul } else { g })
            .collect();
        if (needles.len() > GROUP || gates.iter().any(|&g| g != Gate::Always))
            && let Some(groups) = groups(needles, &gates)
        {
            return Prefilter::Groups(groups);
        }
        match packed_searcher(needles) {
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
            Prefilter::Groups(groups) => {
                let mut nul = None;
                let mut open = |gate: Gate| match gate {
                    Gate::Always | Gate::Base64Run => true,
                    Gate::Nul => *nul.get_or_insert_with(|| memchr::memchr(0, hay).is_some()),
                };
                let groups: Vec<&Group> = groups.iter().filter(|g| open(g.gate)).collect();
                let runs = if groups.iter().any(|g| g.gate == Gate::Base64Run) {
                    base64_runs(hay)
                } else {
                    Vec::new()
                };
                Box::new(Merged::new(groups, runs, hay))
            }
            Prefilter::Automaton(ac) => Box::new(ac.find_iter(hay).map(hit)),
        }
    }
}

/// The groups' hits as one searcher over all needles gives them: the leftmost, a tie to the
/// earlier needle, the search resuming where the hit ends. Each group keeps its next hit from
/// where it last searched, and searches again when that hit starts inside one given since.
struct Merged<'h> {
    groups: Vec<&'h Group>,
    /// The long base64 runs, where [`Gate::Base64Run`] groups search.
    runs: Vec<std::ops::Range<usize>>,
    hay: &'h [u8],
    next: Vec<Option<Hit>>,
    end: usize,
}

impl<'h> Merged<'h> {
    fn new(groups: Vec<&'h Group>, runs: Vec<std::ops::Range<usize>>, hay: &'h [u8]) -> Self {
        let n = groups.len();
        let mut merged = Merged {
            groups,
            runs,
            hay,
            next: vec![None; n],
            end: 0,
        };
        for g in 0..n {
            merged.next[g] = merged.search(g);
        }
        merged
    }

    /// Group `g`'s leftmost hit starting at or after `self.end` (inside a long base64 run for
    /// a group of [`Gate::Base64Run`]).
    fn search(&self, g: usize) -> Option<Hit> {
        let group = self.groups[g];
        if group.gate != Gate::Base64Run {
            return self.search_in(group, self.end..self.hay.len());
        }
        let first = self.runs.partition_point(|r| r.end <= self.end);
        self.runs[first..]
            .iter()
            .find_map(|r| self.search_in(group, r.start.max(self.end)..r.end))
    }

    fn search_in(&self, group: &Group, span: std::ops::Range<usize>) -> Option<Hit> {
        let span = aho_corasick::Span {
            start: span.start,
            end: span.end,
        };
        group.searcher.find_in(self.hay, span).map(|m| Hit {
            pattern: group.ids[m.pattern().as_usize()],
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
        assert!(matches!(grouped, Prefilter::Groups(_)));
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

    #[test]
    fn a_base64_run_is_seen_wherever_it_starts() {
        for len in [LONG_RUN - 1, LONG_RUN, LONG_RUN + 7, 3 * LONG_RUN] {
            for at in 0..2 * LONG_RUN {
                let mut hay = vec![b' '; at];
                hay.extend(std::iter::repeat_n(b'Q', len));
                hay.extend(b" xyz ");
                hay.extend(std::iter::repeat_n(b'R', len));
                let want = if len >= LONG_RUN {
                    let second = at + len + 5;
                    vec![at..at + len, second..second + len]
                } else {
                    Vec::new()
                };
                assert_eq!(base64_runs(&hay), want, "{len} at {at}");
            }
        }
        for b in 0..=255u8 {
            let want = b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
            let mut block = [b' '; 16];
            block[5] = b;
            assert_eq!(base64_mask(&block), u16::from(want) << 5, "{b:#x}");
        }
        let uuids = b"ac6729c7-cab0-4674-1925-c809d94180fd ac6729c7-cab0-4674-1925-c809d94180fd";
        assert!(base64_runs(uuids).is_empty());
    }

    #[test]
    fn nested_forms_are_found_only_in_long_base64_runs() {
        let long = "Q".repeat(LONG_RUN);
        let needles = [b"xyz".to_vec(), b"QQQnestedQQQ".to_vec()];
        let p = Prefilter::gated(&needles, &[Gate::Always, Gate::Base64Run]);
        let hay = format!("QQQnestedQQQ xyz {long}QQQnestedQQQ{long} xyz");
        let got: Vec<(usize, usize)> = p
            .hits(hay.as_bytes())
            .map(|h| (h.pattern, h.start))
            .collect();
        assert_eq!(
            got,
            vec![(0, 13), (1, 17 + LONG_RUN), (0, 30 + 2 * LONG_RUN)]
        );
    }

    fn prefilter_hits(needles: &[String], hay: &str) -> Vec<(usize, usize, usize)> {
        let needles: Vec<Vec<u8>> = needles.iter().map(|n| n.as_bytes().to_vec()).collect();
        Prefilter::new(&needles)
            .hits(hay.as_bytes())
            .map(|h| (h.pattern, h.start, h.end))
            .collect()
    }

    fn automaton_hits(needles: &[String], hay: &str) -> Vec<(usize, usize, usize)> {
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(needles)
            .unwrap()
            .find_iter(hay.as_bytes())
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn groups_agree_with_one_automaton_on_any_bytes(
            needles in proptest::collection::vec("[ab]{1,5}", 65..140),
            hay in "[abc]{0,400}",
        ) {
            proptest::prop_assert_eq!(prefilter_hits(&needles, &hay), automaton_hits(&needles, &hay));
        }

        /// With needles holding NUL bytes, text without one is searched without them: the
        /// hits stay those of one automaton over every needle.
        #[test]
        fn the_search_without_nul_needles_agrees_on_text_and_binary(
            needles in proptest::collection::vec("[ab\u{0}]{1,5}", 1..140),
            hay in proptest::prop_oneof!["[abc]{0,400}", "[abc\u{0}]{0,400}"],
        ) {
            proptest::prop_assert_eq!(prefilter_hits(&needles, &hay), automaton_hits(&needles, &hay));
        }
    }
}
