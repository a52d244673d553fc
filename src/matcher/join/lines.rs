//! Keys wrapped across lines: YAML folded and literal block scalars, heredocs, multi-line and
//! continued strings (a `\` at the end of a line). A key's line must end in key-like bytes, and
//! each line that carries the key on must hold one token alone (after its indentation), so
//! that `name: value` on the next line never becomes part of a key.

use super::{Chain, MAX_LINES};
use std::ops::Range;

/// The longest line looked at.
const MAX_LINE: usize = 4096;

/// Bytes a wrapped key's token may hold (not `=`: `NAME=value` on the next line is no part of a
/// key).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/' | b'.' | b'~')
}

/// Bytes that may close a continued token: a closing quote or bracket, a separator.
fn is_terminator(b: u8) -> bool {
    matches!(
        b,
        b'"' | b'\'' | b'`' | b',' | b';' | b')' | b']' | b'}' | b'<' | b'&' | b'|'
    )
}

/// One line: where it starts, where its text ends (before `\r`, a trailing `\` and spaces), and
/// where it ends (its `\n`, or the haystack's end).
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    text_end: usize,
    end: usize,
}

/// The line holding `at`.
fn line_at(hay: &[u8], at: usize) -> Option<Line> {
    let lo = at.saturating_sub(MAX_LINE);
    let start = match hay[lo..at].iter().rposition(|&b| b == b'\n') {
        Some(p) => lo + p + 1,
        None if lo == 0 => 0,
        None => return None,
    };
    line_from(hay, start)
}

fn line_from(hay: &[u8], start: usize) -> Option<Line> {
    let hi = (start + MAX_LINE).min(hay.len());
    let end = memchr::memchr(b'\n', &hay[start..hi]).map(|p| start + p);
    let end = match end {
        Some(e) => e,
        None if hi == hay.len() => hay.len(),
        None => return None,
    };
    let mut text_end = end;
    while text_end > start && matches!(hay[text_end - 1], b'\r' | b' ' | b'\t') {
        text_end -= 1;
    }
    if text_end > start && hay[text_end - 1] == b'\\' {
        text_end -= 1;
    }
    Some(Line {
        start,
        text_end,
        end,
    })
}

impl Line {
    /// Where the line's text starts after its indentation.
    fn indent_end(self, hay: &[u8]) -> usize {
        self.start
            + hay[self.start..self.text_end]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count()
    }

    /// The token run that ends the line's text, if the text ends in a token byte.
    fn tail(self, hay: &[u8]) -> Option<Range<usize>> {
        let run = hay[self.start..self.text_end]
            .iter()
            .rev()
            .take_while(|&&b| is_token(b))
            .count();
        (run > 0).then(|| self.text_end - run..self.text_end)
    }

    /// The token that opens the line after its indentation, and whether it fills the line
    /// (else a terminator follows it and the key cannot go on past it).
    fn head(self, hay: &[u8]) -> Option<(Range<usize>, bool)> {
        let s = self.indent_end(hay);
        let run = hay[s..self.text_end]
            .iter()
            .take_while(|&&b| is_token(b))
            .count();
        if run == 0 {
            return None;
        }
        let e = s + run;
        if e == self.text_end {
            return Some((s..e, true));
        }
        is_terminator(hay[e]).then_some((s..e, false))
    }

    fn next(self, hay: &[u8]) -> Option<Line> {
        (self.end < hay.len()).then(|| line_from(hay, self.end + 1))?
    }

    fn prev(self, hay: &[u8]) -> Option<Line> {
        (self.start > 0).then(|| line_at(hay, self.start - 1))?
    }
}

/// The lines the token holding the keyword hit at `s..e` is wrapped over, when it is: the
/// tail of the first line, then the lines that hold a token alone (the last may close it).
pub fn around(hay: &[u8], s: usize, e: usize) -> Option<Chain> {
    let line = line_at(hay, s)?;
    if e > line.text_end {
        return None;
    }
    let inside = |r: &Range<usize>| r.start <= s && e <= r.end;
    // The hit's line as a continuation: back over whole-token lines to the first line.
    let head = line.head(hay).filter(|(h, _)| inside(h));
    let mut back: Vec<Range<usize>> = Vec::new();
    if head.is_some() {
        let mut cur = line;
        while back.len() + 1 < MAX_LINES {
            let Some(prev) = cur.prev(hay) else { break };
            let Some(tail) = prev.tail(hay) else { break };
            let whole = prev.head(hay).is_some_and(|(h, w)| w && h == tail);
            back.push(tail);
            if !whole {
                break;
            }
            cur = prev;
        }
    }
    back.reverse();
    let (piece, goes_on) = match (&head, back.is_empty()) {
        (Some((h, whole)), false) => (h.clone(), *whole),
        _ => (line.tail(hay).filter(inside)?, true),
    };
    let mut pieces = back;
    let hit = pieces.len();
    pieces.push(piece);
    let mut cur = line;
    while goes_on && pieces.len() < hit + MAX_LINES {
        let Some(next) = cur.next(hay) else { break };
        let Some((h, whole)) = next.head(hay) else {
            break;
        };
        pieces.push(h);
        if !whole {
            break;
        }
        cur = next;
    }
    let first = line_at(hay, pieces[0].start)?;
    let last_end = pieces.last().map_or(0, |p| p.end);
    (pieces.len() > 1 && opened(hay, first, &pieces[0], last_end)).then_some(Chain {
        pieces,
        hit,
        layer: super::LINE_JOIN,
    })
}

/// The narrowest width text wrapped at a fixed width is taken for.
const MIN_WRAP: usize = 40;
/// The widths encoders wrap at (MIME and `base64` 76, PEM 64): one full line and a shorter
/// last one are taken for wrapped text at these widths alone.
const WRAP_WIDTHS: [usize; 2] = [64, 76];

/// A line's bytes without its line break (`\n`, `\r\n`).
fn bare(hay: &[u8], line: Line) -> Range<usize> {
    let end = if line.end > line.start && hay[line.end - 1] == b'\r' {
        line.end - 1
    } else {
        line.end
    };
    line.start..end
}

/// The lines of text wrapped at a fixed width around the keyword hit at `s..e`, whole (a wrap
/// cuts anywhere, an escape included): lines of one width of at least [`MIN_WRAP`], the last
/// one shorter, as encoders wrap what they encode. Only for decoded text (base64 of something
/// wrapped at 76 columns): in text as written, lines of one width are too common.
pub fn wrapped(hay: &[u8], s: usize, e: usize) -> Option<Chain> {
    let line = line_at(hay, s)?;
    if e > line.end {
        return None;
    }
    let len = |l: Line| bare(hay, l).len();
    let (prev, next) = (line.prev(hay), line.next(hay));
    // A width is one that two lines share, or an encoder's.
    let shared = |l: Line, other: Option<Line>| {
        other.is_some_and(|o| len(o) == len(l)) || WRAP_WIDTHS.contains(&len(l))
    };
    // The width: the hit's line's, or, for the window's first line (cut short at its start),
    // the next line's, or, for the shorter last line, the line's before it.
    let width = if next.is_some() && (shared(line, next) || shared(line, prev)) {
        len(line)
    } else if line.start == 0 {
        next.filter(|&n| shared(n, n.next(hay)))
            .map(len)
            .filter(|&w| w > len(line))?
    } else {
        prev.filter(|&p| p.start == 0 || shared(p, p.prev(hay)))
            .map(len)
            .filter(|&w| w > len(line))?
    };
    if width < MIN_WRAP {
        return None;
    }
    // A full line; the first line of a decoded window may be cut short at its start.
    let full = |l: Line| len(l) == width || (l.start == 0 && len(l) < width);
    let mut pieces = vec![bare(hay, line)];
    let mut cur = line;
    while pieces.len() < MAX_LINES {
        match cur.prev(hay) {
            Some(p) if full(p) && len(p) > 0 => {
                pieces.insert(0, bare(hay, p));
                cur = p;
            }
            _ => break,
        }
    }
    let hit = pieces.len() - 1;
    let mut cur = line;
    while full(cur) && pieces.len() < hit + MAX_LINES {
        match cur.next(hay) {
            Some(n) if len(n) > 0 && len(n) <= width => {
                pieces.push(bare(hay, n));
                cur = n;
            }
            _ => break,
        }
    }
    (pieces.len() > 1).then_some(Chain {
        pieces,
        hit,
        layer: super::LINE_JOIN,
    })
}

/// Whether the key's first line, whose tail is `tail`, stands in something that goes on over
/// lines: its string is continued (`\` at its end) or still open (an odd number of a quote
/// before the tail, the same quote closing it right after the last piece at `last_end`), a heredoc, triple quotes or a YAML block scalar opened on it or on the
/// lines above, or a YAML plain scalar (`key: value`) whose next line is indented further. Two
/// lines that merely follow each other (a placeholder, then a look-alike) are not joined.
fn opened(hay: &[u8], first: Line, tail: &Range<usize>, last_end: usize) -> bool {
    let text = &hay[first.start..tail.start];
    // An open string wrapped over lines closes where the key ends; without that, a cut key
    // followed by a line starting with a word would be joined into a whole one.
    let closed =
        |q: u8| memchr::memchr_iter(q, text).count() % 2 == 1 && hay.get(last_end) == Some(&q);
    if hay[tail.end..first.end].contains(&b'\\') || closed(b'"') || closed(b'\'') || closed(b'`') {
        return true;
    }
    let plain_scalar = memchr::memmem::find(text, b": ").is_some()
        && first
            .next(hay)
            .is_some_and(|n| n.indent_end(hay) - n.start > first.indent_end(hay) - first.start);
    if plain_scalar {
        return true;
    }
    let mut line = Some(first);
    for _ in 0..MAX_LINES {
        let Some(l) = line else { break };
        let text = &hay[l.start..l.text_end.min(tail.start.max(l.start))];
        let text = if l.start == first.start {
            text
        } else {
            &hay[l.start..l.text_end]
        };
        if opens(text) {
            return true;
        }
        line = l.prev(hay);
    }
    false
}

/// Whether a line opens text that goes on over lines: a heredoc (`<<`), triple quotes, a YAML
/// block scalar (`key: |`, `- >-`).
fn opens(text: &[u8]) -> bool {
    let find = |n: &[u8]| memchr::memmem::find(text, n).is_some();
    if find(b"<<") || find(b"\"\"\"") || find(b"'''") {
        return true;
    }
    let trimmed = text.trim_ascii_end();
    let indicator = trimmed
        .iter()
        .rev()
        .take_while(|b| matches!(b, b'-' | b'+' | b'0'..=b'9'))
        .count();
    let head = &trimmed[..trimmed.len() - indicator];
    matches!(head.last(), Some(b'|' | b'>'))
        && head[..head.len() - 1]
            .trim_ascii_end()
            .last()
            .is_none_or(|&b| b == b':' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(text: &str, needle: &str) -> Option<(Vec<String>, usize)> {
        let s = text.find(needle).unwrap();
        around(text.as_bytes(), s, s + needle.len()).map(|c| {
            let pieces = c.pieces.iter().map(|p| text[p.clone()].to_string());
            (pieces.collect(), c.hit)
        })
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn wrapped_tokens_make_chains() {
        let text = "key: >-\n  abKWcd\n  efgh\n  ij\nother: x\n";
        assert_eq!(
            chain(text, "KW"),
            Some((strings(&["-", "abKWcd", "efgh", "ij"]), 1))
        );
        assert_eq!(
            chain(text, "efgh"),
            Some((strings(&["-", "abKWcd", "efgh", "ij"]), 2))
        );
        let text = "x = \"abKWcd\\\nefgh\";\n";
        assert_eq!(chain(text, "KW"), Some((strings(&["abKWcd", "efgh"]), 0)));
        let text = "cat <<EOF\nK=abKWcd\r\nefgh\r\nEOF\n";
        assert_eq!(
            chain(text, "KW"),
            Some((strings(&["abKWcd", "efgh", "EOF"]), 0))
        );
    }

    #[test]
    fn lines_that_merely_follow_each_other_are_not_joined() {
        assert_eq!(chain("sk-your-api-key-here\nxsKWcd \n", "KW"), None);
        assert_eq!(chain("a: 1\nabKWcd\nefgh\n", "KW"), None);
        assert_eq!(
            chain("k: abKWcd\n  efgh\n", "KW"),
            Some((strings(&["abKWcd", "efgh"]), 0))
        );
        assert_eq!(
            chain("- |\n  abKWcd\n  efgh\n", "KW"),
            Some((strings(&["abKWcd", "efgh"]), 0))
        );
    }

    /// Found by the planted-keys property test: a cut key after a stray quote, then a line
    /// starting with a word, made a whole key.
    #[test]
    fn an_open_string_is_joined_only_when_it_closes_where_the_key_ends() {
        assert_eq!(chain("x\"abKWcd\nsk \n", "KW"), None);
        assert_eq!(
            chain("x = \"abKWcd\nefgh\";\n", "KW"),
            Some((strings(&["abKWcd", "efgh"]), 0))
        );
    }

    fn wrapped_chain(text: &str, needle: &str) -> Option<(Vec<String>, usize)> {
        let s = text.find(needle).unwrap();
        wrapped(text.as_bytes(), s, s + needle.len()).map(|c| {
            let pieces = c.pieces.iter().map(|p| text[p.clone()].to_string());
            (pieces.collect(), c.hit)
        })
    }

    #[test]
    fn text_wrapped_at_a_fixed_width_makes_a_chain_of_whole_lines() {
        let (a, b, c) = ("a%3D".repeat(10), "b".repeat(40), "KWc%0A");
        // From a window's first line, cut short at its start, to the shorter last line.
        let text = format!("{}\n{a}\r\n{b}\n{c}\nnext line\n", &a[5..]);
        let want = strings(&[&a[5..], &a, &b, c]);
        assert_eq!(wrapped_chain(&text, "KW"), Some((want.clone(), 3)));
        let at_b = format!("{}\n{a}\r\n{}KWbb\n{c}\n", &a[5..], &b[4..]);
        assert_eq!(wrapped_chain(&at_b, "KW").map(|c| c.1), Some(2));
        // Short lines, and lines of different widths, are not wrapped text.
        assert_eq!(wrapped_chain("x = 1\nabKWcd\nefgh\n", "KW"), None);
        let ragged = format!(
            "head\n{}\n{}KW\n{}\n",
            "x".repeat(50),
            "y".repeat(41),
            "z".repeat(60)
        );
        assert_eq!(wrapped_chain(&ragged, "KW"), None);
    }

    #[test]
    fn a_line_of_code_does_not_continue_a_key() {
        assert_eq!(chain("key: abKWcd\nname: x\n", "KW"), None);
        assert_eq!(chain("key: abKWcd;\nefgh\n", "KW"), None);
        assert_eq!(chain("abKWcd x\n  efgh\n", "KW"), None);
    }
}
