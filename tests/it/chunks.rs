//! Streaming in chunks: a file is read `--chunk-size` bytes at a time plus an overlap of 4096
//! bytes carried into the next chunk, and each chunk reports only the keys that start in its own
//! region. With `--chunk-size 256` the first buffer holds 4352 bytes and its own region is the
//! first 320 (the chunk plus 64 of look-behind); each later chunk owns the next 256, so
//! boundaries fall at 320, 576, 832, 1088, … as long as the file goes on past the buffer. The
//! sweeps below start a key at every offset across several boundaries, in files long enough to
//! be read in many chunks, and every key must be found exactly once, at its exact place.

use crate::util::*;

/// Bytes the overlap carries from one chunk into the next (its floor; the built-in rules need less).
const OVERLAP: usize = 4096;

/// The smallest file that `--chunk-size 256` reads in more than three chunks.
const SEVERAL_CHUNKS: usize = OVERLAP + 4 * 256;

/// `n` bytes of text, with newlines when `lines`; it ends in a space, so a key may follow it.
fn filler(n: usize, lines: bool) -> String {
    let text = if lines {
        "lorem ipsum dolor sit amet,\nconsectetur adipiscing elit;\n\n"
    } else {
        "lorem ipsum dolor sit amet, consectetur; "
    };
    let mut s: String = text.chars().cycle().take(n).collect();
    if n > 0 {
        s.pop();
        s.push(' ');
    }
    s
}

/// (path, line, column, offset, secret) of a finding.
type Place = (String, u64, u64, u64, String);

fn placed(report: &Report) -> Vec<Place> {
    report
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.line, f.column, f.offset, f.secret.clone()))
        .collect()
}

fn place(path: &str, text: &[u8], offset: usize, key: &str) -> Place {
    let (line, col) = line_col(text, offset);
    (path.to_string(), line, col, offset as u64, key.to_string())
}

/// Scans `files` with `args` and compares the findings with `want` (in path order), naming the
/// files whose keys were missed or found more than once before comparing everything.
fn check(files: &[(String, Vec<u8>)], want: &[Place], args: &[&str]) -> Report {
    let dir = tree_owned(files);
    let (code, report) = scan_json(dir.path(), args);
    let got = placed(&report);
    let count = |v: &[Place], path: &str| v.iter().filter(|p| p.0 == path).count();
    let mut wrong: Vec<&str> = want
        .iter()
        .map(|w| w.0.as_str())
        .filter(|&p| count(&got, p) != count(want, p))
        .collect();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "{args:?}: {} files with keys missed or repeated: {wrong:?}",
        wrong.len()
    );
    assert_eq!(got, want, "{args:?}");
    assert_eq!(code, 1);
    assert!(report.complete);
    let bytes: usize = files.iter().map(|(_, d)| d.len()).sum();
    assert_eq!(report.stats.bytes, bytes as u64, "every byte counted once");
    report
}

#[test]
fn a_key_starting_at_every_offset_from_0_to_1200_is_found_once() {
    let placeholder = make("sk-proj-{repeat:A:74}T3BlbkFJ{repeat:B:74}", 0);
    let (mut files, mut want) = (Vec::new(), Vec::new());
    for o in 0..1200 {
        let key = project_key(10_000 + o as u64);
        let text = format!(
            "{}{key}\n{placeholder}\n{}",
            filler(o, true),
            filler(SEVERAL_CHUNKS, true)
        );
        let path = format!("o{o:04}.txt");
        want.push(place(&path, text.as_bytes(), o, &key));
        files.push((path, text.into_bytes()));
    }
    let report = check(&files, &want, &["--chunk-size", "256"]);
    // The placeholder right after each key crosses the same boundaries: counted once per file.
    assert_eq!(report.stats.placeholders, 1200);
}

/// The last chunk owns everything to the end of the file: a key ending the file, in files whose
/// length moves that chunk's start across two periods of 256.
#[test]
fn a_key_ending_the_file_is_found_once_whatever_the_file_length() {
    let (mut files, mut want) = (Vec::new(), Vec::new());
    for n in OVERLAP - 200..OVERLAP + 600 {
        let key = project_key(20_000 + n as u64);
        let text = format!("{}{key}", filler(n, true));
        let path = format!("n{n:04}.txt");
        want.push(place(&path, text.as_bytes(), n, &key));
        files.push((path, text.into_bytes()));
    }
    check(&files, &want, &["--chunk-size", "256"]);
}

#[test]
fn every_kind_across_the_first_boundaries() {
    let (mut files, mut want, mut rules) = (Vec::new(), Vec::new(), Vec::new());
    for o in 150..700 {
        let (rule, template) = KINDS[o % KINDS.len()];
        let key = make(template, 30_000 + o as u64);
        let text = format!("{}{key},{}", filler(o, true), filler(SEVERAL_CHUNKS, true));
        let path = format!("k{o:04}.txt");
        want.push(place(&path, text.as_bytes(), o, &key));
        files.push((path, text.into_bytes()));
        rules.push(rule);
    }
    let report = check(&files, &want, &["--chunk-size", "256"]);
    let got: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(got, rules);
}

#[test]
fn base64_keys_across_the_boundaries_in_every_alignment() {
    let (mut files, mut want) = (Vec::new(), Vec::new());
    for o in 0..1200 {
        let p = o % 3;
        let key = project_key(40_000 + o as u64);
        let enc = b64(format!("{}{key}", &"Y="[2 - p..]).as_bytes());
        let text = format!(
            "{}\"{enc}\"\n{}",
            filler(o, true),
            filler(SEVERAL_CHUNKS, true)
        );
        let path = format!("b{o:04}.txt");
        want.push(place(
            &path,
            text.as_bytes(),
            o + 1 + b64_char_of_byte(p),
            &key,
        ));
        files.push((path, text.into_bytes()));
    }
    let report = check(&files, &want, &["--chunk-size", "256"]);
    assert!(report.findings.iter().all(|f| f.decoded == ["base64"]));
}

/// UTF-16 files with a BOM, a short first line, and a key after `u` characters on the second
/// line: at byte offset `2 + 2 * (3 + u)`, in column `u + 1` (UTF-16 columns count characters).
fn utf16_sweep(le: bool, units: std::ops::Range<usize>, at_end: bool, args: &[&str]) {
    let (mut files, mut want) = (Vec::new(), Vec::new());
    for u in units {
        let key = project_key(50_000 + u as u64);
        let tail = if at_end {
            String::new()
        } else {
            format!(" {}", filler(SEVERAL_CHUNKS / 2, false))
        };
        let data = utf16(&format!("#!\n{}{key}{tail}", filler(u, false)), le, true);
        let path = format!("u{u:04}.txt");
        want.push((path.clone(), 2, u as u64 + 1, 2 * (3 + u as u64) + 2, key));
        files.push((path, data));
    }
    let report = check(&files, &want, args);
    assert!(report.findings.iter().all(|f| f.decoded == ["utf-16"]));
}

#[test]
fn utf16_le_keys_across_the_boundaries() {
    utf16_sweep(true, 0..450, false, &["--chunk-size", "256"]);
}

#[test]
fn utf16_be_keys_across_the_boundaries() {
    utf16_sweep(false, 0..450, false, &["--chunk-size", "256"]);
}

/// Keys ending UTF-16 files of 4,040 to 4,840 bytes.
#[test]
fn utf16_keys_ending_the_file() {
    let units = OVERLAP / 2 - 172..OVERLAP / 2 + 228;
    utf16_sweep(true, units.clone(), true, &["--chunk-size", "256"]);
    utf16_sweep(false, units, true, &["--chunk-size", "256"]);
}

/// The chunk size is an internal knob: an odd one must not change what is found, nor where.
#[test]
fn utf16_keys_with_an_odd_chunk_size() {
    for size in ["255", "257"] {
        utf16_sweep(true, 0..250, false, &["--chunk-size", size]);
        utf16_sweep(false, 0..250, false, &["--chunk-size", size]);
    }
}

fn short_sweep(offsets: &[usize], tail: usize) -> (Vec<(String, Vec<u8>)>, Vec<Place>) {
    let (mut files, mut want) = (Vec::new(), Vec::new());
    for &o in offsets {
        let key = make(KINDS[o % KINDS.len()].1, 60_000 + o as u64);
        let text = format!("{}{key}\n{}", filler(o, true), filler(tail, true));
        let path = format!("t{o:04}.txt");
        want.push(place(&path, text.as_bytes(), o, &key));
        files.push((path, text.into_bytes()));
    }
    (files, want)
}

#[test]
fn plain_keys_with_odd_chunk_sizes() {
    let offsets = [0, 1, 2, 62, 63, 64, 65, 66, 100, 200, 300, 400, 600, 900];
    let (files, want) = short_sweep(&offsets, SEVERAL_CHUNKS + 1000);
    for size in ["63", "255", "257", "1000", "4095"] {
        check(&files, &want, &["--chunk-size", size]);
    }
}

/// A chunk of 1 to 3 bytes: every key is seen by thousands of chunks and reported by one.
#[test]
fn plain_keys_with_tiny_chunk_sizes() {
    let (files, want) = short_sweep(&[0, 63, 64, 65, 200], OVERLAP + 300);
    assert!(files.iter().all(|(_, d)| d.len() > OVERLAP + 100));
    for size in ["1", "2", "3"] {
        check(&files, &want, &["--chunk-size", size]);
    }
}

/// 30 MB on one line with the default 1 MiB chunks: keys across the first three boundaries
/// (at 1 MiB + 64, 2 MiB + 64 and 3 MiB + 64) and one at the very end, without a newline.
#[test]
fn a_30_mb_single_line_file_with_the_default_chunk_size() {
    const MIB: usize = 1 << 20;
    let len = 30_000_000;
    let mut data = filler(len, false).into_bytes();
    let mut want = Vec::new();
    let keys = [
        (MIB + 64 - 82, project_key(70_001)), // the marker starts on the boundary
        (2 * MIB + 64, project_key(70_002)),  // the key starts on the boundary
        (3 * MIB + 64 - 164, project_key(70_003)), // the key ends on the boundary
        (len - 164, project_key(70_004)),     // the key ends the file
    ];
    for (at, key) in &keys {
        data[at - 1] = b' ';
        data[*at..at + key.len()].copy_from_slice(key.as_bytes());
        if at + key.len() < len {
            data[at + key.len()] = b' ';
        }
        want.push((
            "big.js".to_string(),
            1,
            *at as u64 + 1,
            *at as u64,
            key.clone(),
        ));
    }
    assert_eq!(data.len(), len);
    assert!(!data.contains(&b'\n'));
    check(&[("big.js".to_string(), data)], &want, &[]);
}

/// `lines` lines holding a key each, at varying columns, with CRLF line ends and blank lines.
fn many_lines(lines: usize) -> (Vec<(String, Vec<u8>)>, Vec<Place>) {
    let mut text = String::new();
    let mut keys = Vec::new();
    for i in 0..lines {
        if i % 10 == 3 {
            text.push('\n');
        }
        let key = make(KINDS[i % KINDS.len()].1, 80_000 + i as u64);
        text.push_str(&filler(i * 7 % 90, false));
        keys.push((text.len(), key.clone()));
        text.push_str(&format!("{key};{}\r\n", filler(i % 13, false)));
    }
    let want = keys
        .iter()
        .map(|(at, key)| place("lines.txt", text.as_bytes(), *at, key))
        .collect();
    (vec![("lines.txt".to_string(), text.into_bytes())], want)
}

#[test]
fn line_numbers_stay_exact_over_a_thousand_lines() {
    let (files, want) = many_lines(1200);
    assert_eq!(want.last().unwrap().1, 1320);
    check(&files, &want, &["--chunk-size", "1000"]);
    check(&files, &want, &[]);
}

#[test]
fn line_numbers_stay_exact_with_a_small_odd_chunk_size() {
    let (files, want) = many_lines(300);
    check(&files, &want, &["--chunk-size", "97"]);
}

/// Members are streamed in chunks too: keys across the boundaries inside a zip member and a
/// gzip stream keep the member's own lines and columns.
#[test]
fn keys_across_the_boundaries_inside_archive_members() {
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    let mut want = Vec::new();
    for o in (250..700).step_by(3) {
        let key = project_key(90_000 + o as u64);
        let text = format!("{}{key}\n{}", filler(o, true), filler(SEVERAL_CHUNKS, true));
        let name = format!("m/{o:04}.txt");
        let (line, col) = line_col(text.as_bytes(), o);
        want.push((Some(name.clone()), line, col, key));
        members.push((name, text.into_bytes()));
    }
    let refs: Vec<(&str, &[u8], bool)> = members
        .iter()
        .enumerate()
        .map(|(i, (n, d))| (n.as_str(), d.as_slice(), i % 2 == 0))
        .collect();
    let gz_key = project_key(91_000);
    let gz_text = format!(
        "{}{gz_key}\n{}",
        filler(319, true),
        filler(SEVERAL_CHUNKS, true)
    );
    let dir = tree(&[
        ("a.zip", &zip_bytes(&refs)),
        ("b.txt.gz", &gzip_bytes(gz_text.as_bytes())),
    ]);
    let (code, report) = scan_json(dir.path(), &["--chunk-size", "256"]);
    assert_eq!(code, 1);
    let got: Vec<(Option<String>, u64, u64, String)> = report
        .findings
        .iter()
        .filter(|f| f.path == "a.zip")
        .map(|f| (f.archive_member.clone(), f.line, f.column, f.secret.clone()))
        .collect();
    assert_eq!(got, want);
    let gz: Vec<(&str, u64, u64, &str)> = report
        .findings
        .iter()
        .filter(|f| f.path == "b.txt.gz")
        .map(|f| (f.secret.as_str(), f.line, f.column, f.decoded[0].as_str()))
        .collect();
    let (line, col) = line_col(gz_text.as_bytes(), 319);
    assert_eq!(gz, [(gz_key.as_str(), line, col, "gzip")]);
}

/// A user rule for tokens of 2,500 characters widens the overlap (to 5392 bytes): such a token starting across
/// the boundaries of 1 KiB chunks is found once.
#[test]
fn a_long_user_rule_token_across_the_boundaries() {
    let rule = r#"
[[rule]]
id = "long.token"
name = "LongToken"
provider = "long"
kind = "token"
description = "A token of 2500 characters"
severity = 5.0
keywords = ["LONGTOK_"]
pattern = 'LONGTOK_[A-Za-z0-9]{2500}'
max_len = 2600
remediation = "Revoke it."
examples = ["LONGTOK_{alnum:2500}"]
"#;
    let rules = tree(&[("long.toml", rule.as_bytes())]);
    let rules_path = rules.path().join("long.toml");
    let (mut files, mut want) = (Vec::new(), Vec::new());
    for o in (0..2600).step_by(97) {
        let token = make("LONGTOK_{alnum:2500}", 95_000 + o as u64);
        let text = format!("{}{token}\n{}", filler(o, true), filler(8000, true));
        let path = format!("l{o:04}.txt");
        want.push(place(&path, text.as_bytes(), o, &token));
        files.push((path, text.into_bytes()));
    }
    let rules_arg = rules_path.to_str().unwrap();
    check(
        &files,
        &want,
        &["--chunk-size", "1024", "--rules", rules_arg],
    );
}
