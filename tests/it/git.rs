//! `keyhound git`: history (every ref, each blob once, commit messages, one finding per key and
//! path with where it lived), `--all-objects`, `--range`, `--staged` (also as git's own
//! pre-commit hook), and what a repository makes it skip or refuse. Repositories are built at run
//! time with the `git` command line, every command a minute later than the one before. The tests
//! are in `git/`, one file per topic; the helpers they share are here. Each whole-history scan
//! runs under the three object sources (the packs, `git cat-file`, libgit2), which must agree.

use crate::repo::GitRepo;
use crate::util::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

mod formats;
mod history;
mod hooks;
mod large_message;
mod memory_blobs;
mod memory_commits;
mod range;
mod readers;
mod reports;
mod repository;
mod sha256_modes;
mod staged;
mod suppress;

/// Every commit's author, as reports name it (the committer is someone else).
const AUTHOR: &str = "Ada Author <ada@example.com>";

/// `git ARGS` in `dir`, asserting success.
fn git_at(dir: &Path, args: &[&str]) -> String {
    let mut cmd = git_in(dir);
    cmd.args(args);
    ok(cmd)
}

/// A repository at `ROOT/repo` of a temporary directory; ROOT also holds clones and logs.
struct Repo {
    tmp: tempfile::TempDir,
    repo: GitRepo,
}

impl Repo {
    /// `git init` with branch `main`.
    fn new() -> Repo {
        let tmp = tempfile::tempdir().expect("temp dir");
        let repo = GitRepo::init(tmp.path().join("repo"), 0);
        Repo { tmp, repo }
    }

    /// A path beside the repository, in the same temporary directory.
    fn beside(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

impl std::ops::Deref for Repo {
    type Target = GitRepo;

    fn deref(&self) -> &GitRepo {
        &self.repo
    }
}

/// The object sources a whole-history scan can start at (`KEYHOUND_GIT_READER`), the default
/// first: every history test runs under each, and each must give the same output.
const READERS: [&str; 3] = ["packs", "git", "libgit2"];

/// The flags that make `keyhound git` read something else than the whole history through an
/// object source (a range, the index, a message, a push; `--all-objects` is read by the walk),
/// or that talk to a server: run once.
const ONE_READER: [&str; 8] = [
    "--range",
    "--staged",
    "--files",
    "--commit-msg",
    "--pre-push",
    "--pre-receive",
    "--all-objects",
    "--verify",
];

/// `keyhound git ARGS` in `dir` with `envs` set, under a time limit: the whole output. A
/// whole-history scan whose reader the test leaves open runs under every reader in `READERS`,
/// and their outputs (exit code, standard output and error, the `-o` file) must be the same,
/// durations aside; the first reader's is returned.
fn hound_out(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> Output {
    let pinned = envs.iter().any(|(k, _)| *k == "KEYHOUND_GIT_READER");
    let once = args.iter().any(|a| ONE_READER.contains(a));
    if pinned || once {
        return hound_once(dir, args, envs);
    }
    let output_file = (args.iter())
        .position(|a| *a == "-o" || *a == "--output")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let mut first: Option<(Output, Comparable)> = None;
    for reader in READERS {
        let mut with = envs.to_vec();
        with.push(("KEYHOUND_GIT_READER", Path::new(reader)));
        let out = hound_once(dir, args, &with);
        let seen = Comparable::of(&out, output_file.as_deref());
        match &first {
            None => first = Some((out, seen)),
            Some((_, want)) => assert!(
                *want == seen,
                "reader {reader} differs from {}: {args:?}\n{want:#?}\n{seen:#?}",
                READERS[0]
            ),
        }
    }
    first.expect("a reader ran").0
}

/// What two readers' runs must agree on: durations masked, lines sorted (JSON lines and
/// warnings come as the workers finish).
#[derive(Debug, PartialEq)]
struct Comparable {
    code: Option<i32>,
    stdout: Vec<String>,
    stderr: Vec<String>,
    file: Option<Vec<String>>,
}

impl Comparable {
    fn of(out: &Output, file: Option<&Path>) -> Comparable {
        Comparable {
            code: out.status.code(),
            stdout: masked_lines(&out.stdout),
            stderr: masked_lines(&out.stderr),
            file: file
                .and_then(|f| std::fs::read(f).ok())
                .map(|b| masked_lines(&b)),
        }
    }
}

/// `text`'s lines, sorted, with durations masked.
fn masked_lines(text: &[u8]) -> Vec<String> {
    static DURATION: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let duration = DURATION.get_or_init(|| {
        regex::Regex::new(r#""elapsed_ms": ?\d+|\b\d+(\.\d+)? ?(ms|s|µs)\b"#).expect("a regex")
    });
    let text = String::from_utf8_lossy(text);
    let mut lines: Vec<String> = (text.lines())
        .map(|l| duration.replace_all(l, "<duration>").into_owned())
        .collect();
    lines.sort();
    lines
}

/// `keyhound git ARGS` in `dir` with `envs` set, under a time limit, once.
fn hound_once(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> Output {
    let mut cmd = kh();
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.current_dir(dir)
        .timeout(Duration::from_secs(120))
        .arg("git")
        .args(args)
        .output()
        .expect("keyhound runs")
}

/// `keyhound git ARGS` in `repo` with `envs` set, which must find a key: its peak resident
/// memory in kB ([`peak_kb_of`]).
fn peak_kb(repo: &Repo, args: &[&str], envs: &[(&str, &str)]) -> u64 {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyhound"));
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .envs(envs.iter().copied())
        .current_dir(repo.path())
        .arg("git")
        .args(args);
    let (code, peak) = peak_kb_of(cmd);
    assert_eq!(code, Some(1), "one key found");
    peak
}

/// The exit code, failing on a signal (a hang) or a panic.
fn code_of(out: &Output) -> i32 {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out.status
        .code()
        .unwrap_or_else(|| panic!("killed (a hang?); stderr: {stderr}"))
}

/// `keyhound git --format json --show-secrets ARGS` in `dir` with `envs`: (exit code, report,
/// stderr). The report must match the schema.
fn hound_env(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> (i32, Report, String) {
    let mut all = vec!["--format", "json", "--show-secrets"];
    all.extend_from_slice(args);
    let out = hound_out(dir, &all, envs);
    let code = code_of(&out);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}):\n{}\nstderr:\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    check_schema(&doc, None);
    let report = serde_json::from_value(doc).unwrap_or_else(|e| panic!("bad report ({e})"));
    (code, report, stderr)
}

/// `keyhound git --format json --show-secrets ARGS` in `dir`: (exit code, report, stderr).
fn hound(dir: &Path, args: &[&str]) -> (i32, Report, String) {
    hound_env(dir, args, &[])
}

/// The git part of a finding.
fn git_of(f: &Finding) -> &GitInfo {
    f.git
        .as_ref()
        .unwrap_or_else(|| panic!("no `git` object: {f:#?}"))
}

/// The only finding at `path`.
fn at<'a>(report: &'a Report, path: &str) -> &'a Finding {
    let hits: Vec<&Finding> = report.findings.iter().filter(|f| f.path == path).collect();
    assert_eq!(
        hits.len(),
        1,
        "one finding at {path}: {:#?}",
        report.findings
    );
    hits[0]
}

/// (path, secret) of every finding, sorted.
fn found(report: &Report) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.secret.clone()))
        .collect();
    v.sort();
    v
}

fn pair(path: &str, key: &str) -> (String, String) {
    (path.to_string(), key.to_string())
}

/// A `.env` line carrying `key`.
fn env_line(key: &str) -> String {
    format!("OPENAI_API_KEY={key}\n")
}

/// Asserts `f` is `key` at its line, column and offset in `text`, the blob it was found in.
fn assert_place(f: &Finding, text: &str, key: &str) {
    let offset = find_once(text.as_bytes(), key.as_bytes());
    let (line, column) = line_col(text.as_bytes(), offset);
    assert_eq!(f.secret, key);
    assert_eq!(
        (f.line, f.column, f.offset),
        (line, column, offset as u64),
        "{f:#?}"
    );
}

/// What history mode says of a key at `path` first committed in `intro`.
fn history(
    repo: &Repo,
    intro: &str,
    path: &str,
    last_seen: &str,
    commits: u64,
    at_head: bool,
) -> GitInfo {
    GitInfo {
        object: "blob".into(),
        reached_by: "refs".into(),
        commit: Some(intro.into()),
        author: Some(AUTHOR.into()),
        date: Some(repo.date(intro)),
        blob: Some(repo.rev(&format!("{intro}:{path}"))),
        last_seen: Some(last_seen.into()),
        commits: Some(commits),
        at_head: Some(at_head),
    }
}

/// Asserts what `--range` says of a key at `path` added by `commit` (`reached_by` unchecked).
fn assert_added(repo: &Repo, f: &Finding, commit: &str, path: &str) {
    let g = git_of(f);
    let want = GitInfo {
        object: "blob".into(),
        reached_by: g.reached_by.clone(),
        commit: Some(commit.into()),
        author: Some(AUTHOR.into()),
        date: Some(repo.date(commit)),
        blob: Some(repo.rev(&format!("{commit}:{path}"))),
        last_seen: None,
        commits: None,
        at_head: None,
    };
    assert_eq!(g, &want);
}
