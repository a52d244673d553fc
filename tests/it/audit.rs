//! `keyhound audit`: one entry per key across the history and work trees of one repository or a
//! folder of them (introduced, last seen, at HEAD, branches, commit messages, detached HEADs and
//! clones, ignored and untracked files, allow markers kept apart), the exit codes,
//! `--emit-replacements`, redaction in every format, the JSON contract, Markdown and HTML
//! (snapshot, escaping, self-containment), sharding with `--shard`/`--list`/`--repos` and
//! `audit merge`, and one `--verify` run against the local stand-in for the OpenAI API.
//! Repositories are built at run time with the `git` command line, every command a minute later
//! than the one before, so commit ids are the same on every run.

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
    sorted.sort();
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

// ---- History

#[test]
fn a_key_at_head_is_medium_with_the_commit_that_introduced_it() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7100);
    repo.write("README.md", "hello\n");
    let c0 = repo.commit("readme");
    let text = format!("# settings\nOPENAI_API_KEY={key}\n");
    repo.write("config.env", &text);
    let c1 = repo.commit("add config");
    repo.write("README.md", "hello again\n");
    let c2 = repo.commit("readme again");
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(report.keys.len(), 1, "{:#?}", report.keys);
    assert!(report.suppressed.is_empty());
    let k = entry(&report, &key);
    // init is the command at EPOCH, then add and commit each take a minute: c1 is the fifth.
    assert_eq!(repo.date(&c1), "2024-01-02T03:08:05Z");
    let introduced = repo.sighting("repo", &c1, "config.env", 2, 1);
    let last_seen = repo.sighting("repo", &c2, "config.env", 2, 2);
    assert_eq!(k.introduced.as_ref(), Some(&introduced));
    assert_eq!(k.last_seen.as_ref(), Some(&last_seen));
    assert_eq!(k.risk, "medium");
    assert!(k.at_head);
    assert_eq!(k.default_branch.as_deref(), Some("main"));
    assert_eq!(k.on_branches, ["main"]);
    assert_eq!(k.commits, 2);
    assert_eq!(
        (k.kind.as_str(), k.provider.as_str(), k.rule.as_str()),
        ("project", "openai", "kh.openai.project")
    );
    assert!(k.fingerprint.starts_with("kh1:"), "{}", k.fingerprint);
    assert_eq!(k.verification, not_checked());
    let (line, column) = place(&text, &key);
    assert_eq!(
        k.locations,
        [Location {
            repository: "repo".into(),
            source: "history".into(),
            path: "config.env".into(),
            line,
            column,
            commit: Some(c1.clone()),
            commits: Some(2),
            at_head: Some(true),
            allowed: false,
        }]
    );
    assert_eq!(
        k.repositories,
        [RepoKey {
            name: "repo".into(),
            path: "repo".into(),
            remote: None,
            introduced: Some(introduced),
            last_seen: Some(last_seen),
            at_head: true,
            default_branch: Some("main".into()),
            on_branches: vec!["main".into()],
            commits: 2,
            in_worktree: false,
        }]
    );
    assert_eq!(
        report.repositories,
        [RepoAudit {
            name: "repo".into(),
            path: "repo".into(),
            remote: None,
            default_branch: Some("main".into()),
            head: Some(c2.clone()),
            commits: 3,
            blobs_scanned: 3,
            bytes_scanned: report.repositories[0].bytes_scanned,
            worktree_files: 0,
            keys: 1,
            complete: true,
            notes: vec![],
        }]
    );
    assert!(report.repositories[0].bytes_scanned > 0);
    assert_ne!(c0, c1);
    assert_eq!(report.shard, None);
    assert!(report.secrets_shown);
    assert!(!report.verified);
    assert_eq!(report.keyhound, env!("CARGO_PKG_VERSION"));
    let rfc3339 = Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").unwrap();
    assert!(
        rfc3339.is_match(&report.generated_at),
        "{}",
        report.generated_at
    );
}

#[test]
fn a_removed_key_was_last_seen_in_the_last_commit_that_had_it() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7101);
    repo.write("README.md", "hello\n");
    repo.commit("readme");
    let first = env_line(&key);
    repo.write("app.env", &first);
    let c1 = repo.commit("add the key");
    // Two lines above it: the key moves to line 3.
    let moved = format!("# app\nDEBUG=1\n{}", env_line(&key));
    repo.write("app.env", &moved);
    repo.commit("document it");
    repo.write("README.md", "hello again\n");
    let c3 = repo.commit("readme again");
    repo.write("app.env", "# app\nDEBUG=1\n");
    let c4 = repo.commit("drop the key");
    repo.write("README.md", "bye\n");
    let c5 = repo.commit("later");
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let k = entry(&report, &key);
    assert_eq!(
        k.introduced.as_ref(),
        Some(&repo.sighting("repo", &c1, "app.env", 1, 1))
    );
    assert_eq!(
        k.last_seen.as_ref(),
        Some(&repo.sighting("repo", &c3, "app.env", 3, 3)),
        "last seen in {c3} (not in the removing commit {c4}), at its line there"
    );
    assert!(!k.at_head);
    assert_eq!(k.risk, "low");
    assert_eq!(k.on_branches, Vec::<String>::new());
    assert_eq!(k.default_branch.as_deref(), Some("main"));
    assert_eq!(k.commits, 3);
    assert_eq!(k.locations.len(), 1, "{:#?}", k.locations);
    let l = &k.locations[0];
    assert_eq!(
        (l.source.as_str(), l.path.as_str(), l.line, l.column),
        ("history", "app.env", 1, 16)
    );
    assert_eq!(
        (l.commit.as_deref(), l.commits, l.at_head),
        (Some(c1.as_str()), Some(3), Some(false))
    );
    assert_eq!(report.repositories[0].head.as_deref(), Some(c5.as_str()));
    assert_eq!(report.repositories[0].commits, 6);
}

#[test]
fn a_key_only_on_an_unmerged_branch_names_the_branch() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7102);
    repo.write("README.md", "hello\n");
    repo.commit("readme");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.env", env_line(&key));
    let c1 = repo.commit("try a key");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "hello again\n");
    repo.commit("main moves on");
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let k = entry(&report, &key);
    assert!(!k.at_head);
    assert_eq!(k.risk, "low");
    assert_eq!(k.on_branches, ["feature"]);
    assert_eq!(k.default_branch.as_deref(), Some("main"));
    let intro = k.introduced.as_ref().expect("introduced");
    assert_eq!(
        (intro.commit.as_str(), intro.path.as_str(), intro.line),
        (c1.as_str(), "feature.env", 1)
    );
    assert_eq!(k.last_seen.as_ref().map(|s| &s.commit), Some(&c1));
    assert_eq!(k.commits, 1);
    assert_eq!(k.locations[0].at_head, Some(false));
}

#[test]
fn one_key_in_two_repositories_is_one_entry() {
    let root = Root::new();
    let key = project_key(7103);
    // beta's commits are a day older than alpha's: beta introduced the key.
    let alpha = root.repo_at("alpha", 24 * 60);
    let beta = root.repo_at("team/beta", 0);
    alpha.write("a.env", env_line(&key));
    let a1 = alpha.commit("alpha key");
    alpha.write("README.md", "alpha\n");
    let a2 = alpha.commit("alpha readme");
    beta.write("config/b.env", format!("# beta\n{}", env_line(&key)));
    let b1 = beta.commit("beta key");
    let (code, report, err) = audit_shown(root.path(), &[root.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(report.keys.len(), 1, "{:#?}", report.keys);
    let k = entry(&report, &key);
    assert_eq!(
        k.introduced.as_ref(),
        Some(&beta.sighting("team/beta", &b1, "config/b.env", 2, 0)),
        "the earliest commit across repositories"
    );
    assert_eq!(
        k.last_seen.as_ref(),
        Some(&alpha.sighting("alpha", &a2, "a.env", 1, 1)),
        "the latest commit across repositories"
    );
    let repos: Vec<(&str, &str, Option<&str>, u64, bool)> = k
        .repositories
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.path.as_str(),
                r.remote.as_deref(),
                r.commits,
                r.at_head,
            )
        })
        .collect();
    assert_eq!(
        repos,
        [
            ("alpha", "alpha", None, 2, true),
            ("beta", "team/beta", None, 1, true)
        ]
    );
    assert_eq!(k.on_branches, ["alpha:main", "team/beta:main"]);
    assert_eq!(k.commits, 3);
    assert!(k.at_head);
    assert_eq!(k.default_branch.as_deref(), Some("main"));
    let places: Vec<(&str, &str, u64)> = k
        .locations
        .iter()
        .map(|l| (l.repository.as_str(), l.path.as_str(), l.line))
        .collect();
    assert_eq!(
        places,
        [("alpha", "a.env", 1), ("team/beta", "config/b.env", 2)]
    );
    assert_eq!(k.locations[0].commit.as_deref(), Some(a1.as_str()));
    assert_eq!(report.summary.repositories, 2);
    assert_eq!(report.summary.repositories_with_keys, 2);
    assert_eq!(report.summary.keys, 1);
    let audited: Vec<(&str, &str, u64)> = report
        .repositories
        .iter()
        .map(|r| (r.name.as_str(), r.path.as_str(), r.keys))
        .collect();
    assert_eq!(audited, [("alpha", "alpha", 1), ("beta", "team/beta", 1)]);
}

#[test]
fn a_key_in_a_commit_message_is_found_at_its_commit() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7104);
    repo.write("README.md", "hello\n");
    repo.commit("readme");
    repo.write("README.md", "hello again\n");
    let msg = format!("rotate the key\n\nthe old one was {key}");
    let c1 = repo.commit(&msg);
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let k = entry(&report, &key);
    let message_place = place(&msg, &key);
    assert_eq!(
        k.locations,
        [Location {
            repository: "repo".into(),
            source: "commit-message".into(),
            path: c1.clone(),
            line: message_place.0,
            column: message_place.1,
            commit: Some(c1.clone()),
            commits: Some(1),
            at_head: None,
            allowed: false,
        }]
    );
    assert_eq!(
        k.introduced.as_ref(),
        Some(&repo.sighting("repo", &c1, "(commit message)", 3, 1))
    );
    assert_eq!(k.commits, 1);
    assert!(!k.at_head);
    assert_eq!(k.risk, "low");
}

#[test]
fn purge_advice_names_the_filter_repo_option_that_removes_the_key_where_it_is() {
    let root = Root::new();
    let repo = root.repo("repo");
    let (in_message, in_file) = (project_key(7140), project_key(7141));
    repo.write("README.md", "hello\n");
    repo.commit(&format!("rotate the key\n\nthe old one was {in_message}"));
    repo.write("a.env", env_line(&in_file));
    repo.commit("a key in a file");
    let path = repo.path().to_str().unwrap();
    let (_, report, _) = audit_shown(root.path(), &[path]);
    let purge = |key: &str| {
        let k = entry(&report, key);
        (k.remediation.iter().find(|s| s.starts_with("Purge")))
            .expect("a purge step")
            .clone()
    };
    let message = purge(&in_message);
    assert!(
        message.contains("`git filter-repo --replace-message replacements.txt`"),
        "{message}"
    );
    let file = purge(&in_file);
    assert!(
        file.contains("`git filter-repo --replace-text replacements.txt`"),
        "{file}"
    );
    // --emit-replacements says the command for the keys it wrote.
    let fp = entry(&report, &in_message).fingerprint.clone();
    let out = audit_out(root.path(), &[path, "--emit-replacements", &fp]);
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("git filter-repo --replace-message FILE"),
        "{}",
        stderr(&out)
    );
    let both = format!("{fp},{}", entry(&report, &in_file).fingerprint);
    let file = root.path().join("my replacements.txt");
    let out = audit_out(
        root.path(),
        &[
            path,
            "--emit-replacements",
            &both,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    let quoted = format!("'{}'", file.display());
    let want = format!("git filter-repo --replace-text {quoted} --replace-message {quoted}");
    assert!(stderr(&out).contains(&want), "{}", stderr(&out));
}

#[test]
fn a_detached_head_is_the_default_branch_and_decides_at_head() {
    let root = Root::new();
    let repo = root.repo("repo");
    let old = project_key(7105);
    let new = project_key(7106);
    repo.write("a.env", env_line(&old));
    let c1 = repo.commit("old key");
    repo.remove("a.env");
    repo.write("b.env", env_line(&new));
    let c2 = repo.commit("new key");
    repo.git(&["checkout", "-q", "--detach", &c1]);
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let r = &report.repositories[0];
    assert_eq!(r.default_branch.as_deref(), Some("HEAD (detached)"));
    assert_eq!(r.head.as_deref(), Some(c1.as_str()));
    let o = entry(&report, &old);
    assert!(o.at_head, "the detached HEAD's tree has it: {o:#?}");
    assert_eq!(o.risk, "medium");
    assert_eq!(o.default_branch.as_deref(), Some("HEAD (detached)"));
    assert_eq!(o.on_branches, Vec::<String>::new(), "no branch tip has it");
    let n = entry(&report, &new);
    assert!(!n.at_head, "not in the detached HEAD's tree: {n:#?}");
    assert_eq!(n.risk, "low");
    assert_eq!(n.on_branches, ["main"]);
    assert_eq!(n.introduced.as_ref().map(|s| &s.commit), Some(&c2));
    assert_eq!(secrets_of(&report.keys), [old, new]);
}

#[test]
fn a_clone_has_origin_main_its_remote_and_remote_branches() {
    let root = Root::new();
    let upstream_dir = tempfile::tempdir().expect("temp dir");
    let src = Repo::init(upstream_dir.path().join("src"), 0);
    let main_key = project_key(7107);
    let branch_key = project_key(7108);
    src.write("a.env", env_line(&main_key));
    src.commit("main key");
    src.git(&["checkout", "-q", "-b", "feature"]);
    src.write("f.env", env_line(&branch_key));
    src.commit("branch key");
    src.git(&["checkout", "-q", "main"]);
    let url = src.path().to_str().unwrap().to_string();
    let mut clone = git_in(root.path());
    clone.args(["clone", "-q", &url, "clone"]);
    ok(clone);
    let dir = root.path().join("clone");
    let (code, report, err) = audit_shown(root.path(), &[dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let r = &report.repositories[0];
    assert_eq!(r.default_branch.as_deref(), Some("origin/main"));
    assert_eq!(r.remote.as_deref(), Some(url.as_str()));
    assert_eq!((r.name.as_str(), r.path.as_str()), ("clone", "clone"));
    let m = entry(&report, &main_key);
    assert!(m.at_head);
    assert_eq!(m.default_branch.as_deref(), Some("origin/main"));
    // The feature branch was cut from main: its tip has main's key too.
    assert_eq!(m.on_branches, ["main", "origin/feature", "origin/main"]);
    assert_eq!(m.repositories[0].remote.as_deref(), Some(url.as_str()));
    let b = entry(&report, &branch_key);
    assert!(!b.at_head);
    assert_eq!(b.on_branches, ["origin/feature"]);
}

#[test]
fn the_default_path_is_the_current_repository() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7109);
    repo.write("a.env", env_line(&key));
    repo.commit("a key");
    let (code, report, err) = audit_shown(repo.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(report.repositories[0].path, "repo");
    assert_eq!(entry(&report, &key).locations[0].repository, "repo");
}

#[test]
fn same_named_clones_in_two_folders_stay_two_repositories() {
    let root = Root::new();
    let (shared, own) = (project_key(7125), project_key(7126));
    let a = root.repo("a/api");
    a.write("a.env", env_line(&shared));
    a.commit("a");
    let b = root.repo("b/api");
    b.write("b.env", format!("{}{}", env_line(&shared), env_line(&own)));
    b.commit("b");
    for args in [["a", "b"], ["a/api", "b/api"]] {
        let (code, report, err) = audit_unchecked(root.path(), &args);
        assert_eq!(code, 1, "{err}");
        let paths: BTreeSet<&str> = report
            .repositories
            .iter()
            .map(|r| r.path.as_str())
            .collect();
        assert_eq!(
            paths.len(),
            2,
            "{args:?}: two repositories, two paths (else their keys and counts are mixed up): {:#?}",
            report.repositories
        );
        let s = entry(&report, &shared);
        assert_eq!(s.repositories.len(), 2);
        assert_ne!(s.repositories[0].path, s.repositories[1].path);
        let mut counts: Vec<u64> = report.repositories.iter().map(|r| r.keys).collect();
        counts.sort();
        assert_eq!(counts, [1, 2], "{args:?}");
        check_totals(&report);
    }
}

#[test]
fn a_repository_given_twice_is_audited_once() {
    let root = Root::new();
    let repo = root.repo("api");
    let key = project_key(7127);
    repo.write("a.env", env_line(&key));
    repo.commit("a key");
    let dir = root.path().to_str().unwrap();
    let (code, report, err) = audit_unchecked(root.path(), &[dir, repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        report.repositories.len(),
        1,
        "the folder and the repository in it name one repository: {:#?}",
        report.repositories
    );
    assert_eq!(report.summary.commits_scanned, 1);
    let k = entry(&report, &key);
    assert_eq!((k.repositories.len(), k.commits), (1, 1));
    assert_eq!(k.on_branches, ["main"]);
    check_totals(&report);
}

// ---- The work tree
// ---- The work tree

#[test]
fn ignored_untracked_and_modified_files_of_the_work_tree_are_audited() {
    let root = Root::new();
    let repo = root.repo("repo");
    let committed = project_key(7110);
    let ignored = project_key(7111);
    let untracked = project_key(7112);
    let modified = project_key(7113);
    let in_ignored_dir = project_key(7114);
    repo.write(".gitignore", ".env.local\nsecrets/\n");
    repo.write("settings.env", env_line(&committed));
    repo.write("app.py", "print('hi')\n");
    let c1 = repo.commit("settings");
    let ignored_text = format!("# local\n{}", env_line(&ignored));
    repo.write(".env.local", &ignored_text);
    repo.write("notes.txt", format!("key: {untracked}\n"));
    repo.write("app.py", format!("print('hi')\nKEY = \"{modified}\"\n"));
    repo.write("secrets/prod.env", env_line(&in_ignored_dir));
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let c = entry(&report, &committed);
    assert_eq!(
        c.locations.iter().map(|l| &l.source).collect::<Vec<_>>(),
        ["history"],
        "a committed, unchanged file is not reported again from the work tree"
    );
    assert!(!c.repositories[0].in_worktree);
    assert_eq!(c.introduced.as_ref().map(|s| &s.commit), Some(&c1));
    let (line, column) = place(&ignored_text, &ignored);
    let worktree = |path: &str, line: u64, column: u64| Location {
        repository: "repo".into(),
        source: "worktree".into(),
        path: path.into(),
        line,
        column,
        commit: None,
        commits: None,
        at_head: None,
        allowed: false,
    };
    for (key, want) in [
        (&ignored, worktree(".env.local", line, column)),
        (&untracked, worktree("notes.txt", 1, 6)),
        (&modified, worktree("app.py", 2, 8)),
        (&in_ignored_dir, worktree("secrets/prod.env", 1, 16)),
    ] {
        let k = entry(&report, key);
        assert_eq!(k.locations, [want], "{key}");
        assert_eq!(k.risk, "medium", "a key on disk now is exposed now");
        assert!(!k.at_head);
        assert_eq!((&k.introduced, &k.last_seen), (&None, &None));
        assert_eq!(k.commits, 0);
        assert!(k.repositories[0].in_worktree);
        assert_eq!(k.repositories[0].on_branches, Vec::<String>::new());
    }
    assert_eq!(report.keys.len(), 5, "{:#?}", secrets_of(&report.keys));
    assert_eq!(report.repositories[0].worktree_files, 4);
}

#[test]
fn a_key_only_on_allow_marked_lines_is_listed_apart_and_exits_0() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7115);
    let text = format!("OPENAI_API_KEY={key} # keyhound:allow\n");
    repo.write("test.env", &text);
    repo.commit("a test key");
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(
        code, 0,
        "an allowed key alone does not fail the audit: {err}"
    );
    assert!(report.keys.is_empty(), "{:#?}", report.keys);
    assert_eq!(secrets_of(&report.suppressed), std::slice::from_ref(&key));
    let s = &report.suppressed[0];
    assert_eq!(s.locations.len(), 1);
    assert!(s.locations[0].allowed);
    assert_eq!(
        (s.locations[0].path.as_str(), s.locations[0].line),
        ("test.env", 1)
    );
    assert_eq!(report.summary.suppressed, 1);
    assert_eq!(report.summary.keys, 0);
    assert_eq!(report.repositories[0].keys, 0);
}

#[test]
fn a_key_also_on_an_unmarked_line_is_reported_with_both_places() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7116);
    repo.write("a.env", format!("OPENAI_API_KEY={key} # keyhound:allow\n"));
    repo.write("b.env", env_line(&key));
    repo.commit("two copies");
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(report.suppressed.is_empty());
    let k = entry(&report, &key);
    let marks: Vec<(&str, bool)> = k
        .locations
        .iter()
        .map(|l| (l.path.as_str(), l.allowed))
        .collect();
    assert_eq!(marks, [("a.env", true), ("b.env", false)]);
}

// ---- Exit codes and errors

#[test]
fn a_clean_repository_exits_0_and_says_no_keys() {
    let root = Root::new();
    let repo = root.repo("repo");
    repo.write("README.md", "nothing to see\n");
    repo.commit("readme");
    let out = audit_out(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("No keys found in 1 repository."), "{text}");
    let (code, report, _) = audit_json(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(report.keys.is_empty() && report.suppressed.is_empty());
    assert_eq!(report.summary.repositories, 1);
}

#[test]
fn keys_exit_1_in_every_format() {
    let root = Root::new();
    let repo = root.repo("repo");
    repo.write("a.env", env_line(&project_key(7117)));
    repo.commit("a key");
    for format in ["human", "json", "markdown", "html"] {
        let out = audit_out(
            root.path(),
            &["--format", format, repo.path().to_str().unwrap()],
        );
        assert_eq!(code_of(&out), 1, "{format}: {}", stderr(&out));
    }
}

#[test]
fn a_path_that_is_neither_a_repository_nor_a_folder_exits_2_naming_it() {
    let root = Root::new();
    let missing = root.path().join("no-such-repo");
    let file = root.path().join("plain.txt");
    std::fs::write(&file, "text\n").expect("write");
    for path in [&missing, &file] {
        let shown = path.to_str().unwrap();
        let out = audit_out(root.path(), &[shown]);
        assert_eq!(code_of(&out), 2, "{shown}: {}", stderr(&out));
        assert!(stderr(&out).contains(shown), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "no report: {}", stdout(&out));
    }
}

#[test]
fn a_bad_path_beside_a_good_repository_is_still_an_error() {
    let root = Root::new();
    let repo = root.repo("repo");
    repo.write("README.md", "nothing to see\n");
    repo.commit("readme");
    let missing = root.path().join("no-such-repo");
    let shown = missing.to_str().unwrap();
    let out = audit_out(root.path(), &[repo.path().to_str().unwrap(), shown]);
    assert!(stderr(&out).contains(shown), "{}", stderr(&out));
    assert_eq!(
        code_of(&out),
        2,
        "a PATH that was not audited (a typo) must not let the audit pass: {}",
        stderr(&out)
    );
}

#[test]
fn a_repository_not_read_in_full_exits_2_unless_allowed() {
    let root = Root::new();
    let repo = root.repo("repo");
    repo.write("a.txt", "hello\n");
    repo.write("b.txt", "world\n");
    repo.commit("two files");
    let blob = repo.rev("HEAD:b.txt");
    std::fs::remove_file(
        repo.path()
            .join(".git/objects")
            .join(&blob[..2])
            .join(&blob[2..]),
    )
    .expect("the blob is a loose object");
    let path = repo.path().to_str().unwrap();
    let (code, report, _) = audit_json(root.path(), &[path]);
    assert_eq!(code, 2);
    let r = &report.repositories[0];
    assert!(!r.complete);
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    assert!(
        r.notes[0].contains("b.txt") && r.notes[0].contains(&blob),
        "{:?}",
        r.notes
    );
    assert_eq!(report.summary.incomplete, 1);
    let (code, _, _) = audit_json(root.path(), &["--allow-incomplete", path]);
    assert_eq!(code, 0);
    for format in ["human", "markdown", "html"] {
        let text = stdout(&audit_out(root.path(), &["--format", format, path]));
        assert!(
            text.contains(&blob),
            "{format} names what was not read:\n{text}"
        );
    }
    // A key found still exits 1.
    repo.write("c.env", env_line(&project_key(7119)));
    repo.commit("a key");
    let (code, _, _) = audit_json(root.path(), &[path]);
    assert_eq!(code, 1);
}

#[test]
fn a_bare_clone_is_named_without_git() {
    let root = Root::new();
    let upstream = tempfile::tempdir().expect("temp dir");
    let src = Repo::init(upstream.path().join("src"), 0);
    let key = project_key(7124);
    src.write("a.env", env_line(&key));
    let c1 = src.commit("a key");
    let url = src.path().to_str().unwrap().to_string();
    let mut clone = git_in(root.path());
    clone.args(["clone", "-q", "--bare", &url, "svc.git"]);
    ok(clone);
    let (code, report, err) = audit_shown(root.path(), &[root.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let r = &report.repositories[0];
    assert_eq!(
        (r.name.as_str(), r.path.as_str(), r.remote.as_deref()),
        ("svc", "svc.git", Some(url.as_str()))
    );
    assert_eq!(r.default_branch.as_deref(), Some("main"));
    assert_eq!(r.head.as_deref(), Some(c1.as_str()));
    assert_eq!(r.worktree_files, 0);
    let k = entry(&report, &key);
    assert!(k.at_head);
    assert_eq!(k.locations[0].repository, "svc.git");
}

#[test]
fn folders_are_searched_four_levels_deep_without_entering_repositories() {
    let root = Root::new();
    for rel in [
        "a",
        "a/vendor/inner",
        "org/team/sub/deep",
        "x/y/z/w/too-deep",
        "plain/b",
    ] {
        root.repo(rel);
    }
    std::fs::create_dir_all(root.path().join("empty/folder")).expect("mkdir");
    assert_eq!(
        list(root.path(), &["."]),
        ["a", "org/team/sub/deep", "plain/b"]
    );
}

#[test]
fn emit_replacements_with_an_unknown_fingerprint_exits_2() {
    let root = Root::new();
    let repo = root.repo("repo");
    repo.write("a.env", env_line(&project_key(7118)));
    repo.commit("a key");
    let unknown = "kh1:00000000000000000000000000000000";
    let path = repo.path().to_str().unwrap();
    let out = audit_out(root.path(), &[path, "--emit-replacements", unknown]);
    assert_eq!(code_of(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains(unknown), "{}", stderr(&out));
    assert!(!stderr(&out).contains(path), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
}

// ---- --emit-replacements

#[test]
fn emit_replacements_writes_one_filter_repo_line_per_key() {
    let root = Root::new();
    let repo = root.repo("repo");
    let (k1, k2, k3) = (project_key(7120), project_key(7121), project_key(7122));
    repo.write("a.env", env_line(&k1));
    repo.write("b.env", env_line(&k2));
    repo.commit("keys");
    repo.remove("b.env");
    repo.commit("drop one");
    repo.write(".env.local", env_line(&k3));
    let path = repo.path().to_str().unwrap();
    let (_, report, _) = audit_shown(root.path(), &[path]);
    let fp = |key: &str| entry(&report, key).fingerprint.clone();
    let (f1, f2, f3) = (fp(&k1), fp(&k2), fp(&k3));
    let out = audit_out(root.path(), &[path, "--emit-replacements", &f1]);
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{k1}==>{REMOVED}\n"));
    // Several, in the order given, from history and the work tree, also into a file.
    let file = root.path().join("replacements.txt");
    let list = format!("{f3},{f2}");
    let out = audit_out(
        root.path(),
        &[
            path,
            "--emit-replacements",
            &list,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&file).expect("written"),
        format!("{k3}==>{REMOVED}\n{k2}==>{REMOVED}\n")
    );
}

#[test]
fn emit_replacements_takes_the_fingerprints_not_the_path_after_them() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7123);
    repo.write("a.env", env_line(&key));
    repo.commit("a key");
    let path = repo.path().to_str().unwrap();
    let (_, report, _) = audit_shown(root.path(), &[path]);
    let fp = entry(&report, &key).fingerprint.clone();
    // As the brief and the remediation text write it: `--emit-replacements FP[,FP]`, then PATH.
    let out = audit_out(root.path(), &["--emit-replacements", &fp, path]);
    assert_eq!(
        (code_of(&out), stdout(&out)),
        (0, format!("{key}==>{REMOVED}\n")),
        "PATH after `--emit-replacements FP` is taken as a second fingerprint: {}",
        stderr(&out)
    );
}

// ---- Secrets

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

#[test]
fn whole_keys_are_shown_only_with_show_secrets() {
    let root = Root::new();
    let (repo, keys) = every_place(&root, "repo", 7130);
    let path = repo.path().to_str().unwrap();
    for format in ["json", "human", "markdown", "html"] {
        let out = audit_out(root.path(), &["--format", format, path]);
        assert_eq!(code_of(&out), 1, "{format}: {}", stderr(&out));
        for text in [stdout(&out), stderr(&out)] {
            for key in &keys {
                assert!(
                    !shows_part_of(&text, key),
                    "{format} shows (part of) {key}:\n{text}"
                );
            }
        }
    }
    let (_, redacted, _) = audit_json(root.path(), &[path]);
    assert!(!redacted.secrets_shown);
    for k in redacted.keys.iter().chain(&redacted.suppressed) {
        assert!(k.secret.starts_with("sk-proj-…"), "{}", k.secret);
    }
    let (_, shown, _) = audit_shown(root.path(), &[path]);
    assert!(shown.secrets_shown);
    let mut all: Vec<String> = secrets_of(&shown.keys);
    all.extend(secrets_of(&shown.suppressed));
    all.sort();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(all, want, "every key, whole");
}

// ---- The JSON contract

#[test]
fn the_json_report_orders_keys_by_risk_with_consistent_totals() {
    let root = Root::new();
    let (repo, keys) = every_place(&root, "repo", 7140);
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    // At HEAD first, then the work tree's (both medium); then the history-only keys, the most
    // recently seen first (the commit message is the newest commit).
    assert_eq!(
        secrets_of(&report.keys),
        [0, 4, 3, 2, 1].map(|i| keys[i].as_str())
    );
    let risks: Vec<&str> = report.keys.iter().map(|k| k.risk.as_str()).collect();
    assert_eq!(risks, ["medium", "medium", "low", "low", "low"]);
    assert_eq!(secrets_of(&report.suppressed), [keys[5].clone()]);
    let mut count = git_in(repo.path());
    count.args(["rev-list", "--all", "--count"]);
    let commits: u64 = ok(count).parse().expect("a number");
    assert_eq!(
        report.summary,
        Summary {
            repositories: 1,
            repositories_with_keys: 1,
            keys: 5,
            live: 0,
            dead: 0,
            unknown: 0,
            not_checked: 5,
            at_head: 1,
            suppressed: 1,
            commits_scanned: commits,
            blobs_scanned: report.repositories[0].blobs_scanned,
            bytes_scanned: report.repositories[0].bytes_scanned,
            incomplete: 0,
        }
    );
    assert_eq!(commits, 4);
    // Every field of the model is there, and nothing else (deny_unknown_fields above): a key
    // only in the work tree has null history fields rather than missing ones.
    let raw: serde_json::Value = serde_json::from_str(&stdout(&audit_out(
        root.path(),
        &["--format", "json", repo.path().to_str().unwrap()],
    )))
    .expect("JSON");
    let wt = &raw["keys"][1];
    for field in ["introduced", "last_seen"] {
        assert!(wt[field].is_null(), "{field}: {wt:#}");
    }
    for field in ["commit", "commits", "at_head"] {
        assert!(wt["locations"][0][field].is_null(), "{field}: {wt:#}");
    }
}

// ---- Markdown

#[test]
fn markdown_snapshot() {
    let root = Root::new();
    let repo = root.repo("shop");
    let (live, old, allowed) = (project_key(7150), project_key(7151), project_key(7152));
    repo.write("README.md", "# shop\n");
    repo.commit("readme");
    repo.write("deploy/.env", format!("# deploy\n{}", env_line(&live)));
    repo.write("old.env", env_line(&old));
    repo.commit("deploy settings");
    repo.remove("old.env");
    repo.commit("drop old.env");
    repo.write(
        "tests/fixture.env",
        format!("OPENAI_API_KEY={allowed} # keyhound:allow\n"),
    );
    repo.commit("test fixture");
    let out = audit_out(
        root.path(),
        &["--format", "markdown", repo.path().to_str().unwrap()],
    );
    assert_eq!(code_of(&out), 1, "{}", stderr(&out));
    let text = blank_times(&stdout(&out)).replace(env!("CARGO_PKG_VERSION"), "[version]");
    assert!(text.contains("keyhound [version], [time]"), "{text}");
    insta::assert_snapshot!("markdown", text);
}

/// Whether `text` has `needle` not preceded by a backslash (Markdown would act on it).
fn unescaped(text: &str, needle: &str) -> bool {
    text.match_indices(needle)
        .any(|(i, _)| !text[..i].ends_with('\\'))
}

/// Counts the `|` of a Markdown table row that are not backslash-escaped.
fn table_pipes(line: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in line.chars() {
        match (c, escaped) {
            ('\\', false) => escaped = true,
            ('|', false) => n += 1,
            _ => escaped = false,
        }
    }
    n
}

// ---- Escaping

#[test]
fn repository_text_is_escaped_in_markdown_and_html() {
    let root = Root::new();
    let repo = root.repo("repo");
    let keys: Vec<String> = (0..4).map(|i| project_key(7160 + i)).collect();
    repo.write("conf|ig.env", env_line(&keys[0]));
    // A directory `<script>alert(1)<` holding `script>.txt`: git's path is the whole of it.
    repo.write("<script>alert(1)</script>.txt", env_line(&keys[1]));
    repo.commit("odd names");
    let branch = "feat/<x>";
    let made = repo
        .cmd(&["checkout", "-q", "-b", branch])
        .output()
        .unwrap();
    let branch_ok = made.status.success();
    if branch_ok {
        repo.write("x|<b>.env", env_line(&keys[2]));
        repo.commit("branch key");
        repo.git(&["checkout", "-q", "main"]);
    }
    repo.write("<img src=x onerror=alert(1)>|.env", env_line(&keys[3]));
    let path = repo.path().to_str().unwrap();
    let (_, report, _) = audit_json(root.path(), &[path]);
    let places: BTreeSet<&str> = report
        .keys
        .iter()
        .flat_map(|k| k.locations.iter().map(|l| l.path.as_str()))
        .collect();
    assert!(places.contains("conf|ig.env"), "{places:?}");
    assert!(
        places.contains("<script>alert(1)</script>.txt"),
        "{places:?}"
    );
    if branch_ok {
        let on: Vec<&String> = report.keys.iter().flat_map(|k| &k.on_branches).collect();
        assert!(on.iter().any(|b| *b == branch), "{on:?}");
    }

    let md = stdout(&audit_out(root.path(), &["--format", "markdown", path]));
    for tag in ["<script", "</script", "<img", "<b>"] {
        assert!(!unescaped(&md, tag), "raw {tag} in Markdown:\n{md}");
    }
    // Every row of a table has the columns of its header.
    let mut columns: Option<usize> = None;
    let mut rows = 0;
    for line in md.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let n = table_pipes(line);
        match columns {
            None => columns = Some(n),
            Some(want) => {
                rows += 1;
                assert_eq!(n, want, "a row with other columns than its table:\n{line}");
            }
        }
    }
    assert!(rows > report.keys.len(), "tables were checked:\n{md}");
    for key in &report.keys {
        assert!(md.contains(&key.fingerprint), "{md}");
    }

    let html = stdout(&audit_out(root.path(), &["--format", "html", path]));
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "<script in HTML:\n{html}"
    );
    assert!(!html.contains("<img"), "raw <img> in HTML:\n{html}");
    assert!(!html.contains("<b>"), "raw <b> in HTML:\n{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.txt"),
        "the path is shown, escaped:\n{html}"
    );
    if branch_ok {
        assert!(html.contains("feat/&lt;x&gt;"), "{html}");
    }
}

#[test]
fn control_characters_from_a_repository_never_reach_the_terminal() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7165);
    // A file name with an escape sequence and a line break, a commit message with a title-setting
    // OSC sequence.
    repo.write("ev\x1b[31mil\n.env", env_line(&key));
    repo.commit("x\x1b]0;pwned\x07 y");
    let path = repo.path().to_str().unwrap();
    for format in ["human", "markdown"] {
        let out = audit_out(root.path(), &["--format", format, "--color", "never", path]);
        assert_eq!(code_of(&out), 1, "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            !text.contains(['\x1b', '\x07', '\r']),
            "{format}: control characters from the repository:\n{text:?}"
        );
        assert!(text.contains("31mil"), "{format}: the path is still shown");
    }
}

// ---- HTML

/// The number in the element with id `id`.
fn number_in(html: &str, id: &str) -> u64 {
    let re = Regex::new(&format!(r#"id="{id}"[^>]*>\s*([0-9]+)\s*<"#)).unwrap();
    let caps = re
        .captures(html)
        .unwrap_or_else(|| panic!("no element with id {id} holding a number:\n{html}"));
    caps[1].parse().expect("a number")
}

#[test]
fn html_links_commits_and_files_on_a_known_forge_from_the_remote_url_alone() {
    let root = Root::new();
    let repo = root.repo("shop");
    repo.write("conf/app settings.env", env_line(&project_key(7150)));
    let commit = repo.commit("a key");
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://ada:s3cret@github.com/org/shop.git?token=abc",
    ]);
    let other = root.repo("elsewhere");
    other.write("a.env", env_line(&project_key(7151)));
    other.write("README.md", "see https://github.com/evil/x\n");
    other.commit("a key");
    other.git(&[
        "remote",
        "add",
        "origin",
        "https://git.example.com/org/elsewhere.git",
    ]);
    let html = stdout(&audit_out(root.path(), &["--format", "html", "."]));
    let file = format!("https://github.com/org/shop/blob/{commit}/conf/app%20settings.env#L1");
    assert!(html.contains(&format!("<a href=\"{file}\"")), "{html}");
    let page = format!("https://github.com/org/shop/commit/{commit}");
    assert!(html.contains(&format!("<a href=\"{page}\"")), "{html}");
    assert!(html.contains("<th>Location</th>"), "{html}");
    assert!(html.contains("shop:conf/app settings.env:1"), "{html}");
    // No credentials or query in any link; no link for an unknown host or from file content.
    assert!(!html.contains("s3cret"), "{html}");
    let hrefs: Vec<&str> = html.split("href=\"").skip(1).collect();
    assert!(
        hrefs.iter().all(|h| h.starts_with('#')
            || (h.starts_with("https://github.com/org/shop/")
                && !h.split('"').next().unwrap_or("").contains('?'))),
        "{hrefs:?}"
    );
}

#[test]
fn html_is_self_contained_and_agrees_with_the_json() {
    let root = Root::new();
    every_place(&root, "one", 7170);
    every_place(&root, "team/two", 7170);
    let dir = root.path().to_str().unwrap();
    let (_, report, _) = audit_json(root.path(), &[dir]);
    let out = audit_out(root.path(), &["--format", "html", dir]);
    assert_eq!(code_of(&out), 1, "{}", stderr(&out));
    let html = stdout(&out);
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{html}");
    for external in [
        "src=\"http",
        "src=\"//",
        "href=\"http",
        "href=\"//",
        "@import",
        "url(http",
        "url(//",
    ] {
        assert!(!lower.contains(external), "{external} in:\n{html}");
    }
    assert!(html.contains("<style>"), "{html}");
    assert!(lower.starts_with("<!doctype html>"), "{html}");
    let s = &report.summary;
    for (id, want) in [
        ("summary-keys", s.keys),
        ("summary-repositories", s.repositories),
        ("summary-at-head", s.at_head),
        ("summary-suppressed", s.suppressed),
        ("summary-not-checked", s.not_checked),
    ] {
        assert_eq!(number_in(&html, id), want, "{id}");
    }
    assert_eq!((s.keys, s.repositories, s.suppressed), (5, 2, 1));
    assert_eq!(html.matches("<tr class=\"key\"").count(), report.keys.len());
    for key in &report.keys {
        assert!(html.contains(&key.fingerprint), "{}", key.fingerprint);
    }
}

// ---- Sharding and merge

/// Five repositories: `web` (shard 1 of 3), `api` and `tools/cli` (2), `tools/infra` (3) and
/// `mirror/svc`, a clone whose origin is `https://example.com/org/svc.git`: by its path it would
/// be shard 1, by its remote (the shard key when there is one) it is shard 3. `shared` (key 0)
/// is in every shard; `pair` (1) in two repositories of shard 2; key 4 only on an allow-marked
/// line; key 7 on an allow-marked line in shard 3 (suppressed there) and on a plain line in
/// shard 1 (so reported once merged). The upstream of the clone lives in the second temporary
/// directory returned.
fn org(seed: u64) -> (Root, tempfile::TempDir, Vec<String>) {
    let root = Root::new();
    let keys: Vec<String> = (0..8).map(|i| project_key(seed + i)).collect();
    let (shared, pair) = (&keys[0], &keys[1]);
    let web = root.repo_at("web", 0);
    web.write("a.env", env_line(shared));
    web.write("b.env", env_line(&keys[7]));
    web.commit("web key");
    web.write("a.env", "# gone\n");
    web.commit("drop it");
    let api = root.repo_at("api", 10);
    api.write(
        "config/api.env",
        format!("{}{}", env_line(shared), env_line(pair)),
    );
    api.commit("api keys");
    api.write(".env.local", env_line(&keys[2]));
    api.write(".gitignore", ".env.local\n");
    api.commit("ignore the local env");
    let cli = root.repo_at("tools/cli", 20);
    cli.write("cli.env", env_line(pair));
    cli.commit(&format!("cli\n\nalso {}", keys[3]));
    let infra = root.repo_at("tools/infra", 30);
    infra.write("infra.env", env_line(shared));
    infra.write(
        "test.env",
        format!(
            "K={} # keyhound:allow\nK2={} # keyhound:allow\n",
            keys[4], keys[7]
        ),
    );
    infra.commit("infra");
    let upstream = tempfile::tempdir().expect("temp dir");
    let src = Repo::init(upstream.path().join("svc"), 40);
    src.write("svc.env", env_line(&keys[5]));
    src.commit("svc");
    src.git(&["checkout", "-q", "-b", "next"]);
    src.write("next.env", env_line(&keys[6]));
    src.commit("next");
    src.git(&["checkout", "-q", "main"]);
    std::fs::create_dir_all(root.path().join("mirror")).expect("mkdir");
    let mut clone = git_in(&root.path().join("mirror"));
    clone.args(["clone", "-q", src.path().to_str().unwrap(), "svc"]);
    ok(clone);
    let mut set_url = git_in(&root.path().join("mirror/svc"));
    set_url.args([
        "remote",
        "set-url",
        "origin",
        "https://example.com/org/svc.git",
    ]);
    ok(set_url);
    (root, upstream, keys)
}

/// The shard each repository of `org` falls in, of 3.
const ORG_SHARDS: [(&str, u64); 5] = [
    ("api", 2),
    ("mirror/svc", 3),
    ("tools/cli", 2),
    ("tools/infra", 3),
    ("web", 1),
];

/// `keyhound audit --list ARGS .` in `root`: the lines printed.
fn list(root: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["--list"];
    all.extend_from_slice(args);
    let out = audit_out(root, &all);
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    stdout(&out).lines().map(String::from).collect()
}

#[test]
fn list_shards_partition_the_repositories_by_remote_else_path() {
    let (root, _upstream, _) = org(7200);
    let whole = list(root.path(), &["."]);
    let all: Vec<&str> = ORG_SHARDS.iter().map(|(r, _)| *r).collect();
    assert_eq!(whole, all);
    let mut union = Vec::new();
    for i in 1..=3u64 {
        let spec = format!("{i}/3");
        let part = list(root.path(), &["--shard", &spec, "."]);
        let want: Vec<&str> = ORG_SHARDS
            .iter()
            .filter(|(_, s)| *s == i)
            .map(|(r, _)| *r)
            .collect();
        assert_eq!(part, want, "shard {spec}");
        union.extend(part);
    }
    union.sort();
    let distinct: BTreeSet<&String> = union.iter().collect();
    assert_eq!(distinct.len(), union.len(), "no repository in two shards");
    assert_eq!(union, whole);
}

#[test]
fn list_repos_partitions_a_file_of_urls() {
    let root = Root::new();
    let file = root.path().join("repos.txt");
    let urls = [
        "https://example.com/org/svc.git",
        "git@example.com:org/web.git",
        "https://example.com/org/api",
        "ssh://git@example.com/org/cli.git",
        "https://example.com/org/infra.git",
        "https://example.com/org/docs.git",
        "file:///srv/git/mono.git",
    ];
    let text = format!(
        "# the organisation's repositories\n\n{}\n  # indented comment\n{}\n\n{}\n",
        urls[..3].join("\n"),
        urls[3..5].join("\n"),
        urls[5..].join("\n")
    );
    std::fs::write(&file, text).expect("write");
    let f = file.to_str().unwrap();
    assert_eq!(list(root.path(), &["--repos", f]), urls);
    let mut union = Vec::new();
    for i in 1..=3 {
        let spec = format!("{i}/3");
        let part = list(root.path(), &["--repos", f, "--shard", &spec]);
        assert!(
            part.iter().all(|u| urls.contains(&u.as_str())),
            "only URLs of the file: {part:?}"
        );
        let order: Vec<usize> = part
            .iter()
            .map(|u| urls.iter().position(|x| x == u).unwrap())
            .collect();
        assert!(order.is_sorted(), "in file order: {part:?}");
        union.extend(part);
    }
    assert_eq!(union.len(), urls.len(), "each URL in one shard: {union:?}");
    let distinct: BTreeSet<&str> = union.iter().map(String::as_str).collect();
    assert_eq!(distinct, urls.iter().copied().collect());
    // The clone in `org` has this remote, and is in shard 3.
    let third = list(root.path(), &["--repos", f, "--shard", "3/3"]);
    assert!(third.contains(&urls[0].to_string()), "{third:?}");
    // Every spelling of one remote is in one shard.
    std::fs::write(
        &file,
        "https://example.com/org/svc.git\ngit@example.com:org/svc\nssh://git@EXAMPLE.com:22/org/svc.git/\n",
    )
    .expect("write");
    let third = list(root.path(), &["--repos", f, "--shard", "3/3"]);
    assert_eq!(third.len(), 3, "{third:?}");
}

/// Runs each shard of `count` as JSON into `ROOT/shard-I.json` (with `args`); their paths.
fn run_shards(root: &Path, count: u64, args: &[&str]) -> Vec<PathBuf> {
    (1..=count)
        .map(|i| {
            let file = root.join(format!("shard-{i}.json"));
            let spec = format!("{i}/{count}");
            let mut all = vec![
                "--shard",
                &spec,
                "--format",
                "json",
                "-o",
                file.to_str().unwrap(),
            ];
            all.extend_from_slice(args);
            all.push(".");
            let out = audit_out(root, &all);
            assert!(
                [0, 1].contains(&code_of(&out)),
                "shard {spec}: {}",
                stderr(&out)
            );
            let text = std::fs::read_to_string(&file).expect("shard report");
            let part = decode(&text, &stderr(&out));
            check_totals(&part);
            assert_eq!(part.shard.as_deref(), Some(spec.as_str()));
            file
        })
        .collect()
}

fn strs(paths: &[PathBuf]) -> Vec<&str> {
    paths.iter().map(|p| p.to_str().unwrap()).collect()
}

#[test]
fn merged_shards_equal_the_whole_audit() {
    let (root, _upstream, keys) = org(7210);
    let r = root.path();
    let shards = run_shards(r, 3, &[]);
    for (i, file) in shards.iter().enumerate() {
        let part = decode(&std::fs::read_to_string(file).unwrap(), "");
        let repos: Vec<&str> = part.repositories.iter().map(|x| x.path.as_str()).collect();
        let want: Vec<&str> = ORG_SHARDS
            .iter()
            .filter(|(_, s)| *s == i as u64 + 1)
            .map(|(p, _)| *p)
            .collect();
        assert_eq!(repos, want, "shard {}", i + 1);
    }
    let whole_file = r.join("whole.json");
    let out = audit_out(
        r,
        &["--format", "json", "-o", whole_file.to_str().unwrap(), "."],
    );
    assert_eq!(code_of(&out), 1, "{}", stderr(&out));
    let whole = std::fs::read_to_string(&whole_file).expect("whole report");
    let whole_report = decode(&whole, "");
    assert_eq!(whole_report.summary.repositories, 5);
    assert_eq!(whole_report.keys.len(), keys.len() - 1);
    assert_eq!(secrets_of(&whole_report.suppressed).len(), 1);
    let third = decode(&std::fs::read_to_string(&shards[2]).unwrap(), "");
    assert_eq!(
        third.suppressed.len(),
        2,
        "keys 4 and 7 are allowed in shard 3"
    );
    let shared = whole_report
        .keys
        .iter()
        .find(|k| k.repositories.len() == 3)
        .expect("the shared key, in three repositories of three shards");
    let holders: Vec<&str> = shared
        .repositories
        .iter()
        .map(|x| x.path.as_str())
        .collect();
    assert_eq!(holders, ["api", "tools/infra", "web"]);
    // Merged in any order.
    let merged_file = r.join("merged.json");
    let mut args = vec!["--format", "json", "-o", merged_file.to_str().unwrap()];
    let given = strs(&shards);
    args.extend([given[2], given[0], given[1]]);
    let out = merge_out(r, &args);
    assert_eq!(code_of(&out), 1, "keys were found: {}", stderr(&out));
    let merged = std::fs::read_to_string(&merged_file).expect("merged report");
    check_totals(&decode(&merged, ""));
    assert_eq!(
        blank_times(&merged),
        blank_times(&whole),
        "merge of the shards vs the whole audit"
    );
}

#[test]
fn merged_markdown_equals_the_whole_audit_s_markdown() {
    let (root, _upstream, _) = org(7220);
    let r = root.path();
    let shards = run_shards(r, 3, &[]);
    let whole = audit_out(r, &["--format", "markdown", "."]);
    assert_eq!(code_of(&whole), 1, "{}", stderr(&whole));
    let mut args = vec!["--format", "markdown"];
    args.extend(strs(&shards));
    let merged = merge_out(r, &args);
    assert_eq!(code_of(&merged), 1, "{}", stderr(&merged));
    let (m, w) = (blank_times(&stdout(&merged)), blank_times(&stdout(&whole)));
    assert!(w.contains("keyhound "), "{w}");
    assert_eq!(m, w);
    // Human too.
    let whole = audit_out(r, &["--format", "human", "--color", "never", "."]);
    let mut args = vec!["--format", "human", "--color", "never"];
    args.extend(strs(&shards));
    let merged = merge_out(r, &args);
    assert_eq!(blank_human(&stdout(&merged)), blank_human(&stdout(&whole)));
}

/// The human report's first line, its date blanked.
fn blank_human(text: &str) -> String {
    let re = Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)").unwrap();
    re.replace(text, "[time])").into_owned()
}

#[test]
fn shards_with_whole_keys_merge_redacted_unless_asked() {
    let (root, _upstream, keys) = org(7230);
    let r = root.path();
    let shards = run_shards(r, 3, &["--show-secrets"]);
    let given = strs(&shards);
    // Without --show-secrets the merge redacts, as the whole audit does.
    let mut args = vec!["--format", "json"];
    args.extend(given.iter().copied());
    let merged = merge_out(r, &args);
    let whole = audit_out(r, &["--format", "json", "."]);
    assert_eq!(blank_times(&stdout(&merged)), blank_times(&stdout(&whole)));
    for key in &keys {
        assert!(!shows_part_of(&stdout(&merged), key), "{key}");
    }
    // With it, the whole keys.
    args.push("--show-secrets");
    let merged = merge_out(r, &args);
    let whole = audit_out(r, &["--format", "json", "--show-secrets", "."]);
    assert_eq!(blank_times(&stdout(&merged)), blank_times(&stdout(&whole)));
    let m = decode(&stdout(&merged), "");
    assert!(m.secrets_shown);
    // Redacted shards cannot give whole keys.
    let redacted = run_shards(r, 3, &[]);
    let mut args = vec!["--show-secrets"];
    args.extend(strs(&redacted));
    let out = merge_out(r, &args);
    assert_eq!(code_of(&out), 2, "{}", stderr(&out));
}

#[test]
fn verified_shards_merge_into_the_verified_whole() {
    let server = server::Server::start();
    let (root, _upstream, keys) = org(7270);
    server.script(&keys[0], vec![server::Reply::models()]);
    server.script(&keys[5], vec![server::Reply::models()]);
    let r = root.path();
    let base = server.base_url();
    let verify = ["--verify", "--no-verify-cache", "--openai-base-url", &base];
    let shards = run_shards(r, 3, &verify);
    let mut args = vec!["--format", "json"];
    args.extend(strs(&shards));
    let merged = merge_out(r, &args);
    assert_eq!(code_of(&merged), 1, "{}", stderr(&merged));
    let mut whole_args = vec!["--format", "json"];
    whole_args.extend(verify);
    whole_args.push(".");
    let whole = audit_out(r, &whole_args);
    assert_eq!(code_of(&whole), 1, "{}", stderr(&whole));
    assert_eq!(blank_times(&stdout(&merged)), blank_times(&stdout(&whole)));
    let m = decode(&stdout(&merged), "");
    assert!(m.verified);
    assert_eq!((m.summary.live, m.summary.not_checked), (2, 0));
    assert_eq!(m.keys[0].risk, "critical");
}

#[test]
fn many_more_shards_than_repositories_still_merge_into_the_whole() {
    let (root, _upstream, _) = org(7240);
    let r = root.path();
    let shards = run_shards(r, 12, &[]);
    let empty = shards
        .iter()
        .filter(|f| {
            decode(&std::fs::read_to_string(f).unwrap(), "")
                .repositories
                .is_empty()
        })
        .count();
    assert!(empty >= 7, "most of the 12 shards audit nothing");
    let mut args = vec!["--format", "json"];
    args.extend(strs(&shards));
    let merged = merge_out(r, &args);
    assert_eq!(code_of(&merged), 1, "{}", stderr(&merged));
    let whole = audit_out(r, &["--format", "json", "."]);
    assert_eq!(blank_times(&stdout(&merged)), blank_times(&stdout(&whole)));
}

#[test]
fn the_thread_count_does_not_change_the_report() {
    let (root, _upstream, _) = org(7260);
    let r = root.path();
    let one = audit_out(r, &["--format", "json", "-j", "1", "."]);
    let many = audit_out(r, &["--format", "json", "-j", "8", "."]);
    assert_eq!(code_of(&one), 1, "{}", stderr(&one));
    assert_eq!(blank_times(&stdout(&one)), blank_times(&stdout(&many)));
}

#[test]
fn an_audit_of_a_folder_without_repositories_says_so_and_exits_2() {
    let root = Root::new();
    std::fs::create_dir_all(root.path().join("plain/folder")).expect("mkdir");
    std::fs::write(root.path().join("plain/notes.txt"), "nothing\n").expect("write");
    for format in ["human", "json"] {
        let out = audit_out(root.path(), &["--format", format, "plain"]);
        assert_eq!(code_of(&out), 2, "{}", stderr(&out));
        assert!(
            stderr(&out).contains("no git repositories to audit in plain"),
            "{}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{}", stdout(&out));
    }
}

#[test]
fn a_clean_audit_says_which_providers_keys_it_looked_for() {
    let root = Root::new();
    let repo = root.repo("repo");
    repo.write("README.md", "nothing\n");
    repo.commit("clean");
    let path = repo.path().to_str().unwrap();
    let (code, report, err) = audit_json(root.path(), &[path]);
    assert_eq!(code, 0, "{err}");
    assert!(
        report.providers.contains(&"openai".to_string()),
        "{:?}",
        report.providers
    );
    let listed = report.providers.join(", ");
    for format in ["human", "markdown", "html"] {
        let text = stdout(&audit_out(root.path(), &["--format", format, path]));
        assert!(
            text.contains(&format!("Keys looked for: {listed} (no other provider")),
            "{format}:\n{text}"
        );
    }
}

#[test]
fn an_empty_folder_of_clones_is_an_empty_shard() {
    // The README's workflows clone only their shard's repositories into a folder made with
    // `mkdir -p` ("a shard may hold no repository") and audit that folder: a shard with nothing
    // to clone must still write its (empty) report, or the merge never runs.
    let root = Root::new();
    let clones = root.path().join("clones");
    std::fs::create_dir(&clones).expect("mkdir");
    let mut files = Vec::new();
    for i in 1..=3 {
        let file = root.path().join(format!("shard-{i}.json"));
        let spec = format!("{i}/3");
        let out = audit_out(
            root.path(),
            &[
                "--shard",
                &spec,
                "--format",
                "json",
                "-o",
                file.to_str().unwrap(),
                "clones",
            ],
        );
        assert_eq!(
            code_of(&out),
            0,
            "shard {spec} of an empty folder: {}",
            stderr(&out)
        );
        let part = decode(&std::fs::read_to_string(&file).expect("report"), "");
        assert_eq!(part.shard.as_deref(), Some(spec.as_str()));
        assert!(part.repositories.is_empty() && part.keys.is_empty());
        files.push(file);
    }
    let out = merge_out(root.path(), &strs(&files));
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("No keys found in 0 repositories."),
        "{}",
        stdout(&out)
    );
}

#[test]
fn merge_rejects_missing_duplicate_whole_and_mixed_reports() {
    let (root, _upstream, _) = org(7250);
    let r = root.path();
    let shards = run_shards(r, 3, &[]);
    let given = strs(&shards);
    let fails = |args: &[&str], says: &[&str]| {
        let out = merge_out(r, args);
        let err = stderr(&out);
        assert_eq!(code_of(&out), 2, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "no report: {}", stdout(&out));
        for s in says {
            assert!(err.contains(s), "{args:?}: {s:?} not in: {err}");
        }
    };
    // A missing shard.
    fails(&[given[0], given[1]], &["shard 3 of 3 is missing"]);
    fails(&[given[1]], &["shards 1, 3 of 3 are missing"]);
    // A duplicate shard (the same file twice, and a copy).
    let copy = r.join("copy-of-shard-2.json");
    std::fs::copy(&shards[1], &copy).expect("copy");
    fails(
        &[given[0], given[1], given[1], given[2]],
        &["both shard 2/3"],
    );
    fails(
        &[given[0], given[1], copy.to_str().unwrap(), given[2]],
        &["both shard 2/3", "copy-of-shard-2.json"],
    );
    // A whole audit.
    let whole = r.join("whole.json");
    let out = audit_out(r, &["--format", "json", "-o", whole.to_str().unwrap(), "."]);
    assert_eq!(code_of(&out), 1);
    fails(
        &[given[0], given[1], given[2], whole.to_str().unwrap()],
        &["whole.json", "not a shard"],
    );
    fails(&[whole.to_str().unwrap()], &["whole.json", "not a shard"]);
    // Mixed versions.
    let text = std::fs::read_to_string(&shards[1]).unwrap();
    let version = format!("\"keyhound\": \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&version), "{text}");
    let other = r.join("other-version.json");
    std::fs::write(
        &other,
        text.replace(&version, "\"keyhound\": \"0.0.0-test\""),
    )
    .unwrap();
    fails(
        &[given[0], other.to_str().unwrap(), given[2]],
        &["0.0.0-test", "other-version.json"],
    );
    // Not a report at all, and a file that is not there.
    let junk = r.join("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}\n").unwrap();
    fails(&[junk.to_str().unwrap()], &["junk.json"]);
    let gone = r.join("gone.json");
    fails(&[given[0], gone.to_str().unwrap()], &["gone.json"]);
}

// ---- --verify

#[test]
fn a_live_key_at_head_ranks_first_as_critical() {
    let server = server::Server::start();
    let root = Root::new();
    let repo = root.repo("repo");
    let keys: Vec<String> = (0..4).map(|i| project_key(7300 + i)).collect();
    let (live, live_disk, live_old, dead) = (&*keys[0], &*keys[1], &*keys[2], &*keys[3]);
    repo.write("dead.env", env_line(dead));
    repo.write("old.env", env_line(live_old));
    repo.commit("keys");
    repo.remove("old.env");
    repo.commit("drop one");
    repo.write("live.env", env_line(live));
    repo.commit("the live one");
    repo.write("notes.txt", env_line(live_disk));
    for key in [live, live_disk, live_old] {
        server.script(key, vec![server::Reply::models()]);
    }
    let base = server.base_url();
    let path = repo.path().to_str().unwrap();
    let verify = ["--verify", "--no-verify-cache", "--openai-base-url", &base];
    let mut args = verify.to_vec();
    args.push(path);
    let (code, report, err) = audit_shown(root.path(), &args);
    assert_eq!(code, 1, "{err}");
    assert!(report.verified);
    assert_eq!(secrets_of(&report.keys), [live, live_disk, live_old, dead]);
    let risks: Vec<(&str, &str, bool)> = report
        .keys
        .iter()
        .map(|k| (k.risk.as_str(), k.verification.status.as_str(), k.at_head))
        .collect();
    assert_eq!(
        risks,
        [
            ("critical", "live", true),
            ("critical", "live", false),
            ("high", "live", false),
            ("none", "dead", true)
        ],
        "live at HEAD, live in the work tree, live in history, dead"
    );
    assert!(report.keys[0].verification.checked_at.is_some());
    assert_eq!(
        (
            report.summary.live,
            report.summary.dead,
            report.summary.not_checked
        ),
        (3, 1, 0)
    );
    for key in &keys {
        assert_eq!(server.requests_for(key), 1, "one request per key");
    }
    // --only-live leaves the dead key out.
    args.insert(0, "--only-live");
    let (code, report, err) = audit_shown(root.path(), &args);
    assert_eq!(code, 1, "{err}");
    assert_eq!(secrets_of(&report.keys), [live, live_disk, live_old]);
}
