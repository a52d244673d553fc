//! Offline checksums some key formats carry: GitHub's and npm's base62 CRC-32 of the body in the
//! last 6 characters, GitHub fine-grained tokens' base32 SHA-256 of their first 77, and Azure's
//! annotated keys' Marvin32 of their first 60 bytes in the last 4 characters.

use super::{Checksum, Rule};
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
    if kind == Checksum::Marvin32 {
        return azure_checksum_ok(body.as_bytes(), check.as_bytes());
    }
    expected(kind, body.as_bytes(), check.len()).as_bytes() == check.as_bytes()
}

/// The checksum of `body`, `len` characters long.
pub fn expected(kind: Checksum, body: &[u8], len: usize) -> String {
    match kind {
        Checksum::Crc32Base62 => crc32_base62(body, len),
        Checksum::Sha256Base32 => sha256_base32(body, len),
        Checksum::Marvin32 => azure_checksum(body, len),
        Checksum::PemBody => String::new(),
    }
}

/// The Marvin32 seed of Azure's annotated keys: the ASCII bytes of `Default0`, reversed, read
/// as a little-endian u64 (microsoft/security-utilities `IdentifiableSecrets.VersionTwoChecksumSeed`).
pub const AZURE_SEED: u64 = u64::from_be_bytes(*b"Default0");

/// Marvin32 (the 64-bit form, as SymCrypt and .NET compute it) of `data` with `seed`: the low
/// half of the result is the final `p0`, the high half `p1`.
pub fn marvin64(data: &[u8], seed: u64) -> u64 {
    let (mut p0, mut p1) = (seed as u32, (seed >> 32) as u32);
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        p0 = p0.wrapping_add(u32::from_le_bytes(block.try_into().expect("4 bytes")));
        marvin_block(&mut p0, &mut p1);
    }
    // The last 0 to 3 bytes, then a single 0x80 byte, as one little-endian word.
    let rest = blocks.remainder();
    let mut last = 0x80u32 << (8 * rest.len());
    for (i, &b) in rest.iter().enumerate() {
        last |= u32::from(b) << (8 * i);
    }
    p0 = p0.wrapping_add(last);
    marvin_block(&mut p0, &mut p1);
    marvin_block(&mut p0, &mut p1);
    (u64::from(p1) << 32) | u64::from(p0)
}

/// Marvin32 folded to 32 bits (`ComputeHash32`): the two halves xored.
pub fn marvin32(data: &[u8], seed: u64) -> u32 {
    let h = marvin64(data, seed);
    (h ^ (h >> 32)) as u32
}

fn marvin_block(p0: &mut u32, p1: &mut u32) {
    *p1 ^= *p0;
    *p0 = p0.rotate_left(20);
    *p0 = p0.wrapping_add(*p1);
    *p1 = p1.rotate_left(9);
    *p1 ^= *p0;
    *p0 = p0.rotate_left(27);
    *p0 = p0.wrapping_add(*p1);
    *p1 = p1.rotate_left(19);
}

/// The checksum bytes of an annotated key whose first 80 characters are `body`: Marvin32 of
/// the 60 bytes they decode to, little-endian; `None` when `body` is not 80 base64 characters.
fn azure_checksum_bytes(body: &[u8]) -> Option<[u8; 4]> {
    use base64::Engine as _;
    if body.len() != 80 {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    Some(marvin32(&bytes, AZURE_SEED).to_le_bytes())
}

/// The checksum characters Azure writes after `body` (`len` of them): base62 of the checksum
/// bytes read as one big-endian number, a `0` for each leading zero byte
/// (`LegacyCommonAnnotatedSecurityKey.TryCreate`, which also accepts the bytes' base64).
pub fn azure_checksum(body: &[u8], len: usize) -> String {
    let Some(sum) = azure_checksum_bytes(body) else {
        return String::new();
    };
    let zeros = sum.iter().take_while(|&&b| b == 0).count().min(3);
    let mut n = u32::from_be_bytes(sum);
    let mut digits = Vec::new();
    if n == 0 {
        digits.push(b'0');
    }
    while n > 0 {
        digits.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    digits.extend(std::iter::repeat_n(b'0', zeros));
    digits.reverse();
    let mut text = String::from_utf8(digits).expect("base62 is ASCII");
    text.truncate(len);
    text
}

/// Whether `check` (an annotated key's last 4 characters) starts either encoding of the
/// Marvin32 checksum of `body` (its first 80): base62 as Azure writes it, or base64.
fn azure_checksum_ok(body: &[u8], check: &[u8]) -> bool {
    use base64::Engine as _;
    let Some(sum) = azure_checksum_bytes(body) else {
        return false;
    };
    let base64 = base64::engine::general_purpose::STANDARD.encode(sum);
    azure_checksum(body, 6).as_bytes().starts_with(check) || base64.as_bytes().starts_with(check)
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
    fn marvin_matches_symcrypts_and_security_utilities_vectors() {
        // SymCrypt lib/marvin32.c self-test, as microsoft/security-utilities marvin_tests.rs
        // (`marvin_basic`, `marvin_longer_string`) pin it.
        assert_eq!(
            marvin64(b"abc", 0xd53c_d9ce_cd08_93b7),
            0x22c7_4339_4927_69bf
        );
        assert_eq!(
            marvin64(b"abcdefghijklmnopqrstuvwxyz", 0x0ddd_deee_efff_f000),
            0xa128_eb7e_7260_aca2
        );
        // Every tail length, from marvin_tests.rs `create_test_cases` (seed_0), folded as
        // `ComputeHash32` folds them.
        let seed = 0x004f_b61a_001b_dbcc;
        let cases: [(&[u8], u64); 4] = [
            (&[], 0x30ed_35c1_00cd_3c7d),
            (&[175], 0x48e7_3fc7_7d75_ddc1),
            (&[55, 244, 149], 0xf0b0_7c78_9b8c_f7e8),
            (&[171, 66, 126, 168, 209, 15, 199], 0xe118_47e4_f067_8c41),
        ];
        for (data, want) in cases {
            assert_eq!(marvin64(data, seed), want, "{data:?}");
            assert_eq!(marvin32(data, seed), (want ^ (want >> 32)) as u32);
        }
    }

    #[test]
    fn azure_seed_is_default0_reversed() {
        let reversed: Vec<u8> = b"Default0".iter().rev().copied().collect();
        assert_eq!(AZURE_SEED, u64::from_le_bytes(reversed.try_into().unwrap()));
    }

    #[test]
    fn azure_checksums_accept_base62_or_base64_and_nothing_else() {
        use base64::Engine as _;
        let body = [
            b"Ab3".repeat(17).as_slice(),
            b"cJQQJ99AFAAAAAAAAAAAAAAABACOG",
        ]
        .concat();
        assert_eq!(body.len(), 80);
        let sum = marvin32(
            &base64::engine::general_purpose::STANDARD
                .decode(&body)
                .unwrap(),
            AZURE_SEED,
        )
        .to_le_bytes();
        let b62 = azure_checksum(&body, 4);
        assert_eq!(b62.len(), 4);
        assert!(azure_checksum_ok(&body, b62.as_bytes()));
        let b64 = base64::engine::general_purpose::STANDARD.encode(sum);
        assert!(azure_checksum_ok(&body, &b64.as_bytes()[..4]));
        assert!(!azure_checksum_ok(&body, b"zzzz"));
        assert!(!azure_checksum_ok(&body[1..], b62.as_bytes()));
    }

    #[test]
    fn sha256_base32_is_rfc4648() {
        // SHA-256("") = e3b0c442…; base32 of it starts 4OYMIQUY.
        assert_eq!(sha256_base32(b"", 8), "4OYMIQUY");
    }
}
