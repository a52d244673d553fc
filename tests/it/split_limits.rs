//! Issue 18: joining split keys is bounded (8 bytes of joined text per byte of a file, plus
//! 1 MiB); a file that reaches the bound is named, and the scan is incomplete, never silently
//! cut short.

use crate::util::{Report, kh, project_key, tree};

/// A key split in two, then lines on which every keyword hit starts a chain of literals.
fn crafted() -> (String, String) {
    let key = project_key(1870);
    let cut = key.len() / 2;
    let mut text = format!("k = \"{}\" + \"{}\"\n", &key[..cut], &key[cut..]);
    text.push_str(&format!("{}\n", "\"sk-\" \"a\"; ".repeat(50)).repeat(80));
    (key, text)
}

#[test]
fn joining_past_its_limit_names_the_file_and_marks_the_scan_incomplete() {
    let (key, text) = crafted();
    let dir = tree(&[("dense.py", text.as_bytes())]);
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", ".", "--format", "json", "--show-secrets"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A key found comes first (exit 1); without one, an incomplete scan exits 2.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report: Report = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(!report.complete);
    let skipped: Vec<_> = report
        .skipped
        .iter()
        .filter(|s| s.path == "dense.py")
        .collect();
    assert_eq!(skipped.len(), 1, "{:?}", report.skipped);
    assert!(skipped[0].incomplete);
    assert!(
        skipped[0].reason.contains("split keys") && skipped[0].reason.contains("--no-join"),
        "{}",
        skipped[0].reason
    );
    assert!(
        stderr.contains("dense.py") && stderr.contains("split keys"),
        "{stderr}"
    );
    // What was joined before the limit is still reported.
    let found: Vec<_> = report.findings.iter().map(|f| f.secret.as_str()).collect();
    assert_eq!(found, [key.as_str()]);
}

#[test]
fn without_joining_the_same_file_is_scanned_whole() {
    let (_, text) = crafted();
    let dir = tree(&[("dense.py", text.as_bytes())]);
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", ".", "--format", "json", "--no-join"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: Report = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(
        report.complete && report.skipped.is_empty(),
        "{:?}",
        report.skipped
    );
}

#[test]
fn the_limit_holds_on_standard_input_too() {
    let (_, text) = crafted();
    let text = text.lines().skip(1).collect::<Vec<_>>().join("\n");
    let out = kh()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report: Report = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(report.skipped.iter().any(|s| s.path == "-" && s.incomplete));
}
