//! Issue 14, points 2, 7 and 8: what a hostile archive hides from the scan or uses against it.
//! Keys in tar extension records, link names, unusual entry types and bytes after the end; in
//! zip comments, unlisted entries and bytes after the end record; in gzip's name and comment;
//! in file, directory, member and link names (found, and redacted in every output). Oversized
//! tar records, zip entries that overlap or lie about their compressed size make the scan
//! incomplete. Every archive is built byte by byte here.

use crate::util::*;

/// A tar header block for an entry of type `kind`.
fn header(name: &[u8], kind: u8, size: u64, link: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_ustar();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::new(kind));
    h.set_cksum();
    h.as_bytes().to_vec()
}

/// A tar entry: its header, its data and the padding to the next block.
fn entry(name: &[u8], kind: u8, data: &[u8], link: &[u8]) -> Vec<u8> {
    let mut out = header(name, kind, data.len() as u64, link);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

/// A tar of `entries` and its two end blocks.
fn tar_of(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = entries.concat();
    out.extend_from_slice(&[0; 1024]);
    out
}

/// A PAX record `<len> key=value\n`.
fn pax(key: &str, value: &str) -> String {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}")
}

/// Scans one file `name` holding `data`; returns the exit code and the report.
fn scan_one(name: &str, data: &[u8]) -> (i32, Report) {
    let dir = tree(&[(name, data)]);
    scan_json(dir.path(), &[])
}

fn assert_found(report: &Report, key: &str) {
    assert!(
        secrets(report).iter().any(|s| s == key),
        "key not found: {report:#?}"
    );
}

fn assert_incomplete(report: &Report, reason: &str) {
    assert!(!report.complete, "{report:#?}");
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.incomplete && s.reason.contains(reason)),
        "no skip saying {reason:?}: {:#?}",
        report.skipped
    );
}

fn key_text(seed: u64) -> (String, String) {
    let key = project_key(seed);
    let text = format!("OPENAI_API_KEY={key}\n");
    (key, text)
}

#[test]
fn r14_tar_pax_comment_is_scanned() {
    let (key, text) = key_text(1401);
    let record = pax("comment", &text);
    let tar = tar_of(&[
        entry(b"PaxHeaders/a.txt", b'x', record.as_bytes(), b""),
        entry(b"a.txt", b'0', b"plain\n", b""),
    ]);
    let (code, report) = scan_one("bundle.tar", &tar);
    assert_found(&report, &key);
    assert_eq!(code, 1, "{report:#?}");
}

#[test]
fn r14_tar_gnu_long_name_is_scanned_and_redacted() {
    let key = project_key(1402);
    let name = format!("{}/{key}.env", "d".repeat(120));
    let mut long = name.clone().into_bytes();
    long.push(0);
    let tar = tar_of(&[
        entry(b"././@LongLink", b'L', &long, b""),
        entry(b"short", b'0', b"no key here\n", b""),
    ]);
    let (code, report) = scan_one("bundle.tar", &tar);
    assert_eq!(code, 1, "{report:#?}");
    assert_found(&report, &key);
    assert_names_redacted(&tar, "bundle.tar", &key);
}

/// The key is in no output's names, paths or messages when it is not asked for: human, JSON
/// and SARIF.
fn assert_names_redacted(data: &[u8], name: &str, key: &str) {
    let dir = tree(&[(name, data)]);
    for format in ["human", "json", "sarif"] {
        let out = kh()
            .current_dir(dir.path())
            .args(["scan", "--format", format, "."])
            .output()
            .expect("keyhound runs");
        let all = [out.stdout, out.stderr].concat();
        assert!(
            !String::from_utf8_lossy(&all).contains(key),
            "{format} shows the key:\n{}",
            String::from_utf8_lossy(&all)
        );
    }
}

#[test]
fn r14_tar_bytes_after_the_end_are_scanned() {
    let (key, text) = key_text(1403);
    let mut tar = tar_of(&[entry(b"a.txt", b'0', b"plain\n", b"")]);
    tar.extend_from_slice(text.as_bytes());
    let (code, report) = scan_one("bundle.tar", &tar);
    assert_eq!(code, 1, "{report:#?}");
    assert_found(&report, &key);
}

#[test]
fn r14_tar_symlink_target_is_scanned() {
    let key = make("sk-{alnum:20}T3BlbkFJ{alnum:20}", 1404);
    let tar = tar_of(&[entry(b"link", b'2', b"", key.as_bytes())]);
    let (code, report) = scan_one("bundle.tar", &tar);
    assert_eq!(code, 1, "{report:#?}");
    assert_found(&report, &key);
}

#[test]
fn r14_tar_type_7_and_unknown_types_are_scanned_as_files() {
    for (kind, seed) in [(b'7', 1405), (b'Z', 1406)] {
        let (key, text) = key_text(seed);
        let tar = tar_of(&[entry(b"contiguous.env", kind, text.as_bytes(), b"")]);
        let (code, report) = scan_one("bundle.tar", &tar);
        assert_eq!(code, 1, "type {}: {report:#?}", kind as char);
        assert_found(&report, &key);
        assert_eq!(
            report.findings[0].archive_member.as_deref(),
            Some("contiguous.env")
        );
    }
}

/// A tar whose one extension record of kind `kind` is `size` bytes with `text` (a key) past
/// its first MiB.
fn oversized_record(kind: u8, size: usize, text: &str) -> Vec<u8> {
    let mut record = vec![b'a'; size];
    let at = size - text.len() - 100;
    record[at..at + text.len()].copy_from_slice(text.as_bytes());
    record[at - 1] = b'\n';
    tar_of(&[
        entry(b"././@LongLink", kind, &record, b""),
        entry(b"after.txt", b'0', b"plain\n", b""),
    ])
}

#[test]
fn r14_oversized_gnu_long_name_is_scanned_and_makes_the_scan_incomplete() {
    let (key, text) = key_text(1407);
    let tar = oversized_record(b'L', 2 << 20, &text);
    let (code, report) = scan_one("bundle.tar", &tar);
    assert_eq!(code, 1, "{report:#?}");
    assert_found(&report, &key);
    assert_incomplete(&report, "over the 1024 KiB limit");
}

#[test]
fn r14_oversized_pax_record_is_scanned_and_makes_the_scan_incomplete() {
    let (key, text) = key_text(1408);
    let tar = oversized_record(b'x', 2 << 20, &text);
    let (code, report) = scan_one("bundle.tar", &tar);
    assert_eq!(code, 1, "{report:#?}");
    assert_found(&report, &key);
    assert_incomplete(&report, "over the 1024 KiB limit");
}

/// One zip entry written by hand: its local header, data and central directory record.
struct ZipEntry {
    name: Vec<u8>,
    /// 0 stored, 8 deflated.
    method: u16,
    data: Vec<u8>,
    plain: Vec<u8>,
    comment: Vec<u8>,
    /// The compressed size the headers state (the real one unless it lies).
    stated: u32,
    /// Where its local header starts; set by `raw_zip`, or to point into another entry.
    offset: Option<u32>,
    listed: bool,
}

fn stored(name: &str, plain: &[u8]) -> ZipEntry {
    ZipEntry {
        name: name.as_bytes().to_vec(),
        method: 0,
        data: plain.to_vec(),
        plain: plain.to_vec(),
        comment: Vec::new(),
        stated: plain.len() as u32,
        offset: None,
        listed: true,
    }
}

fn deflated(name: &str, plain: &[u8]) -> ZipEntry {
    use std::io::Write as _;
    let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    d.write_all(plain).unwrap();
    let data = d.finish().unwrap();
    ZipEntry {
        stated: data.len() as u32,
        data,
        method: 8,
        ..stored(name, plain)
    }
}

fn crc(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

/// A zip of `entries` (in order), then `padding` after each entry's data, an archive comment
/// and bytes after the end record.
fn raw_zip(entries: &mut [ZipEntry], padding: usize, comment: &[u8], after: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries.iter_mut().filter(|e| e.offset.is_none()) {
        e.offset = Some(out.len() as u32);
        out.extend_from_slice(&local_header(e));
        out.extend_from_slice(&e.data);
        out.extend(std::iter::repeat_n(0x55, padding));
    }
    let directory = out.len() as u32;
    let listed: Vec<&ZipEntry> = entries.iter().filter(|e| e.listed).collect();
    for e in &listed {
        out.extend_from_slice(&central_header(e));
    }
    let size = out.len() as u32 - directory;
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    for n in [listed.len() as u16, listed.len() as u16] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&directory.to_le_bytes());
    out.extend_from_slice(&(comment.len() as u16).to_le_bytes());
    out.extend_from_slice(comment);
    out.extend_from_slice(after);
    out
}

/// Version, flags, method, time, date, crc, sizes: shared by both headers.
fn common_fields(e: &ZipEntry) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [20u16, 0, e.method, 0, 0x21] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in [crc(&e.plain), e.stated, e.plain.len() as u32] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
    out
}

fn local_header(e: &ZipEntry) -> Vec<u8> {
    let mut out = b"PK\x03\x04".to_vec();
    out.extend_from_slice(&common_fields(e));
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&e.name);
    out
}

fn central_header(e: &ZipEntry) -> Vec<u8> {
    let mut out = b"PK\x01\x02".to_vec();
    out.extend_from_slice(&20u16.to_le_bytes());
    out.extend_from_slice(&common_fields(e));
    for v in [0u16, e.comment.len() as u16, 0, 0] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&e.offset.expect("placed").to_le_bytes());
    out.extend_from_slice(&e.name);
    out.extend_from_slice(&e.comment);
    out
}

#[test]
fn r14_raw_zip_helper_builds_readable_archives() {
    let (key, text) = key_text(1409);
    let zip = raw_zip(&mut [deflated("a.env", text.as_bytes())], 0, b"", b"");
    let (code, report) = scan_one("bundle.zip", &zip);
    assert_eq!(code, 1, "{report:#?}");
    assert_found(&report, &key);
    assert!(report.complete);
}

#[test]
fn r14_zip_archive_comment_is_scanned() {
    let (key, text) = key_text(1410);
    let zip = raw_zip(&mut [deflated("a.txt", b"plain")], 0, text.as_bytes(), b"");
    let (code, report) = scan_one("bundle.zip", &zip);
    assert_eq!(code, 1, "{report:#?}");
    assert_found(&report, &key);
}

#[test]
fn r14_zip_member_comment_is_scanned() {
    let (key, text) = key_text(1411);
    let mut member = deflated("a.txt", b"plain");
    member.comment = text.into_bytes();
    let zip = raw_zip(&mut [member], 0, b"", b"");
    let (code, report) = scan_one("bundle.zip", &zip);
    assert_eq!(code, 1, "{report:#?}");
    assert_found(&report, &key);
}

#[test]
fn r14_zip_bytes_after_the_end_record_are_scanned() {
    let (key, text) = key_text(1412);
    let zip = raw_zip(&mut [deflated("a.txt", b"plain")], 0, b"", text.as_bytes());
    let (code, report) = scan_one("bundle.zip", &zip);
    assert_eq!(code, 1, "{report:#?}");
    assert_found(&report, &key);
}

#[test]
fn r14_zip_entry_missing_from_the_central_directory_makes_the_scan_incomplete() {
    let (_, text) = key_text(1413);
    let mut hidden = deflated("hidden.env", text.as_bytes());
    hidden.listed = false;
    let zip = raw_zip(&mut [deflated("a.txt", b"plain"), hidden], 0, b"", b"");
    let (code, report) = scan_one("bundle.zip", &zip);
    assert_eq!(code, 2, "{report:#?}");
    assert_incomplete(&report, "missing from the central directory");
}

#[test]
fn r14_overlapping_zip_entries_are_not_inflated_and_make_the_scan_incomplete() {
    // Each entry claims 64 KiB of compressed bytes, a ratio of 64:1, under the limit; all of
    // them are the same 4 KiB stream.
    let plain = vec![b'a'; 4 << 20];
    let mut entries: Vec<ZipEntry> = (0..50)
        .map(|i| {
            let mut e = deflated(&format!("{i}.txt"), &plain);
            e.stated = 64 << 10;
            e.offset = (i > 0).then_some(0);
            e
        })
        .collect();
    let padding = (64 << 10) - entries[0].data.len();
    let zip = raw_zip(&mut entries, padding, b"", b"");
    let (code, report) = scan_one("bomb.zip", &zip);
    assert_eq!(code, 2, "{report:#?}");
    assert_incomplete(&report, "overlap");
    assert!(report.stats.bytes < 8 << 20, "{report:#?}");
}

#[test]
fn r14_a_zip_entry_lying_about_its_compressed_size_meets_the_ratio_limit() {
    // 64 MiB of one byte deflate to ~64 KiB; the headers claim 2 MiB, a ratio of 32:1.
    let plain = vec![b'a'; 64 << 20];
    let mut member = deflated("big.txt", &plain);
    let padding = (2 << 20) - member.data.len();
    member.stated = 2 << 20;
    let zip = raw_zip(&mut [member], padding, b"", b"");
    let (code, report) = scan_one("bomb.zip", &zip);
    assert_eq!(code, 2, "{report:#?}");
    assert_incomplete(&report, "compression ratio over 100:1");
}

#[test]
fn r14_gzip_file_name_and_comment_are_scanned() {
    use std::io::Write as _;
    for (field, seed) in ["name", "comment"].into_iter().zip(1414..) {
        let key = make("sk-{alnum:20}T3BlbkFJ{alnum:20}", seed);
        let mut builder = flate2::GzBuilder::new();
        builder = match field {
            "name" => builder.filename(format!("{key}.txt")),
            _ => builder.comment(format!("key {key}")),
        };
        let mut gz = builder.write(Vec::new(), flate2::Compression::default());
        gz.write_all(b"plain text\n").unwrap();
        let (code, report) = scan_one("data.gz", &gz.finish().unwrap());
        assert_eq!(code, 1, "{field}: {report:#?}");
        assert_found(&report, &key);
    }
}

#[test]
fn r14_keys_in_file_and_directory_names_are_found_and_redacted() {
    let (file_key, dir_key) = (
        make("sk-{alnum:20}T3BlbkFJ{alnum:20}", 1416),
        make("sk-{alnum:20}T3BlbkFJ{alnum:20}", 1417),
    );
    let dir = tree(&[
        (&format!("conf/{file_key}.txt"), b"plain\n"),
        (&format!("{dir_key}/notes.txt"), b"plain\n"),
    ]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{report:#?}");
    let mut found = secrets(&report);
    found.sort();
    let mut want = vec![file_key.clone(), dir_key.clone()];
    want.sort();
    assert_eq!(found, want);
    for format in ["human", "json", "sarif"] {
        let out = kh()
            .current_dir(dir.path())
            .args(["scan", "--format", format, "."])
            .output()
            .unwrap();
        let all = String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned();
        for key in [&file_key, &dir_key] {
            assert!(!all.contains(key.as_str()), "{format}:\n{all}");
        }
    }
}

#[test]
fn r14_keys_in_zip_member_names_are_found_and_redacted() {
    let key = make("sk-{alnum:20}T3BlbkFJ{alnum:20}", 1418);
    let zip = zip_bytes(&[(&format!("cfg/{key}"), b"plain", false)]);
    let (code, report) = scan_one("bundle.zip", &zip);
    assert_eq!(code, 1, "{report:#?}");
    assert_found(&report, &key);
    assert_names_redacted(&zip, "bundle.zip", &key);
}

/// On disk the zip is read where it lies; on standard input it is copied to a temporary file.
#[test]
fn r14_a_zip_over_16_mib_on_disk_or_streamed_hides_nothing() {
    let (key, text) = key_text(1419);
    let (after_key, after) = key_text(1420);
    let mut noise = 7u64;
    let filler: Vec<u8> = (0..17 << 20)
        .map(|_| {
            noise = noise
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            b'a' + (noise >> 59) as u8
        })
        .collect();
    let zip = raw_zip(
        &mut [
            stored("filler.txt", &filler),
            deflated("app.env", text.as_bytes()),
        ],
        0,
        b"",
        after.as_bytes(),
    );
    let (code, on_disk) = scan_one("big.zip", &zip);
    assert_eq!(code, 1, "{on_disk:#?}");
    let out = kh()
        .args(["scan", "-", "--format", "json", "--show-secrets"])
        .write_stdin(zip)
        .output()
        .expect("keyhound runs");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let streamed: Report = serde_json::from_slice(&out.stdout).expect("JSON report");
    for report in [on_disk, streamed] {
        assert_found(&report, &key);
        assert_found(&report, &after_key);
        assert!(report.complete, "{report:#?}");
    }
}
