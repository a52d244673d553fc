//! Suppression: allow comments, `.keyhoundignore`, `keyhound.toml` and `--baseline` keep keys out
//! of the report, and the report counts each of them.

use crate::util::{Suppressed, kh, project_key, scan_json, tree};

#[test]
fn allow_comments_suppress_their_line_and_are_counted() {
    let (a, b, c, d) = (
        project_key(1),
        project_key(2),
        project_key(3),
        project_key(4),
    );
    let dir = tree(&[(
        "fixtures.py",
        format!(
            "A = \"{a}\"  # keyhound:allow\nB = \"{b}\"  # gitleaks:allow\n\
             C = \"{c}\"  # pragma: allowlist secret\nD = \"{d}\"\n"
        )
        .as_bytes(),
    )]);
    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 1);
    let secrets: Vec<&str> = report.findings.iter().map(|f| f.secret.as_str()).collect();
    assert_eq!(secrets, [d.as_str()]);
    let expected = Suppressed {
        inline: 3,
        ..Suppressed::default()
    };
    assert_eq!(report.stats.suppressed, expected);
    let (code, report) = scan_json(dir.path(), &["--no-inline-allow", "."]);
    assert_eq!(code, 1);
    assert_eq!(report.findings.len(), 4);
    assert_eq!(report.stats.suppressed, Suppressed::default());
}

#[test]
fn the_human_summary_says_what_was_suppressed() {
    let dir = tree(&[(
        "a.env",
        format!("K={} # keyhound:allow\n", project_key(5)).as_bytes(),
    )]);
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("1 suppressed (1 by allow comments)"),
        "{text}"
    );
}

#[test]
fn keyhoundignore_globs_are_ignored_paths_and_fingerprints_suppress_keys() {
    let (fixture, known, real) = (project_key(6), project_key(7), project_key(8));
    let dir = tree(&[
        ("fixtures/keys.txt", format!("{fixture}\n").as_bytes()),
        ("app.env", format!("A={known}\nB={real}\n").as_bytes()),
    ]);
    let (_, before) = scan_json(dir.path(), &["."]);
    let fp = &before
        .findings
        .iter()
        .find(|f| f.secret == known)
        .expect("found")
        .fingerprint;
    std::fs::write(
        dir.path().join(".keyhoundignore"),
        format!("fixtures/\n{fp} # known, rotated\n"),
    )
    .unwrap();
    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 1);
    let secrets: Vec<&str> = report.findings.iter().map(|f| f.secret.as_str()).collect();
    assert_eq!(secrets, [real.as_str()]);
    assert_eq!(report.stats.suppressed.fingerprint, 1);
    assert!(
        report.stats.ignored >= 1,
        "the fixtures folder is an ignored path"
    );
    let (_, all) = scan_json(dir.path(), &["--no-ignore", "."]);
    assert_eq!(
        all.findings.len(),
        2,
        "--no-ignore reads ignored paths, fingerprints still apply"
    );
}

#[test]
fn a_jsonl_baseline_works_like_a_json_one() {
    let key = project_key(9);
    let dir = tree(&[("a.env", format!("K={key}\n").as_bytes())]);
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", "--format", "jsonl", "-o", "base.jsonl", "a.env"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let (code, report) = scan_json(dir.path(), &["--baseline", "base.jsonl", "a.env"]);
    assert_eq!(code, 0);
    assert_eq!(report.stats.suppressed.baseline, 1);
}

#[test]
fn keyhound_toml_verify_defaults_are_checked() {
    let key = project_key(10);
    let dir = tree(&[
        ("a.env", format!("K={key}\n").as_bytes()),
        ("keyhound.toml", b"[verify]\nfail_on = \"live\"\n"),
    ]);
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs verification"), "{stderr}");
    std::fs::write(
        dir.path().join("keyhound.toml"),
        "[verify]\nfail_on = \"any\"\n",
    )
    .unwrap();
    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!((code, report.findings.len()), (1, 1));
    std::fs::write(
        dir.path().join("keyhound.toml"),
        "[verify]\nfail_on = \"sometimes\"\n",
    )
    .unwrap();
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
