//! `keyhound git`: history (every ref, each blob once, commit messages, one finding per key and
//! path with where it lived), `--all-objects`, `--range`, `--staged` (also as git's own
//! pre-commit hook), and what a repository makes it skip or refuse. Repositories are built at run
//! time with the `git` command line, every command a minute later than the one before. The tests
//! are in `git/`, one file per topic; the helpers they share are here.

use crate::repo::GitRepo;
use crate::util::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

mod history;
mod hooks;
mod range;
mod readers;
mod reports;
mod repository;
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

/// `keyhound git ARGS` in `dir` with `envs` set, under a time limit: the whole output.
fn hound_out(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> Output {
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
