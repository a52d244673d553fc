//! What verification needs from around a key (`[[rule.hint]]`): the values a rule names — a
//! host, an account email, a session token — found near the key, nearest first. Hints are
//! never reported; `src/verify` reads them to decide where (and whether) a key may be sent.

use crate::rules::{CONTEXT_LINES, FILE_HINT_BYTES, HINT_BYTES, HintScope, Rule};

/// The most distinct values kept per hint.
const MAX_VALUES: usize = 8;
/// The longest hint value kept (a session token is at most a few kilobytes).
const MAX_VALUE: usize = 4096;

/// Every hint of `rule` found around the key at `start..end` of `hay`: (name, value) pairs,
/// each name's values distinct and nearest first.
pub fn find(rule: &Rule, hay: &[u8], start: usize, end: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (spec, re) in rule.spec.hint.iter().zip(rule.hint_regexes()) {
        let w = match spec.scope {
            HintScope::Near => window(hay, start, end, HINT_BYTES, Some(CONTEXT_LINES)),
            HintScope::File => window(hay, start, end, FILE_HINT_BYTES, None),
        };
        let mut found: Vec<(usize, String)> = Vec::new();
        for caps in re.captures_iter(&hay[w.clone()]) {
            let m = caps
                .name("secret")
                .unwrap_or_else(|| caps.get(0).expect("group 0 always matches"));
            let (s, e) = (w.start + m.start(), w.start + m.end());
            if (s < end && e > start) || m.len() > MAX_VALUE {
                continue;
            }
            let Ok(value) = std::str::from_utf8(m.as_bytes()) else {
                continue;
            };
            let distance = if s >= end { s - end } else { start - e };
            found.push((distance, value.to_string()));
        }
        found.sort_by_key(|(d, _)| *d);
        let mut values: Vec<String> = Vec::new();
        for (_, v) in found {
            if !values.contains(&v) && values.len() < MAX_VALUES {
                values.push(v);
            }
        }
        out.extend(values.into_iter().map(|v| (spec.name.clone(), v)));
    }
    out
}

/// At most `bytes` either side of `start..end`, and at most `lines` lines when given.
fn window(
    hay: &[u8],
    start: usize,
    end: usize,
    bytes: usize,
    lines: Option<usize>,
) -> std::ops::Range<usize> {
    let lo = start.saturating_sub(bytes);
    let hi = end.saturating_add(bytes).min(hay.len());
    let Some(max) = lines else {
        return lo..hi;
    };
    let mut from = start;
    let mut seen = 0;
    while from > lo {
        if hay[from - 1] == b'\n' {
            seen += 1;
            if seen > max {
                break;
            }
        }
        from -= 1;
    }
    let mut to = end;
    seen = 0;
    while to < hi {
        if hay[to] == b'\n' {
            seen += 1;
            if seen > max {
                break;
            }
        }
        to += 1;
    }
    from..to
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_stop_at_lines_or_bytes() {
        let hay = b"a\nb\nc\nd\ne\nf\ng\nKEY\nh\ni";
        let at = hay.len() - 7;
        let w = window(hay, at, at + 3, 4096, Some(2));
        assert_eq!(&hay[w], b"f\ng\nKEY\nh\ni");
        let w = window(hay, at, at + 3, 2, None);
        assert_eq!(&hay[w], b"g\nKEY\nh");
    }
}
