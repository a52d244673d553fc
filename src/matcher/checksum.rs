//! Offline checksums some key formats carry: GitHub's and npm's base62 CRC-32 of the body in the
//! last 6 characters, and GitHub fine-grained tokens' base32 SHA-256 of their first 77.

use crate::rules::{Checksum, Rule};
use regex::bytes::Captures;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Whether the match carries the checksum its rule requires (true for rules without one).
pub fn holds(rule: &Rule, caps: &Captures<'_>) -> bool {
    let Some(kind) = rule.spec.checksum else {
        return true;
    };
    if kind == Checksum::PemBody {
        return caps.name("body").is_some_and(|b| pem_body_ok(b.as_bytes()));
    }
    let (Some(body), Some(check)) = (caps.name("body"), caps.name("check")) else {
        return false;
    };
    expected(kind, body.as_bytes(), check.len()).as_bytes() == check.as_bytes()
}

/// The checksum of `body`, `len` characters long.
pub fn expected(kind: Checksum, body: &[u8], len: usize) -> String {
    match kind {
        Checksum::Crc32Base62 => crc32_base62(body, len),
        Checksum::Sha256Base32 => sha256_base32(body, len),
        Checksum::PemBody => String::new(),
    }
}

/// Whether a PEM body (base64 with line breaks, `\n` escapes and `Name: value` headers) decodes
/// to one DER structure of exactly its own length, or to an `openssh-key-v1` key.
pub fn pem_body_ok(body: &[u8]) -> bool {
    use base64::Engine as _;
    let text = String::from_utf8_lossy(body)
        .replace("\\n", "\n")
        .replace("\\r", "");
    let b64: String = text
        .lines()
        .filter(|l| !l.contains(':'))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return false;
    };
    if der.starts_with(b"openssh-key-v1\0") {
        return der.len() > 64;
    }
    der_length_is_whole(&der)
}

/// Whether `der` is one SEQUENCE whose encoded length covers exactly the rest of the bytes.
fn der_length_is_whole(der: &[u8]) -> bool {
    if der.len() < 64 || der[0] != 0x30 {
        return false;
    }
    let (len, header) = match der[1] {
        n if n < 0x80 => (usize::from(n), 2),
        n @ 0x81..=0x83 => {
            let count = usize::from(n & 0x7f);
            let Some(bytes) = der.get(2..2 + count) else {
                return false;
            };
            let len = bytes
                .iter()
                .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
            (len, 2 + count)
        }
        _ => return false,
    };
    header + len == der.len()
}

/// `n` random bytes inside a DER SEQUENCE, base64, for templates.
pub fn der_sample(random: &[u8]) -> Vec<u8> {
    let n = random.len();
    let mut der = vec![0x30, 0x82, (n >> 8) as u8, n as u8];
    der.extend_from_slice(random);
    der
}

/// base62 of CRC-32 (IEEE), most significant digit first, zero-padded to `len`.
pub fn crc32_base62(body: &[u8], len: usize) -> String {
    let mut n = crc32fast::hash(body);
    let mut digits = vec![b'0'; len];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(digits).expect("base62 is ASCII")
}

/// The first `len` characters of base32 (RFC 4648, no padding) of SHA-256.
pub fn sha256_base32(body: &[u8], len: usize) -> String {
    let digest = crate::finding::sha256(body);
    let mut out = String::with_capacity(len);
    let (mut acc, mut bits) = (0u32, 0);
    for &b in &digest {
        if out.len() == len {
            break;
        }
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 && out.len() < len {
            bits -= 5;
            out.push(BASE32[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_base62_is_zero_padded_and_pinned() {
        // CRC-32 of "123456789" is 0xCBF43926 = 3421780262.
        assert_eq!(crc32_base62(b"123456789", 6), "3jZRME");
        assert_eq!(crc32_base62(b"", 6), "000000");
    }

    #[test]
    fn pem_bodies_must_decode_to_a_whole_der_structure() {
        use base64::Engine as _;
        let der = der_sample(&[7u8; 300]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let wrapped: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        assert!(pem_body_ok(wrapped.join("\n").as_bytes()));
        assert!(pem_body_ok(wrapped.join("\\n").as_bytes()));
        let short = base64::engine::general_purpose::STANDARD.encode(&der[..200]);
        assert!(!pem_body_ok(short.as_bytes()));
        assert!(!pem_body_ok(
            b"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC...test...xxxx"
        ));
    }

    #[test]
    fn sha256_base32_is_rfc4648() {
        // SHA-256("") = e3b0c442…; base32 of it starts 4OYMIQUY.
        assert_eq!(sha256_base32(b"", 8), "4OYMIQUY");
    }
}
