//! Base64 inside base64 (`base64 | base64`, a Secret holding a base64 env file): the needles
//! that find a keyword there, and the runs they are looked for in. Base64 whose decoded text is
//! itself base64 is rare, and recognised from its first few quanta, so these needles can be
//! short: the keyword's inner forms encoded again whole (also for keywords of 4 and 5
//! characters, `xoxp-`, `npm_`, `ASIA`), and the halves of its inner forms encoded again (a line
//! wrap in the inner base64 cuts at most one of the two, as in [`decode::base64_needles`]).
//! Searching them anywhere else would cost a pass over every base64 run and match images by
//! chance.

use super::decode::{self, Base64Form};
use super::prefilter::LONG_RUN;
use std::ops::Range;

/// The shortest nested needle: a keyword of 4 characters has outer forms of 4.
const MIN_FORM: usize = 4;

/// The shortest keyword whose inner forms' halves are encoded again: a shorter one's halves of
/// 2 or 3 characters would find everything (a wrap inside a short keyword's form hides it, as
/// it does in base64 encoded once).
const MIN_HALVED_KEYWORD: usize = 6;

/// How many quanta at a run's start are decoded to tell whether it holds base64.
const QUANTA: usize = 8;

/// The needles that find `keyword` inside base64 of base64 (standard alphabet in both), each
/// searched only in runs that [`holds_base64`] passes.
pub fn needles(keyword: &[u8]) -> Vec<Base64Form> {
    let standard = |f: &Base64Form| !f.text.iter().any(|&b| b == b'-' || b == b'_');
    let mut inner = decode::base64_forms(keyword);
    if keyword.len() >= MIN_HALVED_KEYWORD {
        inner.extend(decode::base64_needles(keyword));
    }
    inner.retain(standard);
    let mut out: Vec<Base64Form> = Vec::new();
    for form in inner {
        for outer in decode::base64_forms(&form.text) {
            if standard(&outer) && outer.text.len() >= MIN_FORM && !out.contains(&outer) {
                out.push(outer);
            }
        }
    }
    out
}

/// The runs of `runs` (long base64 runs of `hay`, each maybe followed by the short last line of
/// its wrapped block, as the prefilter finds them) that hold base64 text once decoded. A short
/// run goes with the run before it.
pub fn nested_runs(hay: &[u8], runs: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut last = false;
    for run in runs {
        if run.len() >= LONG_RUN {
            last = holds_base64(&hay[run.clone()]);
        }
        if last {
            out.push(run.clone());
        }
    }
    out
}

/// Whether the base64 characters `run` decode, at some alignment, to base64 text (standard
/// alphabet, padding, line breaks) for their first [`QUANTA`] quanta, all but one (a word
/// before the value, `token_…`, shifts it by a quantum). Most runs are turned away by their
/// first two quanta at each alignment: the prefilter asks this of every long base64 run.
pub fn holds_base64(run: &[u8]) -> bool {
    (0..4).any(|skip| {
        let Some(text) = run.get(skip..) else {
            return false;
        };
        let quanta = text.chunks_exact(4).take(QUANTA);
        let n = quanta.len();
        n >= 2 && quanta.filter(|q| !decodes_to_base64(q)).nth(1).is_none()
    })
}

/// Whether the 4 base64 characters of `quantum` decode to 3 base64 characters; most quanta of
/// other text are turned away by their first decoded byte.
fn decodes_to_base64(quantum: &[u8]) -> bool {
    let v = |i: usize| u32::from(VALUE[usize::from(quantum[i])]);
    let inner = |b: u32| INNER[(b & 0xFF) as usize];
    let (v0, v1) = (v(0), v(1));
    if v0 | v1 > 63 || !inner(v0 << 2 | v1 >> 4) {
        return false;
    }
    let (v2, v3) = (v(2), v(3));
    v2 | v3 <= 63 && inner(v1 << 4 | v2 >> 2) && inner(v2 << 6 | v3)
}

const INVALID: u8 = 0xFF;

/// The value of each base64 character of either alphabet, [`INVALID`] for other bytes.
static VALUE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t[b'-' as usize] = 62;
    t[b'_' as usize] = 63;
    t
};

/// Whether a byte may stand in base64 text: the standard alphabet, padding, line breaks.
static INNER: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = true;
        i += 1;
    }
    t[b'=' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn b64(data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    #[test]
    fn base64_of_base64_is_told_from_base64_of_other_bytes() {
        let env = b"SLACK_TOKEN=xoxp-1234-5678\nREGION=eu-west-1\n";
        let twice = b64(b64(env).as_bytes());
        assert!(holds_base64(twice.as_bytes()));
        // Shifted by a word before it, or by one character: still told.
        assert!(holds_base64(format!("token_{twice}").as_bytes()));
        assert!(holds_base64(&twice.as_bytes()[1..]));
        // Wrapped inner base64: its line breaks are base64 text's.
        let wrapped = b64(format!("{}\n{}", "QUJD".repeat(19), "QUJD".repeat(5)).as_bytes());
        assert!(holds_base64(wrapped.as_bytes()));
        for once in [
            b64(env),
            b64(&[
                0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
            ]),
            b64(b"-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAK"),
            "0123456789abcdef0123456789abcdef0123456789abcdef".to_string(),
        ] {
            assert!(!holds_base64(once.as_bytes()), "{once}");
        }
    }

    #[test]
    fn a_short_run_goes_with_the_long_run_before_it() {
        let twice = b64(b64(b"NPM_TOKEN=npm_abcdefghijklmnop").as_bytes());
        let once = b64(b"no base64 in here at all, just text");
        let hay = format!("{twice}\nQUJD\n{once}\nQUJD\n");
        let (a, b) = (twice.len(), twice.len() + 6 + once.len());
        let runs = [0..a, a + 1..a + 5, a + 6..b, b + 1..b + 5];
        assert_eq!(nested_runs(hay.as_bytes(), &runs), [0..a, a + 1..a + 5]);
    }

    #[test]
    fn needles_are_in_base64_of_base64_of_the_keyword_in_every_alignment() {
        let forms = needles(b"xoxp-");
        for pad in 0..9 {
            let text = format!("{}xoxp-123", "N".repeat(pad));
            let twice = b64(b64(text.as_bytes()).as_bytes());
            assert!(
                forms
                    .iter()
                    .any(|f| twice.contains(std::str::from_utf8(&f.text).unwrap())),
                "{pad}: {twice}"
            );
        }
        assert!(forms.iter().all(|f| f.text.len() >= MIN_FORM));
    }
}
