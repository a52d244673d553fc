//! Encoded keywords and the windows around them: the base64 forms of a keyword in its three
//! alignments, its UTF-16 form, and decoding just the window around a hit (never a whole blob),
//! with a map from each decoded byte back to its offset in the outer bytes.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use origins::Origins;
use std::ops::Range;

mod origins;

/// How far around an encoded hit to decode, in encoded characters on each side (at least).
pub const WINDOW: usize = 512;

/// How far right of a hit a decoding goes while the encoded text lasts (base64 characters, UTF-16
/// bytes), so that one decoding covers the hits that follow it.
const REGION: usize = 64 << 10;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A base64 form of a keyword: the characters fully determined by the keyword's bytes when it
/// sits `align` bytes past a 3-byte boundary, and where they start within a 4-character quantum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base64Form {
    pub text: Vec<u8>,
    pub quantum_offset: usize,
}

/// The base64 forms of `keyword` in its three alignments, standard and URL-safe alphabets.
/// Start-up asks for about 600 (a keyword's forms, and those of its forms for base64 inside
/// base64), so the characters are read off the bits here, with two allocations a form, not
/// encoded with the padding in front and cut (1 M instructions more at start-up).
pub fn base64_forms(keyword: &[u8]) -> Vec<Base64Form> {
    let mut forms = Vec::with_capacity(6);
    for align in 0..3usize {
        // The characters only the keyword's bits make up, `align` zero bytes before it.
        let first = (align * 8).div_ceil(6);
        let last = ((align + keyword.len()) * 8) / 6;
        let text: Vec<u8> = (first..last)
            .map(|i| STANDARD[sextet(keyword, align, i)])
            .collect();
        let url: Vec<u8> = text.iter().map(|&b| url_safe(b)).collect();
        for text in [text, url] {
            let form = Base64Form {
                text,
                quantum_offset: first % 4,
            };
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    forms
}

/// The needles that find a keyword's base64 forms, also where a line wrap splits them: the
/// first half of each form and its second half (from one character before the middle). A wrap
/// anywhere inside a form leaves one of the two whole, and together they select as well as the
/// whole form does. Few needles keep the prefilter on its fastest (slim) SIMD path.
pub fn base64_needles(keyword: &[u8]) -> Vec<Base64Form> {
    let mut needles = Vec::new();
    for form in base64_forms(keyword) {
        let mid = form.text.len() / 2;
        needles.push(Base64Form {
            text: form.text[..mid].to_vec(),
            quantum_offset: form.quantum_offset,
        });
        let quantum_offset = (form.quantum_offset + mid - 1) % 4;
        needles.push(Base64Form {
            text: form.text[mid - 1..].to_vec(),
            quantum_offset,
        });
    }
    needles.dedup();
    needles
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The `i`th 6 bits of `keyword` with `align` zero bytes before it.
fn sextet(keyword: &[u8], align: usize, i: usize) -> usize {
    let byte = |k: usize| {
        let b = k.checked_sub(align).and_then(|k| keyword.get(k));
        usize::from(b.copied().unwrap_or(0))
    };
    let bit = 6 * i;
    let pair = byte(bit / 8) << 8 | byte(bit / 8 + 1);
    (pair >> (10 - bit % 8)) & 0x3F
}

fn url_safe(b: u8) -> u8 {
    match b {
        b'+' => b'-',
        b'/' => b'_',
        b => b,
    }
}

/// The UTF-16 form of a keyword with the trailing NUL left off, so it matches both byte orders.
pub fn utf16_form(keyword: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = keyword.iter().flat_map(|&b| [b, 0]).collect();
    out.pop();
    out
}

/// Decoded bytes plus, for each, where its encoding starts and ends in the outer bytes.
#[derive(Debug, Default)]
pub struct Decoded {
    pub bytes: Vec<u8>,
    origins: Origins,
    /// Whether the decoding reached the end of the encoded text (was not cut at [`REGION`]).
    whole_run: bool,
}

impl Decoded {
    /// The outer offset of decoded offset `i`; with `is_end`, of the exclusive end `i`.
    pub fn outer_offset(&self, i: usize, is_end: bool) -> usize {
        match (is_end, i) {
            (true, 0) if self.bytes.is_empty() => 0,
            (true, 0) => self.origins.start(0),
            (true, i) => self.origins.end(i - 1),
            (false, i) => self.origins.start(i),
        }
    }

    /// Appends decoded byte `b`, written at `start..end` in the outer bytes.
    pub fn push(&mut self, b: u8, start: usize, end: usize) {
        self.bytes.push(b);
        self.origins.push(start, end);
    }

    /// Where the last byte's encoding ends, if there is one.
    fn end(&self) -> Option<usize> {
        let len = self.bytes.len();
        (len > 0).then(|| self.origins.end(len - 1))
    }

    /// The first decoded byte whose encoding starts at `at` or after it.
    fn first_from(&self, at: usize) -> usize {
        let (mut lo, mut hi) = (0, self.bytes.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.origins.start(mid) < at {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The outer range of the decoded range `start..end`.
    #[cfg(test)]
    pub fn outer(&self, start: usize, end: usize) -> (usize, usize) {
        (
            self.outer_offset(start, false),
            self.outer_offset(end, true),
        )
    }
}

/// The windows decoded so far in one haystack, by alignment class (the byte order of UTF-16,
/// where base64 quanta start): a hit inside a window decoded already, at least the reach of its
/// own window from that window's end, would decode nothing new and is skipped. Windows reach
/// [`REGION`] to the right, so text dense with encoded keywords is decoded about once, not once
/// per hit.
#[derive(Debug, Default)]
pub struct Decodes {
    /// Per class, where the last window ends, and whether the encoded text ends there too
    /// (classes 6 and up are the escapes', [`super::escape::Escape::class`]).
    ends: [(usize, bool); 12],
}

impl Decodes {
    /// The class of a UTF-16 hit at `hit`.
    pub fn utf16_class(hit: usize) -> usize {
        hit % 2
    }

    /// The class of a hit of base64 `form` at `hit`.
    pub fn base64_class(hit: usize, form: &Base64Form) -> usize {
        2 + (hit + 4 - form.quantum_offset % 4) % 4
    }

    /// Whether the hit at `hit`, of `class`, lies well inside a window decoded already.
    pub fn covers(&self, class: usize, hit: usize) -> bool {
        // UTF-16 windows are counted in bytes, two a character; base64 ones in characters.
        let margin = match class {
            0 | 1 => 2 * WINDOW,
            2..6 => WINDOW + 16,
            _ => super::escape::RIGHT / 2,
        };
        match self.ends[class] {
            (end, true) => hit < end,
            (end, false) => hit + margin <= end,
        }
    }

    /// Notes the window `decoded` (of `class`) as decoded.
    pub fn record(&mut self, class: usize, decoded: &Decoded) {
        if let Some(end) = decoded.end() {
            self.ends[class] = (end, decoded.whole_run);
        }
        #[cfg(test)]
        DECODED.set(DECODED.get() + 1);
    }
}

#[cfg(test)]
thread_local! {
    /// Windows decoded on this thread, for tests that count them.
    pub static DECODED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Transcodes the UTF-16 text around a hit at `hit` (the keyword's first character), [`WINDOW`]
/// characters left and [`REGION`] bytes right, to bytes:
/// ASCII code units become their byte, anything else `0xFF`, which no key contains.
///
/// For ASCII text the two byte orders differ only by a shift of one byte. `char_parity` (from a
/// byte-order mark) says at which parity characters start; without it, the order is the one that
/// pairs the bytes evenly up to the end of the data (else a key at the very end loses a character).
pub fn utf16_window(
    hay: &[u8],
    hit: usize,
    form_len: usize,
    char_parity: Option<usize>,
) -> Decoded {
    let little_endian = match char_parity {
        Some(parity) => hit % 2 == parity,
        None => (hay.len() - hit).is_multiple_of(2),
    } || hit == 0;
    let first = if little_endian { hit } else { hit - 1 };
    let start = first - (first.min(2 * WINDOW) & !1);
    let end = (first + form_len + 1 + REGION).min(hay.len());
    let bytes: Vec<u8> = hay[start..end]
        .chunks_exact(2)
        .map(|unit| {
            let (lo, hi) = if little_endian {
                (unit[0], unit[1])
            } else {
                (unit[1], unit[0])
            };
            if hi == 0 && lo < 0x80 { lo } else { 0xFF }
        })
        .collect();
    Decoded {
        origins: Origins::Units {
            from: start,
            len: bytes.len(),
        },
        bytes,
        whole_run: end == hay.len(),
    }
}

/// Whether `b` is a base64 character of either alphabet (without `=`), as the decoder reads them.
pub(super) fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Decodes the base64 run around a hit of `form` at `hit`, following line wraps, at most
/// [`WINDOW`] characters left and [`REGION`] right.
pub fn base64_window(hay: &[u8], hit: usize, form: &Base64Form) -> Decoded {
    base64_window_within(hay, hit, form, WINDOW, REGION)
}

/// Whether the window around a hit of a half of a keyword's base64 form is worth decoding: the
/// base64 text around it, decoded in the hit's alignment ([`SPELL_REACH`] characters either
/// side, following line wraps), spells one of `keywords` (the keyword whose half it is, also when
/// a line wrap splits the form), or decodes to text from the hit on ([`TEXT_RUN`] bytes of
/// printable ASCII, as in a base64 env file, where a key whose keyword has no base64 needles is
/// found beside `_API_KEY`, half of `CO_API_KEY`'s form). A half is 4 or 5 characters, which
/// base64 images hold by chance; what they decode to is seldom text.
pub fn worth_decoding(hay: &[u8], hit: usize, form: &Base64Form, keywords: &[Vec<u8>]) -> bool {
    let near = base64_window_within(hay, hit, form, SPELL_REACH, SPELL_REACH);
    if keywords
        .iter()
        .any(|k| memchr::memmem::find(&near.bytes, k).is_some())
    {
        return true;
    }
    let from = near.first_from(hit);
    let text = &near.bytes[from..near.bytes.len().min(from + TEXT_RUN)];
    !text.is_empty()
        && text
            .iter()
            .all(|&b| matches!(b, b' '..=b'~' | b'\t' | b'\n' | b'\r'))
}

/// Whether the base64 text around a hit of a short keyword's whole form (3 or 4 characters, `hf_`
/// in one alignment) decodes, in the hit's alignment, to one of `keywords`: the form's
/// characters leave up to 6 of the keyword's bits to the characters beside it, so a form long
/// base64 holds by chance passes once in 64 or less, and its window is seldom decoded.
pub fn spells(hay: &[u8], hit: usize, form: &Base64Form, keywords: &[Vec<u8>]) -> bool {
    let near = base64_window_within(hay, hit, form, SPELL_BESIDE, SPELL_BESIDE);
    keywords
        .iter()
        .any(|k| memchr::memmem::find(&near.bytes, k).is_some())
}

/// How far either side of a short form's hit [`spells`] decodes, in base64 characters: the
/// quantum before it and the form with the quantum after it.
const SPELL_BESIDE: usize = 8;

/// How far either side of a half hit [`worth_decoding`] decodes, in base64 characters: a
/// keyword's whole form (at most `4 * (len + 2) / 3` characters) around the half.
pub const SPELL_REACH: usize = 64;

/// How many decoded bytes from a half hit must be text for [`worth_decoding`]: random bytes
/// pass with a chance of (98/256)^16, about 2 in 10^7.
const TEXT_RUN: usize = 16;

/// [`base64_window`] with at most `left` characters left of the hit and `right` from it.
fn base64_window_within(
    hay: &[u8],
    hit: usize,
    form: &Base64Form,
    left_limit: usize,
    right_limit: usize,
) -> Decoded {
    let (left, left_len) = collect_left(hay, hit, left_limit);
    let (right, right_len) = collect_right(hay, hit, right_limit);
    let whole_run = right_len < right_limit;
    let hit_index = match right.first() {
        Some(r) if r.start == hit => left_len,
        _ => 0,
    };
    let mut pieces: Vec<Range<usize>> = left.into_iter().rev().chain(right).collect();
    let skip = (hit_index + 4 - form.quantum_offset % 4) % 4;
    let chars = left_len + right_len;
    let kept = chars.saturating_sub(skip);
    trim(&mut pieces, skip, usize::from(kept % 4 == 1));
    let mut text = Vec::with_capacity(kept);
    for piece in &pieces {
        text.extend(hay[piece.clone()].iter().map(|&b| standard(b)));
    }
    let Ok(bytes) = LENIENT.decode(&text) else {
        return Decoded::default();
    };
    let origins = Origins::chars(pieces);
    debug_assert_eq!(origins.len(), bytes.len());
    Decoded {
        bytes,
        origins,
        whole_run,
    }
}

/// Drops `front` characters from the first pieces and `back` from the last ones.
fn trim(pieces: &mut Vec<Range<usize>>, mut front: usize, mut back: usize) {
    while front > 0 && !pieces.is_empty() {
        let cut = front.min(pieces[0].len());
        pieces[0].start += cut;
        front -= cut;
        if pieces[0].is_empty() {
            pieces.remove(0);
        }
    }
    while back > 0 {
        let Some(last) = pieces.last_mut() else { break };
        let cut = back.min(last.len());
        last.end -= cut;
        back -= cut;
        if last.start == last.end {
            pieces.pop();
        }
    }
}

fn standard(b: u8) -> u8 {
    match b {
        b'-' => b'+',
        b'_' => b'/',
        b => b,
    }
}

/// The run's characters left of `hit`, at most `limit` of them: its pieces of contiguous text,
/// nearest first, and how many characters they hold.
fn collect_left(hay: &[u8], hit: usize, limit: usize) -> (Vec<Range<usize>>, usize) {
    let mut out: Vec<Range<usize>> = Vec::new();
    let (mut at, mut n) = (hit, 0);
    while n < limit && at > 0 {
        if is_b64(hay[at - 1]) {
            at -= 1;
            n += 1;
            match out.last_mut() {
                Some(piece) if piece.start == at + 1 => piece.start = at,
                _ => out.push(at..at + 1),
            }
        } else if let Some(before) = wrap_before(hay, at) {
            at = before;
        } else {
            break;
        }
    }
    (out, n)
}

/// The run's characters from `hit` rightwards, at most `limit` of them: its pieces of
/// contiguous text, in order, and how many characters they hold.
fn collect_right(hay: &[u8], hit: usize, limit: usize) -> (Vec<Range<usize>>, usize) {
    let mut out: Vec<Range<usize>> = Vec::new();
    let (mut at, mut n) = (hit, 0);
    let mut line_start = run_start(hay, hit);
    while n < limit && at < hay.len() {
        if is_b64(hay[at]) {
            n += 1;
            match out.last_mut() {
                Some(piece) if piece.end == at => piece.end = at + 1,
                _ => out.push(at..at + 1),
            }
            at += 1;
        } else if let Some(next) = wrap_after(hay, at, at - line_start) {
            at = next;
            line_start = next;
        } else {
            break;
        }
    }
    (out, n)
}

/// Where the base64 run that ends at `at` starts on its line (looking back a bounded distance).
fn run_start(hay: &[u8], at: usize) -> usize {
    let mut start = at;
    while start > 0 && is_b64(hay[start - 1]) && at - start < 4 * WINDOW {
        start -= 1;
    }
    start
}

/// Whether a line of base64 this long is a full line of a wrapped run.
fn is_full_line(len: usize) -> bool {
    len >= 40 && len.is_multiple_of(4)
}

/// A line wrap inside a base64 run: `[ \t]*\r?\n[ \t]*` after a full line and before more
/// base64 text. Returns where the next line starts.
fn wrap_after(hay: &[u8], at: usize, line_len: usize) -> Option<usize> {
    if !is_full_line(line_len) {
        return None;
    }
    let i = next_line_start(hay, at)?;
    (i < hay.len() && is_b64(hay[i]) && is_whole_line(hay, i)).then_some(i)
}

/// Where the next line's text starts when only a line break (`[ \t\r]*\n[ \t]*`) follows
/// `at`.
pub(super) fn next_line_start(hay: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    while i < hay.len() && matches!(hay[i], b' ' | b'\t' | b'\r') {
        i += 1;
    }
    if hay.get(i) != Some(&b'\n') {
        return None;
    }
    i += 1;
    while i < hay.len() && matches!(hay[i], b' ' | b'\t') {
        i += 1;
    }
    Some(i)
}

/// Whether the line from `at` is base64 to its end (padding and a closing quote or bracket
/// allowed), as the next line of a wrapped run is, and `TRANSFER: x` after a one-line value is not.
fn is_whole_line(hay: &[u8], at: usize) -> bool {
    let mut j = at;
    while j < hay.len() && is_b64(hay[j]) {
        j += 1;
    }
    while j < hay.len() && hay[j] == b'=' {
        j += 1;
    }
    j == hay.len() || b"\r\n\"'`,;)]}<>&|\\".contains(&hay[j])
}

/// The line wrap left of `at` (the first character of a line), if the line before is a full line.
fn wrap_before(hay: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    while i > 0 && matches!(hay[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    if i == 0 || hay[i - 1] != b'\n' {
        return None;
    }
    i -= 1;
    while i > 0 && matches!(hay[i - 1], b' ' | b'\t' | b'\r') {
        i -= 1;
    }
    is_full_line(i - run_start(hay, i)).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    proptest::proptest! {
        /// Each form is the encoding of the keyword behind `align` bytes, less the characters
        /// those bytes or the missing ones after it share.
        #[test]
        fn forms_are_cut_from_the_encoding(keyword in proptest::collection::vec(0u8.., 1..40)) {
            let mut want: Vec<Base64Form> = Vec::new();
            for align in 0..3 {
                let mut padded = vec![0u8; align];
                padded.extend_from_slice(&keyword);
                let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&padded);
                let cut = &encoded.as_bytes()[(align * 8).div_ceil(6)..(padded.len() * 8) / 6];
                for text in [cut.to_vec(), cut.iter().map(|&b| url_safe(b)).collect()] {
                    let form = Base64Form { text, quantum_offset: (align * 8).div_ceil(6) % 4 };
                    if !want.contains(&form) {
                        want.push(form);
                    }
                }
            }
            proptest::prop_assert_eq!(base64_forms(&keyword), want);
        }
    }

    #[test]
    fn forms_appear_in_every_alignment() {
        let forms = base64_forms(b"T3BlbkFJ");
        for pad in 0..3 {
            let mut data = b"xyz"[..pad].to_vec();
            data.extend_from_slice(b"sk-T3BlbkFJ-tail");
            let enc = b64(&data);
            assert!(
                forms
                    .iter()
                    .any(|f| enc.contains(std::str::from_utf8(&f.text).unwrap())),
                "pad {pad}: {enc}"
            );
        }
    }

    #[test]
    fn window_decodes_around_a_hit_and_maps_back() {
        let forms = base64_forms(b"T3BlbkFJ");
        for pad in 0..3 {
            let mut plain = b"__"[..pad].to_vec();
            plain.extend_from_slice(b"key=sk-abcT3BlbkFJxyz end");
            let text = format!("value: {}\n", b64(&plain));
            let hay = text.as_bytes();
            let (form, hit) = forms
                .iter()
                .find_map(|f| memchr::memmem::find(hay, &f.text).map(|h| (f, h)))
                .unwrap();
            let d = base64_window(hay, hit, form);
            let at = memchr::memmem::find(&d.bytes, b"sk-abc").unwrap();
            assert!(
                std::str::from_utf8(&d.bytes)
                    .unwrap_or("")
                    .contains("T3BlbkFJ"),
                "{:?}",
                d.bytes
            );
            let (s, _) = d.outer(at, at + 3);
            assert!((7..7 + 12).contains(&s), "pad {pad}: outer start {s}");
        }
    }

    #[test]
    fn wrapped_base64_is_followed_across_lines() {
        let plain = format!("{}sk-abcT3BlbkFJxyz{}", "a".repeat(100), "b".repeat(100));
        let enc = b64(plain.as_bytes());
        let wrapped: Vec<&str> = enc
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let text = format!("data:\n  {}\n", wrapped.join("\n  "));
        let hay = text.as_bytes();
        let forms = base64_forms(b"T3BlbkFJ");
        let (form, hit) = forms
            .iter()
            .find_map(|f| memchr::memmem::find(hay, &f.text).map(|h| (f, h)))
            .unwrap();
        let d = base64_window(hay, hit, form);
        assert!(memchr::memmem::find(&d.bytes, plain.as_bytes()).is_some());
    }

    /// Issue 14 point 7: 8 MB of encoded markers took minutes, each hit decoding its window.
    #[test]
    fn r14_dense_encoded_markers_are_decoded_once_per_region() {
        use crate::matcher::Matcher;
        use crate::rules::RuleSet;
        use crate::rules::template::{Rng, expand};
        let key = expand("sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", &mut Rng::new(14)).unwrap();
        let mut plain = "T3BlbkFJ".repeat(30_000);
        plain.insert_str(120_000, &format!(" {key} "));
        let matcher = Matcher::new(std::sync::Arc::new(RuleSet::builtin().unwrap()), 1);
        let utf16: Vec<u8> = plain.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        for hay in [b64(plain.as_bytes()).into_bytes(), utf16] {
            DECODED.set(0);
            let found = matcher.find(&hay);
            assert_eq!(found.keys.len(), 1);
            assert_eq!(found.keys[0].secret, key);
            let regions = hay.len().div_ceil(REGION - 2 * WINDOW);
            assert!(DECODED.get() <= 2 * regions, "{} decodes", DECODED.get());
        }
    }

    /// A half of a keyword's base64 form inside base64 of binary bytes (an image) decodes
    /// nothing; inside base64 of text it decodes its window, as a whole form does anywhere.
    #[test]
    fn a_half_hit_by_chance_in_binary_base64_is_not_decoded() {
        use crate::matcher::Matcher;
        use crate::rules::RuleSet;
        let matcher = Matcher::new(std::sync::Arc::new(RuleSet::builtin().unwrap()), 1);
        let half = base64_needles(b"T3BlbkFJ").remove(0);
        let half = std::str::from_utf8(&half.text).unwrap().to_string();
        let mut state = 7u32;
        let binary: Vec<u8> = (0..3000)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (state >> 16).to_le_bytes()[0] | 0x80
            })
            .collect();
        let image = b64(&binary);
        let image = format!("data: {}{half}{}\n", &image[..2000], &image[2000..]);
        // `_API_KEY` is spelled by a half of `CO_API_KEY`'s form: the env file is decoded.
        let env = "LOG_LEVEL=mapper\nFIREWORKS_API_KEY=fw_none\nROUTE=market\n".repeat(20);
        let env = format!("data: {}\n", b64(env.as_bytes()));
        for (hay, decodes) in [(image, 0), (env, 1)] {
            DECODED.set(0);
            matcher.find(hay.as_bytes());
            assert_eq!(DECODED.get(), decodes, "{hay}");
        }
    }

    #[test]
    fn utf16_both_byte_orders() {
        let le: Vec<u8> = "x=sk-T3BlbkFJ!"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let be: Vec<u8> = "x=sk-T3BlbkFJ!"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        let form = utf16_form(b"T3BlbkFJ");
        for hay in [le, be] {
            let hit = memchr::memmem::find(&hay, &form).unwrap();
            let d = utf16_window(&hay, hit, form.len(), None);
            assert_eq!(d.bytes, b"x=sk-T3BlbkFJ!");
            assert_eq!(d.outer(2, 4).0 / 2, 2);
        }
    }
}
#[cfg(test)]
mod end_tests {
    use super::*;
    #[test]
    fn ends_map_past_the_last_character() {
        for n in 1..8usize {
            let plain: Vec<u8> = b"T3BlbkFJ"
                .iter()
                .copied()
                .chain((0..n).map(|i| b'a' + i as u8))
                .collect();
            let enc = base64::engine::general_purpose::STANDARD.encode(&plain);
            let hay = format!("x {enc} y");
            let forms = base64_forms(b"T3BlbkFJ");
            let (form, hit) = forms
                .iter()
                .find_map(|f| memchr::memmem::find(hay.as_bytes(), &f.text).map(|h| (f, h)))
                .unwrap();
            let d = base64_window(hay.as_bytes(), hit, form);
            assert_eq!(d.bytes, plain, "n={n}");
            let (s, e) = d.outer(0, d.bytes.len());
            let unpadded = enc.trim_end_matches('=').len();
            assert_eq!((s, e), (2, 2 + unpadded), "n={n} enc={enc}");
        }
    }
}
