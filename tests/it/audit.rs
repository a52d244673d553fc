//! `keyhound audit`: one entry per key across the history and work trees of one repository or a
//! folder of them (introduced, last seen, at HEAD, branches, commit messages, detached HEADs and
//! clones, ignored and untracked files, allow markers kept apart), the exit codes,
//! `--emit-replacements`, redaction in every format, the JSON contract, Markdown and HTML
//! (snapshot, escaping, self-containment), sharding with `--shard`/`--list`/`--repos` and
//! `audit merge`, and one `--verify` run against the local stand-in for the OpenAI API.
//! Repositories are built at run time with the `git` command line, every command a minute later
//! than the one before, so commit ids are the same on every run. The tests are in `audit/`, one
//! file per topic; the report's types and the helpers they share are here.

// The stand-in is private to `verify`; a second copy of it here leaves verify.rs as it is.
#[path = "verify/server.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod server;

use crate::repo::GitRepo;
use crate::util::*;
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

mod contract;
mod exits;
mod history;
mod render;
mod replacements;
mod sha256;
mod shards;
mod verification;
mod worktree;

/// Every commit's author, as reports name it (the committer is someone else).
const AUTHOR: &str = "Ada Author <ada@example.com>";

/// What `--emit-replacements` replaces a key with.
const REMOVED: &str = "***REMOVED-BY-KEYHOUND***";

// ---- The audit report as the README documents it (test-owned: the output contract)

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Audit {
    keyhound: String,
    shard: Option<String>,
    generated_at: String,
    secrets_shown: bool,
    verified: bool,
    providers: Vec<String>,
    keys: Vec<Key>,
    suppressed: Vec<Key>,
    repositories: Vec<RepoAudit>,
    summary: Summary,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Key {
    fingerprint: String,
    kind: String,
    provider: String,
    rule: String,
    secret: String,
    risk: String,
    introduced: Option<Sighting>,
    last_seen: Option<Sighting>,
    at_head: bool,
    default_branch: Option<String>,
    on_branches: Vec<String>,
    repositories: Vec<RepoKey>,
    locations: Vec<Location>,
    commits: u64,
    verification: Verdict,
    remediation: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sighting {
    repository: String,
    commit: String,
    author: Option<String>,
    date: Option<String>,
    path: String,
    line: u64,
    order: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepoKey {
    name: String,
    path: String,
    remote: Option<String>,
    introduced: Option<Sighting>,
    last_seen: Option<Sighting>,
    at_head: bool,
    default_branch: Option<String>,
    on_branches: Vec<String>,
    commits: u64,
    in_worktree: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Location {
    repository: String,
    source: String,
    path: String,
    line: u64,
    column: u64,
    commit: Option<String>,
    commits: Option<u64>,
    at_head: Option<bool>,
    allowed: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Verdict {
    status: String,
    reason: Option<String>,
    http_status: Option<u16>,
    error_code: Option<String>,
    organization: Option<String>,
    checked_at: Option<String>,
    cached: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepoAudit {
    name: String,
    path: String,
    remote: Option<String>,
    default_branch: Option<String>,
    head: Option<String>,
    commits: u64,
    blobs_scanned: u64,
    bytes_scanned: u64,
    worktree_files: u64,
    keys: u64,
    complete: bool,
    notes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Summary {
    repositories: u64,
    repositories_with_keys: u64,
    keys: u64,
    live: u64,
    dead: u64,
    unknown: u64,
    not_checked: u64,
    at_head: u64,
    suppressed: u64,
    commits_scanned: u64,
    blobs_scanned: u64,
    bytes_scanned: u64,
    incomplete: u64,
}

/// Risk labels, most urgent first.
const RISKS: [&str; 5] = ["critical", "high", "medium", "low", "none"];

fn risk_rank(k: &Key) -> usize {
    RISKS
        .iter()
        .position(|r| *r == k.risk)
        .unwrap_or_else(|| panic!("unknown risk {:?}", k.risk))
}

// ---- Fixtures

/// A temporary folder: the audit root, holding repositories.
struct Root {
    tmp: tempfile::TempDir,
}

impl Root {
    fn new() -> Root {
        Root {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// `git init` at `ROOT/rel`, its first command dated `EPOCH`.
    fn repo(&self, rel: &str) -> Repo {
        GitRepo::init(self.path().join(rel), 0)
    }

    /// As `repo`, its first command `minutes` after `EPOCH`.
    fn repo_at(&self, rel: &str, minutes: u64) -> Repo {
        GitRepo::init(self.path().join(rel), minutes)
    }
}

/// Repositories of an audit root.
type Repo = GitRepo;

/// What reports say of a repository's commits.
trait Sightings {
    fn sighting(&self, rel: &str, commit: &str, path: &str, line: u64, order: u64) -> Sighting;
}

impl Sightings for GitRepo {
    /// What the report says of a commit of this repository (named `rel` in the report).
    fn sighting(&self, rel: &str, commit: &str, path: &str, line: u64, order: u64) -> Sighting {
        Sighting {
            repository: rel.into(),
            commit: commit.into(),
            author: Some(AUTHOR.into()),
            date: Some(self.date(commit)),
            path: path.into(),
            line,
            order,
        }
    }
}

/// A `.env` line carrying `key`.
fn env_line(key: &str) -> String {
    format!("OPENAI_API_KEY={key}\n")
}

/// The 1-based (line, column) of the only occurrence of `key` in `text`.
fn place(text: &str, key: &str) -> (u64, u64) {
    line_col(text.as_bytes(), find_once(text.as_bytes(), key.as_bytes()))
}

/// `keyhound` in `dir`, away from the user's git configuration and verification cache.
fn hound(dir: &Path) -> assert_cmd::Command {
    let mut cmd = kh();
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("KEYHOUND_CACHE_DIR", dir.join(".no-cache-here"))
        .current_dir(dir);
    cmd
}

/// `keyhound audit -q ARGS` in `dir`: the whole output.
fn audit_out(dir: &Path, args: &[&str]) -> Output {
    hound(dir)
        .args(["audit", "-q"])
        .args(args)
        .output()
        .expect("keyhound runs")
}

/// `keyhound audit merge ARGS` in `dir`: the whole output.
fn merge_out(dir: &Path, args: &[&str]) -> Output {
    hound(dir)
        .args(["audit", "merge", "-q"])
        .args(args)
        .output()
        .expect("keyhound runs")
}

/// The exit code, failing on a signal or a panic.
fn code_of(out: &Output) -> i32 {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out.status
        .code()
        .unwrap_or_else(|| panic!("killed; stderr: {stderr}"))
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Decodes an audit JSON report, failing with the text.
/// The audit JSON `text`, which must match `schema/audit.schema.json`.
fn decode(text: &str, err: &str) -> Audit {
    let doc: serde_json::Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("bad audit JSON ({e}):\n{text}\nstderr:\n{err}"));
    check_schema_of("audit.schema.json", &doc, None);
    serde_json::from_value(doc).unwrap_or_else(|e| panic!("bad audit report ({e}):\n{text}"))
}

/// `keyhound audit -q --format json ARGS` in `dir`: (exit code, report, stderr). Every report
/// must have consistent totals.
fn audit_json(dir: &Path, args: &[&str]) -> (i32, Audit, String) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = audit_out(dir, &all);
    let code = code_of(&out);
    let err = stderr(&out);
    let report = decode(&stdout(&out), &err);
    check_totals(&report);
    (code, report, err)
}

/// As `audit_json`, whole keys shown, the totals left to the caller.
fn audit_unchecked(dir: &Path, args: &[&str]) -> (i32, Audit, String) {
    let mut all = vec!["--format", "json", "--show-secrets"];
    all.extend_from_slice(args);
    let out = audit_out(dir, &all);
    let err = stderr(&out);
    (code_of(&out), decode(&stdout(&out), &err), err)
}

/// As `audit_json`, with whole keys.
fn audit_shown(dir: &Path, args: &[&str]) -> (i32, Audit, String) {
    let (code, report, err) = audit_unchecked(dir, args);
    check_totals(&report);
    (code, report, err)
}

/// The entry of `key` among the report's keys (whole keys shown).
fn entry<'a>(report: &'a Audit, key: &str) -> &'a Key {
    let hits: Vec<&Key> = report.keys.iter().filter(|k| k.secret == key).collect();
    assert_eq!(hits.len(), 1, "one entry for {key}: {:#?}", report.keys);
    hits[0]
}

/// The secrets of `keys`, in report order.
fn secrets_of(keys: &[Key]) -> Vec<String> {
    keys.iter().map(|k| k.secret.clone()).collect()
}

/// The verdict without `--verify` (the report says once how to get verdicts, not per key).
fn not_checked() -> Verdict {
    Verdict {
        status: "not_checked".into(),
        reason: None,
        http_status: None,
        error_code: None,
        organization: None,
        checked_at: None,
        cached: false,
    }
}

/// The totals and per-repository counts agree with the keys and repositories listed, and keys
/// come most at risk first.
fn check_totals(r: &Audit) {
    let s = &r.summary;
    let status = |st: &str| {
        r.keys
            .iter()
            .filter(|k| k.verification.status == st)
            .count() as u64
    };
    let want = Summary {
        repositories: r.repositories.len() as u64,
        repositories_with_keys: r.repositories.iter().filter(|x| x.keys > 0).count() as u64,
        keys: r.keys.len() as u64,
        live: status("live"),
        dead: status("dead"),
        unknown: status("unknown"),
        not_checked: status("not_checked"),
        at_head: r.keys.iter().filter(|k| k.at_head).count() as u64,
        suppressed: r.suppressed.len() as u64,
        commits_scanned: r.repositories.iter().map(|x| x.commits).sum(),
        blobs_scanned: r.repositories.iter().map(|x| x.blobs_scanned).sum(),
        bytes_scanned: r.repositories.iter().map(|x| x.bytes_scanned).sum(),
        incomplete: r.repositories.iter().filter(|x| !x.complete).count() as u64,
    };
    assert_eq!(s, &want, "summary vs keys and repositories");
    assert_eq!(
        s.live + s.dead + s.unknown + s.not_checked,
        s.keys,
        "every key has one verdict"
    );
    for repo in &r.repositories {
        let holding = r
            .keys
            .iter()
            .filter(|k| k.repositories.iter().any(|x| x.path == repo.path))
            .count() as u64;
        assert_eq!(repo.keys, holding, "keys of {}", repo.path);
    }
    let paths: Vec<&str> = r.repositories.iter().map(|x| x.path.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted, "repositories sorted by path");
    let ranks: Vec<usize> = r.keys.iter().map(risk_rank).collect();
    assert!(
        ranks.is_sorted(),
        "keys most at risk first: {:?}",
        r.keys.iter().map(|k| &k.risk).collect::<Vec<_>>()
    );
    for k in r.keys.iter().chain(&r.suppressed) {
        assert_eq!(
            k.commits,
            k.repositories.iter().map(|x| x.commits).sum::<u64>(),
            "commits of {} are summed over repositories",
            k.fingerprint
        );
        assert_eq!(k.at_head, k.repositories.iter().any(|x| x.at_head));
        assert!(!k.locations.is_empty(), "{k:#?}");
        for l in &k.locations {
            assert!(
                k.repositories.iter().any(|x| x.path == l.repository),
                "location in a repository of the key: {k:#?}"
            );
            assert!(
                paths.contains(&l.repository.as_str()),
                "location in an audited repository: {l:#?}"
            );
        }
        assert!(!k.remediation.is_empty());
    }
    for k in &r.suppressed {
        assert!(k.locations.iter().all(|l| l.allowed), "{k:#?}");
    }
    for k in &r.keys {
        assert!(k.locations.iter().any(|l| !l.allowed), "{k:#?}");
    }
}

/// `"generated_at": "…"` and `"checked_at": "…"` blanked (the fields two equal audits differ
/// in), and the provenance line of the other formats.
fn blank_times(text: &str) -> String {
    let json = Regex::new(r#""(generated_at|checked_at)": "[^"]*""#).unwrap();
    let text = json.replace_all(text, r#""$1": "[time]""#);
    let line = Regex::new(r"keyhound ([0-9A-Za-z.+-]+), \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    line.replace_all(&text, "keyhound $1, [time]").into_owned()
}

/// Whether `text` shows any 16-character stretch of `key` (a whole key, or enough to be one).
fn shows_part_of(text: &str, key: &str) -> bool {
    let b = key.as_bytes();
    b.windows(16)
        .any(|w| text.contains(std::str::from_utf8(w).expect("ASCII key")))
}

/// `keyhound audit --list ARGS .` in `root`: the lines printed.
fn list(root: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["--list"];
    all.extend_from_slice(args);
    let out = audit_out(root, &all);
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    stdout(&out).lines().map(String::from).collect()
}

/// A repository with a key in each kind of place: at HEAD, removed, on a branch, in a commit
/// message, in an ignored file and on an allow-marked line. Its keys, in that order.
fn every_place(root: &Root, rel: &str, seed: u64) -> (Repo, Vec<String>) {
    let repo = root.repo(rel);
    let keys: Vec<String> = (0..6).map(|i| project_key(seed + i)).collect();
    repo.write(".gitignore", ".env.local\n");
    repo.write("app.env", env_line(&keys[0]));
    repo.write("old.env", env_line(&keys[1]));
    repo.write(
        "allowed.env",
        format!("OPENAI_API_KEY={} # keyhound:allow\n", keys[5]),
    );
    repo.commit("keys");
    repo.remove("old.env");
    repo.commit("drop the old key");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.env", env_line(&keys[2]));
    repo.commit("branch key");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "readme\n");
    repo.commit(&format!("readme\n\nold key: {}", keys[3]));
    repo.write(".env.local", env_line(&keys[4]));
    (repo, keys)
}
