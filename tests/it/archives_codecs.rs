//! bzip2, xz and zstd streams (issue 18), opened by their magic bytes like gzip: a key inside is
//! reported at the outer path with the codec in `decoded` (and the tar member, for `.tar.*`);
//! a truncated stream and a bomb make the scan incomplete, never a panic. Each stream is
//! compressed here, at test time, around keys generated at test time.

use crate::archives::{Row, member_text, rows};
use crate::util::*;
use std::io::Write as _;

/// Compresses bytes.
pub type Compress = fn(&[u8]) -> Vec<u8>;

/// Every codec: its `decoded` value, a short file extension and a compressor.
pub const CODECS: &[(&str, &str, Compress)] = &[
    ("bzip2", "bz2", bzip2_bytes),
    ("xz", "xz", xz_bytes),
    ("zstd", "zst", zstd_bytes),
];

/// `data` bzip2-compressed (level 9, the default of the `bzip2` tool).
pub fn bzip2_bytes(data: &[u8]) -> Vec<u8> {
    let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    enc.write_all(data).expect("compress");
    enc.finish().expect("compress")
}

/// `data` xz-compressed (preset 6, the default of the `xz` tool: an 8 MiB dictionary).
pub fn xz_bytes(data: &[u8]) -> Vec<u8> {
    let options = lzma_rust2::XzOptions::with_preset(6);
    let mut enc = lzma_rust2::XzWriter::new(Vec::new(), options).expect("xz");
    enc.write_all(data).expect("compress");
    enc.finish().expect("compress")
}

/// `data` zstd-compressed.
pub fn zstd_bytes(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

fn row(path: &str, member: Option<&str>, decoded: &str, (line, col): (u64, u64), key: &str) -> Row {
    (
        path.to_string(),
        member.map(str::to_string),
        vec![decoded.to_string()],
        line,
        col,
        key.to_string(),
    )
}

#[test]
fn a_tar_in_each_codec_is_opened_and_the_key_keeps_its_member_path() {
    for (i, &(codec, ext, compress)) in CODECS.iter().enumerate() {
        let key = project_key(1800 + i as u64);
        let (text, pos) = member_text(&key);
        let tar = tar_bytes(&[("app/.env", text.as_bytes()), ("app/README", b"hello\n")]);
        let name = format!("logs.tar.{ext}");
        let dir = tree(&[(name.as_str(), &compress(&tar))]);
        let (code, report) = scan_json(dir.path(), &[]);
        assert_eq!(code, 1, "{codec}: {:#?}", report.skipped);
        assert_eq!(
            rows(&report),
            [row(&name, Some("app/.env"), codec, pos, &key)],
            "{codec}"
        );
        assert!(report.complete, "{codec}: {:#?}", report.skipped);
        check_schema(&serde_json::to_value(scan_value(dir.path())).unwrap(), None);
    }
}

/// The report as plain JSON, for the schema check.
fn scan_value(dir: &std::path::Path) -> serde_json::Value {
    let out = kh()
        .current_dir(dir)
        .args(["scan", "--format", "json"])
        .output()
        .expect("keyhound runs");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn each_codec_is_recognised_by_its_magic_bytes_not_its_name() {
    for (i, &(codec, _, compress)) in CODECS.iter().enumerate() {
        let key = project_key(1810 + i as u64);
        let text = format!("first line\nOPENAI_API_KEY={key}\n");
        let dir = tree(&[("backup.dat", &compress(text.as_bytes()))]);
        let (code, report) = scan_json(dir.path(), &[]);
        assert_eq!(code, 1, "{codec}: {:#?}", report.skipped);
        assert_eq!(
            rows(&report),
            [row("backup.dat", None, codec, (2, 16), &key)],
            "{codec}"
        );
    }
}

#[test]
fn each_codec_is_opened_on_standard_input() {
    for (i, &(codec, _, compress)) in CODECS.iter().enumerate() {
        let key = project_key(1820 + i as u64);
        let out = kh()
            .args(["scan", "--format", "json", "--show-secrets", "-"])
            .write_stdin(compress(format!("k={key}\n").as_bytes()))
            .output()
            .expect("keyhound runs");
        assert_eq!(out.status.code(), Some(1), "{codec}");
        let report: Report = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(rows(&report), [row("-", None, codec, (1, 3), &key)]);
    }
}

#[test]
fn a_truncated_stream_is_incomplete_not_a_panic() {
    for (i, &(codec, ext, compress)) in CODECS.iter().enumerate() {
        let mut text = String::new();
        for n in 0..2000 {
            text.push_str(&format!("line {n}: {}\n", project_key(1830 + n)));
        }
        let _ = i;
        let whole = compress(text.as_bytes());
        for cut in [whole.len() / 2, whole.len() - 1, 12] {
            let name = format!("cut.{ext}");
            let dir = tree(&[(name.as_str(), &whole[..cut])]);
            let out = kh()
                .current_dir(dir.path())
                .args(["scan", "--format", "json", "."])
                .output()
                .expect("keyhound runs");
            let code = out.status.code();
            assert!(
                code == Some(1) || code == Some(2),
                "{codec} cut at {cut}: {code:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let report: Report = serde_json::from_slice(&out.stdout).expect("JSON");
            assert!(!report.complete, "{codec} cut at {cut}");
            let s = &report.skipped[0];
            assert_eq!((s.path.as_str(), s.incomplete), (name.as_str(), true));
            // Alone and without findings, an incomplete scan exits 2.
            if report.findings.is_empty() {
                assert_eq!(code, Some(2), "{codec} cut at {cut}");
            }
        }
    }
}

#[test]
fn a_bomb_in_each_codec_stops_at_the_ratio_and_is_incomplete() {
    let zeros = vec![0u8; 8 << 20];
    for &(codec, ext, compress) in CODECS {
        let name = format!("zeros.img.{ext}");
        let dir = tree(&[(name.as_str(), &compress(&zeros))]);
        let (code, report) = scan_json(dir.path(), &[]);
        assert_eq!(code, 2, "{codec}");
        assert_eq!(report.skipped.len(), 1, "{codec}: {:#?}", report.skipped);
        let s = &report.skipped[0];
        assert_eq!((s.path.as_str(), s.incomplete), (name.as_str(), true));
        assert!(
            s.reason.contains("compression ratio over 100:1"),
            "{codec}: {}",
            s.reason
        );
        // Bounded: the scan stopped soon after the 1 MiB grace, not at 8 MiB.
        assert!(
            report.stats.bytes < 2 << 20,
            "{codec}: {}",
            report.stats.bytes
        );
    }
}

#[test]
fn concatenated_streams_and_frames_are_read_to_the_end() {
    for (i, &(codec, ext, compress)) in CODECS.iter().enumerate() {
        let (first, second) = (project_key(1840 + i as u64), project_key(1850 + i as u64));
        let mut bytes = compress(format!("a={first}\n").as_bytes());
        bytes.extend(compress(format!("b={second}\n").as_bytes()));
        let name = format!("two.{ext}");
        let dir = tree(&[(name.as_str(), &bytes)]);
        let (code, report) = scan_json(dir.path(), &[]);
        assert_eq!(code, 1, "{codec}: {:#?}", report.skipped);
        assert_eq!(secrets(&report), [first, second], "{codec}");
        assert!(report.complete, "{codec}: {:#?}", report.skipped);
    }
}

#[test]
fn a_stream_declaring_a_window_over_the_limit_is_not_opened() {
    // An xz stream header, then a block header whose LZMA2 dictionary is 4 GiB (property 40).
    let mut xz = b"\xFD7zXZ\x00\x00\x04\xE6\xD6\xB4\x46".to_vec();
    xz.extend_from_slice(&[0x02, 0x00, 0x21, 0x01, 40, 0, 0, 0, 0, 0, 0, 0]);
    xz.extend_from_slice(&[0u8; 64]);
    // A zstd frame header declaring a 1 GiB window (exponent 20).
    let mut zstd = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, 20 << 3];
    zstd.extend_from_slice(&[0u8; 64]);
    for (name, bytes, mib) in [("big.xz", xz, "4096 MiB"), ("big.zst", zstd, "1024 MiB")] {
        let dir = tree(&[(name, &bytes)]);
        let (code, report) = scan_json(dir.path(), &[]);
        assert_eq!(code, 2, "{name}: {:#?}", report.skipped);
        let s = &report.skipped[0];
        assert_eq!((s.path.as_str(), s.incomplete), (name, true));
        assert!(s.reason.contains(mib), "{name}: {}", s.reason);
        assert!(
            s.reason.contains("over the 128 MiB limit"),
            "{name}: {}",
            s.reason
        );
    }
}
