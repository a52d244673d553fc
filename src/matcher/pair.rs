//! The second part of a two-part key: an AWS access key id is reported with the secret access
//! key that stands within a few lines of it, and that secret alone is never a finding.

use super::checks::{Work, context_window};
use crate::rules::Rule;
use crate::rules::longest_run;

/// A second part found next to a key: its span in the haystack searched and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paired {
    pub start: usize,
    pub end: usize,
    pub secret: String,
}

/// The match of the rule's `pair` pattern nearest to the key at `start..end` within
/// `CONTEXT_LINES` lines, whole (its boundaries not key bytes), not a placeholder and not a
/// public sample; `None` for rules without a pair. Each search from the last match to the
/// window's end, and each match, is charged to `work`; the search stops when it runs out.
pub fn find(rule: &Rule, hay: &[u8], start: usize, end: usize, work: &mut Work) -> Option<Paired> {
    let re = rule.pair_regex()?;
    let w = context_window(hay, start, end);
    let mut best: Option<(usize, Paired)> = None;
    if !work.take(w.len()) {
        return None;
    }
    for caps in re.captures_iter(&hay[w.clone()]) {
        // Its captures, and the search for the next match to the window's end.
        let whole_match = caps.get(0).expect("group 0 always matches");
        if !work.take(whole_match.len() + w.len() - whole_match.end()) {
            break;
        }
        let m = caps
            .name("secret")
            .unwrap_or_else(|| caps.get(0).expect("group 0 always matches"));
        let (s, e) = (w.start + m.start(), w.start + m.end());
        if (s < end && e > start) || !whole(rule, hay, s, e) || !plausible(rule, m.as_bytes()) {
            continue;
        }
        let distance = if s >= end { s - end } else { start - e };
        if best.as_ref().is_none_or(|(d, _)| distance < *d) {
            let secret = String::from_utf8_lossy(m.as_bytes()).into_owned();
            best = Some((
                distance,
                Paired {
                    start: s,
                    end: e,
                    secret,
                },
            ));
        }
    }
    best.map(|(_, p)| p)
}

/// Whether neither neighbour of `hay[s..e]` is a byte the second part could continue with.
fn whole(rule: &Rule, hay: &[u8], s: usize, e: usize) -> bool {
    (s == 0 || !rule.is_pair_byte(hay[s - 1])) && (e == hay.len() || !rule.is_pair_byte(hay[e]))
}

/// The pair's placeholder checks (distinct characters, digits, runs) and the public samples.
fn plausible(rule: &Rule, secret: &[u8]) -> bool {
    let Some(spec) = &rule.spec.pair else {
        return false;
    };
    let digits = secret.iter().filter(|b| b.is_ascii_digit()).count();
    let mut seen = [false; 256];
    for &b in secret {
        seen[b as usize] = true;
    }
    let distinct = seen.iter().filter(|&&s| s).count();
    spec.min_digits.is_none_or(|min| digits >= min)
        && spec.min_distinct.is_none_or(|min| distinct >= min)
        && spec.max_run.is_none_or(|max| longest_run(secret) <= max)
        && !rule.is_denied(secret)
}
