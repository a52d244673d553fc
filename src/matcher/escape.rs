//! Keys written with escapes: plain hex, `\x73`, JSON's `\u0073` (and `\/`, `\\`), HTML's
//! `&#115;`, `&#x73;` and named entities, URL's `%73`. The escaped forms of each keyword's first
//! bytes (the prefilter's needles), which escapes touch a key found as plain text, and decoding
//! the window around a hit with a map from each decoded byte back to the outer bytes.

use super::decode::Decoded;
use super::prefilter::Gate;
use crate::finding::Decoding;

/// How a key was escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Two hex digits a byte, nothing between them.
    Hex,
    /// `\x73` (or `\X73`).
    BackslashX,
    /// `\u0073`, `\/`, `\\`, `\"`.
    Json,
    /// `&#115;`, `&#x73;`, `&amp;`.
    Html,
    /// `%73`.
    Url,
}

/// The escapes that can sit inside a plain-text key (every one but plain hex).
const INLINE: [Escape; 4] = [Escape::BackslashX, Escape::Json, Escape::Html, Escape::Url];

/// How many bytes of a keyword an escaped hit must spell before the window around it is decoded
/// (and how many its plain hex needles spell): few enough that keywords sharing a start (`sk-ant-`,
/// `sk-or-`) share needles.
pub const PREFIX: usize = 3;

/// How far left and right of a hit an escaped window is decoded, in outer bytes: a 160-character
/// key written six bytes a character fits, and the window stays within the matcher's reach.
pub const LEFT: usize = 1024;
pub const RIGHT: usize = 1088;

impl Escape {
    /// The `decoded` value a key found through this escape carries.
    pub fn label(self) -> Decoding {
        match self {
            Escape::Hex | Escape::BackslashX => Decoding::Hex,
            Escape::Json => Decoding::JsonEscape,
            Escape::Html => Decoding::HtmlEntity,
            Escape::Url => Decoding::Url,
        }
    }

    /// The class for [`super::decode::Decodes`] of a hit at `hit` (plain hex by parity).
    pub fn class(self, hit: usize) -> usize {
        match self {
            Escape::Hex => 6 + hit % 2,
            Escape::BackslashX => 8,
            Escape::Json => 9,
            Escape::Html => 10,
            Escape::Url => 11,
        }
    }
}

/// The escaped needles of `keyword`, each with its escape and where it is searched. The escapes'
/// needles are the opening its first byte's escape shares with other bytes (`\x7`, `\X7`,
/// `\u007`, `&#11`, `&#x7`, `&#X7`, `%6E`, `%6e`): a few needles for every keyword at once,
/// found by their first byte
/// ([`Gate::Opening`]), each hit checked by [`spells_prefix`] before anything is decoded. Plain
/// hex has no opening of its own: its needles spell the keyword's first [`PREFIX`] bytes, lower
/// and upper case, searched only in long runs of base64 characters (hex digits are some), where
/// the 40 digits or more of a key's hex are.
pub fn needles(keyword: &[u8]) -> Vec<(Vec<u8>, Escape, Gate)> {
    let kw = &keyword[..keyword.len().min(PREFIX)];
    let first = keyword[0];
    let decimal = first.to_string();
    let forms: [(String, Escape); 10] = [
        (kw.iter().map(|b| format!("{b:02x}")).collect(), Escape::Hex),
        (kw.iter().map(|b| format!("{b:02X}")).collect(), Escape::Hex),
        (format!("\\x{:x}", first >> 4), Escape::BackslashX),
        (format!("\\X{:x}", first >> 4), Escape::BackslashX),
        (format!("\\u00{:x}", first >> 4), Escape::Json),
        (format!("&#{}", &decimal[..decimal.len() - 1]), Escape::Html),
        (format!("&#x{:x}", first >> 4), Escape::Html),
        (format!("&#X{:x}", first >> 4), Escape::Html),
        (format!("%{first:02X}"), Escape::Url),
        (format!("%{first:02x}"), Escape::Url),
    ];
    let mut out: Vec<(Vec<u8>, Escape, Gate)> = Vec::new();
    for (text, escape) in forms {
        let text = text.into_bytes();
        let gate = match escape {
            Escape::Hex => Gate::Base64Run,
            _ => Gate::Opening,
        };
        if !out.iter().any(|(t, _, _)| *t == text) {
            out.push((text, escape, gate));
        }
    }
    // A keyword with reserved characters (`hooks.slack.com/`) as a URL encoder leaves it.
    let reserved: String = keyword
        .iter()
        .map(|&b| match b {
            b'/' | b':' | b'@' | b'+' | b'=' | b'&' | b'?' | b'#' => format!("%{b:02X}"),
            b => char::from(b).to_string(),
        })
        .collect();
    if reserved.as_bytes() != keyword {
        out.push((reserved.into_bytes(), Escape::Url, Gate::Always));
    }
    // JSON encoders that escape `/` (PHP's) turn `hooks.slack.com/` into `hooks.slack.com\/`.
    if keyword.contains(&b'/') {
        let json: Vec<u8> = keyword
            .iter()
            .flat_map(|&b| {
                if b == b'/' {
                    vec![b'\\', b'/']
                } else {
                    vec![b]
                }
            })
            .collect();
        out.push((json, Escape::Json, Gate::Always));
    }
    out
}

/// Whether the text at `at`, read through `escape` (other bytes as they are), starts with one of
/// `prefixes` (each keyword's first [`PREFIX`] bytes, sorted): the check a hit of a shared opening
/// passes before its window is decoded.
pub fn spells_prefix(hay: &[u8], at: usize, escape: Escape, prefixes: &[[u8; PREFIX]]) -> bool {
    let mut spelled = [0u8; PREFIX];
    let mut pos = at;
    for byte in &mut spelled {
        let (b, len) = match escape {
            Escape::Hex => match hex_at(hay, pos, 2) {
                Some(v) => (v as u8, 2),
                None => return false,
            },
            _ => match parse(escape, hay, pos) {
                Some(parsed) => parsed,
                None => match hay.get(pos) {
                    Some(&b) => (b, 1),
                    None => return false,
                },
            },
        };
        *byte = b;
        pos += len;
    }
    prefixes.binary_search(&spelled).is_ok()
}

/// A byte a key may hold, or that sits next to one in escaped text.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'=' | b'.')
}

/// The escapes found inside the token around the plain hit `start..end`: the run of key bytes and
/// escapes either side of it (bounded by the window), so a key split by `%2B` or `\/` is decoded
/// and text merely near an escape is not.
pub fn inline_escapes(hay: &[u8], start: usize, end: usize) -> Vec<Escape> {
    let mut found = Vec::new();
    let mut note = |at: usize| {
        for escape in INLINE {
            if parse(escape, hay, at).is_some() && !found.contains(&escape) {
                found.push(escape);
            }
        }
    };
    let mut at = end;
    while at < hay.len() && at < end + RIGHT {
        if is_token(hay[at]) {
            at += 1;
        } else if let Some((_, len)) = INLINE.iter().find_map(|&e| parse(e, hay, at)) {
            note(at);
            at += len;
        } else {
            break;
        }
    }
    // Leftwards an escape is recognised where it ends (its last bytes, hex digits or `;`, are
    // token bytes too): try each start a few bytes back before stepping over a token byte.
    let mut at = start;
    while at > 0 && start - at < LEFT {
        let ends_escape = |len: usize| at >= len && parse_any(hay, at - len) == Some(len);
        if let Some(len) = (2..=10).find(|&len| ends_escape(len)) {
            note(at - len);
            at -= len;
        } else if is_token(hay[at - 1]) {
            at -= 1;
        } else {
            break;
        }
    }
    found
}

fn parse_any(hay: &[u8], at: usize) -> Option<usize> {
    INLINE
        .iter()
        .find_map(|&e| parse(e, hay, at))
        .map(|(_, len)| len)
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Parses `digits` hex digits at `at`.
fn hex_at(hay: &[u8], at: usize, digits: usize) -> Option<u32> {
    let bytes = hay.get(at..at + digits)?;
    bytes
        .iter()
        .try_fold(0u32, |v, &b| Some(v * 16 + u32::from(hex_value(b)?)))
}

/// The escape of kind `escape` starting at `at`: the byte it stands for and its length.
fn parse(escape: Escape, hay: &[u8], at: usize) -> Option<(u8, usize)> {
    let rest = &hay[at.min(hay.len())..];
    match escape {
        Escape::Hex => None,
        Escape::BackslashX => {
            (rest.starts_with(b"\\x") || rest.starts_with(b"\\X")).then_some(())?;
            hex_at(hay, at + 2, 2).map(|v| (v as u8, 4))
        }
        Escape::Url => {
            (rest.first() == Some(&b'%')).then_some(())?;
            hex_at(hay, at + 1, 2).map(|v| (v as u8, 3))
        }
        Escape::Json => parse_json(hay, at, rest),
        Escape::Html => parse_html(rest),
    }
}

fn parse_json(hay: &[u8], at: usize, rest: &[u8]) -> Option<(u8, usize)> {
    if rest.first() != Some(&b'\\') {
        return None;
    }
    match rest.get(1)? {
        b'u' => hex_at(hay, at + 2, 4)
            .filter(|&v| v < 0x80)
            .map(|v| (v as u8, 6)),
        b'/' => Some((b'/', 2)),
        b'\\' => Some((b'\\', 2)),
        b'"' => Some((b'"', 2)),
        _ => None,
    }
}

/// Named entities a key or the text around it may hold.
const NAMED: [(&[u8], u8); 12] = [
    (b"amp;", b'&'),
    (b"lt;", b'<'),
    (b"gt;", b'>'),
    (b"quot;", b'"'),
    (b"apos;", b'\''),
    (b"sol;", b'/'),
    (b"plus;", b'+'),
    (b"equals;", b'='),
    (b"lowbar;", b'_'),
    (b"hyphen;", b'-'),
    (b"period;", b'.'),
    (b"colon;", b':'),
];

fn parse_html(rest: &[u8]) -> Option<(u8, usize)> {
    if rest.first() != Some(&b'&') {
        return None;
    }
    if rest.get(1) == Some(&b'#') {
        let (radix, from) = match rest.get(2) {
            Some(b'x' | b'X') => (16, 3),
            _ => (10, 2),
        };
        let digits = rest[from..]
            .iter()
            .take(7)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        let end = from + digits;
        if digits == 0 || rest.get(end) != Some(&b';') {
            return None;
        }
        let text = std::str::from_utf8(&rest[from..end]).ok()?;
        let v = u32::from_str_radix(text, radix).ok()?;
        return (v < 0x80).then_some((v as u8, end + 1));
    }
    NAMED
        .iter()
        .find(|(name, _)| rest[1..].starts_with(name))
        .map(|(name, b)| (*b, name.len() + 1))
}

/// Decodes the window around a hit at `hit` of `escape`: escapes become their byte, everything
/// else stays (so partly escaped keys come out whole); plain hex is decoded from the hex run
/// around the hit, in the hit's pairing.
pub fn window(hay: &[u8], hit: usize, escape: Escape) -> Decoded {
    if escape == Escape::Hex {
        return hex_run(hay, hit);
    }
    let (from, to) = (hit.saturating_sub(LEFT), (hit + RIGHT).min(hay.len()));
    let mut out = Decoded::default();
    // Start at the hit's own escapes' grid: an escape begins at most 9 bytes before `from`.
    let mut at = from;
    while at < to {
        let (b, len) = parse(escape, hay, at).unwrap_or((hay[at], 1));
        out.push(b, at, at + len);
        at += len;
    }
    out
}

fn hex_run(hay: &[u8], hit: usize) -> Decoded {
    let mut from = hit;
    while from > 0 && hit - from < LEFT && hay[from - 1].is_ascii_hexdigit() {
        from -= 1;
    }
    from += (hit - from) % 2;
    let mut out = Decoded::default();
    let mut at = from;
    while at + 1 < hay.len() && at < hit + RIGHT {
        let Some(v) = hex_at(hay, at, 2) else { break };
        out.push(v as u8, at, at + 2);
        at += 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(hay: &str, escape: Escape) -> String {
        let at = match escape {
            Escape::Hex => 0,
            _ => hay.len() / 2,
        };
        String::from_utf8(window(hay.as_bytes(), at, escape).bytes).unwrap()
    }

    #[test]
    fn each_escape_decodes_and_leaves_other_text() {
        assert_eq!(decoded("736b2d6162", Escape::Hex), "sk-ab");
        assert_eq!(decoded("a=\\x73\\x6B-b", Escape::BackslashX), "a=sk-b");
        assert_eq!(decoded("a=\\X73\\X6B-b", Escape::BackslashX), "a=sk-b");
        assert_eq!(
            decoded("\"\\u0073k\\/x\\\\u002b\"", Escape::Json),
            "\"sk/x\\u002b\""
        );
        assert_eq!(decoded("&#115;&#x6b;&amp;&sol;", Escape::Html), "sk&/");
        assert_eq!(decoded("q=sk%2Dab%2bc", Escape::Url), "q=sk-ab+c");
    }

    #[test]
    fn needles_spell_the_keyword_start() {
        let n = needles(b"sk-proj-");
        let texts: Vec<String> = n
            .iter()
            .map(|(t, _, _)| String::from_utf8(t.clone()).unwrap())
            .collect();
        for want in [
            "736b2d", "736B2D", "\\x7", "\\X7", "\\u007", "&#11", "&#x7", "&#X7", "%73",
        ] {
            assert!(texts.contains(&want.to_string()), "{want}: {texts:?}");
        }
        let slack = needles(b"hooks.slack.com/");
        assert!(slack.iter().any(|(t, _, _)| t == b"hooks.slack.com%2F"));
        let npm = needles(b"npm_");
        assert!(npm.iter().any(|(t, _, _)| t == b"%6E") && npm.iter().any(|(t, _, _)| t == b"%6e"));
    }

    #[test]
    fn an_opening_is_checked_against_the_keywords_starts() {
        let prefixes = [*b"AIz", *b"sk-"];
        let spells = |hay: &str, escape| spells_prefix(hay.as_bytes(), 0, escape, &prefixes);
        assert!(spells("\\x73\\x6b\\x2d", Escape::BackslashX));
        assert!(spells("\\u0073k\\u002d", Escape::Json));
        assert!(spells("&#115;&#x6b;&#45;", Escape::Html));
        assert!(spells("%73%6B-", Escape::Url));
        assert!(spells("736b2d70", Escape::Hex));
        assert!(!spells("\\x73\\x6c\\x2d", Escape::BackslashX));
        assert!(!spells("%73", Escape::Url));
        assert!(!spells("736b2", Escape::Hex));
    }

    #[test]
    fn inline_escapes_are_those_inside_the_token() {
        let hay = b"k = sk-abc%2Bdef\\/x; other %41 \\u0041";
        let hit = 4;
        let got = inline_escapes(hay, hit, hit + 3);
        assert_eq!(got, vec![Escape::Url, Escape::Json]);
        assert!(inline_escapes(b"k = sk-abc other %41", 4, 7).is_empty());
        let left = b"x=abc%2Bsk-def";
        assert_eq!(inline_escapes(left, 8, 11), vec![Escape::Url]);
    }
}
