//! The one pass over the bytes: every keyword and encoded form at once. Packed SIMD searchers
//! (Teddy) when the CPU allows — one, or one per group of at most 32 needles, their hits merged
//! — otherwise an Aho-Corasick automaton.
//!
//! Aho-Corasick alone would pick a rare-byte prefilter for our patterns (the UTF-16 forms hold
//! NUL bytes), which stalls on binary and base64-heavy data; Teddy does not. Teddy takes at
//! most 64 needles; with every provider's keywords and their encoded forms there are several
//! times that, and the automaton they fell back to took 70 % of a tree scan: a few Teddy passes
//! over the same cached bytes cost less than one automaton pass.
//!
//! Needles that can only occur in some bytes are grouped apart and searched only there (a
//! [`Gate`]): UTF-16 forms only in stretches of bytes alternating with NULs ([`wide_runs`];
//! other needles holding a NUL in bytes that hold one), and base64 and hex forms only in long
//! base64 runs, all of them by one table scan of each run ([`RunSearcher`]), as are the forms of
//! base64 inside base64 in the runs that hold it. Escape openings (`%73`, `\x7`, `&#11`) start
//! with one of a few rare bytes, and are looked up only where one is. Where the runs, those
//! bytes and the NULs are comes from one scan of the haystack's classes before the search
//! ([`super::classes`]), which with AVX-512 also finds the needles searched everywhere
//! ([`Searcher::Scanned`], in place of their Teddy passes).
//!
//! Each Teddy pass costs about the same however few needles it has, and a fat one (over 32
//! needles) about twice a slim one, or more with needles of 3 bytes: on the benchmark tree, the
//! 54 needles searched everywhere take two slim passes where the 317 they were took five fat
//! ones.

use super::classes::{Classifier, Needles, Path, Scan};
use super::run_search::RunSearcher;
use super::wide::{is_wide, wide_runs};
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

/// Needles per searcher: slim Teddy's limit (fat Teddy takes 64 but costs twice as much a pass).
const GROUP: usize = 32;

/// Where a needle can occur, so where its group is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Gate {
    /// Anywhere.
    Always,
    /// Only inside a run of at least [`LONG_RUN`] standard base64 characters (a form nested in
    /// base64, whose key fills such a run).
    Base64Run,
    /// Only inside those [`Gate::Base64Run`] runs whose decoded text is base64 again
    /// (`nested::nested_runs`): the short needles of base64 inside base64.
    NestedRun,
    /// Only in bytes holding a NUL (set for every needle that holds one but is no UTF-16 form).
    Nul,
    /// Only in stretches of bytes alternating with NULs ([`wide_runs`]): set for every needle
    /// shaped as a UTF-16 form (`s\0k\0-`, [`is_wide`]).
    Wide,
    /// Anywhere, found by [`Openings`] (an escape's opening: at least 3 bytes, starting with
    /// one of at most 3 bytes: `%`, `\`, `&`); else searched like [`Gate::Always`].
    Opening,
}

/// The shortest base64 run a [`Gate::Base64Run`] needle is looked for in: a key of 24 bytes or
/// more encoded once, or of 18 bytes or more encoded twice, is longer, and so is its hex form
/// (every key is 20 bytes or more). A line wrapped inside a run is full (40 characters or
/// more), and the line after such a run is searched whatever its length (see
/// [`super::classes::Scan::runs`]).
pub const LONG_RUN: usize = 32;

/// Escape openings found by their first byte: at most 3 distinct first bytes (found by the
/// scan of the haystack's classes, [`Scan::openings`]), each needle at least 3 bytes long,
/// looked up by its first 3 bytes at each one.
#[derive(Debug)]
pub struct Openings {
    firsts: [u8; 3],
    /// Whether some needle starts with these two bytes (`pairs[b0 << 8 | b1]`): most `&&`,
    /// `\n` and `%20` are turned away by one look.
    pairs: Vec<bool>,
    /// Each needle's first 3 bytes and its index in `needles`, sorted.
    starts: Vec<([u8; 3], usize)>,
    needles: Vec<Vec<u8>>,
}

impl Openings {
    /// The bytes its needles start with.
    pub fn firsts(&self) -> &[u8; 3] {
        &self.firsts
    }

    /// The searcher for `needles`, if they fit (see [`Openings`]).
    fn new<'a>(needles: impl IntoIterator<Item = &'a Vec<u8>>) -> Option<Openings> {
        let needles: Vec<Vec<u8>> = needles.into_iter().cloned().collect();
        let mut firsts: Vec<u8> = needles.iter().filter_map(|n| n.first().copied()).collect();
        firsts.sort_unstable();
        firsts.dedup();
        if firsts.is_empty() || firsts.len() > 3 || needles.iter().any(|n| n.len() < 3) {
            return None;
        }
        let mut starts: Vec<([u8; 3], usize)> = needles
            .iter()
            .enumerate()
            .map(|(i, n)| ([n[0], n[1], n[2]], i))
            .collect();
        starts.sort_unstable();
        let first = |i: usize| firsts[i.min(firsts.len() - 1)];
        let mut pairs = vec![false; 1 << 16];
        for n in &needles {
            pairs[usize::from(n[0]) << 8 | usize::from(n[1])] = true;
        }
        Some(Openings {
            firsts: [first(0), first(1), first(2)],
            pairs,
            starts,
            needles,
        })
    }

    /// The leftmost needle wholly inside `span`, the earliest one of those starting there:
    /// (its index, start, end).
    fn find_in(
        &self,
        hay: &[u8],
        span: std::ops::Range<usize>,
        scan: &Scan,
    ) -> Option<(usize, usize, usize)> {
        let bytes = &hay[..span.end];
        let from = scan.openings.partition_point(|&at| at < span.start);
        let upto = scan.openings.partition_point(|&at| at < span.end);
        scan.openings[from..upto].iter().find_map(|&at| {
            let start: [u8; 3] = bytes.get(at..at + 3)?.try_into().ok()?;
            if !self.pairs[usize::from(start[0]) << 8 | usize::from(start[1])] {
                return None;
            }
            let from = self.starts.partition_point(|(s, _)| *s < start);
            self.starts[from..]
                .iter()
                .take_while(|(s, _)| *s == start)
                .map(|&(_, n)| n)
                .filter(|&n| bytes[at..].starts_with(&self.needles[n]))
                .min()
                .map(|n| (n, at, at + self.needles[n].len()))
        })
    }
}

/// How a group's needles are found.
#[derive(Debug)]
enum Searcher {
    Packed(packed::Searcher),
    /// A gated group's packed searcher, built on its first search (see [`LazyPacked`]).
    LazyPacked(LazyPacked),
    Openings(Openings),
    /// Every [`Gate::Base64Run`] needle at once, for runs shorter than [`SHORT_RUN`]: one
    /// automaton pass over a short run costs less than starting a Teddy search per group. A
    /// contiguous NFA: 170 KB where a DFA over the 500 needles takes 3 MB (the memory target
    /// is 64 MB), at twice the DFA's cost a byte on the few bytes in short runs.
    Automaton(Lazy),
    /// Every [`Gate::Base64Run`] needle at once, in every run, or every [`Gate::NestedRun`] one
    /// in every nested run: one table scan (see [`RunSearcher`]), used when each needle is 3
    /// bytes or more. The nested needles (about 600) took 19 Teddy searchers, whose building
    /// cost every run, however small its input, 1.4 M instructions (0.25 ms).
    Runs(RunSearcher),
    /// The [`Gate::Always`] needles, found by the scan of the haystack's classes
    /// ([`Scan::needles`]) where the CPU has AVX-512 ([`Path::finds_needles`]).
    Scanned(Needles),
}

/// The short runs' automaton, built on its first search: most small inputs (a one-line scan,
/// a staged edit) hold no long base64 run, and building it cost every run about 1 ms.
#[derive(Debug)]
struct Lazy {
    needles: Vec<Vec<u8>>,
    built: std::sync::OnceLock<AhoCorasick>,
}

impl Lazy {
    fn get(&self) -> &AhoCorasick {
        self.built.get_or_init(|| {
            AhoCorasickBuilder::new()
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .match_kind(MatchKind::LeftmostFirst)
                .prefilter(false)
                .build(&self.needles)
                .expect("a few hundred short needles fit a contiguous NFA")
        })
    }
}

/// A gated group's packed searcher, built on its first search: the [`Gate::Wide`] groups (the
/// UTF-16 forms, five searchers) search only stretches alternating with NULs, which a staged
/// edit or a source file does not hold, and building them cost every run 0.4 M instructions. Should Teddy
/// refuse the group (it took the eager ones, so it runs on this CPU), one automaton over its
/// needles gives the same hits.
#[derive(Debug)]
struct LazyPacked {
    needles: Vec<Vec<u8>>,
    built: std::sync::OnceLock<Built>,
}

#[derive(Debug)]
enum Built {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl LazyPacked {
    /// The leftmost needle wholly inside `span`, the earliest one of those starting there:
    /// (its index, start, end).
    fn find_in(&self, hay: &[u8], span: std::ops::Range<usize>) -> Option<(usize, usize, usize)> {
        let built = self
            .built
            .get_or_init(|| match packed_searcher(&self.needles) {
                Some(searcher) => Built::Packed(searcher),
                None => Built::Automaton(
                    AhoCorasickBuilder::new()
                        .match_kind(MatchKind::LeftmostFirst)
                        .build(&self.needles)
                        .expect("a group of needles fits an automaton"),
                ),
            });
        let m = match built {
            Built::Packed(searcher) => searcher.find_in(hay, span.into())?,
            Built::Automaton(ac) => ac.find(aho_corasick::Input::new(hay).span(span))?,
        };
        Some((m.pattern().as_usize(), m.start(), m.end()))
    }
}

/// Runs shorter than this are searched by one automaton, longer ones by the Teddy groups (text
/// full of UUIDs and paths has hundreds of thousands of runs of 32 to 100 bytes).
const SHORT_RUN: usize = 256;

/// One searcher of a [`Prefilter::Groups`].
#[derive(Debug)]
pub struct Group {
    searcher: Searcher,
    /// The global ids of its needles, in order.
    ids: Vec<usize>,
    /// Where its needles can occur.
    gate: Gate,
}

/// The bytes of a UTF-16 form ([`is_wide`]) without its NULs: `sk-` for `s\0k\0-`.
fn narrow(wide: &[u8]) -> Vec<u8> {
    wide.iter().step_by(2).copied().collect()
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
///
/// The [`Gate::Opening`] needles are one group found by [`Openings`] when they fit it, else
/// needles like any other.
fn groups(needles: &[Vec<u8>], gates: &[Gate]) -> Option<Vec<Group>> {
    let mut out = Vec::new();
    let openings: Vec<usize> = (0..needles.len())
        .filter(|&i| gates[i] == Gate::Opening)
        .collect();
    let mut gates = gates.to_vec();
    match Openings::new(openings.iter().map(|&i| &needles[i])) {
        Some(searcher) => out.push(Group {
            searcher: Searcher::Openings(searcher),
            ids: openings,
            gate: Gate::Opening,
        }),
        None => openings.iter().for_each(|&i| gates[i] = Gate::Always),
    }
    let gate = |i: usize| gates[i];
    let mut order: Vec<usize> = (0..needles.len())
        .filter(|&i| gate(i) != Gate::Opening)
        .collect();
    order.sort_by_key(|&i| (gate(i), std::cmp::Reverse(needles[i].len()), i));
    for part in order.chunk_by(|&a, &b| gate(a) == gate(b)) {
        let part_gate = gate(part[0]);
        let mut ids = part.to_vec();
        ids.sort_unstable();
        let texts = || ids.iter().map(|&i| needles[i].clone()).collect::<Vec<_>>();
        if part_gate == Gate::Always
            && Path::finds_needles()
            && let Some(found) = Needles::new(texts())
        {
            out.push(Group {
                searcher: Searcher::Scanned(found),
                gate: part_gate,
                ids,
            });
            continue;
        }
        if matches!(part_gate, Gate::Base64Run | Gate::NestedRun)
            && let Some(searcher) = RunSearcher::new(ids.iter().map(|&i| &needles[i]))
        {
            out.push(Group {
                searcher: Searcher::Runs(searcher),
                gate: part_gate,
                ids,
            });
            continue;
        }
        if part_gate == Gate::Base64Run {
            let automaton = Lazy {
                needles: texts(),
                built: std::sync::OnceLock::new(),
            };
            out.push(Group {
                searcher: Searcher::Automaton(automaton),
                gate: part_gate,
                ids,
            });
        }
        for chunk in part.chunks(GROUP) {
            let mut ids = chunk.to_vec();
            ids.sort_unstable();
            // UTF-16 forms are searched in the stretches' narrow bytes (see `Merged::wide`).
            let group = ids.iter().map(|&i| match gate(i) {
                Gate::Wide => narrow(&needles[i]),
                _ => needles[i].clone(),
            });
            let searcher = match gate(ids[0]) {
                Gate::Always => Searcher::Packed(packed_searcher(&group.collect::<Vec<_>>())?),
                _ => Searcher::LazyPacked(LazyPacked {
                    needles: group.collect(),
                    built: std::sync::OnceLock::new(),
                }),
            };
            out.push(Group {
                searcher,
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
            .map(|(n, &g)| match n.contains(&0) {
                true if is_wide(n) => Gate::Wide,
                true => Gate::Nul,
                false => g,
            })
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

    /// Every non-overlapping hit in `hay`, leftmost first, `scan` being its classes (the
    /// scan of an [`Prefilter::classifier`]).
    pub fn hits<'h>(&'h self, hay: &'h [u8], scan: &'h Scan) -> Box<dyn Iterator<Item = Hit> + 'h> {
        let hit = |m: aho_corasick::Match| Hit {
            pattern: m.pattern().as_usize(),
            start: m.start(),
            end: m.end(),
        };
        match self {
            Prefilter::Packed(s) => Box::new(s.find_iter(hay).map(hit)),
            Prefilter::Groups(groups) => {
                let groups: Vec<&Group> = groups
                    .iter()
                    .filter(|g| scan.nul || !matches!(g.gate, Gate::Nul | Gate::Wide))
                    .collect();
                Box::new(Merged::new(groups, scan, hay))
            }
            Prefilter::Automaton(ac) => Box::new(ac.find_iter(hay).map(hit)),
        }
    }

    /// The scan of a haystack's classes this prefilter searches after: its escape openings'
    /// first bytes, its needles found by the scan, and quotes followed by a byte of `first` then
    /// one of `second`.
    pub fn classifier(&self, first: &[u8], second: &[u8]) -> Classifier {
        let scanned = match self {
            Prefilter::Groups(groups) => groups.iter().find_map(|g| match &g.searcher {
                Searcher::Scanned(needles) => Some(needles.clone()),
                _ => None,
            }),
            _ => None,
        };
        Classifier::new(&self.opening_firsts(), first, second, scanned)
    }

    /// The first bytes of its escape openings' needles (see [`Openings`]).
    fn opening_firsts(&self) -> Vec<u8> {
        let mut firsts = Vec::new();
        if let Prefilter::Groups(groups) = self {
            for g in groups {
                if let Searcher::Openings(o) = &g.searcher {
                    firsts.extend(o.firsts());
                }
            }
        }
        firsts.sort_unstable();
        firsts.dedup();
        firsts
    }
}

/// The groups' hits as one searcher over all needles gives them: the leftmost, a tie to the
/// earlier needle, the search resuming where the hit ends. Each group keeps its next hit from
/// where it last searched, and searches again when that hit starts inside one given since.
struct Merged<'h> {
    groups: Vec<&'h Group>,
    /// The long base64 runs, where [`Gate::Base64Run`] groups search (an automaton those
    /// shorter than [`SHORT_RUN`], Teddy groups the others, a [`RunSearcher`] all).
    runs: &'h [std::ops::Range<usize>],
    /// The haystack's classes: the runs above, the escape openings.
    scan: &'h Scan,
    /// The runs [`Gate::NestedRun`] groups search, found only if there is one.
    nested: Vec<std::ops::Range<usize>>,
    /// The stretches [`Gate::Wide`] groups search, found only if there is one, and each one's
    /// narrow bytes (every other byte, the NULs left out) in `narrow`, from `narrow_at[i]` on:
    /// there the groups search the UTF-16 forms without their NULs, which in UTF-16 text would
    /// make each form's first bytes (Teddy's fingerprint) half NULs that every character pair
    /// matches, and the hits turn back into offsets of `hay`.
    wide: Vec<std::ops::Range<usize>>,
    narrow: Vec<u8>,
    narrow_at: Vec<usize>,
    hay: &'h [u8],
    next: Vec<Option<Hit>>,
    end: usize,
}

impl<'h> Merged<'h> {
    fn new(groups: Vec<&'h Group>, scan: &'h Scan, hay: &'h [u8]) -> Self {
        let runs = &scan.runs[..];
        let n = groups.len();
        let nested = if groups.iter().any(|g| g.gate == Gate::NestedRun) {
            super::nested::nested_runs(hay, runs)
        } else {
            Vec::new()
        };
        let wide = if groups.iter().any(|g| g.gate == Gate::Wide) {
            wide_runs(hay)
        } else {
            Vec::new()
        };
        let mut narrow = Vec::new();
        let narrow_at = (wide.iter())
            .map(|r| {
                narrow.extend(hay[r.clone()].iter().step_by(2));
                narrow.len() - r.len().div_ceil(2)
            })
            .collect();
        let mut merged = Merged {
            groups,
            runs,
            scan,
            nested,
            wide,
            narrow,
            narrow_at,
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
    /// a group of [`Gate::Base64Run`], inside a nested one for [`Gate::NestedRun`]).
    fn search(&self, g: usize) -> Option<Hit> {
        let group = self.groups[g];
        let runs = match group.gate {
            Gate::NestedRun => &self.nested[..],
            Gate::Wide => return self.search_wide(group),
            Gate::Base64Run => self.runs,
            _ => return group.find_in(self.hay, self.end..self.hay.len(), self.scan),
        };
        let wanted = |r: &std::ops::Range<usize>| match (group.gate, &group.searcher) {
            (Gate::NestedRun, _) | (_, Searcher::Runs(_)) => true,
            (_, Searcher::Automaton(_)) => r.len() < SHORT_RUN,
            _ => r.len() >= SHORT_RUN,
        };
        let first = runs.partition_point(|r| r.end <= self.end);
        runs[first..]
            .iter()
            .filter(|r| wanted(r))
            .find_map(|r| group.find_in(self.hay, r.start.max(self.end)..r.end, self.scan))
    }

    /// A [`Gate::Wide`] group's leftmost hit starting at or after `self.end`: found in the
    /// narrow bytes of each stretch from there, a hit of `n` characters at narrow offset `i`
    /// being one of `2n - 1` bytes at the stretch's `2i`.
    fn search_wide(&self, group: &Group) -> Option<Hit> {
        let first = self.wide.partition_point(|r| r.end <= self.end);
        let mut stretches = self.wide[first..].iter().zip(&self.narrow_at[first..]);
        stretches.find_map(|(r, &at)| {
            let skip = (r.start.max(self.end) - r.start).div_ceil(2);
            // The narrow bytes have no classes of their own: no UTF-16 group is an opening's.
            let span = at + skip..at + r.len().div_ceil(2);
            let hit = group.find_in(&self.narrow, span, &Scan::default())?;
            Some(Hit {
                pattern: hit.pattern,
                start: r.start + 2 * (hit.start - at),
                end: r.start + 2 * (hit.end - at) - 1,
            })
        })
    }
}

impl Group {
    /// Its leftmost hit wholly inside `span` of `hay`, whose classes are `scan`.
    fn find_in(&self, hay: &[u8], span: std::ops::Range<usize>, scan: &Scan) -> Option<Hit> {
        let (n, start, end) = match &self.searcher {
            Searcher::Packed(searcher) => {
                let span = aho_corasick::Span {
                    start: span.start,
                    end: span.end,
                };
                let m = searcher.find_in(hay, span)?;
                (m.pattern().as_usize(), m.start(), m.end())
            }
            Searcher::LazyPacked(lazy) => lazy.find_in(hay, span)?,
            Searcher::Openings(openings) => openings.find_in(hay, span, scan)?,
            Searcher::Runs(runs) => runs.find_in(hay, span)?,
            Searcher::Scanned(_) => {
                let from = scan.needles.partition_point(|&(_, s, _)| s < span.start);
                scan.needles[from..]
                    .iter()
                    .copied()
                    .find(|&(_, _, e)| e <= span.end)?
            }
            Searcher::Automaton(automaton) => {
                let m = (automaton.get()).find(aho_corasick::Input::new(hay).span(span))?;
                (m.pattern().as_usize(), m.start(), m.end())
            }
        };
        Some(Hit {
            pattern: self.ids[n],
            start,
            end,
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

    impl Prefilter {
        /// Its hits in `hay`, classified as the matcher would (but for quotes).
        fn all_hits(&self, hay: &[u8]) -> std::vec::IntoIter<Hit> {
            let scan = self.classifier(&[], &[]).scan(hay);
            self.hits(hay, &scan).collect::<Vec<_>>().into_iter()
        }
    }

    fn base64_runs(hay: &[u8]) -> Vec<std::ops::Range<usize>> {
        Classifier::new(&[], &[], &[], None).scan(hay).runs
    }

    #[test]
    fn finds_leftmost_first_hits() {
        let p = Prefilter::new(&[
            b"T3BlbkFJ".to_vec(),
            b"T\x003\x00B".to_vec(),
            b"VDNCbGJrRk".to_vec(),
        ]);
        let hay = b"..T3BlbkFJ..VDNCbGJrRk..T\x003\x00B";
        let got: Vec<(usize, usize)> = p.all_hits(hay).map(|h| (h.pattern, h.start)).collect();
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
            .all_hits(&hay)
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
        let uuids = b"ac6729c7 cab0 4674 1925 c809d94180fd ac6729c7.cab0.4674.1925.c809d94180fd";
        assert!(base64_runs(uuids).is_empty());
    }

    #[test]
    fn the_line_after_a_long_run_is_searched_however_short() {
        let full = "Q".repeat(76);
        let hay = format!("x: |\n  {full}\r\n  {full}\n  QQQ==\n  RRR\n");
        let at = |s: usize, len: usize| s..s + len;
        let first = 7;
        let second = first + 78 + 2;
        let last = second + 76 + 3;
        assert_eq!(
            base64_runs(hay.as_bytes()),
            vec![at(first, 76), at(second, 76), at(last, 3)]
        );
        assert_eq!(base64_runs(format!("{full} QQQ").as_bytes()).len(), 1);
    }

    #[test]
    fn openings_are_found_by_their_first_byte() {
        let needles = [
            b"%73".to_vec(),
            b"&#11".to_vec(),
            b"\\x7".to_vec(),
            b"&#1".to_vec(),
        ];
        let o = Openings::new(&needles).unwrap();
        let hay = b"a%7 %73k &#1x &#115; \\x73";
        let scan = Classifier::new(o.firsts(), &[], &[], None).scan(hay);
        let mut got = Vec::new();
        let mut at = 0;
        while let Some((n, s, e)) = o.find_in(hay, at..hay.len(), &scan) {
            got.push((n, s));
            at = e;
        }
        assert_eq!(got, vec![(0, 4), (3, 9), (1, 14), (2, 21)]);
        assert_eq!(o.find_in(hay, 0..6, &scan), None);
        assert!(Openings::new(&[b"%7".to_vec()]).is_none());
        assert!(
            Openings::new(&[
                b"%73".to_vec(),
                b"&#1".to_vec(),
                b"\\x7".to_vec(),
                b"#xx".to_vec()
            ])
            .is_none()
        );
    }

    #[test]
    fn nested_forms_are_found_only_in_long_base64_runs() {
        for run in [LONG_RUN, SHORT_RUN + 1] {
            let long = "Q".repeat(run);
            let needles = [b"xyz".to_vec(), b"QQQnestedQQQ".to_vec()];
            let p = Prefilter::gated(&needles, &[Gate::Always, Gate::Base64Run]);
            let hay = format!("QQQnestedQQQ xyz {long}QQQnestedQQQ{long} xyz");
            let got: Vec<(usize, usize)> = p
                .all_hits(hay.as_bytes())
                .map(|h| (h.pattern, h.start))
                .collect();
            assert_eq!(got, vec![(0, 13), (1, 17 + run), (0, 30 + 2 * run)]);
        }
    }

    #[test]
    fn nul_groups_built_on_first_search_give_the_hits_one_automaton_gives() {
        // 81 needles, 80 holding a NUL (three groups built lazily), overlapping across groups.
        let mut needles: Vec<Vec<u8>> = vec![b"plain".to_vec()];
        for i in 0..40u8 {
            let w = [b'k', 0, b'a' + i % 26, 0, b'0' + i / 26];
            needles.push(w.to_vec());
            needles.push(w[..4].to_vec());
        }
        let p = Prefilter::new(&needles);
        assert!(matches!(p, Prefilter::Groups(_)));
        let mut hay = b"plain ".to_vec();
        for w in needles.iter().rev() {
            hay.extend_from_slice(w);
            hay.extend_from_slice(&w[..3]);
        }
        let got: Vec<(usize, usize, usize)> = p
            .all_hits(&hay)
            .map(|h| (h.pattern, h.start, h.end))
            .collect();
        let want: Vec<(usize, usize, usize)> = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&needles)
            .unwrap()
            .find_iter(&hay)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        assert!(want.len() > 80, "{want:?}");
        assert_eq!(got, want);
        let no_nul: Vec<usize> = p.all_hits(b"plain k a 0").map(|h| h.pattern).collect();
        assert_eq!(no_nul, vec![0]);
    }

    fn prefilter_hits(needles: &[String], hay: &str) -> Vec<(usize, usize, usize)> {
        let needles: Vec<Vec<u8>> = needles.iter().map(|n| n.as_bytes().to_vec()).collect();
        Prefilter::new(&needles)
            .all_hits(hay.as_bytes())
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

        /// Openings (needles starting with `%` or `&`) found by their first byte give the hits
        /// one automaton over every needle gives.
        #[test]
        fn openings_agree_with_one_automaton(
            needles in proptest::collection::vec("[ab%&][ab%&]{2,4}|[ab]{1,5}", 1..100),
            hay in "[abc%&]{0,400}",
        ) {
            let gates: Vec<Gate> = needles
                .iter()
                .map(|n| if n.starts_with(['%', '&']) { Gate::Opening } else { Gate::Always })
                .collect();
            let bytes: Vec<Vec<u8>> = needles.iter().map(|n| n.as_bytes().to_vec()).collect();
            let got: Vec<(usize, usize, usize)> = Prefilter::gated(&bytes, &gates)
                .all_hits(hay.as_bytes())
                .map(|h| (h.pattern, h.start, h.end))
                .collect();
            proptest::prop_assert_eq!(got, automaton_hits(&needles, &hay));
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

        /// UTF-16 forms (`a\0b\0a`), searched without their NULs in the stretches that can hold
        /// them, among other needles: the hits stay those of one automaton over every needle,
        /// in UTF-16 text of either byte order and in bytes with stray NULs.
        #[test]
        fn utf16_forms_agree_with_one_automaton(
            narrow in proptest::collection::vec("[ab]{3,6}", 1..80),
            plain in proptest::collection::vec("[ab\u{0}]{1,5}", 0..40),
            hay in proptest::prop_oneof![
                "([abc]\u{0}){0,200}", "(\u{0}[abc]){0,200}", "[abc\u{0}]{0,400}",
                "([abc]\u{0}|[abc]{1,3}){0,150}"],
        ) {
            let mut needles: Vec<String> = (narrow.iter())
                .map(|n| n.chars().map(String::from).collect::<Vec<_>>().join("\u{0}"))
                .collect();
            needles.extend(plain);
            proptest::prop_assert_eq!(prefilter_hits(&needles, &hay), automaton_hits(&needles, &hay));
        }
    }
}
