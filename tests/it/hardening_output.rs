//! Issue 14, what keyhound writes: outputs replace a symlink at their path and never follow it
//! (points 1), a closed pipe ends quietly (9), names from the input cannot forge workflow
//! commands (3), reach the terminal as escape sequences (11), or render as Markdown links and
//! images in the job summary (13).

use crate::util::{CI_ENV, GIT_ENV, git_in, kh, ok, project_key};
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
    assert!(
        meta.file_type().is_file(),
        "{} is still a symlink",
        link.display()
    );
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
    let out = run(
        dir.path(),
        &["scan", "src", "--format", "json", "-o", "/dev/stdout"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(1));
    let stdout = std::fs::symlink_metadata("/dev/stdout").expect("there");
    assert!(!stdout.file_type().is_file(), "/dev/stdout was replaced");
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
    ci_command(dir, args).output().expect("keyhound runs")
}

/// The command `ci` runs.
fn ci_command(dir: &Path, args: &[&str]) -> Command {
    let event = dir.join("event.json");
    std::fs::write(&event, r#"{"schedule": "17 3 * * 1"}"#).expect("write");
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("keyhound"));
    for var in GIT_ENV.iter().chain(CI_ENV) {
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
        .args(args);
    cmd
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

// ---- 3. Names from the input cannot forge workflow commands

/// A line the runner would take for a workflow command (it trims leading white space).
fn forged<'a>(text: &'a str, command: &str) -> Vec<&'a str> {
    text.split(['\n', '\r'])
        .filter(|l| l.trim_start().starts_with(command))
        .collect()
}

/// `dir/ws` with a first commit and a second adding a submodule at `name` (a gitlink, and its
/// `.gitmodules` entry: every scan skips it with a warning naming it); the first commit's id.
fn with_submodule(dir: &Path, name: &str) -> String {
    let first = git_workspace(dir);
    let ws = dir.join("ws");
    let info = format!("160000,{first},{name}");
    git(&ws, &["update-index", "--add", "--cacheinfo", &info]);
    // `.gitmodules` is read line by line: a carriage return is what a value can hold.
    let line = name.replace('\n', "\r");
    let modules = format!("[submodule \"s\"]\n\tpath = {line}\n\turl = https://example.com/s\n");
    std::fs::write(ws.join(".gitmodules"), modules).expect("write");
    git(&ws, &["add", ".gitmodules"]);
    git(&ws, &["commit", "-q", "-m", "a submodule"]);
    first
}

#[test]
fn r14_3_a_submodule_name_cannot_forge_a_workflow_command_in_any_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = with_submodule(dir.path(), "sub\n::error::forged\r::warning::forged%0A");
    let range = format!("{first}..HEAD");
    let runs: [&[&str]; 4] = [
        &["--format", "json"],
        &["--format", "sarif", "-o", "report.sarif"],
        &["--sarif", "tree.sarif"],
        // The gate, then the tree for the SARIF after commands are resumed.
        &["--range", &range, "--sarif", "tree.sarif"],
    ];
    for args in runs {
        let out = ci(dir.path(), args);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr(&out),
        );
        assert!(
            stderr.contains("sub"),
            "{args:?}: the warning is shown: {stderr}"
        );
        for text in [&stdout, &stderr] {
            assert_eq!(
                forged(text, "::error::forged"),
                Vec::<&str>::new(),
                "{args:?}"
            );
            assert_eq!(
                forged(text, "::warning::forged"),
                Vec::<&str>::new(),
                "{args:?}"
            );
        }
    }
}

// ---- 9. A closed pipe ends the run quietly

/// `keyhound scan src --max-filesize 1K --format json -o report.json ARGS` in `dir`, standard
/// error (and standard output when `stdout_too`) a pipe whose reader is gone, as under
/// `2>&1 | head -1` once `head` has its line.
fn scan_into_closed_pipe(dir: &Path, stdout_too: bool) -> std::process::ExitStatus {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("keyhound"));
    cmd.current_dir(dir)
        .args(["scan", "src", "--max-filesize", "1K", "--format", "json"])
        .args(["-o", "report.json"])
        .stderr(writer.try_clone().expect("dup"));
    if stdout_too {
        cmd.stdout(writer);
    }
    cmd.status().expect("keyhound runs")
}

#[test]
fn r14_9_a_closed_stderr_or_stdout_ends_quietly_with_the_report_intact() {
    let dir = workspace(14_900);
    // Each over --max-filesize: a warning on standard error.
    for i in 0..30 {
        std::fs::write(dir.path().join(format!("src/big{i}.txt")), [b'x'; 2048]).expect("write");
    }
    for stdout_too in [false, true] {
        let _ = std::fs::remove_file(dir.path().join("report.json"));
        let status = scan_into_closed_pipe(dir.path(), stdout_too);
        assert_eq!(status.code(), Some(1), "stdout closed too: {stdout_too}");
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap())
                .expect("the report is whole");
        assert_eq!(report["findings"].as_array().map(Vec::len), Some(1));
        assert_eq!(report["skipped"].as_array().map(Vec::len), Some(30));
    }
}

#[test]
fn r14_9_keyhound_ci_into_a_closed_pipe_ends_with_its_usual_exit_code() {
    let dir = workspace(14_901);
    git_workspace(dir.path());
    let ws = dir.path().join("ws");
    std::fs::write(ws.join("a.env"), env_line(&project_key(14_902))).expect("write");
    commit(&ws, "a key");
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let status = ci_command(dir.path(), &[])
        .stdout(writer.try_clone().expect("dup"))
        .stderr(writer)
        .status()
        .expect("keyhound runs");
    assert_eq!(status.code(), Some(1));
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("written");
    assert!(summary.contains("1 leaked key"), "{summary}");
}

#[test]
fn r14_9_audit_lists_into_a_closed_pipe_end_with_exit_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    for name in ["a", "b"] {
        let repo = dir.path().join(name);
        std::fs::create_dir(&repo).expect("mkdir");
        git(&repo, &["init", "-q"]);
    }
    let urls = dir.path().join("urls.txt");
    std::fs::write(
        &urls,
        "https://example.com/a.git\nhttps://example.com/b.git\n",
    )
    .expect("write");
    let urls = urls.to_str().unwrap();
    let runs: [&[&str]; 2] = [
        &["audit", "--list", "."],
        &["audit", "--list", "--repos", urls],
    ];
    for args in runs {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let status = Command::new(assert_cmd::cargo::cargo_bin("keyhound"))
            .current_dir(dir.path())
            .args(args)
            .stdout(writer)
            .status()
            .expect("keyhound runs");
        assert_eq!(status.code(), Some(0), "{args:?}");
    }
}

// ---- 11. Names cannot send the terminal escape sequences

/// Asserts `text` holds no escape, bell or carriage return.
fn inert(text: &str, what: &str) {
    for c in ['\x1b', '\x07', '\r', '\u{9b}'] {
        assert!(!text.contains(c), "{what} holds {c:?}:\n{text:?}");
    }
}

#[test]
fn r14_11_names_in_a_scan_report_and_its_warnings_are_inert() {
    let dir = workspace(14_1100);
    let key = env_line(&project_key(14_1101));
    let src = dir.path().join("src");
    std::fs::write(src.join("evil\x1b]0;pwned\x07\rname.env"), &key).expect("write");
    let zip = crate::util::zip_bytes(&[("m\x1b[2J\u{9b}1m.env", key.as_bytes(), true)]);
    std::fs::write(src.join("a.zip"), zip).expect("write");
    std::fs::write(src.join("big\x1b[31m.txt"), [b'x'; 2048]).expect("write");
    let out = run(dir.path(), &["scan", "src", "--max-filesize", "1K"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    inert(&stdout, "the report");
    inert(&stderr(&out), "the warnings");
    assert!(stdout.contains("evil?]0;pwned? name.env"), "{stdout}");
    assert!(stdout.contains("m?[2J?1m.env"), "{stdout}");
    assert!(stderr(&out).contains("big?[31m.txt"), "{}", stderr(&out));
}

#[test]
fn r14_11_an_author_and_a_path_in_a_git_report_are_inert() {
    let dir = tempfile::tempdir().expect("temp dir");
    git(dir.path(), &["init", "-q"]);
    let key = env_line(&project_key(14_1102));
    std::fs::write(dir.path().join("x\x1b[2J\nname.env"), key).expect("write");
    git(dir.path(), &["add", "-A"]);
    let mut commit: Command = git_in(dir.path());
    commit
        .env(
            "GIT_AUTHOR_NAME",
            "Eve \x1b]8;;https://evil.example\x07Evil",
        )
        .args(["commit", "-q", "-m", "a key"]);
    ok(commit);
    let out = run(dir.path(), &["git", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    inert(&stdout, "the report");
    assert!(stdout.contains("x?[2J name.env"), "{stdout}");
    assert!(
        stdout.contains("Eve ?]8;;https://evil.example?Evil"),
        "{stdout}"
    );
}

// ---- 13. Names cannot become links or images in the job summary

#[test]
fn r14_13_names_cannot_render_as_links_or_images_in_the_job_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    git_workspace(dir.path());
    let ws = dir.path().join("ws");
    for (i, name) in [
        "[Click](https:/evil.example/x)",
        "![t](https:/evil.example/t.png)",
    ]
    .iter()
    .enumerate()
    {
        let path = ws.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).expect("mkdir");
        std::fs::write(path, env_line(&project_key(14_1300 + i as u64))).expect("write");
    }
    commit(&ws, "links");
    let out = ci(dir.path(), &["--format", "json", "-o", "report.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("written");
    assert!(summary.contains("evil.example"), "{summary}");
    for forged in ["[Click](", "![t]("] {
        assert!(!summary.contains(forged), "{forged}:\n{summary}");
    }
    assert!(
        summary.contains("\\[Click\\](https:/evil.example/x)"),
        "{summary}"
    );
}
