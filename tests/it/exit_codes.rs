//! Exit codes: 0 clean, 1 findings (even when some input failed), 2 incomplete or error.

use crate::util::*;

#[test]
fn clean_tree_exits_zero() {
    let dir = tree(&[("a.txt", b"nothing here\n")]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert!(report.complete && report.findings.is_empty());
}

#[test]
fn missing_path_exits_two_and_names_it() {
    let dir = tree(&[("a.txt", b"x")]);
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", "nope.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nope.txt"), "{stderr}");
}

#[test]
fn findings_win_over_errors() {
    let dir = tree(&[("a.txt", format!("{}\n", project_key(1)).as_bytes())]);
    let (code, report) = scan_json(dir.path(), &["a.txt", "missing.txt"]);
    assert_eq!(code, 1);
    assert!(!report.complete);
}

#[test]
fn allow_incomplete_turns_two_into_zero() {
    let dir = tree(&[("a.txt", b"x")]);
    let (code, _) = scan_json(dir.path(), &["a.txt", "missing.txt", "--allow-incomplete"]);
    assert_eq!(code, 0);
}

#[test]
fn max_filesize_skips_and_makes_the_scan_incomplete() {
    let dir = tree(&[("big.txt", &[b'a'; 5000][..]), ("small.txt", b"b")]);
    let (code, report) = scan_json(dir.path(), &["--max-filesize", "1K"]);
    assert_eq!(code, 2);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].path, "big.txt");
}

#[test]
fn usage_errors_exit_two() {
    let out = kh().args(["scan", "--format", "yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = kh()
        .args(["scan", "--disable-rule", "no.such.rule", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no.such.rule"));
}

#[test]
fn stdin_is_scanned() {
    let key = project_key(2);
    let out = kh()
        .args(["scan", "--format", "json", "-"])
        .write_stdin(format!("x {key} y"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.findings[0].path, "-");
}
