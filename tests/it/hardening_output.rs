//! Issue 14, what keyhound writes: outputs replace a symlink at their path and never follow it
//! (points 1), a closed pipe ends quietly (9), names from the input cannot forge workflow
//! commands (3), reach the terminal as escape sequences (11), or render as Markdown links and
//! images in the job summary (13).

use crate::util::{GIT_ENV, git_in, kh, ok, project_key};
use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _, symlink};
use std::path::Path;
use std::process::Command;
use std::process::Output;

/// A `.env` line carrying `key`.
fn env_line(key: &str) -> String {
    format!("OPENAI_API_KEY={key}\n")
}

/// A temporary directory with `secret.env` holding a key and an `outside/target` file.
fn workspace(seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("src")).expect("mkdir");
    std::fs::write(
        dir.path().join("src/secret.env"),
        env_line(&project_key(seed)),
    )
    .expect("write");
    std::fs::create_dir(dir.path().join("outside")).expect("mkdir");
    std::fs::write(dir.path().join("outside/target"), "precious\n").expect("write");
    dir
}

/// `git ARGS` in `dir`, asserting success; its output, trimmed.
fn git(dir: &Path, args: &[&str]) -> String {
    let mut cmd: Command = git_in(dir);
    cmd.args(args);
    ok(cmd)
}

/// `keyhound ARGS` in `dir`.
fn run(dir: &Path, args: &[&str]) -> Output {
    kh().current_dir(dir)
        .args(args)
        .output()
        .expect("keyhound runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the symlink at `link` was replaced by a regular file and its target left alone.
fn replaced_not_followed(link: &Path, target: &Path) {
    assert_eq!(std::fs::read_to_string(target).unwrap(), "precious\n");
    let meta = std::fs::symlink_metadata(link).expect("written");
    assert!(meta.file_type().is_file(), "{link:?} is still a symlink");
}

// ---- 1. Outputs replace a symlink, never follow it

#[test]
fn r14_1_a_report_replaces_a_symlink_at_its_path() {
    let dir = workspace(14_100);
    let (link, target) = (
        dir.path().join("src/report.json"),
        dir.path().join("outside/target"),
    );
    symlink(&target, &link).expect("symlink");
    let out = run(
        dir.path(),
        &["scan", "src", "--format", "json", "-o", "src/report.json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    replaced_not_followed(&link, &target);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&link).unwrap()).expect("a JSON report");
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(1));
}

#[test]
fn r14_1_a_report_to_dev_null_or_a_fifo_is_written_in_place() {
    let dir = workspace(14_101);
    let out = run(dir.path(), &["scan", "src", "-o", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let null = std::fs::metadata("/dev/null").expect("there");
    assert!(null.file_type().is_char_device(), "/dev/null was replaced");
    let fifo = dir.path().join("fifo");
    let mut mkfifo = Command::new("mkfifo");
    mkfifo.arg(&fifo);
    ok(mkfifo);
    let reader = std::thread::spawn({
        let fifo = fifo.clone();
        move || std::fs::read_to_string(fifo).expect("read the FIFO")
    });
    let fifo_arg = fifo.to_str().unwrap();
    let out = run(
        dir.path(),
        &["scan", "src", "--format", "json", "-o", fifo_arg],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = reader.join().expect("reader");
    assert!(text.contains("\"findings\""), "{text}");
    let meta = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(meta.file_type().is_fifo(), "the FIFO was replaced");
}

#[test]
fn r14_1_a_dash_is_standard_output() {
    let dir = workspace(14_102);
    let out = run(dir.path(), &["scan", "src", "--format", "json", "-o", "-"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!dir.path().join("-").exists());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(1));
}

#[test]
fn r14_1_replacements_replace_a_symlink_and_are_their_owners_only() {
    let dir = workspace(14_103);
    let repo = dir.path().join("src");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "a key"]);
    let out = run(&repo, &["scan", ".", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let fp = report["findings"][0]["fingerprint"]
        .as_str()
        .expect("one")
        .to_string();
    let (link, target) = (
        dir.path().join("repl.txt"),
        dir.path().join("outside/target"),
    );
    symlink(&target, &link).expect("symlink");
    let out = run(
        dir.path(),
        &[
            "audit",
            "-q",
            "src",
            "--emit-replacements",
            &fp,
            "-o",
            "repl.txt",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    replaced_not_followed(&link, &target);
    let mode = std::fs::metadata(&link).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}

/// The variables GitHub Actions sets for a step, cleared so the caller's do not leak in.
const GITHUB_ENV: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
    "GITHUB_WORKSPACE",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_OUTPUT",
];

/// A repository at `dir/ws` whose first commit holds `src/secret.env`; the commit's id.
fn git_workspace(dir: &Path) -> String {
    let ws = dir.join("ws");
    std::fs::create_dir(&ws).expect("mkdir");
    git(&ws, &["init", "-q"]);
    std::fs::write(ws.join("readme.txt"), "hello\n").expect("write");
    commit(&ws, "first")
}

/// Stages everything in `ws` and commits it; the commit's id.
fn commit(ws: &Path, msg: &str) -> String {
    git(ws, &["add", "-A"]);
    git(ws, &["commit", "-q", "-m", msg]);
    git(ws, &["rev-parse", "HEAD"])
}

/// `keyhound ci ARGS` in `dir/ws` for a `schedule` event (the whole history), the job summary
/// at `dir/summary.md`.
fn ci(dir: &Path, args: &[&str]) -> Output {
    let event = dir.join("event.json");
    std::fs::write(&event, r#"{"schedule": "17 3 * * 1"}"#).expect("write");
    let mut cmd = kh();
    for var in GIT_ENV.iter().chain(GITHUB_ENV) {
        cmd.env_remove(var);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GITHUB_WORKSPACE", dir.join("ws"))
        .env("GITHUB_EVENT_NAME", "schedule")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .current_dir(dir.join("ws"))
        .arg("ci")
        .args(args)
        .output()
        .expect("keyhound runs")
}

#[test]
fn r14_1_ci_sarif_replaces_a_symlink_a_pull_request_committed() {
    let dir = workspace(14_104);
    git_workspace(dir.path());
    let ws = dir.path().join("ws");
    let target = dir.path().join("outside/target");
    symlink(&target, ws.join("keyhound.sarif")).expect("symlink");
    commit(&ws, "a symlink where the SARIF goes");
    let out = ci(dir.path(), &["--sarif", "keyhound.sarif"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    replaced_not_followed(&ws.join("keyhound.sarif"), &target);
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.join("keyhound.sarif")).unwrap()).expect("SARIF");
    assert_eq!(sarif["version"], "2.1.0");
}
