//! Archives opened by their magic bytes: zip (deflated and stored), gzip, tar, tar.gz, nesting up
//! to `--max-archive-depth`, and the inputs that must be reported as skipped (too deep, corrupt,
//! bombs) while the scan goes on. A finding's `path` is the outer file, `archive_member` the
//! path inside it (nested members joined with `!`), and line/column count in the member's content.

use crate::util::*;

/// A member's text with the key on its third line, and the key's (line, column) there.
pub(crate) fn member_text(key: &str) -> (String, (u64, u64)) {
    (
        format!("# production\n[openai]\n  api_key = \"{key}\"\n"),
        (3, 14),
    )
}

/// (path, archive_member, decoded, line, column, secret) of every finding.
pub(crate) type Row = (String, Option<String>, Vec<String>, u64, u64, String);

pub(crate) fn rows(report: &Report) -> Vec<Row> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.path.clone(),
                f.archive_member.clone(),
                f.decoded.clone(),
                f.line,
                f.column,
                f.secret.clone(),
            )
        })
        .collect()
}

fn row(
    path: &str,
    member: Option<&str>,
    decoded: &[&str],
    (line, col): (u64, u64),
    key: &str,
) -> Row {
    (
        path.to_string(),
        member.map(str::to_string),
        decoded.iter().map(|d| d.to_string()).collect(),
        line,
        col,
        key.to_string(),
    )
}

#[test]
fn zip_members_deflated_and_stored() {
    let (a, b) = (project_key(700), make(KINDS[0].1, 701));
    let (ta, pa) = member_text(&a);
    let notes = format!("notes\n\nold key: {b}\n");
    let zip = zip_bytes(&[
        ("config/prod.env", ta.as_bytes(), false),
        ("docs/", b"", true),
        ("notes.txt", notes.as_bytes(), true),
    ]);
    // The deflated member's text is not in the archive's bytes; the stored one's is.
    assert!(!String::from_utf8_lossy(&zip).contains(&a));
    assert!(String::from_utf8_lossy(&zip).contains(&b));
    let dir = tree(&[("bundle.zip", &zip)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report),
        [
            row("bundle.zip", Some("config/prod.env"), &[], pa, &a),
            row("bundle.zip", Some("notes.txt"), &[], (3, 10), &b),
        ]
    );
    assert_eq!(report.findings[1].rule, "kh.openai.user");
    assert!(report.complete && report.skipped.is_empty());
    assert_eq!(report.stats.files, 1);
}

#[test]
fn a_zip_named_dat_is_opened_by_its_magic_bytes() {
    let key = make("sk-svcacct-{b64url:74}T3BlbkFJ{b64url:74}", 702);
    let (text, pos) = member_text(&key);
    let zip = zip_bytes(&[("settings/app.cfg", text.as_bytes(), false)]);
    let dir = tree(&[("assets/data.dat", &zip)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report),
        [row(
            "assets/data.dat",
            Some("settings/app.cfg"),
            &[],
            pos,
            &key
        )]
    );
}

#[test]
fn a_gzipped_text_file_keeps_its_path_and_says_gzip() {
    let key = project_key(703);
    let (text, pos) = member_text(&key);
    let dir = tree(&[("backup/app.env.gz", &gzip_bytes(text.as_bytes()))]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report),
        [row("backup/app.env.gz", None, &["gzip"], pos, &key)]
    );
    assert_eq!(report.findings[0].offset, text.find(&key).unwrap() as u64);
}

#[test]
fn tar_members_are_scanned() {
    let (a, b) = (
        project_key(704),
        make("sk-None-{b64url:74}T3BlbkFJ{b64url:74}", 705),
    );
    let (ta, pa) = member_text(&a);
    let tb = b.clone();
    let tar = tar_bytes(&[
        ("etc/app.env", ta.as_bytes()),
        ("README", b"read me\n"),
        ("var/key", tb.as_bytes()),
    ]);
    let dir = tree(&[("backup.tar", &tar)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report),
        [
            row("backup.tar", Some("etc/app.env"), &[], pa, &a),
            row("backup.tar", Some("var/key"), &[], (1, 1), &b)
        ]
    );
    assert!(report.complete);
}

#[test]
fn tar_gz_members_are_scanned_and_say_gzip() {
    let key = project_key(706);
    let (text, pos) = member_text(&key);
    let tgz = gzip_bytes(&tar_bytes(&[
        ("README.md", b"# app\n"),
        ("conf/.env", text.as_bytes()),
    ]));
    let dir = tree(&[("release-1.2.tar.gz", &tgz)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report),
        [row(
            "release-1.2.tar.gz",
            Some("conf/.env"),
            &["gzip"],
            pos,
            &key
        )]
    );
    assert!(report.complete && report.skipped.is_empty());
}

#[test]
fn a_zip_inside_a_zip_is_opened_at_the_default_depth() {
    let key = project_key(707);
    let (text, pos) = member_text(&key);
    let inner = zip_bytes(&[("deeper/file.txt", text.as_bytes(), false)]);
    let outer = zip_bytes(&[
        ("readme.txt", b"hello\n", false),
        ("inner.zip", &inner, false),
    ]);
    let dir = tree(&[("outer.zip", &outer)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report),
        [row(
            "outer.zip",
            Some("inner.zip!deeper/file.txt"),
            &[],
            pos,
            &key
        )]
    );
    assert!(report.complete && report.skipped.is_empty());
}

#[test]
fn a_tar_and_a_gzip_inside_a_zip_are_opened() {
    let (a, b) = (project_key(708), project_key(709));
    let (ta, pa) = member_text(&a);
    let (tb, pb) = member_text(&b);
    let tar = tar_bytes(&[("etc/app.env", ta.as_bytes())]);
    let outer = zip_bytes(&[
        ("backup.tar", &tar, false),
        ("logs/app.log.gz", &gzip_bytes(tb.as_bytes()), true),
    ]);
    let dir = tree(&[("release.zip", &outer)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report),
        [
            row("release.zip", Some("backup.tar!etc/app.env"), &[], pa, &a),
            row("release.zip", Some("logs/app.log.gz"), &["gzip"], pb, &b),
        ]
    );
}

/// outer.zip ⊃ a.zip ⊃ b.zip ⊃ deep/key.txt: three levels, one more than the default.
fn three_levels(key: &str) -> Vec<u8> {
    let (text, _) = member_text(key);
    let b = zip_bytes(&[("deep/key.txt", text.as_bytes(), false)]);
    let a = zip_bytes(&[("b.zip", &b, false)]);
    zip_bytes(&[("a.zip", &a, false)])
}

fn too_deep(path: &str, depth: usize) -> (String, String, bool) {
    let reason =
        format!("zip archive nested deeper than --max-archive-depth {depth}: scanned as raw bytes");
    (path.to_string(), reason, true)
}

fn skips(report: &Report) -> Vec<(String, String, bool)> {
    report
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.reason.clone(), s.incomplete))
        .collect()
}

#[test]
fn a_zip_three_levels_deep_is_skipped_and_makes_the_scan_incomplete() {
    let key = project_key(710);
    let dir = tree(&[("outer.zip", &three_levels(&key))]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 2, "{report:#?}");
    assert!(report.findings.is_empty());
    assert!(!report.complete);
    assert_eq!(skips(&report), [too_deep("outer.zip!a.zip!b.zip", 2)]);
    assert_eq!(report.stats.skipped, 1);
    // The warning names it on standard error.
    let out = run_in(dir.path(), &["scan"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("outer.zip!a.zip!b.zip") && stderr.contains("--max-archive-depth 2"),
        "{stderr}"
    );
}

#[test]
fn a_key_elsewhere_makes_the_exit_code_one_despite_a_too_deep_zip() {
    let (deep, plain) = (project_key(711), project_key(712));
    let dir = tree(&[
        ("outer.zip", &three_levels(&deep)),
        ("src/app.py", format!("KEY = '{plain}'\n").as_bytes()),
    ]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report),
        [row("src/app.py", None, &[], (1, 8), &plain)]
    );
    assert!(!report.complete);
    assert_eq!(skips(&report), [too_deep("outer.zip!a.zip!b.zip", 2)]);
}

#[test]
fn max_archive_depth_three_opens_the_third_level() {
    let key = project_key(713);
    let dir = tree(&[("outer.zip", &three_levels(&key))]);
    let (code, report) = scan_json(dir.path(), &["--max-archive-depth", "3"]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report),
        [row(
            "outer.zip",
            Some("a.zip!b.zip!deep/key.txt"),
            &[],
            (3, 14),
            &key
        )]
    );
    assert!(report.complete);
}

#[test]
fn max_archive_depth_zero_scans_archives_as_raw_bytes() {
    let (hidden, raw) = (project_key(714), project_key(715));
    let deflated = zip_bytes(&[("k.txt", member_text(&hidden).0.as_bytes(), false)]);
    let stored = zip_bytes(&[("k.txt", member_text(&raw).0.as_bytes(), true)]);
    let gz = gzip_bytes(member_text(&hidden).0.as_bytes());
    let dir = tree(&[
        ("deflated.zip", &deflated),
        ("stored.zip", &stored),
        ("text.gz", &gz),
    ]);
    let (code, report) = scan_json(dir.path(), &["--max-archive-depth", "0"]);
    assert_eq!(code, 1);
    // The stored member's bytes are in the archive: found, at the archive's own line and column.
    let at = find_once(&stored, raw.as_bytes());
    assert_eq!(
        rows(&report),
        [row("stored.zip", None, &[], line_col(&stored, at), &raw)]
    );
    assert_eq!(report.findings[0].offset, at as u64);
    // Not opening archives is a request, not a limit hit: nothing is skipped, the scan is complete.
    assert!(report.skipped.is_empty(), "{:#?}", report.skipped);
    assert!(report.complete);
    assert_eq!(report.stats.files, 3);
    // Without the stored archive nothing is found, and the exit code is 0.
    let (code, report) = scan_json(
        dir.path(),
        &["deflated.zip", "text.gz", "--max-archive-depth", "0"],
    );
    assert_eq!((code, report.findings.len(), report.complete), (0, 0, true));
    // The same files at the default depth: both hidden keys are found.
    let (code, report) = scan_json(dir.path(), &["deflated.zip", "text.gz"]);
    assert_eq!((code, secrets(&report)), (1, vec![hidden.clone(), hidden]));
}

#[test]
fn a_truncated_zip_is_skipped_and_the_scan_goes_on() {
    let (inside, other) = (project_key(716), project_key(717));
    let zip = zip_bytes(&[
        ("a.txt", member_text(&inside).0.as_bytes(), false),
        ("b.txt", &[b'x'; 3000], false),
    ]);
    let broken = &zip[..zip.len() / 2];
    let dir = tree(&[
        ("broken.zip", broken),
        ("ok.txt", format!("{other}\n").as_bytes()),
    ]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(rows(&report), [row("ok.txt", None, &[], (1, 1), &other)]);
    assert!(!report.complete);
    assert_eq!(report.skipped.len(), 1, "{:#?}", report.skipped);
    let s = &report.skipped[0];
    assert_eq!((s.path.as_str(), s.incomplete), ("broken.zip", true));
    assert!(
        s.reason.starts_with("corrupt zip archive") && s.reason.ends_with("scanned as raw bytes"),
        "{}",
        s.reason
    );
    // Alone, the broken archive makes the scan incomplete: exit 2.
    let (code, report) = scan_json(dir.path(), &["broken.zip"]);
    assert_eq!(
        (code, report.findings.len(), report.skipped.len()),
        (2, 0, 1)
    );
}

#[test]
fn a_truncated_zip_is_still_scanned_as_raw_bytes() {
    let key = project_key(718);
    let zip = zip_bytes(&[
        ("a.txt", member_text(&key).0.as_bytes(), true),
        ("b.bin", &[7u8; 4000], true),
    ]);
    let broken = &zip[..zip.len() - 1000];
    let dir = tree(&[("broken.zip", broken)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let at = find_once(broken, key.as_bytes());
    assert_eq!(
        rows(&report),
        [row("broken.zip", None, &[], line_col(broken, at), &key)]
    );
    assert_eq!(report.skipped.len(), 1);
}

/// 8 MiB of zeros deflate to about 8 KiB: past the 1 MiB grace the ratio is far over 100:1.
fn zeros() -> Vec<u8> {
    vec![0u8; 8 << 20]
}

#[test]
fn a_zip_bomb_member_is_skipped_with_the_ratio_and_the_scan_is_incomplete() {
    let bomb = zip_bytes(&[
        ("zeros.bin", &zeros(), false),
        ("after.txt", b"fine\n", false),
    ]);
    assert!(bomb.len() < 64 << 10);
    let dir = tree(&[("bomb.zip", &bomb), ("plain.txt", b"nothing\n")]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 2, "{report:#?}");
    assert!(report.findings.is_empty() && !report.complete);
    assert_eq!(report.skipped.len(), 1, "{:#?}", report.skipped);
    let s = &report.skipped[0];
    assert_eq!(
        (s.path.as_str(), s.incomplete),
        ("bomb.zip!zeros.bin", true)
    );
    assert!(
        s.reason.contains("compression ratio over 100:1"),
        "{}",
        s.reason
    );
    assert_eq!(report.stats.files, 2);
}

#[test]
fn a_gzip_bomb_is_skipped_with_the_ratio() {
    let dir = tree(&[("zeros.img.gz", &gzip_bytes(&zeros()))]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(report.skipped.len(), 1, "{:#?}", report.skipped);
    let s = &report.skipped[0];
    assert_eq!((s.path.as_str(), s.incomplete), ("zeros.img.gz", true));
    assert!(
        s.reason.contains("compression ratio over 100:1"),
        "{}",
        s.reason
    );
    let (code, _) = scan_json(dir.path(), &["--allow-incomplete"]);
    assert_eq!(code, 0);
}

#[test]
fn a_key_before_the_bomb_part_of_a_member_is_still_found() {
    let key = project_key(719);
    let mut data = format!("key={key}\n").into_bytes();
    data.extend(zeros());
    let bomb = zip_bytes(&[("dump.bin", &data, false)]);
    let dir = tree(&[("dump.zip", &bomb)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rows(&report),
        [row("dump.zip", Some("dump.bin"), &[], (1, 5), &key)]
    );
    assert_eq!(report.skipped.len(), 1);
    assert!(
        report.skipped[0]
            .reason
            .contains("compression ratio over 100:1")
    );
}

/// A gzip stream of one member is inflated whole, one of several is streamed: a key in the
/// second member is found either way, at its place in the content.
#[test]
fn a_key_in_a_second_gzip_member_is_found() {
    let key = project_key(722);
    let (text, (line, col)) = member_text(&key);
    let mut two = gzip_bytes(b"first member\n");
    two.extend(gzip_bytes(text.as_bytes()));
    let dir = tree(&[("app.env.gz", &two)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{:#?}", report.skipped);
    assert_eq!(
        rows(&report),
        [row("app.env.gz", None, &["gzip"], (line + 1, col), &key)]
    );
}

/// A gzip trailer whose size lies is not inflated whole (the size is checked): the stream is
/// read as before, and reported corrupt.
#[test]
fn a_gzip_stream_whose_trailer_lies_is_streamed_and_reported() {
    let key = project_key(723);
    let (text, _) = member_text(&key);
    let mut gz = gzip_bytes(text.as_bytes());
    let n = gz.len();
    gz[n - 4] ^= 0x40;
    let dir = tree(&[("app.env.gz", &gz)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 2, "{:#?}", report.skipped);
    assert_eq!(report.skipped.len(), 1, "{:#?}", report.skipped);
    let s = &report.skipped[0];
    assert!(
        s.incomplete && s.reason.starts_with("corrupt gzip stream"),
        "{s:#?}"
    );
}

/// A `.tar.gz` inflated whole has its members scanned where they lie; a tar that ends inside a
/// member is still read as far as it goes, and the scan is incomplete.
#[test]
fn a_tar_gz_whose_tar_ends_inside_a_member_is_scanned_and_incomplete() {
    let key = project_key(708);
    let (text, pos) = member_text(&key);
    let mut tar = tar_bytes(&[("conf/.env", text.as_bytes()), ("big.log", &[b'x'; 4000])]);
    tar.truncate(512 + text.len().div_ceil(512) * 512 + 512 + 1000);
    let dir = tree(&[("cut.tar.gz", &gzip_bytes(&tar))]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "a finding: exit 1, incomplete or not");
    assert_eq!(
        rows(&report),
        [row("cut.tar.gz", Some("conf/.env"), &["gzip"], pos, &key)]
    );
    assert!(!report.complete);
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.reason.contains("archive ends inside an entry")),
        "{:?}",
        report.skipped
    );
}
