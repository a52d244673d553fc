//! The keyword-anchored matcher: one Aho-Corasick pass over the bytes for every rule keyword and
//! its encoded forms (base64 in three alignments, UTF-16), then regexes and checks only in a
//! window around each hit, never over a whole blob.

mod checks;
mod classes;
mod decode;
mod escape;
mod examples;
mod hints;
mod join;
mod nested;
mod pair;
mod prefilter;
mod run_search;
mod wide;

pub use examples::{CheckReport, check_rules};
pub use pair::Paired;

use crate::finding::Decoding;
use crate::rules::RuleSet;
use checks::{Verdict, Work};
use decode::{Base64Form, Decoded};
use escape::Escape;
use prefilter::{Gate, Prefilter};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// How a keyword occurrence was written.
#[derive(Debug, Clone)]
enum Encoding {
    Plain,
    Utf16,
    Base64(Base64Form),
    Escaped(Escape),
}

#[derive(Debug, Clone)]
struct Pattern {
    keyword: usize,
    encoding: Encoding,
    /// A half of a keyword's base64 form (see [`decode::base64_needles`]): 4 or 5 characters,
    /// which base64 images hold by chance, so its window is decoded only when the text around
    /// the hit spells a keyword or decodes to text ([`decode::worth_decoding`]).
    half: bool,
    /// A whole base64 form of a keyword of 3 bytes (`hf_`): 3 or 4 characters, which any long
    /// base64 holds by chance, so its window is decoded only when the characters around the
    /// hit spell such a keyword ([`decode::spells`]).
    short: bool,
}

/// A key found in a haystack. Offsets are the haystack's, also for keys found in decoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    /// Index of the rule in the `RuleSet`.
    pub rule: usize,
    pub start: usize,
    pub end: usize,
    pub secret: String,
    /// Length of the secret's public kind prefix.
    pub prefix_len: usize,
    /// Decodings applied to find it, outermost first (`base64`, `utf-16`).
    pub decoded: Vec<Decoding>,
    /// The second part of a two-part key found next to it (AWS), offsets the haystack's.
    pub paired: Option<Paired>,
    /// What verification needs from around the key (`[[rule.hint]]`), nearest first.
    pub hints: Vec<(String, String)>,
    /// How many pieces (literals, lines) the key was put together from; 0 when it was whole.
    pub pieces: usize,
}

impl RawMatch {
    /// The key as a `Secret`, with its second part when one was found.
    pub fn to_secret(&self) -> crate::secret::Secret {
        let paired = self
            .paired
            .as_ref()
            .map(|p| crate::secret::Secret::new(p.secret.clone(), 0));
        crate::secret::Secret::new(self.secret.clone(), self.prefix_len)
            .with_paired(paired)
            .with_hints(self.hints.clone())
    }
}

/// What one search found: keys, and where placeholders and unattributed key shapes (weak
/// formats with no provider named next to them) were turned away.
#[derive(Debug, Default)]
pub struct Found {
    pub keys: Vec<RawMatch>,
    pub placeholders: Vec<usize>,
    pub unattributed: Vec<usize>,
    /// Bytes the rules' regexes searched: each rule searches the union of its hits' windows,
    /// so dense keyword hits cost the haystack's length once, not a window each.
    pub searched: usize,
    /// The rule that was running when the regex work allowed for the haystack ran out (see
    /// [`checks::Work`]): the rest of the haystack was not searched.
    pub stopped: Option<usize>,
    /// Whether putting split keys back together stopped at its cap (see `join`): keys split
    /// between pieces past that point were not looked for.
    pub join_cut: bool,
    work: Work,
}

impl Found {
    /// Takes `bytes` of regex work for rule `ri`; false when the work ran out.
    fn take(&mut self, ri: usize, bytes: usize) -> bool {
        self.work.take(bytes) || self.stop(ri)
    }

    /// Whether the work ran out (while rule `ri` ran, if it just did).
    fn out_of_work(&mut self, ri: usize) -> bool {
        self.work.spent() && !self.stop(ri)
    }

    fn stop(&mut self, ri: usize) -> bool {
        self.stopped.get_or_insert(ri);
        false
    }
}

/// A group of one rule's hits is searched as one region of at most this many bytes (plus a
/// window), bounding the work a regex does however dense its keyword.
const MAX_REGION: usize = 64 << 10;

/// Matches every rule of a `RuleSet`. Built once and shared by all threads.
#[derive(Debug)]
pub struct Matcher {
    rules: Arc<RuleSet>,
    prefilter: Prefilter,
    patterns: Vec<Pattern>,
    by_keyword: Vec<Vec<usize>>,
    /// Each keyword's first bytes, sorted: what an escaped hit must spell to be decoded.
    prefixes: Vec<[u8; escape::PREFIX]>,
    max_decode_depth: usize,
    /// Whether keys split over literals or lines are put back together (`--no-join` clears it).
    join: bool,
    /// The keyword prefixes a literal may hold alone (`"gh"` of `"gh" + "p_…"`).
    short: join::Short,
    /// The longest key any rule matches (`max_len`): joined runs longer inside are not searched.
    longest_key: usize,
    /// The keywords whose base64 forms are found in halves: what a half hit must spell.
    halved: Vec<Vec<u8>>,
    /// The keywords of 3 bytes, whose whole base64 forms are found: what such a hit must spell.
    shortest: Vec<Vec<u8>>,
    /// What the one pass over a haystack before its search classifies bytes by.
    classifier: classes::Classifier,
    /// Whether some rule is checked with no keyword hit (its provider named by the user).
    attested: bool,
}

/// Keywords shorter than this get no base64 halves (see [`decode::base64_needles`]): they would
/// be too short to select.
const MIN_ENCODED_KEYWORD: usize = 6;
/// Keywords shorter than this get no UTF-16 form (`hf_` has one: 5 bytes with its NULs).
const MIN_UTF16_KEYWORD: usize = 3;
/// The shortest keyword whose whole base64 forms are needles decoded wherever they hit (in long
/// base64 runs only): a keyword of 3 bytes has forms of 3 and 4 characters, which any base64
/// holds by chance, decoded only where the characters beside them spell it ([`Pattern::short`]).
const MIN_WHOLE_BASE64_KEYWORD: usize = 4;

impl Matcher {
    pub fn new(rules: Arc<RuleSet>, max_decode_depth: usize) -> Self {
        let mut keywords: Vec<Vec<u8>> = Vec::new();
        let mut by_keyword: Vec<Vec<usize>> = Vec::new();
        for (ri, rule) in rules.rules.iter().enumerate() {
            for kw in rule.spec.keywords.iter().filter(|k| !k.is_empty()) {
                let idx = keywords
                    .iter()
                    .position(|k| k == kw.as_bytes())
                    .unwrap_or_else(|| {
                        keywords.push(kw.as_bytes().to_vec());
                        by_keyword.push(Vec::new());
                        keywords.len() - 1
                    });
                if !by_keyword[idx].contains(&ri) {
                    by_keyword[idx].push(ri);
                }
            }
        }
        let (needles, patterns, gates) = patterns_for(&keywords, max_decode_depth);
        let prefilter = Prefilter::gated(&needles, &gates);
        let mut prefixes: Vec<[u8; escape::PREFIX]> = keywords
            .iter()
            .filter_map(|k| k.get(..escape::PREFIX)?.try_into().ok())
            .collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        // Keywords that are a provider's name said near a key (`mistral`) are in no key.
        let in_keys = keywords.iter().enumerate().filter(|(k, _)| {
            by_keyword[*k]
                .iter()
                .any(|&ri| !rules.rules[ri].spec.near_keywords)
        });
        let short = join::Short::new(in_keys.map(|(_, kw)| kw.as_slice()));
        let (first, second) = short.first_bytes();
        let classifier = prefilter.classifier(&first, &second);
        let longest_key = rules
            .rules
            .iter()
            .map(|r| r.spec.max_len)
            .max()
            .unwrap_or(0);
        let halved = keywords
            .iter()
            .filter(|k| k.len() >= MIN_ENCODED_KEYWORD)
            .cloned()
            .collect();
        let shortest = keywords
            .iter()
            .filter(|k| k.len() < MIN_WHOLE_BASE64_KEYWORD)
            .cloned()
            .collect();
        Matcher {
            prefilter,
            patterns,
            by_keyword,
            prefixes,
            max_decode_depth,
            join: true,
            short,
            longest_key,
            halved,
            shortest,
            classifier,
            attested: rules
                .rules
                .iter()
                .any(|r| r.spec.attested && r.spec.near_keywords),
            rules,
        }
    }

    /// Whether the window around a hit of `pattern`'s base64 `form` is to be decoded: always,
    /// unless it is a half or a short keyword's form, whose checks pass (either, for a needle
    /// that finds both).
    fn worth_decoding(&self, pattern: &Pattern, hay: &[u8], hit: usize, form: &Base64Form) -> bool {
        if !pattern.half && !pattern.short {
            return true;
        }
        (pattern.half && decode::worth_decoding(hay, hit, form, &self.halved))
            || (pattern.short && decode::spells(hay, hit, form, &self.shortest))
    }

    /// This matcher putting split keys back together (the default) or not (`--no-join`).
    #[must_use]
    pub fn with_join(mut self, join: bool) -> Self {
        self.join = join;
        self
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The longest distance around a hit that matching looks at, in bytes: a stream must carry at
    /// least twice this much from one chunk to the next.
    pub fn reach(&self) -> usize {
        let rule_reach = self
            .rules
            .rules
            .iter()
            .map(|r| {
                let context = !r.spec.context.is_empty();
                r.spec.max_len + usize::from(context) * crate::rules::CONTEXT_BYTES
            })
            .max()
            .unwrap_or(0);
        rule_reach.max(2 * decode::WINDOW + 64) + 64
    }

    /// Finds every key in `hay`, sorted by offset, one per span (the earlier rule wins a tie).
    pub fn find(&self, hay: &[u8]) -> Found {
        self.find_with(hay, None)
    }

    /// As `find`, knowing (from a byte-order mark) that UTF-16 characters start at offsets of
    /// parity `utf16_parity` in `hay`, which settles the byte order of UTF-16 hits.
    pub fn find_with(&self, hay: &[u8], utf16_parity: Option<usize>) -> Found {
        let mut found = Found {
            work: Work::for_len(hay.len()),
            ..Found::default()
        };
        self.find_layer(hay, 0, utf16_parity, &|i, _| i, &[], &mut found);
        // A key found at one place by several routes (as written and decoded) is found as
        // written, or through the fewest decodings.
        found
            .keys
            .sort_by_key(|m| (m.start, m.decoded.len(), m.rule, m.end));
        // Keys cannot overlap: of matches over the same bytes, the first (earliest rule) stays.
        let mut last_end = 0;
        found.keys.retain(|m| {
            let keep = m.start >= last_end;
            if keep {
                last_end = m.end;
            }
            keep
        });
        found.placeholders.sort_unstable();
        found.placeholders.dedup();
        found.unattributed.sort_unstable();
        found.unattributed.dedup();
        // A shape two providers share (DeepSeek's and Qwen's `sk-` + 32 hex) is unattributed
        // only when no rule found it as a key.
        let keys = &found.keys;
        found
            .unattributed
            .retain(|&at| keys.binary_search_by_key(&at, |m| m.start).is_err());
        found
    }

    #[allow(clippy::too_many_arguments)]
    fn find_layer(
        &self,
        hay: &[u8],
        depth: usize,
        utf16_parity: Option<usize>,
        outer: &dyn Fn(usize, bool) -> usize,
        layers: &[Decoding],
        found: &mut Found,
    ) {
        let mut decodes = decode::Decodes::default();
        // Each keyword's plain hits, sized on the first one: most haystacks (every name) have
        // none, and pay for no table of empty lists.
        let mut plain: Vec<Vec<(usize, usize)>> = Vec::new();
        let scan = self.classifier.scan(hay);
        for hit in self.prefilter.hits(hay, &scan) {
            if found.stopped.is_some() {
                return;
            }
            let pattern = &self.patterns[hit.pattern];
            let class = match &pattern.encoding {
                Encoding::Plain => 0,
                Encoding::Utf16 => decode::Decodes::utf16_class(hit.start),
                Encoding::Base64(form) => decode::Decodes::base64_class(hit.start, form),
                Encoding::Escaped(escape) => escape.class(hit.start),
            };
            let decoded = match &pattern.encoding {
                Encoding::Plain => {
                    if plain.is_empty() {
                        plain.resize_with(self.by_keyword.len(), Vec::new);
                    }
                    plain[pattern.keyword].push((hit.start, hit.end));
                    continue;
                }
                _ if depth >= self.max_decode_depth || decodes.covers(class, hit.start) => continue,
                Encoding::Utf16 => {
                    let window =
                        decode::utf16_window(hay, hit.start, hit.end - hit.start, utf16_parity);
                    (Decoding::Utf16, window)
                }
                Encoding::Base64(form) => {
                    if !self.worth_decoding(pattern, hay, hit.start, form) {
                        continue;
                    }
                    (
                        Decoding::Base64,
                        decode::base64_window(hay, hit.start, form),
                    )
                }
                Encoding::Escaped(escape) => {
                    if !escape::spells_prefix(hay, hit.start, *escape, &self.prefixes) {
                        continue;
                    }
                    (escape.label(), escape::window(hay, hit.start, *escape))
                }
            };
            decodes.record(class, &decoded.1);
            self.search_decoded(decoded, depth, outer, layers, found);
        }
        if depth < self.max_decode_depth && !plain.is_empty() {
            self.unescape_plain_hits(hay, &plain, &mut decodes, depth, outer, layers, found);
        }
        self.check_rules(hay, &plain, outer, layers, found);
        if self.join {
            self.find_joined(hay, &plain, &scan.quotes, depth, outer, layers, found);
        }
    }

    /// Decodes the window around each plain hit whose token holds escapes (`sk-ab%2Bc`,
    /// `sk-ab\/c`): a key split by an escape is found in the decoded text.
    #[allow(clippy::too_many_arguments)]
    fn unescape_plain_hits(
        &self,
        hay: &[u8],
        plain: &[Vec<(usize, usize)>],
        decodes: &mut decode::Decodes,
        depth: usize,
        outer: &dyn Fn(usize, bool) -> usize,
        layers: &[Decoding],
        found: &mut Found,
    ) {
        let mut hits: Vec<(usize, usize)> = plain.iter().flatten().copied().collect();
        hits.sort_unstable();
        hits.dedup();
        for (s, e) in hits {
            for escape in escape::inline_escapes(hay, s, e) {
                let class = escape.class(s);
                if decodes.covers(class, s) {
                    continue;
                }
                let decoded = escape::window(hay, s, escape);
                decodes.record(class, &decoded);
                self.search_decoded((escape.label(), decoded), depth, outer, layers, found);
            }
        }
    }

    fn search_decoded(
        &self,
        (layer, decoded): (Decoding, Decoded),
        depth: usize,
        outer: &dyn Fn(usize, bool) -> usize,
        layers: &[Decoding],
        found: &mut Found,
    ) {
        if decoded.bytes.is_empty() {
            return;
        }
        let mut inner_layers = layers.to_vec();
        inner_layers.push(layer);
        let map = |i: usize, is_end: bool| outer(decoded.outer_offset(i, is_end), is_end);
        self.find_layer(&decoded.bytes, depth + 1, None, &map, &inner_layers, found);
    }

    /// Runs each rule over the union of the windows around its keywords' hits (`plain`, per
    /// keyword), once per region, keeping the matches that cover a hit.
    fn check_rules(
        &self,
        hay: &[u8],
        plain: &[Vec<(usize, usize)>],
        outer: &dyn Fn(usize, bool) -> usize,
        layers: &[Decoding],
        found: &mut Found,
    ) {
        // No keyword hit (most names, most windows): only an attested rule has work.
        if plain.is_empty() && !self.attested {
            return;
        }
        // Each rule's hits from the keywords that were hit (most rules have none in a blob), a
        // table only when some keyword was hit.
        let mut per_rule: Vec<Vec<(usize, usize)>> = Vec::new();
        for (k, kw_hits) in plain.iter().enumerate().filter(|(_, h)| !h.is_empty()) {
            if per_rule.is_empty() {
                per_rule.resize_with(self.rules.rules.len(), Vec::new);
            }
            for &ri in &self.by_keyword[k] {
                per_rule[ri].extend_from_slice(kw_hits);
            }
        }
        for (ri, rule) in self.rules.rules.iter().enumerate() {
            let mut hits = per_rule.get_mut(ri).map(std::mem::take).unwrap_or_default();
            if rule.spec.attested && rule.spec.near_keywords {
                // The user named the provider (`keyhound verify --provider`): no keyword needed.
                self.check_near(ri, hay, 0..hay.len(), outer, layers, found);
                continue;
            }
            if hits.is_empty() {
                continue;
            }
            if found.stopped.is_some() {
                return;
            }
            hits.sort_unstable();
            hits.dedup();
            if rule.spec.near_keywords {
                for &(s, e) in &hits {
                    let w = checks::context_window(hay, s, e);
                    self.check_near(ri, hay, w, outer, layers, found);
                }
                continue;
            }
            let reach = rule.spec.max_len;
            for group in regions(&hits, reach) {
                let region = Region { hits: group, reach };
                self.check_region(ri, hay, &region, outer, layers, found);
            }
        }
    }

    /// A rule that needs only a keyword nearby: every match in the hit's context `w`.
    fn check_near(
        &self,
        ri: usize,
        hay: &[u8],
        w: std::ops::Range<usize>,
        outer: &dyn Fn(usize, bool) -> usize,
        layers: &[Decoding],
        found: &mut Found,
    ) {
        let rule = &self.rules.rules[ri];
        found.searched += w.len();
        if !found.take(ri, w.len()) {
            return;
        }
        let window = &hay[w.clone()];
        let mut pos = 0;
        while let Some(caps) = rule.regex().captures_at(window, pos) {
            // Its captures, and the search for the next match to the window's end.
            let m = caps.get(0).expect("group 0 always matches");
            if !found.take(ri, m.len() + w.len() - m.end()) {
                return;
            }
            let recorded = record(ri, rule, hay, w.start, &caps, outer, layers, found);
            if found.out_of_work(ri) {
                return;
            }
            pos = match escape_tail(hay, w.start + m.start()) {
                // `%3D<key>`: a match that took the escape's digits hides the key after them.
                Some(len) if !recorded => m.start() + len,
                _ => m.end().max(m.start() + 1),
            };
        }
    }

    fn check_region(
        &self,
        ri: usize,
        hay: &[u8],
        region: &Region<'_>,
        outer: &dyn Fn(usize, bool) -> usize,
        layers: &[Decoding],
        found: &mut Found,
    ) {
        let rule = &self.rules.rules[ri];
        let (w0, w1) = region.bounds(hay.len());
        let span = region.longest_match();
        let mut pos = w0;
        while pos < w1 {
            // Each search sees at most two match lengths: a pattern that must look far ahead
            // to choose between alternatives cannot make each match cost the whole region.
            let stop = (pos + 2 * span).min(w1);
            found.searched += stop - pos;
            if !found.take(ri, stop - pos) {
                return;
            }
            let Some(mut caps) = rule.regex().captures_at(&hay[w0..stop], pos - w0) else {
                pos = if stop == w1 { w1 } else { stop - span };
                continue;
            };
            let m = caps.get(0).expect("group 0 always matches");
            if w0 + m.end() == stop && stop < w1 {
                // Cut by the slice's end: match again with room for a whole match from there.
                let (at, stop) = (w0 + m.start(), (w0 + m.start() + 2 * span).min(w1));
                found.searched += stop - at;
                if !found.take(ri, stop - at) {
                    return;
                }
                if let Some(longer) = rule.regex().captures_at(&hay[w0..stop], at - w0) {
                    caps = longer;
                }
            }
            let m = caps.get(0).expect("group 0 always matches");
            let (start, end) = (w0 + m.start(), w0 + m.end());
            // Its captures were taken over the match.
            if !found.take(ri, m.len()) {
                return;
            }
            // A match turned away does not hide a key starting inside it.
            pos = start + 1;
            if !region.covers(start, end) {
                continue;
            }
            let recorded = record(ri, rule, hay, w0, &caps, outer, layers, found);
            if found.out_of_work(ri) {
                return;
            }
            if !recorded {
                continue;
            }
            pos = end.max(start + 1);
        }
    }
}

/// How many bytes at `at` end an escape that started just before (`3D` of `%3D`, `n` of `\n`):
/// a key may follow them, as [`checks`] allows.
fn escape_tail(hay: &[u8], at: usize) -> Option<usize> {
    let before = *hay.get(at.checked_sub(1)?)?;
    let rest = hay.get(at..)?;
    match (before, rest) {
        (b'%', [a, b, ..]) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => Some(2),
        (b'\\', [b'n' | b'r' | b't', ..]) => Some(1),
        _ => None,
    }
}

/// Judges the match `caps` found in `hay[w0..]` and records it; false when it is no key at
/// all (a look-alike), which then hides nothing starting inside it.
#[allow(clippy::too_many_arguments)]
fn record(
    ri: usize,
    rule: &crate::rules::Rule,
    hay: &[u8],
    w0: usize,
    caps: &regex::bytes::Captures<'_>,
    outer: &dyn Fn(usize, bool) -> usize,
    layers: &[Decoding],
    found: &mut Found,
) -> bool {
    let start = w0 + caps.get(0).expect("group 0 always matches").start();
    match checks::judge(rule, hay, w0, caps, &mut found.work) {
        Verdict::LookAlike => return false,
        Verdict::Placeholder => found.placeholders.push(outer(start, false)),
        Verdict::Unattributed => found.unattributed.push(outer(start, false)),
        Verdict::Key => {
            let secret = checks::secret_of(caps);
            let (s, e) = (w0 + secret.start(), w0 + secret.end());
            let paired = pair::find(rule, hay, s, e, &mut found.work).map(|p| Paired {
                start: outer(p.start, false),
                end: outer(p.end, true),
                secret: p.secret,
            });
            let hints = hints::find(rule, hay, s, e);
            found.keys.push(RawMatch {
                rule: ri,
                start: outer(s, false),
                end: outer(e, true).max(outer(s, false) + 1),
                secret: String::from_utf8_lossy(secret.as_bytes()).into_owned(),
                prefix_len: checks::prefix_len(caps),
                decoded: layers.to_vec(),
                paired,
                hints,
                pieces: 0,
            });
        }
    }
    true
}

/// One rule's hits (sorted) whose windows (`reach` bytes either side) overlap.
struct Region<'h> {
    hits: &'h [(usize, usize)],
    reach: usize,
}

impl Region<'_> {
    /// The bytes searched: from the first hit's window start to the last hit's window end.
    fn bounds(&self, len: usize) -> (usize, usize) {
        let first = self.hits.first().map_or(0, |h| h.0);
        let last = self.hits.iter().map(|h| h.1).max().unwrap_or(0);
        (
            first.saturating_sub(self.reach),
            (last + self.reach).min(len),
        )
    }

    /// The longest match that can cover a hit: a window either side of the longest hit.
    fn longest_match(&self) -> usize {
        let hit = self.hits.iter().map(|h| h.1 - h.0).max().unwrap_or(0);
        2 * self.reach + hit.max(1)
    }

    /// Whether a match over `start..end` holds a whole hit and fits in that hit's window.
    fn covers(&self, start: usize, end: usize) -> bool {
        let from = self.hits.partition_point(|h| h.0 < start);
        self.hits[from..]
            .iter()
            .take_while(|h| h.0 <= end)
            .any(|h| h.1 <= end && h.0 - start <= self.reach && end - h.1 <= self.reach)
    }
}

/// Splits sorted hits into runs whose windows overlap, each spanning at most `MAX_REGION`.
fn regions(hits: &[(usize, usize)], reach: usize) -> Vec<&[(usize, usize)]> {
    let mut out = Vec::new();
    let mut begin = 0;
    let mut end_of_run = 0;
    for (i, h) in hits.iter().enumerate() {
        let joins = i > begin
            && h.0.saturating_sub(reach) <= end_of_run + reach
            && h.1 - hits[begin].0 <= MAX_REGION;
        if i > begin && !joins {
            out.push(&hits[begin..i]);
            begin = i;
        }
        end_of_run = if i == begin { h.1 } else { end_of_run.max(h.1) };
    }
    out.push(&hits[begin..]);
    out
}

/// The prefilter's needles: each keyword; with decoding, its UTF-16 form, its base64 forms (in
/// halves, so that a line wrap inside one does not hide it) and its escaped forms; with two
/// levels of decoding, base64 of its UTF-16 form (PowerShell's `-EncodedCommand`), UTF-16 of its
/// base64 forms and base64 of its base64 forms (the base64 and hex ones searched only where a
/// long base64 run is, [`Gate::Base64Run`]; escape openings by their first byte,
/// [`Gate::Opening`]). The keywords come first (a tie goes to a keyword as written); an
/// encoded needle that another one already finds is left out (see [`covered`]).
fn patterns_for(
    keywords: &[Vec<u8>],
    max_decode_depth: usize,
) -> (Vec<Vec<u8>>, Vec<Pattern>, Vec<Gate>) {
    let mut out: (Vec<Vec<u8>>, Vec<Pattern>, Vec<Gate>) = (Vec::new(), Vec::new(), Vec::new());
    for (k, kw) in keywords.iter().enumerate() {
        out.0.push(kw.clone());
        out.1.push(Pattern {
            keyword: k,
            encoding: Encoding::Plain,
            half: false,
            short: false,
        });
        out.2.push(Gate::Always);
    }
    let mut encoded: Vec<(Needle, usize)> = Vec::new();
    if max_decode_depth > 0 {
        for (k, kw) in keywords.iter().enumerate() {
            encoded.extend(
                encoded_forms(kw, max_decode_depth)
                    .into_iter()
                    .map(|n| (n, k)),
            );
        }
    }
    // Shortest first, so that each needle is checked against the ones that may find it.
    encoded.sort_by_key(|(n, _)| n.text.len());
    let mut kept: Vec<(Needle, usize)> = Vec::new();
    let mut starts = KeptStarts::default();
    for (needle, k) in encoded {
        let covering = covering_kept(&needle, &kept, &starts);
        if covering.is_empty() {
            starts.add(&needle.text, kept.len());
            kept.push((needle, k));
        } else {
            // A needle that finds another one is decoded wherever either would be: wherever
            // it hits, unless both are checked, and then where either check passes.
            for i in covering {
                let kept = &mut kept[i].0;
                if !needle.half && !needle.short {
                    (kept.half, kept.short) = (false, false);
                } else if kept.half || kept.short {
                    kept.half |= needle.half;
                    kept.short |= needle.short;
                }
            }
        }
    }
    for (needle, keyword) in kept {
        out.0.push(needle.text);
        out.1.push(Pattern {
            keyword,
            encoding: needle.encoding,
            half: needle.half,
            short: needle.short,
        });
        out.2.push(needle.gate);
    }
    out
}

/// An encoded needle: its text, how it is decoded, where it can occur, and whether it is a half
/// of a keyword's base64 form or a short keyword's whole one (see [`Pattern`]).
struct Needle {
    text: Vec<u8>,
    encoding: Encoding,
    gate: Gate,
    half: bool,
    short: bool,
}

impl Needle {
    fn new(text: Vec<u8>, encoding: Encoding, gate: Gate) -> Self {
        Needle {
            text,
            encoding,
            gate,
            half: false,
            short: false,
        }
    }
}

/// One keyword's encoded needles (see [`patterns_for`]).
fn encoded_forms(kw: &[u8], max_decode_depth: usize) -> Vec<Needle> {
    let mut out = Vec::new();
    if kw.len() < MIN_UTF16_KEYWORD {
        return out;
    }
    out.push(Needle::new(
        decode::utf16_form(kw),
        Encoding::Utf16,
        Gate::Always,
    ));
    for (needle, escape, gate) in escape::needles(kw) {
        out.push(Needle::new(needle, Encoding::Escaped(escape), gate));
    }
    let base64 =
        |form: Base64Form| Needle::new(form.text.clone(), Encoding::Base64(form), Gate::Base64Run);
    if max_decode_depth >= 2 && kw.len() >= MIN_WHOLE_BASE64_KEYWORD {
        for form in nested::needles(kw) {
            out.push(Needle::new(
                form.text.clone(),
                Encoding::Base64(form),
                Gate::NestedRun,
            ));
        }
    }
    if kw.len() < MIN_ENCODED_KEYWORD {
        // Too short to find in halves: its whole base64 forms (4 to 6 characters), only inside
        // long base64 runs, where a one-line base64 value is. A wrap inside the form hides it.
        // Shorter still (`hf_`, `r8_`): forms of 3 and 4 characters, which long base64 holds
        // by chance, decoded only when the characters around them spell the keyword.
        let short = kw.len() < MIN_WHOLE_BASE64_KEYWORD;
        out.extend(decode::base64_forms(kw).into_iter().map(|form| Needle {
            short,
            ..base64(form)
        }));
        return out;
    }
    // A key's base64 is a long run, or runs on over full lines to a last one (see `Gate`).
    for form in decode::base64_needles(kw) {
        out.push(Needle {
            half: true,
            ..base64(form)
        });
    }
    if max_decode_depth >= 2 {
        let wide: Vec<u8> = kw.iter().flat_map(|&b| [b, 0]).collect();
        // Whole forms: PowerShell's `-EncodedCommand` is one line.
        for form in decode::base64_forms(&wide) {
            if form.text.iter().any(|&b| b == b'-' || b == b'_') {
                continue;
            }
            out.push(base64(form));
        }
        for form in decode::base64_forms(kw) {
            out.push(Needle::new(
                decode::utf16_form(&form.text),
                Encoding::Utf16,
                Gate::Always,
            ));
        }
    }
    out
}

/// The kept needles by their first 3 bytes: each place of a needle is compared only with the
/// kept ones starting with its 3 bytes there (one lookup a place), not every substring of every
/// length hashed and looked up (which cost a one-line scan 3 ms of start-up), nor every pair
/// compared (4 ms more), nor every kept needle with the same first byte (160,000 comparisons,
/// 2 M instructions more than this: a base64 character starts 20 needles or so).
#[derive(Default)]
struct KeptStarts {
    /// Needles of 3 bytes or more, by their first 3 (see [`start_key`]).
    long: HashMap<u32, Vec<usize>, BuildHasherDefault<StartHasher>>,
    /// Shorter ones (an escape's opening of 2 bytes), compared everywhere.
    short: Vec<usize>,
}

impl KeptStarts {
    /// Adds kept needle `i`, whose text is `text`.
    fn add(&mut self, text: &[u8], i: usize) {
        match start_key(text) {
            Some(key) => self.long.entry(key).or_default().push(i),
            None => self.short.push(i),
        }
    }

    /// The kept needles that may start `text`: those whose first 3 bytes it starts with, and the
    /// short ones.
    fn candidates<'a>(&'a self, text: &[u8]) -> impl Iterator<Item = usize> + 'a {
        let long = start_key(text).and_then(|key| self.long.get(&key));
        long.into_iter().flatten().chain(&self.short).copied()
    }
}

/// The first 3 bytes of `text` as one number, if it has 3.
fn start_key(text: &[u8]) -> Option<u32> {
    let [a, b, c] = *text.first_chunk::<3>()?;
    Some(u32::from_le_bytes([a, b, c, 0]))
}

/// Hashes a [`start_key`] with one multiplication: SipHash took as long as the comparisons the
/// lookups saved.
#[derive(Default)]
struct StartHasher(u64);

impl Hasher for StartHasher {
    fn finish(&self) -> u64 {
        // The product's high half mixes every bit of the key: it makes the low bits, which
        // pick the bucket.
        self.0.rotate_left(32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, key: u32) {
        self.0 = u64::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The kept needles that cover `b` (see [`covered_at`]): those that stand in `b` somewhere,
/// found among the ones that may start `b` there (`starts`).
fn covering_kept(b: &Needle, kept: &[(Needle, usize)], starts: &KeptStarts) -> Vec<usize> {
    let text = &b.text;
    let mut out = Vec::new();
    for at in 0..text.len() {
        out.extend(starts.candidates(&text[at..]).filter(|&i| {
            let a = &kept[i].0;
            text[at..].starts_with(&a.text) && covered_at(a, b, at)
        }));
    }
    out
}

/// Whether needle `a`, standing in needle `b` at offset `at`, finds every occurrence of `b`
/// with the same decoding, searched wherever `b` would be: `at` keeps the decoding's grid (a
/// base64 quantum, a UTF-16 character, a hex pair). Then `b` is not needed.
fn covered_at(a: &Needle, b: &Needle, at: usize) -> bool {
    let everywhere = matches!(a.gate, Gate::Always | Gate::Opening);
    if !everywhere && a.gate != b.gate {
        return false;
    }
    match (&a.encoding, &b.encoding) {
        (Encoding::Utf16, Encoding::Utf16)
        | (Encoding::Escaped(Escape::Hex), Encoding::Escaped(Escape::Hex)) => at.is_multiple_of(2),
        (Encoding::Base64(fa), Encoding::Base64(fb)) => {
            (fb.quantum_offset + at) % 4 == fa.quantum_offset
        }
        (Encoding::Escaped(x), Encoding::Escaped(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::template::{Rng, expand};

    fn matcher() -> Matcher {
        Matcher::new(Arc::new(RuleSet::builtin().unwrap()), 1)
    }

    /// A matcher with one repository-style rule: keyword `x`, `pattern` for its body.
    fn adversarial(pattern: &str) -> Matcher {
        let dir = tempfile::tempdir().unwrap();
        let rule = format!(
            "[[rule]]\nid = \"x.adv\"\nname = \"Adv\"\nprovider = \"demo\"\nkind = \"demo\"\n\
             description = \"d\"\nseverity = 5.0\nkeywords = [\"x\"]\nmin_distinct = 3\n\
             pattern = '(?P<body>{pattern})'\nremediation = \"r\"\n"
        );
        std::fs::write(dir.path().join("adv.toml"), rule).unwrap();
        let rules = crate::rules::load_rule_files(&[dir.path().to_path_buf()], &[]).unwrap();
        Matcher::new(Arc::new(rules), 0)
    }

    #[test]
    fn r14_dense_keyword_hits_search_each_byte_a_bounded_number_of_times() {
        // Every byte is a hit; each used to search its own 512-byte window.
        let hay = vec![b'x'; 200_000];
        let window = 2 * (2 * 256 + 1);
        let found = adversarial("x{10,}y").find(&hay);
        assert!(found.keys.is_empty());
        let regions = hay.len() / MAX_REGION + 1;
        let bound = 2 * hay.len() + regions * window;
        assert!(found.searched <= bound, "{}", found.searched);
        // Each match here makes the regex look ahead to its slice's end: a window's worth.
        let found = adversarial("x{10,}y|x").find(&hay[..20_000]);
        assert!(found.searched <= 20_000 * window, "{}", found.searched);
    }

    #[test]
    fn r14_a_rule_matching_every_byte_stops_at_the_work_limit() {
        // Each `x` is a match whose search looks a window ahead: a window's work per byte.
        let hay = vec![b'x'; 100_000];
        let m = adversarial("x{10,}y|x");
        let stopped_by = |f: &Found| f.stopped.map(|ri| m.rules().rules[ri].spec.id.clone());
        let found = m.find(&hay);
        assert_eq!(stopped_by(&found).as_deref(), Some("x.adv"));
        assert!(
            found.placeholders.len() < hay.len() / 2,
            "{}",
            found.placeholders.len()
        );
        // Rejected matches each as long as the window: captures over the window per byte.
        let hay: Vec<u8> = [[b'x'; 500].as_slice(), b"y"].concat().repeat(200);
        let m = adversarial("x{10,}y");
        assert!(m.find(&hay).stopped.is_some());
    }

    #[test]
    fn r14_keys_as_dense_as_they_come_stay_within_the_work_limit() {
        let mut text = String::new();
        for seed in 0..300 {
            let k = key("sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", seed);
            text.push_str(&format!("OPENAI_API_KEY={k}\n"));
        }
        let found = matcher().find(text.as_bytes());
        assert_eq!((found.stopped, found.keys.len()), (None, 300));
        let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &text);
        let found = matcher().find(encoded.as_bytes());
        assert_eq!((found.stopped, found.keys.len()), (None, 300));
    }

    #[test]
    fn r14_a_rule_cannot_widen_its_window_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let rule = "[[rule]]\nid = \"x.w\"\nname = \"W\"\nprovider = \"d\"\nkind = \"d\"\n\
                    description = \"d\"\nseverity = 5.0\nkeywords = [\"x\"]\nmax_len = 1000000\n\
                    pattern = '(?P<body>x+)'\nremediation = \"r\"\n";
        std::fs::write(dir.path().join("w.toml"), rule).unwrap();
        let err = crate::rules::load_rule_files(&[dir.path().to_path_buf()], &[]).unwrap_err();
        assert!(
            err.to_string().contains("max_len 1000000: at most 4096"),
            "{err}"
        );
    }

    fn key(t: &str, seed: u64) -> String {
        expand(t, &mut Rng::new(seed)).unwrap()
    }

    #[test]
    fn finds_a_project_key_and_its_span() {
        let k = key("sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", 1);
        let text = format!("OPENAI_API_KEY=\"{k}\"\n");
        let found = matcher().find(text.as_bytes());
        assert_eq!(found.keys.len(), 1);
        let m = &found.keys[0];
        assert_eq!(
            (m.start, m.end, m.secret.as_str()),
            (16, 16 + k.len(), k.as_str())
        );
        assert_eq!(m.prefix_len, 8);
    }

    #[test]
    fn adjacent_keys_are_each_found_once() {
        let a = key("sk-{alnum:20}T3BlbkFJ{alnum:20}", 2);
        let b = key("sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", 3);
        let text = format!("{a},{b} {a}");
        let found = matcher().find(text.as_bytes());
        let got: Vec<&str> = found.keys.iter().map(|m| m.secret.as_str()).collect();
        assert_eq!(got, vec![a.as_str(), b.as_str(), a.as_str()]);
    }

    #[test]
    fn placeholders_are_counted_not_found() {
        let text = format!("sk-proj-{}T3BlbkFJ{}", "A".repeat(74), "B".repeat(74));
        let found = matcher().find(text.as_bytes());
        assert!(found.keys.is_empty());
        assert_eq!(found.placeholders, vec![0]);
    }

    #[test]
    fn base64_and_utf16_keys_map_to_outer_offsets() {
        use base64::Engine as _;
        let k = key("sk-svcacct-{b64url:74}T3BlbkFJ{b64url:74}", 4);
        let enc = base64::engine::general_purpose::STANDARD.encode(format!("KEY={k}\n"));
        let text = format!("secret: {enc}\n");
        let found = matcher().find(text.as_bytes());
        assert_eq!(found.keys.len(), 1, "{text}");
        assert_eq!(found.keys[0].secret, k);
        assert_eq!(found.keys[0].decoded, vec![Decoding::Base64]);
        assert!((8 + 4..8 + 8).contains(&found.keys[0].start));

        let utf16: Vec<u8> = format!("k = {k};")
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let found = matcher().find(&utf16);
        assert_eq!(found.keys.len(), 1);
        assert_eq!(
            (found.keys[0].start, found.keys[0].decoded.clone()),
            (8, vec![Decoding::Utf16])
        );
    }

    #[test]
    fn wrapped_base64_is_found_wherever_a_line_break_splits_the_marker() {
        use base64::Engine as _;
        let k = key("sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", 6);
        for pad in 0..80 {
            let plain = format!("{}OPENAI_API_KEY={k}\n", "#".repeat(pad));
            let enc = base64::engine::general_purpose::STANDARD.encode(&plain);
            let lines: Vec<&str> = enc
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            let text = format!("data:\n  env: |\n    {}\n", lines.join("\r\n    "));
            let found = matcher().find(text.as_bytes());
            assert_eq!(found.keys.len(), 1, "pad {pad}:\n{text}");
            assert_eq!(found.keys[0].secret, k);
        }
    }

    #[test]
    fn one_line_base64_ends_at_its_line() {
        use base64::Engine as _;
        let k = key("sk-{alnum:20}T3BlbkFJ{alnum:20}", 7);
        let enc = base64::engine::general_purpose::STANDARD.encode(&k);
        assert_eq!(enc.len() % 4, 0);
        for next in ["  TRANSFER_RESULT: x", "  abcd: x", "  T: x", "---"] {
            let text = format!("data:\n  OPENAI_API_KEY: {enc}\n{next}\n");
            let found = matcher().find(text.as_bytes());
            assert_eq!(found.keys.len(), 1, "next line {next:?}");
        }
    }

    #[test]
    fn decode_depth_zero_turns_decoding_off() {
        use base64::Engine as _;
        let k = key("sk-admin-{b64url:58}T3BlbkFJ{b64url:58}", 5);
        let enc = base64::engine::general_purpose::STANDARD.encode(&k);
        let m = Matcher::new(Arc::new(RuleSet::builtin().unwrap()), 0);
        assert!(m.find(enc.as_bytes()).keys.is_empty());
        assert_eq!(matcher().find(enc.as_bytes()).keys.len(), 1);
    }
}
