//! Example templates: `sk-proj-{b64url:74}T3BlbkFJ{b64url:74}` expands, from a seed, into a fresh
//! random key, so that rule examples and test fixtures never hold a realistic key as a literal.
//!
//! Tokens: `{alnum:N}`, `{b64url:N}`, `{b64:N}` (with `+` and `/`), `{hex:N}`, `{base58:N}`, `{letters:N}`, `{lower:N}`, `{upper:N}`, `{digit:N}`,
//! `{repeat:C:N}` (C repeated), `{seq:N}` (an ascending run `abcdef…`); `{{` is a literal `{`.
//! Checksums over the last N characters written so far: `{crc32:N}` (6 base62 characters, as
//! GitHub and npm tokens end), `{sha256b32:N:M}` (M base32 characters, GitHub fine-grained
//! tokens), `{marvin:80}` (4 base62 characters of the Marvin32 checksum, as Azure's annotated keys
//! end); `{crc32bad:N}`, `{sha256b32bad:N:M}` and `{marvinbad:80}` write a wrong one, for negative examples.
//! PEM bodies: `{der:N}` is base64 of a DER SEQUENCE of N random bytes in lines of 64, `{der1:N}`
//! the same on one line, `{derjson:N}` with JSON `\n` escapes between the lines, `{openssh:N}`
//! an `openssh-key-v1` key of N random bytes.

use super::checksum;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A small deterministic generator (SplitMix64): reproducible examples without a `rand` dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `n` random characters from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }
}

/// An error in a template, with the offending token.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad template token {{{0}}}")]
pub struct TemplateError(pub String);

/// The most characters one token may stand for (keys are at most a few hundred): a rule file's
/// `{alnum:99999999999}` is an error, not an allocation that aborts the process.
const MAX_COUNT: usize = 4096;

/// Expands every `{…}` token of `template` with characters drawn from `rng`.
pub fn expand(template: &str, rng: &mut Rng) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        if rest[open..].starts_with("{{") {
            out.push('{');
            rest = &rest[open + 2..];
            continue;
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| TemplateError(rest[open..].into()))?;
        let text = token(&rest[open + 1..open + close], &out, rng)?;
        out.push_str(&text);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn token(tok: &str, out: &str, rng: &mut Rng) -> Result<String, TemplateError> {
    let bad = || TemplateError(tok.to_string());
    let parts: Vec<&str> = tok.split(':').collect();
    let count = |s: &str| {
        s.parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_COUNT)
            .ok_or_else(bad)
    };
    Ok(match parts.as_slice() {
        ["alnum", n] => diverse(rng, ALNUM, count(n)?),
        ["b64url", n] => diverse(rng, B64URL, count(n)?),
        ["b64", n] => diverse(rng, B64, count(n)?),
        ["hex", n] => diverse(rng, b"0123456789abcdef", count(n)?),
        ["base58", n] => diverse(rng, BASE58, count(n)?),
        ["letters", n] => diverse(rng, &ALNUM[..52], count(n)?),
        ["lower", n] => diverse(rng, b"abcdefghijklmnopqrstuvwxyz", count(n)?),
        ["upper", n] => diverse(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", count(n)?),
        ["digit", n] => diverse(rng, b"0123456789", count(n)?),
        ["repeat", c, n] if c.chars().count() == 1 => c.repeat(count(n)?),
        ["seq", n] => (0..count(n)?).map(|i| ALNUM[26 + i % 26] as char).collect(),
        ["der", n] => pem_lines(rng, count(n)?, "\n", false),
        ["der1", n] => pem_lines(rng, count(n)?, "", false),
        ["derjson", n] => pem_lines(rng, count(n)?, "\\n", false),
        ["openssh", n] => pem_lines(rng, count(n)?, "\n", true),
        [name @ ("crc32" | "crc32bad"), n] => {
            let sum = checksum::crc32_base62(tail(out, count(n)?).ok_or_else(bad)?, 6);
            if name.ends_with("bad") {
                spoil(&sum)
            } else {
                sum
            }
        }
        [name @ ("marvin" | "marvinbad"), n] => {
            let sum = checksum::azure_checksum(tail(out, count(n)?).ok_or_else(bad)?, 4);
            if sum.len() != 4 {
                return Err(bad());
            }
            if name.ends_with("bad") {
                spoil(&sum)
            } else {
                sum
            }
        }
        [name @ ("sha256b32" | "sha256b32bad"), n, m] => {
            let body = tail(out, count(n)?).ok_or_else(bad)?;
            let sum = checksum::sha256_base32(body, count(m)?);
            if name.ends_with("bad") {
                spoil(&sum)
            } else {
                sum
            }
        }
        _ => return Err(bad()),
    })
}

/// Base64 of a DER SEQUENCE of `n` random bytes, in lines of 64 joined by `sep`.
fn pem_lines(rng: &mut Rng, n: usize, sep: &str, openssh: bool) -> String {
    use base64::Engine as _;
    let random: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
    let bytes = if openssh {
        [b"openssh-key-v1\0".as_slice(), &random].concat()
    } else {
        checksum::der_sample(&random)
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let lines: Vec<&str> = if sep.is_empty() {
        vec![&b64]
    } else {
        b64.as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
            .collect()
    };
    lines.join(sep)
}

/// The last `n` bytes written so far.
fn tail(out: &str, n: usize) -> Option<&[u8]> {
    out.len().checked_sub(n).map(|from| &out.as_bytes()[from..])
}

/// A checksum with its first character changed, so that it no longer holds.
fn spoil(sum: &str) -> String {
    let mut b = sum.as_bytes().to_vec();
    b[0] = if b[0] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).expect("checksums are ASCII")
}

/// Random text with no run of 4 repeated or sequential characters, so that a generated key is
/// never mistaken for a placeholder.
fn diverse(rng: &mut Rng, alphabet: &[u8], n: usize) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(n);
    while out.len() < n {
        let c = alphabet[rng.below(alphabet.len())];
        out.push(c);
        if super::longest_run(&out) >= 4 {
            out.pop();
        }
    }
    String::from_utf8(out).expect("alphabets are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_tokens_to_the_asked_lengths() {
        let mut rng = Rng::new(7);
        let s = expand("sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", &mut rng).unwrap();
        assert_eq!(s.len(), 164);
        assert!(s.starts_with("sk-proj-") && &s[82..90] == "T3BlbkFJ");
        assert_eq!(expand("a{repeat:x:3}b", &mut rng).unwrap(), "axxxb");
        assert_eq!(expand("{seq:6}", &mut rng).unwrap(), "abcdef");
        assert_eq!(expand("{{\"a\": 1}", &mut rng).unwrap(), "{\"a\": 1}");
    }

    #[test]
    fn checksums_cover_the_characters_before_them() {
        let mut rng = Rng::new(3);
        let s = expand("ghp_{alnum:30}{crc32:30}", &mut rng).unwrap();
        assert_eq!(s.len(), 40);
        assert_eq!(&s[34..], checksum::crc32_base62(&s.as_bytes()[4..34], 6));
        let bad = expand("ghp_{alnum:30}{crc32bad:30}", &mut Rng::new(3)).unwrap();
        assert_eq!(bad[..34], s[..34]);
        assert_ne!(bad[34..], s[34..]);
        assert!(expand("{crc32:5}", &mut rng).is_err());
    }

    #[test]
    fn same_seed_same_text() {
        let a = expand("{alnum:20}", &mut Rng::new(1)).unwrap();
        let b = expand("{alnum:20}", &mut Rng::new(1)).unwrap();
        assert_eq!(a, b);
    }

    /// Found by the fuzzer (issue 14, point 18): a huge count overflowed the allocation.
    #[test]
    fn fuzz_r1_huge_counts_are_errors() {
        let mut rng = Rng::new(1);
        for t in [
            "{alnum:99999999999999999999}",
            "{repeat:x:18446744073709551615}",
            "{hex:4097}",
        ] {
            assert!(expand(t, &mut rng).is_err(), "{t}");
        }
        assert_eq!(expand("{repeat:x:4096}", &mut rng).unwrap().len(), 4096);
    }

    #[test]
    fn bad_tokens_are_errors() {
        assert!(expand("{nope:3}", &mut Rng::new(1)).is_err());
        assert!(expand("{alnum:x}", &mut Rng::new(1)).is_err());
        assert!(expand("{alnum:3", &mut Rng::new(1)).is_err());
    }
}
