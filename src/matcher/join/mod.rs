//! Keys split to get past scanners, put back together: string literals joined by an operator,
//! by adjacency or by a join call (`concat`), and keys wrapped across lines (`lines`). Anchored
//! on keywords like the rest of the matcher: a keyword hit in a literal that ends next to a
//! continuation (or on a line that does) starts a bounded look at its neighbours, and only then
//! are the pieces' contents, with the real text around them, searched again with every rule's
//! checks. A literal that is a keyword's first characters (`"gh" + "p_…"`) is found by a cheap
//! scan of its own (`concat::short_pieces`).

mod concat;
mod lines;

pub(super) use concat::is_quote;

use super::{Found, Matcher};
use crate::finding::Decoding;
use std::ops::Range;

/// The most pieces one key is put together from.
pub const MAX_PIECES: usize = 8;
/// The most lines one key's pieces may span.
pub const MAX_LINES: usize = 8;
/// The most bytes of joined text searched per haystack byte (plus [`BUDGET_FLOOR`]): text
/// crafted to make every keyword hit a long chain stops being joined there, and the scan says
/// so ([`Found::join_cut`]).
const BUDGET_PER_BYTE: usize = 8;
const BUDGET_FLOOR: usize = 1 << 20;

/// The `decoded` value of keys put together from literals.
pub const CONCATENATION: Decoding = Decoding::Concatenation;
/// The `decoded` value of keys put together from lines.
pub const LINE_JOIN: Decoding = Decoding::LineJoin;

/// Pieces of a haystack that may hold one key between them, in order: each piece's bytes (a
/// literal's content, a line's token) in the haystack.
#[derive(Debug, Clone)]
pub struct Chain {
    pub pieces: Vec<Range<usize>>,
    /// The piece holding the keyword hit that found the chain.
    pub hit: usize,
    pub layer: Decoding,
}

/// Joined text: the real text before the first piece, the pieces' bytes, the real text after
/// the last one; and where each byte stands in the haystack.
struct Joined {
    bytes: Vec<u8>,
    at: Vec<usize>,
}

impl Joined {
    /// `pieces` joined, with up to a context's worth of text either side.
    fn new(hay: &[u8], pieces: &[Range<usize>]) -> Joined {
        let (first, last) = (&pieces[0], &pieces[pieces.len() - 1]);
        let around = super::checks::context_window(hay, first.start, last.end);
        let mut j = Joined {
            bytes: Vec::new(),
            at: Vec::new(),
        };
        j.push(hay, around.start..first.end);
        for p in &pieces[1..pieces.len() - 1] {
            j.push(hay, p.clone());
        }
        j.push(hay, last.start..around.end.max(last.end));
        j
    }

    fn push(&mut self, hay: &[u8], r: Range<usize>) {
        self.bytes.extend_from_slice(&hay[r.clone()]);
        self.at.extend(r);
    }

    fn outer_offset(&self, i: usize, is_end: bool) -> usize {
        match (is_end, i) {
            (_, _) if self.at.is_empty() => 0,
            (true, 0) => self.at[0],
            (true, i) => self.at[(i - 1).min(self.at.len() - 1)] + 1,
            (false, i) => self.at[i.min(self.at.len() - 1)],
        }
    }
}

/// Whether `layers` already holds a joining: joined text is not joined again.
fn joined_already(layers: &[Decoding]) -> bool {
    layers
        .iter()
        .any(|l| *l == CONCATENATION || *l == LINE_JOIN)
}

/// What one haystack's joining has done: the joined bytes searched, and where the last chain
/// ended (hits before it belong to a chain searched already).
struct Progress {
    budget: usize,
    searched_to: usize,
}

impl Matcher {
    /// Searches the chains around the keyword hits `plain` (per keyword) and the keyword-prefix
    /// literals of `hay` for keys split between pieces; keys found otherwise are not found again.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn find_joined(
        &self,
        hay: &[u8],
        plain: &[Vec<(usize, usize)>],
        quotes: &[usize],
        depth: usize,
        outer: &dyn Fn(usize, bool) -> usize,
        layers: &[Decoding],
        found: &mut Found,
    ) {
        if joined_already(layers) {
            return;
        }
        let mut hits = concat::short_pieces(hay, quotes, &self.short);
        hits.extend(plain.iter().flatten());
        if hits.is_empty() {
            return;
        }
        hits.sort_unstable();
        hits.dedup();
        // Text wrapped at a fixed width is joined only where base64 decoding revealed it.
        let in_base64 = layers.contains(&Decoding::Base64);
        let mut progress = Progress {
            budget: hay
                .len()
                .saturating_mul(BUDGET_PER_BYTE)
                .saturating_add(BUDGET_FLOOR),
            searched_to: 0,
        };
        for &(s, e) in &hits {
            if s < progress.searched_to || found.stopped.is_some() {
                continue;
            }
            let wrapped = in_base64.then(|| lines::wrapped(hay, s, e)).flatten();
            let chains = concat::around(hay, s, e).chain(lines::around(hay, s, e));
            for chain in chains.chain(wrapped) {
                if !self.search_chain(hay, &chain, depth, outer, layers, found, &mut progress) {
                    found.join_cut = true;
                    return;
                }
            }
        }
    }

    /// Searches every run of `chain`'s pieces through its hit piece (at most [`MAX_PIECES`]
    /// over at most [`MAX_LINES`] lines): the real text next to a run gives a key found in it its
    /// boundaries. A piece that holds a key found already (a list of whole keys) is in no run,
    /// and neither are runs whose inner pieces alone are longer than any key. False when the
    /// budget ran out.
    #[allow(clippy::too_many_arguments)]
    fn search_chain(
        &self,
        hay: &[u8],
        chain: &Chain,
        depth: usize,
        outer: &dyn Fn(usize, bool) -> usize,
        layers: &[Decoding],
        found: &mut Found,
        progress: &mut Progress,
    ) -> bool {
        let pieces = &chain.pieces;
        let (n, h) = (pieces.len(), chain.hit);
        progress.searched_to = progress.searched_to.max(pieces[n - 1].end);
        let taken: Vec<bool> = pieces
            .iter()
            .map(|p| {
                let (s, e) = (outer(p.start, false), outer(p.end, true));
                found.keys.iter().any(|k| s < k.end && k.start < e)
            })
            .collect();
        if taken[h] {
            return true;
        }
        let lo = (0..h).rev().find(|&i| taken[i]).map_or(0, |i| i + 1);
        let hi = (h + 1..n).find(|&i| taken[i]).unwrap_or(n);
        for first in (lo.max(h.saturating_sub(MAX_PIECES - 1))..=h).rev() {
            for last in h.max(first + 1)..hi.min(first + MAX_PIECES) {
                let run = &pieces[first..=last];
                let inner: usize = run[1..run.len() - 1]
                    .iter()
                    .map(ExactSizeIterator::len)
                    .sum();
                let lines = memchr::memchr_iter(b'\n', &hay[run[0].start..run[run.len() - 1].end]);
                if inner > self.longest_key || lines.count() >= MAX_LINES {
                    break;
                }
                let joined = Joined::new(hay, run);
                if joined.bytes.len() > progress.budget {
                    return false;
                }
                progress.budget -= joined.bytes.len();
                self.search_run(&joined, run, chain.layer, depth, outer, layers, found);
            }
        }
        true
    }

    /// Searches one joined run; keeps the keys it alone found, each made of two or more pieces.
    #[allow(clippy::too_many_arguments)]
    fn search_run(
        &self,
        joined: &Joined,
        pieces: &[Range<usize>],
        layer: Decoding,
        depth: usize,
        outer: &dyn Fn(usize, bool) -> usize,
        layers: &[Decoding],
        found: &mut Found,
    ) {
        let (keys, placeholders, unattributed) = (
            found.keys.len(),
            found.placeholders.len(),
            found.unattributed.len(),
        );
        let mut inner = layers.to_vec();
        inner.push(layer);
        let map = |i: usize, is_end: bool| outer(joined.outer_offset(i, is_end), is_end);
        self.find_layer(&joined.bytes, depth, None, &map, &inner, found);
        // Placeholders and unattributed shapes are counted where they are written.
        found.placeholders.truncate(placeholders);
        found.unattributed.truncate(unattributed);
        let outer_pieces: Vec<Range<usize>> = pieces
            .iter()
            .map(|p| outer(p.start, false)..outer(p.end, true))
            .collect();
        for mut key in found.keys.split_off(keys) {
            let spanned = outer_pieces
                .iter()
                .filter(|p| p.start < key.end && key.start < p.end)
                .count();
            let seen = found
                .keys
                .iter()
                .any(|k| k.start < key.end && key.start < k.end);
            if (2..=MAX_PIECES).contains(&spanned) && !seen {
                key.pieces = spanned;
                found.keys.push(key);
            }
        }
    }
}

/// The keyword prefixes a literal may hold alone (`"g"`, `"gh"`, `"sk-ant-"`): every proper
/// prefix of each keyword that is part of a key (not a provider's name said nearby).
#[derive(Debug, Default)]
pub struct Short {
    /// Whether some prefix starts with these two bytes (bit `b0 << 8 | b1`); for a prefix of one
    /// byte, that byte and a closing quote. A bit each (8 KB), so that the look at each quote of
    /// a haystack stays in the fastest cache.
    first: Vec<u64>,
    prefixes: std::collections::HashSet<Vec<u8>>,
    longest: usize,
}

impl Short {
    pub fn new<'k>(keywords: impl IntoIterator<Item = &'k [u8]>) -> Short {
        let mut s = Short {
            first: vec![0; (1 << 16) / 64],
            ..Short::default()
        };
        for kw in keywords {
            for cut in 1..kw.len() {
                let p = kw[..cut].to_vec();
                let seconds = match p.get(1) {
                    Some(&b) => vec![b],
                    None => b"\"'`".to_vec(),
                };
                for b1 in seconds {
                    let bit = usize::from(p[0]) << 8 | usize::from(b1);
                    s.first[bit / 64] |= 1 << (bit % 64);
                }
                s.longest = s.longest.max(p.len());
                s.prefixes.insert(p);
            }
        }
        s
    }

    /// The bytes the prefixes' first two may be, for the scan of a haystack's classes (which
    /// finds the quotes followed by one of the first, then one of the second).
    pub fn first_bytes(&self) -> (Vec<u8>, Vec<u8>) {
        let pairs = (0..1usize << 16).filter(|&bit| self.first[bit / 64] & 1 << (bit % 64) != 0);
        let (mut firsts, mut seconds): (Vec<u8>, Vec<u8>) =
            pairs.map(|bit| ((bit >> 8) as u8, bit as u8)).unzip();
        for bytes in [&mut firsts, &mut seconds] {
            bytes.sort_unstable();
            bytes.dedup();
        }
        (firsts, seconds)
    }

    /// Whether some prefix starts with `b0` then `b1` (see `first`).
    fn may_start(&self, b0: u8, b1: u8) -> bool {
        let bit = usize::from(b0) << 8 | usize::from(b1);
        self.first[bit / 64] & 1 << (bit % 64) != 0
    }

    /// Whether `content` is one of the prefixes.
    fn holds(&self, content: &[u8]) -> bool {
        !content.is_empty() && self.prefixes.contains(content)
    }
}

#[cfg(test)]
mod tests {
    use crate::matcher::Matcher;
    use crate::rules::RuleSet;
    use std::sync::Arc;

    #[test]
    fn joining_past_its_cap_says_so() {
        let m = Matcher::new(Arc::new(RuleSet::builtin().unwrap()), 2);
        // Every literal a keyword hit next to the next one: each hit starts a long chain.
        let dense = format!("{}\n", "\"sk-\" \"a\"; ".repeat(50)).repeat(80);
        assert!(m.find(dense.as_bytes()).join_cut);
        assert!(!m.with_join(false).find(dense.as_bytes()).join_cut);
        let m = Matcher::new(Arc::new(RuleSet::builtin().unwrap()), 2);
        assert!(!m.find(b"x = \"sk-\" + \"abc\"\n").join_cut);
    }
}
