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
    }
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
    fn sha256_base32_is_rfc4648() {
        // SHA-256("") = e3b0c442…; base32 of it starts 4OYMIQUY.
        assert_eq!(sha256_base32(b"", 8), "4OYMIQUY");
    }
}
