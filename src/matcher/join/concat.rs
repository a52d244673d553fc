//! String literals joined into one: by `+ . .. || & <> ++ ~`, by adjacency (Python, C, shell's
//! `"a""b"`) or as the arguments of a join (`concat!(…)`, `String.Concat(…)`, `[…].join("")`,
//! commas), with whitespace, line continuations (`\`, VB's `_`) and comments between the pieces.
//! Quotes `"`, `'` and backticks, with the prefixes of raw, byte and verbatim strings (`r"`,
//! `r#"`, `b'`, `@"`, `L"`), and quotes escaped inside a JSON string (a notebook's source).
//!
//! Only a literal holding a keyword hit, or one that is a keyword's first characters, and only
//! when a continuation stands next to it, makes this module read the lines around it.

use super::{Chain, MAX_LINES, Short};
use std::ops::Range;

/// The longest literal content followed.
const MAX_PIECE: usize = 1024;
/// How far before and after the hit's line the literals of a chain are read.
const MAX_REGION: usize = 4096;
/// The operators that join two literals (the empty one is adjacency).
const OPERATORS: &[&[u8]] = &[
    b"", b"+", b".", b"..", b"||", b"&", b"<>", b"++", b"~", b",",
];

/// How quotes are written: as themselves, or escaped inside a JSON string (`\"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    Plain,
    Escaped,
}

impl Quoting {
    /// The length of the quote (and its quote byte) at `at`.
    fn quote_at(self, hay: &[u8], at: usize) -> Option<(usize, u8)> {
        match self {
            Quoting::Plain => hay
                .get(at)
                .filter(|b| is_quote(**b))
                .map(|&b| (1, b))
                .filter(|_| at == 0 || hay[at - 1] != b'\\'),
            Quoting::Escaped => match hay.get(at..at + 2) {
                Some([b'\\', q]) if is_quote(*q) && (at == 0 || hay[at - 1] != b'\\') => {
                    Some((2, *q))
                }
                _ => None,
            },
        }
    }
}

/// Whether `b` opens or closes a string literal: `"`, `'` or a backtick.
pub(in crate::matcher) fn is_quote(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | b'`')
}

/// One string literal: its first byte (a prefix or the opening quote), its content, the byte
/// after its closing quote.
#[derive(Debug, Clone)]
struct Literal {
    start: usize,
    content: Range<usize>,
    end: usize,
}

/// The chains of joined literals through the keyword hit at `s..e`, when the hit's literal has
/// a continuation next to it: of plain quotes and of quotes escaped in a JSON string.
pub fn around(hay: &[u8], s: usize, e: usize) -> impl Iterator<Item = Chain> + '_ {
    [Quoting::Plain, Quoting::Escaped]
        .into_iter()
        .flat_map(move |q| around_with(hay, s, e, q))
}

fn around_with(hay: &[u8], s: usize, e: usize, quoting: Quoting) -> Vec<Chain> {
    let Some(lit) = enclosing(hay, s, e, quoting) else {
        return Vec::new();
    };
    if !continued_after(hay, lit.end, quoting) && !continued_before(hay, lit.start) {
        return Vec::new();
    }
    let lo = line_start_before(hay, s, MAX_LINES);
    let hi = line_end_after(hay, e, MAX_LINES);
    let lexed = lex(hay, lo..hi, quoting);
    let Some(at) = lexed
        .iter()
        .position(|(l, _)| l.content.start <= s && e <= l.content.end)
    else {
        return Vec::new();
    };
    // One operator throughout: `"a" + "b", "c"` is a chain of two and a third argument. The
    // hit's literal may end one chain and start another (`f('x', 'a' || 'b')`).
    let left = lexed[at].1.clone();
    let right = lexed.get(at + 1).and_then(|(_, op)| op.clone());
    let mut chains = Vec::new();
    for kind in [left.clone(), right.filter(|r| Some(r) != left.as_ref())]
        .into_iter()
        .flatten()
    {
        let (mut first, mut last) = (at, at);
        while first > 0 && lexed[first].1.as_ref() == Some(&kind) {
            first -= 1;
        }
        while last + 1 < lexed.len() && lexed[last + 1].1.as_ref() == Some(&kind) {
            last += 1;
        }
        chains.push(Chain {
            pieces: lexed[first..=last]
                .iter()
                .map(|(l, _)| l.content.clone())
                .collect(),
            hit: at - first,
            layer: super::CONCATENATION,
        });
    }
    chains
}

/// The literal on the hit's line whose quotes enclose `s..e`.
fn enclosing(hay: &[u8], s: usize, e: usize, quoting: Quoting) -> Option<Literal> {
    let lo = s.saturating_sub(MAX_PIECE);
    let mut open = None;
    let mut i = s;
    while i > lo {
        i -= 1;
        if hay[i] == b'\n' {
            break;
        }
        if let Some((len, q)) = quoting.quote_at(hay, i) {
            open = Some((i, len, q));
            break;
        }
    }
    let (open, len, q) = open?;
    let lit = literal_at(hay, open, len, q, quoting)?;
    (lit.content.start <= s && e <= lit.content.end).then_some(lit)
}

/// The literal whose opening quote (`len` bytes, quote byte `q`) is at `open`.
fn literal_at(hay: &[u8], open: usize, len: usize, q: u8, quoting: Quoting) -> Option<Literal> {
    let prefix = prefix_len(hay, open);
    let hashes = memchr::memchr_iter(b'#', &hay[open - prefix..open]).count();
    let raw = hay[open - prefix..open]
        .iter()
        .any(|b| matches!(b, b'r' | b'R' | b'@'))
        || q == b'`';
    let content_start = open + len;
    let mut i = content_start;
    let limit = (content_start + MAX_PIECE).min(hay.len());
    while i < limit {
        let b = hay[i];
        match quoting {
            _ if b == b'\n' => return None,
            Quoting::Plain if b == b'\\' && !raw => i += 2,
            Quoting::Plain if b == q && closes_raw(&hay[i + 1..], hashes) => {
                return Some(Literal {
                    start: open - prefix,
                    content: content_start..i,
                    end: i + 1 + hashes,
                });
            }
            Quoting::Escaped if b == b'\\' && hay.get(i + 1) == Some(&q) => {
                return Some(Literal {
                    start: open - prefix,
                    content: content_start..i,
                    end: i + 2,
                });
            }
            Quoting::Escaped if b == b'\\' => i += 2,
            // An unescaped quote ends the JSON string the literal is in.
            Quoting::Escaped if b == b'"' => return None,
            _ => i += 1,
        }
    }
    None
}

/// Whether `after` (the bytes after a closing quote) starts with the `hashes` hashes a raw
/// string opened with (`"#` closes `r#"`).
fn closes_raw(after: &[u8], hashes: usize) -> bool {
    after.len() >= hashes && after[..hashes].iter().all(|&b| b == b'#')
}

/// The string prefix right before an opening quote at `open` (`r`, `b`, `rb`, `r#`, `@`, `$`,
/// `L`, `u8`, `f`), if it stands alone (not the end of a word).
fn prefix_len(hay: &[u8], open: usize) -> usize {
    let mut n = 0;
    while n < 3 && open > n && is_prefix(hay[open - n - 1]) {
        n += 1;
    }
    let word_before =
        open > n && (hay[open - n - 1].is_ascii_alphanumeric() || hay[open - n - 1] == b'_');
    if word_before { 0 } else { n }
}

fn is_prefix(b: u8) -> bool {
    b"rRbBuUfFL8@$#".contains(&b)
}

/// Whether another literal follows the byte at `at` (after a closing quote) across a gap.
fn continued_after(hay: &[u8], at: usize, quoting: Quoting) -> bool {
    let end = (at + MAX_REGION).min(hay.len());
    Gap::read(hay, at..end, quoting).operator().is_some()
}

/// Whether a literal may stand before the one starting at `at`: the bytes before it, back to the
/// last line break or quote, are spaces, operators, continuations or a comment. Lenient: the
/// lexer decides.
fn continued_before(hay: &[u8], at: usize) -> bool {
    let lo = at.saturating_sub(MAX_REGION);
    let mut i = at;
    let mut lines = 0;
    while i > lo {
        i -= 1;
        match hay[i] {
            b'"' | b'\'' | b'`' | b'+' | b'.' | b'|' | b'&' | b'>' | b',' | b'~' => return true,
            b'\n' => {
                lines += 1;
                if lines >= MAX_LINES {
                    return false;
                }
            }
            b' ' | b'\t' | b'\r' | b'\\' | b'_' => {}
            // A comment ends the line before: the lexer reads it.
            _ => return lines > 0 && line_has_comment(hay, i),
        }
    }
    false
}

fn line_has_comment(hay: &[u8], at: usize) -> bool {
    let start = hay[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let line = &hay[start..=at];
    memchr::memmem::find(line, b"//").is_some()
        || memchr::memmem::find(line, b"# ").is_some()
        || memchr::memmem::find(line, b"*/").is_some()
}

/// What lies between two literals.
#[derive(Debug, Default)]
struct Gap {
    /// The operator bytes, spaces, continuations and comments left out.
    op: Vec<u8>,
    /// Where the next literal starts (its prefix or opening quote) and its opening quote, if
    /// the gap reaches one; else where the gap stopped, at a byte no gap holds.
    next: Option<(usize, usize)>,
    stopped: usize,
}

impl Gap {
    /// Reads the gap from `range.start` to the next literal or the first byte no gap may hold.
    fn read(hay: &[u8], range: Range<usize>, quoting: Quoting) -> Gap {
        let mut g = Gap::default();
        let mut i = range.start;
        let mut lines = 0;
        while i < range.end {
            if quoting.quote_at(hay, i).is_some() {
                g.next = Some((i, i));
                return g;
            }
            let b = hay[i];
            let next = hay.get(i + 1).copied();
            match b {
                b'\n' => {
                    lines += 1;
                    if lines >= MAX_LINES {
                        break;
                    }
                }
                b' ' | b'\t' | b'\r' => {}
                b'\\' if matches!(next, Some(b'\n' | b'\r')) => {}
                // Inside a notebook's JSON string: a line break (`\n`), a continuation (`\\`
                // then `\n`), and the quotes between two source lines (`",\n    "`).
                b'\\' if quoting == Quoting::Escaped && next == Some(b'n') => i += 1,
                b'\\' if quoting == Quoting::Escaped && hay[i..].starts_with(b"\\\\\\n") => i += 3,
                b'"' if quoting == Quoting::Escaped => match json_line_break(hay, i) {
                    Some(to) => i = to - 1,
                    None => break,
                },
                b'_' if i > range.start
                    && matches!(hay[i - 1], b' ' | b'\t')
                    && matches!(next, Some(b'\n' | b'\r')) => {}
                b'/' if next == Some(b'/') => i = line_end(hay, i) - 1,
                b'#' if matches!(next, Some(b' ' | b'\t')) => i = line_end(hay, i) - 1,
                b'/' if next == Some(b'*') => {
                    match memchr::memmem::find(&hay[i + 2..range.end], b"*/") {
                        Some(p) => i += p + 3,
                        None => break,
                    }
                }
                b'+' | b'.' | b'|' | b'&' | b'<' | b'>' | b'~' | b',' if g.op.len() < 2 => {
                    g.op.push(b);
                }
                _ => {
                    // A prefix of the next literal (`r"`, `@"`, `r#"`).
                    if let Some(open) = prefix_then_quote(hay, i, quoting) {
                        g.next = Some((i, open));
                        return g;
                    }
                    break;
                }
            }
            i += 1;
        }
        g.stopped = i.min(range.end);
        g
    }

    /// The operator, when the gap joins two literals.
    fn operator(&self) -> Option<Vec<u8>> {
        (self.next.is_some() && OPERATORS.contains(&self.op.as_slice())).then(|| self.op.clone())
    }
}

/// Where the next JSON string starts after the `"` at `at` closes a notebook's source line
/// (`",` then spaces and line breaks, then `"`), the byte after that opening quote.
fn json_line_break(hay: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    if hay.get(i) != Some(&b',') {
        return None;
    }
    i += 1;
    while i < hay.len() && matches!(hay[i], b' ' | b'\t' | b'\r' | b'\n') && i < at + 256 {
        i += 1;
    }
    (hay.get(i) == Some(&b'"')).then_some(i + 1)
}

/// The opening quote after a string prefix at `at` (`r"`, `@"`, `r#"`, `u8"`), if there is one.
fn prefix_then_quote(hay: &[u8], at: usize, quoting: Quoting) -> Option<usize> {
    if at > 0 && (hay[at - 1].is_ascii_alphanumeric() || hay[at - 1] == b'_') {
        return None;
    }
    let mut i = at;
    while i < hay.len() && i < at + 3 && is_prefix(hay[i]) {
        i += 1;
    }
    (i > at && quoting.quote_at(hay, i).is_some()).then_some(i)
}

fn line_end(hay: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &hay[at..]).map_or(hay.len(), |p| at + p)
}

/// The start of the line `lines` lines before the one holding `at`, at most [`MAX_REGION`] back.
fn line_start_before(hay: &[u8], at: usize, lines: usize) -> usize {
    let lo = at.saturating_sub(MAX_REGION);
    let mut seen = 0;
    let mut i = at;
    while i > lo {
        if hay[i - 1] == b'\n' {
            seen += 1;
            if seen > lines {
                return i;
            }
        }
        i -= 1;
    }
    lo
}

/// The end of the line `lines` lines after the one holding `at`, at most [`MAX_REGION`] on.
fn line_end_after(hay: &[u8], at: usize, lines: usize) -> usize {
    let hi = (at + MAX_REGION).min(hay.len());
    let mut seen = 0;
    for (i, &b) in hay[at..hi].iter().enumerate() {
        if b == b'\n' {
            seen += 1;
            if seen > lines {
                return at + i;
            }
        }
    }
    hi
}

/// The literals in `range`, each with the operator joining it to the one before (`None` when
/// something else stands between them, or for the first).
fn lex(hay: &[u8], range: Range<usize>, quoting: Quoting) -> Vec<(Literal, Option<Vec<u8>>)> {
    let mut out: Vec<(Literal, Option<Vec<u8>>)> = Vec::new();
    let mut i = range.start;
    while i < range.end {
        let gap = Gap::read(hay, i..range.end, quoting);
        let Some((_, open)) = gap.next else {
            // Code: skip it; the next literal is joined to nothing.
            i = skip_code(hay, gap.stopped, range.end, quoting);
            continue;
        };
        let Some((len, q)) = quoting.quote_at(hay, open) else {
            i = open + 1;
            continue;
        };
        match literal_at(hay, open, len, q, quoting) {
            Some(lit) => {
                let joined = out.last().is_some_and(|(l, _)| l.end == i);
                let op = if joined { gap.operator() } else { None };
                i = lit.end;
                out.push((lit, op));
            }
            // An apostrophe, a lifetime, a quote whose literal goes on past the line.
            None => i = open + len,
        }
    }
    out
}

/// The position after the code (no gap) that starts at `at`: the next space, quote or line
/// break, at least one byte on.
fn skip_code(hay: &[u8], at: usize, end: usize, quoting: Quoting) -> usize {
    let mut i = at + 1;
    while i < end
        && !matches!(hay[i], b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b'`')
        && quoting.quote_at(hay, i).is_none()
    {
        i += 1;
    }
    i
}

/// Literals whose whole content is a keyword's first bytes (`"g"`, `"gh"`, `'sk-ant-'`)
/// and which another literal continues: the keyword split inside itself, which no keyword hit
/// finds. `quotes` are the quotes whose next two bytes may start a prefix, found by the scan
/// of the haystack's classes (source code and JSON hold a quote every few dozen bytes, few of
/// them followed by a keyword's first bytes).
pub fn short_pieces(hay: &[u8], quotes: &[usize], short: &Short) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if short.prefixes.is_empty() {
        return out;
    }
    for &q in quotes {
        if let [b0, b1, ..] = hay[q + 1..]
            && short.may_start(b0, b1)
            && let Some(piece) = short_piece(hay, q, short)
        {
            out.push(piece);
        }
    }
    out
}

/// The literal opened by the quote at `q` when its whole content is a keyword's first bytes
/// and another literal continues it.
#[inline(never)]
fn short_piece(hay: &[u8], q: usize, short: &Short) -> Option<(usize, usize)> {
    let limit = (q + 2 + short.longest).min(hay.len());
    let close = memchr::memchr(hay[q], &hay[q + 2..limit])? + 1;
    let content = q + 1..q + 1 + close;
    (short.holds(&hay[content.clone()]) && continued_after(hay, content.end + 1, Quoting::Plain))
        .then_some((content.start, content.end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chains(text: &str, needle: &str) -> Vec<Vec<String>> {
        let s = text.find(needle).unwrap();
        around(text.as_bytes(), s, s + needle.len())
            .map(|c| {
                c.pieces
                    .iter()
                    .map(|p| text[p.clone()].to_string())
                    .collect()
            })
            .collect()
    }

    fn chain(text: &str, needle: &str) -> Option<Vec<String>> {
        chains(text, needle).into_iter().next()
    }

    #[test]
    fn operators_adjacency_and_calls_make_chains() {
        let want = Some(vec!["ab".to_string(), "KWcd".to_string(), "ef".to_string()]);
        for text in [
            "x = \"ab\" + \"KWcd\" + \"ef\";",
            "$x = 'ab' . 'KWcd' . 'ef';",
            "x = (\"ab\"\n     \"KWcd\"  # note\n     \"ef\")",
            "let x = concat!(\"ab\", r\"KWcd\", \"ef\");",
            "x := \"ab\" +\n\t\"KWcd\" + // c\n\t`ef`",
            "Dim x = \"ab\" & _\n  \"KWcd\" & _\n  \"ef\"",
            "K=\"ab\"\"KWcd\"'ef'",
            "x = [\"ab\", \"KWcd\", \"ef\"].join(\"\")",
            "#define K \"ab\" \\\n  \"KWcd\" \\\n  \"ef\"\n",
            "s = @\"ab\" + @\"KWcd\" + $\"ef\";",
            "{\"source\": [\"x = \\\"ab\\\" + \\\"KWcd\\\" + \\\"ef\\\"\"]}",
        ] {
            assert_eq!(chain(text, "KW"), want, "{text}");
        }
    }

    #[test]
    fn a_different_operator_or_code_ends_a_chain() {
        assert_eq!(
            chains("f(\"ab\" + \"KWcd\", \"ef\")", "KW"),
            [["ab", "KWcd"], ["KWcd", "ef"]]
        );
        assert_eq!(chain("f(\"ab\" + x + \"KWcd\")", "KW"), None);
        assert_eq!(chain("x = \"KWcd\"; y = \"ef\"", "KW"), None);
        assert_eq!(chain("KWcd + \"ef\"", "KW"), None);
    }

    #[test]
    fn keyword_prefixes_alone_in_a_literal_are_found() {
        let short = Short::new([b"ghp_".as_slice()]);
        let text = b"t = \"gh\" + \"p_abc\"; u = \"gh\"; v = \"ghx\" + \"y\"; w = 'g' 'hp_'";
        let quotes: Vec<usize> = memchr::memchr3_iter(b'"', b'\'', b'`', text).collect();
        let got = short_pieces(text, &quotes, &short);
        assert_eq!(got, vec![(5, 7), (52, 53)]);
    }
}
