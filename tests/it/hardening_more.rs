//! Issue 14, what was left: bounded matcher work for a repository's rules, thread spawns that
//! fail as errors, hook scripts and outputs that never write through a symbolic link, `git
//! fetch` in `keyhound ci` without the repository's commands, and file names in git trees
//! scanned as content.

use crate::util::{Report, kh, tree};

/// A repository whose `keyhound.toml` adds one rule: keyword `x`, `pattern` as its body.
fn repository_with_rule(pattern: &str, max_len: usize, data: &[u8]) -> tempfile::TempDir {
    let rule = format!(
        "[[rule]]\nid = \"x.adv\"\nname = \"Adv\"\nprovider = \"demo\"\nkind = \"demo\"\n\
         description = \"d\"\nseverity = 5.0\nkeywords = [\"x\"]\nmin_distinct = 3\n\
         max_len = {max_len}\npattern = '(?P<body>{pattern})'\nremediation = \"r\"\n"
    );
    tree(&[
        ("keyhound.toml", b"[rules]\npaths = [\"rules\"]\n"),
        ("rules/adv.toml", rule.as_bytes()),
        ("big.txt", data),
    ])
}

#[test]
fn r14_5_a_rule_matching_every_byte_stops_and_says_the_file_is_incomplete() {
    // Every byte is a match that makes the regex look a window ahead (7.3 s for 1 MB before).
    let size = 64 << 10;
    let dir = repository_with_rule("x{10,}y|x", 4096, &vec![b'x'; size]);
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", ".", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let report: Report = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(!report.complete);
    let skipped: Vec<_> = report
        .skipped
        .iter()
        .filter(|s| s.path == "big.txt")
        .collect();
    assert_eq!(skipped.len(), 1, "{:?}", report.skipped);
    assert!(skipped[0].incomplete);
    assert!(
        skipped[0].reason.contains("rule x.adv") && skipped[0].reason.contains("work limit"),
        "{}",
        skipped[0].reason
    );
    assert!(
        stderr.contains("big.txt") && stderr.contains("work limit"),
        "{stderr}"
    );
    // The placeholders counted stop with the work: far fewer than one per byte.
    assert!(
        report.stats.placeholders < size as u64 / 2,
        "{:?}",
        report.stats
    );
}
