//! The checks a regex cannot express: boundaries looked at (never consumed) on the real bytes
//! around a match, equal halves, the placeholder tests (distinct characters, runs, samples,
//! checksums) and the provider named in the lines around a weak-format key.

use crate::rules::{CONTEXT_BYTES, CONTEXT_LINES, Rule, longest_run};
use regex::bytes::Captures;

/// The regex work one search of a haystack may do, in bytes handed to a regex (a search's slice,
/// a match its captures are taken over, a context or pair window). A rule that matches nearly
/// every byte (a repository's `x{10,}y|x`) spends it and the rest of the haystack goes unsearched
/// (the caller marks the blob incomplete), instead of costing minutes; the built-in rules use
/// a small fraction of it on real files.
#[derive(Debug, Default)]
pub struct Work {
    left: usize,
    spent: bool,
}

/// The work allowed per haystack byte.
pub const WORK_PER_BYTE: usize = 256;
/// The work every haystack may do however short (a few keys each with its context and pair).
pub const WORK_FLOOR: usize = 256 << 10;

impl Work {
    /// The work allowed for a haystack of `len` bytes.
    pub fn for_len(len: usize) -> Work {
        Work {
            left: len.saturating_mul(WORK_PER_BYTE).saturating_add(WORK_FLOOR),
            spent: false,
        }
    }

    /// Takes `bytes` of work; false (from then on) once there is not that much left.
    pub fn take(&mut self, bytes: usize) -> bool {
        if self.spent || bytes > self.left {
            self.spent = true;
            return false;
        }
        self.left -= bytes;
        true
    }

    /// Whether the work ran out.
    pub fn spent(&self) -> bool {
        self.spent
    }
}

/// Why a regex match was turned away, or that it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Key,
    /// A placeholder or public sample: counted, never reported.
    Placeholder,
    /// Not a key at all: a truncated, off-centre or embedded look-alike.
    LookAlike,
    /// A key shape no provider is named next to: counted, never reported, never attributed.
    Unattributed,
}

/// Judges the match `caps` found in `hay` from offset `w0`: boundaries and context are looked at
/// around the secret (the `secret` group, else the whole match).
/// Context windows are charged to `work`; a match judged after it ran out is no key.
pub fn judge(rule: &Rule, hay: &[u8], w0: usize, caps: &Captures<'_>, work: &mut Work) -> Verdict {
    let span = secret_of(caps);
    let (start, end) = (w0 + span.start(), w0 + span.end());
    if !left_boundary_ok(rule, hay, start) || (end < hay.len() && rule.is_key_byte(hay[end])) {
        return Verdict::LookAlike;
    }
    let secret = secret_of(caps).as_bytes();
    if belongs_elsewhere(rule, secret) {
        return Verdict::LookAlike;
    }
    let mut body: Vec<&[u8]> = Vec::with_capacity(2);
    if let Some([a, b]) = &rule.spec.balanced {
        let (Some(a), Some(b)) = (caps.name(a), caps.name(b)) else {
            return Verdict::LookAlike;
        };
        if a.len() != b.len() {
            return Verdict::LookAlike;
        }
        body.extend([a.as_bytes(), b.as_bytes()]);
    } else {
        body.push(secret_of(caps).as_bytes());
    }
    let placeholder = rule.spec.placeholder
        || is_placeholder(rule, &body)
        || holds_placeholder_word(rule, secret)
        || rule.is_denied(secret)
        || !crate::rules::checksum::holds(rule, caps);
    match (
        placeholder,
        rule.spec.near_keywords || context_ok(rule, hay, start, end, work),
    ) {
        (true, true) => Verdict::Placeholder,
        // A weak-format placeholder with no provider named: nobody's, not even a placeholder.
        (true, false) => Verdict::LookAlike,
        (false, true) => Verdict::Key,
        (false, false) => Verdict::Unattributed,
    }
}

/// Whether the secret carries another provider's prefix or marker.
fn belongs_elsewhere(rule: &Rule, secret: &[u8]) -> bool {
    let spec = &rule.spec;
    spec.exclude_prefixes
        .iter()
        .any(|p| secret.starts_with(p.as_bytes()))
        || spec
            .exclude_containing
            .iter()
            .any(|m| memchr::memmem::find(secret, m.as_bytes()).is_some())
}

/// Whether one of the rule's context regexes matches within `CONTEXT_LINES` lines of the match
/// (true for rules that need no context).
fn context_ok(rule: &Rule, hay: &[u8], start: usize, end: usize, work: &mut Work) -> bool {
    match rule.context_regex() {
        None => true,
        Some(re) => {
            let w = context_window(hay, start, end);
            work.take(w.len()) && re.is_match(&hay[w])
        }
    }
}

/// The bytes from `CONTEXT_LINES` lines before `start` to `CONTEXT_LINES` lines after `end`, at
/// most `CONTEXT_BYTES` on each side.
pub fn context_window(hay: &[u8], start: usize, end: usize) -> std::ops::Range<usize> {
    let lo = start.saturating_sub(CONTEXT_BYTES);
    let hi = (end + CONTEXT_BYTES).min(hay.len());
    let mut from = start;
    let mut lines = 0;
    while from > lo {
        if hay[from - 1] == b'\n' {
            lines += 1;
            if lines > CONTEXT_LINES {
                break;
            }
        }
        from -= 1;
    }
    let mut to = end;
    lines = 0;
    while to < hi {
        if hay[to] == b'\n' {
            lines += 1;
            if lines > CONTEXT_LINES {
                break;
            }
        }
        to += 1;
    }
    from..to
}

/// The secret: the `secret` group when the pattern has one, else the whole match.
pub fn secret_of<'h>(caps: &Captures<'h>) -> regex::bytes::Match<'h> {
    caps.name("secret")
        .unwrap_or_else(|| caps.get(0).expect("group 0 always matches"))
}

/// How many leading bytes of the secret are its public kind prefix (`sk-proj-`).
pub fn prefix_len(caps: &Captures<'_>) -> usize {
    let secret = secret_of(caps);
    if let Some(p) = caps.name("prefix") {
        return p.end().saturating_sub(secret.start());
    }
    ["left", "body"]
        .iter()
        .find_map(|g| caps.name(g))
        .map_or(secret.len().min(4), |m| {
            m.start().saturating_sub(secret.start())
        })
}

/// The byte before a key may not be a key byte, unless it ends a URL escape (`%3D`) or a JSON or
/// shell escape (`\n`, `\t`, `\r`), which real files put right before keys.
fn left_boundary_ok(rule: &Rule, hay: &[u8], start: usize) -> bool {
    if start == 0 || !rule.is_key_byte(hay[start - 1]) {
        return true;
    }
    let url_escape = start >= 3
        && hay[start - 3] == b'%'
        && hay[start - 2].is_ascii_hexdigit()
        && hay[start - 1].is_ascii_hexdigit();
    let backslash_escape =
        start >= 2 && hay[start - 2] == b'\\' && matches!(hay[start - 1], b'n' | b'r' | b't');
    url_escape || backslash_escape
}

/// Whether the secret holds one of the rule's placeholder words, ASCII case ignored.
fn holds_placeholder_word(rule: &Rule, secret: &[u8]) -> bool {
    rule.spec.placeholder_words.iter().any(|w| {
        secret
            .windows(w.len())
            .any(|at| at.eq_ignore_ascii_case(w.as_bytes()))
    })
}

fn is_placeholder(rule: &Rule, body: &[&[u8]]) -> bool {
    if let Some(min) = rule.spec.min_digits {
        let digits = body
            .iter()
            .flat_map(|p| p.iter())
            .filter(|b| b.is_ascii_digit());
        if digits.count() < min {
            return true;
        }
    }
    if let Some(min) = rule.spec.min_distinct {
        let mut seen = [false; 256];
        body.iter()
            .flat_map(|p| p.iter())
            .for_each(|&b| seen[b as usize] = true);
        if seen.iter().filter(|&&s| s).count() < min {
            return true;
        }
    }
    rule.spec
        .max_run
        .is_some_and(|max| body.iter().any(|part| longest_run(part) > max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_count_repeats_and_sequences() {
        assert_eq!(longest_run(b""), 0);
        assert_eq!(longest_run(b"xAAAAAAy"), 6);
        assert_eq!(longest_run(b"x123456y"), 6);
        assert_eq!(longest_run(b"zfedcbaz"), 6);
        assert_eq!(longest_run(b"aZ3k"), 1);
    }
}
