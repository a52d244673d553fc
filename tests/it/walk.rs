//! Walking trees: `.gitignore` and `.git/info/exclude` only (counted and reported when they keep
//! something out), hidden files scanned, `.git/` never entered, symbolic links counted or
//! followed, special files skipped without blocking, odd bytes around keys, and warnings capped
//! at 20 per kind of reason.

use crate::util::*;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command as Std;
use std::time::Duration;

fn key_file(seed: u64) -> (String, String) {
    let key = project_key(seed);
    (key.clone(), format!("OPENAI_API_KEY={key}\n"))
}

/// (path, line, column, secret) of every finding.
fn found(report: &Report) -> Vec<(String, u64, u64, String)> {
    report
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.line, f.column, f.secret.clone()))
        .collect()
}

fn at(path: &str, key: &str) -> (String, u64, u64, String) {
    (path.to_string(), 1, 16, key.to_string())
}

fn git_init(dir: &Path) {
    let ok = Std::new("git")
        .args(["init", "-q"])
        .current_dir(dir)
        .status()
        .expect("git runs")
        .success();
    assert!(ok, "git init");
}

/// `keyhound scan ARGS` in `dir` with a time limit, so a hang fails instead of blocking the suite.
fn scan_timed(dir: &Path, args: &[&str]) -> (i32, Report, String) {
    let out = kh()
        .current_dir(dir)
        .timeout(Duration::from_secs(60))
        .args(["scan", "--format", "json", "--show-secrets"])
        .args(args)
        .output()
        .expect("keyhound runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed (a hang?); stderr: {stderr}"));
    let report: Report = serde_json::from_slice(&out.stdout).expect("JSON report");
    (code, report, stderr)
}

fn ignored_tree() -> (tempfile::TempDir, [String; 4]) {
    let (a, ta) = key_file(800);
    let (b, tb) = key_file(801);
    let (c, tc) = key_file(802);
    let (d, td) = key_file(803);
    let dir = tree(&[
        (".gitignore", b"secret.txt\n.env\nbuild/\n"),
        ("secret.txt", ta.as_bytes()),
        (".env", tb.as_bytes()),
        ("build/out.txt", tc.as_bytes()),
        ("sub/.gitignore", b"local.cfg\n"),
        ("sub/local.cfg", td.as_bytes()),
        ("visible.txt", b"hello\n"),
    ]);
    (dir, [a, b, c, d])
}

#[test]
fn gitignore_is_honoured_counted_and_names_the_ignored_env_file() {
    let (dir, _) = ignored_tree();
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{report:#?}");
    assert!(report.findings.is_empty());
    // secret.txt, .env, build/ (a directory counts once) and sub/local.cfg.
    assert_eq!(report.stats.ignored, 4);
    assert_eq!(report.ignored_env_files, [".env"]);
    assert_eq!(
        report.stats.files, 3,
        "the two .gitignore files and visible.txt"
    );
    let out = run_in(dir.path(), &["scan"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "4 ignored paths not scanned, including .env — use --no-ignore to scan them."
        ),
        "{stdout}"
    );
}

#[test]
fn every_ignored_env_file_is_named_sorted() {
    let (_, text) = key_file(816);
    let dir = tree(&[
        (".gitignore", b".env*\n"),
        (".env", text.as_bytes()),
        (".env.local", text.as_bytes()),
        ("config/.env.production", text.as_bytes()),
        ("config/app.env", b"DEBUG=1\n"),
    ]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(
        report.ignored_env_files,
        [".env", ".env.local", "config/.env.production"]
    );
    assert_eq!(report.stats.ignored, 3);
    let out = run_in(dir.path(), &["scan", "--format", "jsonl"]);
    let last = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .to_string();
    let summary: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        summary["ignored_env_files"],
        serde_json::json!([".env", ".env.local", "config/.env.production"])
    );
    assert_eq!(summary["stats"]["ignored"], 3);
}

#[test]
fn no_ignore_scans_what_gitignore_skips() {
    let (dir, [a, b, c, d]) = ignored_tree();
    let (code, report) = scan_json(dir.path(), &["--no-ignore"]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        [
            at(".env", &b),
            at("build/out.txt", &c),
            at("secret.txt", &a),
            at("sub/local.cfg", &d)
        ]
    );
    assert_eq!(report.stats.ignored, 0);
    assert!(report.ignored_env_files.is_empty());
    assert_eq!(report.stats.files, 7);
}

#[test]
fn a_parent_gitignore_applies_when_scanning_a_subdirectory() {
    let (key, text) = key_file(804);
    let dir = tree(&[
        (".gitignore", b"*.key\n"),
        ("sub/prod.key", text.as_bytes()),
        ("sub/ok.txt", b"x"),
    ]);
    let (code, report) = scan_json(dir.path(), &["sub"]);
    assert_eq!(
        (code, report.findings.len(), report.stats.ignored),
        (0, 0, 1)
    );
    let (code, report) = scan_json(dir.path(), &["sub", "--no-ignore"]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [at("sub/prod.key", &key)]);
}

#[test]
fn git_info_exclude_is_honoured() {
    let (key, text) = key_file(805);
    let dir = tree(&[("local.txt", text.as_bytes()), ("other.txt", b"x")]);
    git_init(dir.path());
    std::fs::write(dir.path().join(".git/info/exclude"), "local.txt\n").unwrap();
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(
        (code, report.findings.len(), report.stats.ignored),
        (0, 0, 1)
    );
    let (code, report) = scan_json(dir.path(), &["--no-ignore"]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [at("local.txt", &key)]);
}

#[test]
fn dot_ignore_files_are_not_honoured() {
    let (key, text) = key_file(806);
    let dir = tree(&[
        (".ignore", b"secret.txt\n"),
        (".rgignore", b"secret.txt\n"),
        ("secret.txt", text.as_bytes()),
    ]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [at("secret.txt", &key)]);
    assert_eq!(report.stats.ignored, 0);
}

/// `keyhound scan . src`, or a file named along with its directory, as hooks and scripts do.
#[test]
fn overlapping_paths_scan_each_file_once() {
    let (key, text) = key_file(817);
    let dir = tree(&[("sub/a.txt", text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &[".", "sub", "sub/a.txt"]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [at("sub/a.txt", &key)]);
    assert_eq!((report.stats.files, report.stats.findings), (1, 1));
}

#[test]
fn hidden_files_and_directories_are_scanned() {
    let (a, ta) = key_file(807);
    let (b, tb) = key_file(808);
    let dir = tree(&[
        (".config/openai/creds", ta.as_bytes()),
        (".secret.env", tb.as_bytes()),
    ]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        [at(".config/openai/creds", &a), at(".secret.env", &b)]
    );
}

#[test]
fn dot_git_is_never_entered() {
    let (key, text) = key_file(809);
    let dir = tree(&[("README.md", b"# repo\n")]);
    git_init(dir.path());
    let config = dir.path().join(".git/config");
    let mut cfg = std::fs::read_to_string(&config).unwrap();
    cfg.push_str(&format!("[openai]\n\tkey = {key}\n"));
    std::fs::write(&config, cfg).unwrap();
    std::fs::write(dir.path().join(".git/hooks/post-commit"), text).unwrap();
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{report:#?}");
    assert!(report.findings.is_empty());
    assert_eq!((report.stats.files, report.stats.ignored), (1, 0));
    // Not even with --no-ignore.
    let (code, report) = scan_json(dir.path(), &["--no-ignore"]);
    assert_eq!((code, report.findings.len()), (0, 0));
}

/// root/link.txt → ../outside/key.txt and root/linkdir → ../outside.
fn linked_tree() -> (tempfile::TempDir, String) {
    let (key, text) = key_file(810);
    let dir = tree(&[
        ("outside/key.txt", text.as_bytes()),
        ("root/plain.txt", b"x"),
    ]);
    symlink("../outside/key.txt", dir.path().join("root/link.txt")).unwrap();
    symlink("../outside", dir.path().join("root/linkdir")).unwrap();
    (dir, key)
}

#[test]
fn symlinks_are_counted_not_followed_by_default() {
    let (dir, _) = linked_tree();
    let (code, report) = scan_json(dir.path(), &["root"]);
    assert_eq!(code, 0, "{report:#?}");
    assert!(report.findings.is_empty() && report.complete);
    assert_eq!(report.stats.symlinks_not_followed, 2);
    assert_eq!(report.stats.files, 1);
    let out = run_in(dir.path(), &["scan", "root"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 symbolic links not followed — use --follow-links to follow them."),
        "{stdout}"
    );
}

#[test]
fn follow_links_follows_file_and_directory_links() {
    let (dir, key) = linked_tree();
    for flag in ["-L", "--follow-links"] {
        let (code, report) = scan_json(dir.path(), &["root", flag]);
        assert_eq!(code, 1);
        assert_eq!(
            found(&report),
            [at("root/link.txt", &key), at("root/linkdir/key.txt", &key)]
        );
        assert_eq!(report.stats.symlinks_not_followed, 0);
        assert!(report.complete);
    }
}

#[test]
fn a_symlink_loop_with_follow_links_ends_without_a_panic() {
    let (key, text) = key_file(811);
    let dir = tree(&[("root/a/key.txt", text.as_bytes())]);
    symlink("..", dir.path().join("root/a/loop")).unwrap();
    let (code, report, stderr) = scan_timed(dir.path(), &["-L", "root"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [at("root/a/key.txt", &key)]);
    assert_eq!(report.skipped.len(), 1, "{:#?}", report.skipped);
    let s = &report.skipped[0];
    assert_eq!((s.path.as_str(), s.incomplete), ("root/a/loop", false));
    assert!(s.reason.starts_with("symbolic link loop"), "{}", s.reason);
    assert!(report.complete, "a loop hides nothing");
    assert!(stderr.contains("root/a/loop"), "{stderr}");
    // Nothing found: a loop alone exits 0.
    std::fs::remove_file(dir.path().join("root/a/key.txt")).unwrap();
    let (code, _, _) = scan_timed(dir.path(), &["-L", "root"]);
    assert_eq!(code, 0);
}

#[test]
fn a_dangling_symlink_is_not_followed_by_default() {
    let dir = tree(&[("root/ok.txt", b"x")]);
    symlink("../nowhere.txt", dir.path().join("root/dangling")).unwrap();
    let (code, report, _) = scan_timed(dir.path(), &["root"]);
    assert_eq!(code, 0);
    assert_eq!(report.stats.symlinks_not_followed, 1);
    assert!(report.complete && report.skipped.is_empty());
}

#[test]
fn a_dangling_symlink_with_follow_links_only_warns() {
    let dir = tree(&[("root/ok.txt", b"x")]);
    symlink("../nowhere.txt", dir.path().join("root/dangling")).unwrap();
    let (code, report, stderr) = scan_timed(dir.path(), &["-L", "root"]);
    assert!(
        stderr.contains("keyhound: warning: root/dangling"),
        "{stderr}"
    );
    assert!(report.complete, "{report:#?}");
    assert_eq!(code, 0, "{report:#?}");
}

fn mkfifo(path: &Path) {
    let ok = Std::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs")
        .success();
    assert!(ok, "mkfifo");
}

#[test]
fn a_fifo_in_a_directory_is_skipped_without_blocking() {
    let dir = tree(&[("root/ok.txt", b"fine\n")]);
    mkfifo(&dir.path().join("root/pipe"));
    let (code, report, stderr) = scan_timed(dir.path(), &["root"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(report.findings.is_empty() && report.complete);
    let reason = "not a regular file (a FIFO, socket or device): not read";
    let skipped: Vec<(&str, &str, bool)> = report
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str(), s.incomplete))
        .collect();
    assert_eq!(skipped, [("root/pipe", reason, false)]);
    assert_eq!(report.stats.files, 1);
}

#[test]
fn a_fifo_named_on_the_command_line_is_skipped_without_blocking() {
    let (key, text) = key_file(812);
    let dir = tree(&[("k.txt", text.as_bytes())]);
    mkfifo(&dir.path().join("pipe"));
    let (code, report, _) = scan_timed(dir.path(), &["pipe"]);
    assert_eq!((code, report.skipped.len(), report.complete), (0, 1, true));
    assert_eq!(report.skipped[0].path, "pipe");
    let (code, report, _) = scan_timed(dir.path(), &["pipe", "k.txt"]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [at("k.txt", &key)]);
}

#[test]
fn an_empty_file_is_scanned_and_clean() {
    let dir = tree(&[("empty.txt", b"")]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!((report.stats.files, report.stats.bytes), (1, 0));
    assert!(report.complete && report.findings.is_empty() && report.skipped.is_empty());
}

#[test]
fn invalid_utf8_around_a_key_does_not_hide_it() {
    let key = project_key(813);
    let mut data = b"caf\xe9 \xff\xfe\x80 line\n\xc3\x28key=".to_vec();
    data.extend_from_slice(key.as_bytes());
    data.extend_from_slice(b"\xc3\x28 \xa0\xff\n");
    let dir = tree(&[("latin1.txt", &data)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        [("latin1.txt".to_string(), 2, 7, key.clone())]
    );
    assert!(report.findings[0].decoded.is_empty());
    assert!(
        report.findings[0].context.contains('\u{fffd}'),
        "{}",
        report.findings[0].context
    );
}

#[test]
fn a_key_inside_a_binary_file_is_found() {
    let key = make(KINDS[0].1, 814);
    let mut data = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0".to_vec();
    data.extend((0..=255u8).cycle().take(3000));
    data.push(0);
    let at = data.len();
    data.extend_from_slice(key.as_bytes());
    data.extend_from_slice(b"\0\0\x01\x02\n\0");
    let dir = tree(&[("bin/app", &data)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let (line, col) = line_col(&data, at);
    assert_eq!(found(&report), [("bin/app".to_string(), line, col, key)]);
    assert_eq!(report.findings[0].offset, at as u64);
}

#[test]
fn warnings_are_capped_at_20_per_kind_of_reason() {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..22 {
        files.push((format!("big{i:02}.txt"), vec![b'a'; 2000]));
    }
    let dir = tree_owned(&files);
    let mut args = vec!["scan".to_string(), "--max-filesize".into(), "1K".into()];
    args.extend((0..25).map(|i| format!("missing{i:02}.txt")));
    args.push(".".into());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_in(dir.path(), &argv);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let missing = lines
        .iter()
        .filter(|l| l.contains("missing") && l.contains("cannot read"))
        .count();
    let big = lines
        .iter()
        .filter(|l| l.contains("big") && l.contains("over --max-filesize"))
        .count();
    assert_eq!((missing, big), (20, 20), "{stderr}");
    assert!(
        lines.contains(&"keyhound: … and 5 more like \"cannot read\" not shown"),
        "{stderr}"
    );
    assert!(
        lines.contains(&"keyhound: … and 2 more like \"bytes, over --max-filesize\" not shown"),
        "{stderr}"
    );
    assert_eq!(lines.len(), 42, "{stderr}");
    // The report still lists every one of them.
    let out = run_in(dir.path(), &[&argv[..], &["--format", "json"]].concat());
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.skipped.len(), 47);
}

fn is_root() -> bool {
    let out = Std::new("id").arg("-u").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

#[test]
fn an_unreadable_file_is_skipped_and_makes_the_scan_incomplete() {
    use std::os::unix::fs::PermissionsExt as _;
    if is_root() {
        eprintln!("skipped: root reads every file");
        return;
    }
    let (_, text) = key_file(815);
    let dir = tree(&[("locked.txt", text.as_bytes()), ("ok.txt", b"x")]);
    let locked = dir.path().join("locked.txt");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let (code, report) = scan_json(dir.path(), &[]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(code, 2);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].path, "locked.txt");
    assert!(report.skipped[0].reason.starts_with("cannot open"));
}
