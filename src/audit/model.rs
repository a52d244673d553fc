//! The audit report as data: one entry per distinct key, what each repository says of it, and the
//! summary. JSON is this model serialised; `merge` reads it back, so every type round-trips.

use crate::verify::Status;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A whole audit: what `keyhound audit` writes as JSON and what `keyhound audit merge` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// The keyhound version that wrote it; `merge` refuses to mix versions.
    pub keyhound: String,
    /// `I/N` for one shard of a sharded audit; null for a whole audit (and a merged one).
    pub shard: Option<String>,
    /// When the report was written, RFC 3339 UTC (the one field two equal audits differ in,
    /// with verification times).
    pub generated_at: String,
    /// Whether `secret` fields hold whole keys (`--show-secrets`).
    pub secrets_shown: bool,
    /// Whether the keys were verified (`--verify`); without it every verdict is `not_checked`.
    pub verified: bool,
    /// The providers whose keys the rules look for, sorted: keys of any other provider are not
    /// looked for, so an audit without keys says nothing of them.
    pub providers: Vec<String>,
    /// Keys at least one place reports, most at risk first.
    pub keys: Vec<KeyEntry>,
    /// Keys found only on lines marked as allowed (`keyhound:allow` and peers' markers): an audit
    /// lists them, apart, rather than hiding them.
    pub suppressed: Vec<KeyEntry>,
    /// Every repository audited, by `path`.
    pub repositories: Vec<RepoAudit>,
    pub summary: Summary,
}

/// One distinct key (by fingerprint) across every repository that holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyEntry {
    pub fingerprint: String,
    /// The rule's kind (`project`, `admin`, …).
    pub kind: String,
    pub provider: String,
    /// The rule id that found it.
    pub rule: String,
    /// Redacted (`sk-proj-…AbCd`) unless `secrets_shown`.
    pub secret: String,
    /// `critical` (live, at HEAD), `high` (live), `medium` (not proven dead, at HEAD or in a work
    /// tree), `low` (not proven dead, history only), `none` (dead).
    pub risk: Risk,
    /// The earliest commit holding the key (per repository: topological order, ties by
    /// committer date; across repositories: the earliest date). Null for a key only in a work tree.
    pub introduced: Option<Sighting>,
    /// The latest commit holding the key, chosen as `introduced` is.
    pub last_seen: Option<Sighting>,
    /// Present in the tip of a repository's default branch.
    pub at_head: bool,
    /// That default branch (`main`, `origin/main`): of the first repository where the key is at
    /// HEAD, else of the repository that introduced it.
    pub default_branch: Option<String>,
    /// Branches (local and remote-tracking) whose tip holds the key, as `repo-path:branch` when
    /// several repositories hold it and as `branch` when one does.
    pub on_branches: Vec<String>,
    /// Each repository holding the key, with what it alone says of it.
    pub repositories: Vec<RepoKey>,
    /// Every place the key is, sorted by repository, path, line.
    pub locations: Vec<Location>,
    /// Distinct commits carrying it, summed over repositories.
    pub commits: u64,
    pub verification: Verdict,
    /// What to do, in order: revoke, replace, purge, review.
    pub remediation: Vec<String>,
}

/// A commit holding a key, and where in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sighting {
    /// The repository's `path` (see `RepoAudit::path`).
    pub repository: String,
    /// Full 40-hex commit id.
    pub commit: String,
    /// `Name <email>`.
    pub author: Option<String>,
    /// Author date, RFC 3339 UTC.
    pub date: Option<String>,
    /// The file, or `(commit message)`.
    pub path: String,
    pub line: u64,
    /// The commit's position in its repository's topological order (oldest first): how
    /// introduced and last-seen are chosen within one repository.
    pub order: u64,
}

/// What one repository says of a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoKey {
    pub name: String,
    /// Relative to the audit root (see `RepoAudit::path`).
    pub path: String,
    pub remote: Option<String>,
    pub introduced: Option<Sighting>,
    pub last_seen: Option<Sighting>,
    pub at_head: bool,
    pub default_branch: Option<String>,
    pub on_branches: Vec<String>,
    /// Distinct commits of this repository carrying the key.
    pub commits: u64,
    /// The key is in an uncommitted (or ignored) file of the work tree.
    pub in_worktree: bool,
}

/// One place a key is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The repository's `path`.
    pub repository: String,
    /// `history` (a blob of some commit), `commit-message`, or `worktree` (the file on disk).
    pub source: Source,
    /// The file (for a commit message: the commit id).
    pub path: String,
    pub line: u64,
    pub column: u64,
    /// The commit that introduced it at this path (history and commit messages).
    pub commit: Option<String>,
    /// Commits carrying it at this path (history; 1 for a commit message).
    pub commits: Option<u64>,
    /// Whether the default branch's tip still has it at this path (history).
    pub at_head: Option<bool>,
    /// The line carries an allow marker: reported anyway, since an audit hides nothing.
    pub allowed: bool,
}

/// The verdict on a key, as the audit shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// `live`, `dead`, `unknown` or `not_checked`.
    pub status: Status,
    pub reason: Option<String>,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub organization: Option<String>,
    /// RFC 3339 UTC.
    pub checked_at: Option<String>,
    pub cached: bool,
}

/// One repository audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoAudit {
    /// The directory's name (`cargo` for `cargo/` or `cargo.git/`).
    pub name: String,
    /// Relative to the audit root: the folder given on the command line, or, for a repository
    /// given itself, the folder it is in. `/`-separated.
    pub path: String,
    /// `origin`'s URL with any credentials removed, or null.
    pub remote: Option<String>,
    /// `origin/main` (from `refs/remotes/origin/HEAD`), else the branch `HEAD` names.
    pub default_branch: Option<String>,
    /// The default branch's tip commit.
    pub head: Option<String>,
    /// Commits in its history.
    pub commits: u64,
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    pub worktree_files: u64,
    /// Distinct keys reported in it (suppressed ones not counted).
    pub keys: u64,
    /// False when something could not be read (see `notes`).
    pub complete: bool,
    /// Why it is incomplete, or what else a reader should know (shallow, submodules, LFS).
    pub notes: Vec<String>,
}

/// Totals, derived from `keys`, `suppressed` and `repositories` alone (so a merge recomputes them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub repositories: u64,
    /// Repositories holding at least one key.
    pub repositories_with_keys: u64,
    pub keys: u64,
    pub live: u64,
    pub dead: u64,
    pub unknown: u64,
    pub not_checked: u64,
    pub at_head: u64,
    pub suppressed: u64,
    pub commits_scanned: u64,
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    /// Repositories not read in full.
    pub incomplete: u64,
}

/// How urgent a key is, most urgent first (see `KeyEntry::risk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Critical,
    High,
    Medium,
    Low,
    None,
}

impl Risk {
    /// The label reports show and the JSON holds.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Critical => "critical",
            Risk::High => "high",
            Risk::Medium => "medium",
            Risk::Low => "low",
            Risk::None => "none",
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a key is: a commit message, a blob of some commit, or a file of the work tree. The
/// order is the labels' order, which locations are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    CommitMessage,
    History,
    Worktree,
}

impl Source {
    /// The label reports show and the JSON holds.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::CommitMessage => "commit-message",
            Source::History => "history",
            Source::Worktree => "worktree",
        }
    }
}

impl KeyEntry {
    /// The rank `keys` are sorted by: risk, then most recently seen, then fingerprint.
    pub fn risk_rank(&self) -> usize {
        self.risk as usize
    }
}

impl Summary {
    /// The totals of a report's keys and repositories.
    pub fn of(keys: &[KeyEntry], suppressed: &[KeyEntry], repos: &[RepoAudit]) -> Summary {
        let status = |s: Status| keys.iter().filter(|k| k.verification.status == s).count() as u64;
        Summary {
            repositories: repos.len() as u64,
            repositories_with_keys: repos.iter().filter(|r| r.keys > 0).count() as u64,
            keys: keys.len() as u64,
            live: status(Status::Live),
            dead: status(Status::Dead),
            unknown: status(Status::Unknown),
            not_checked: status(Status::NotChecked),
            at_head: keys.iter().filter(|k| k.at_head).count() as u64,
            suppressed: suppressed.len() as u64,
            commits_scanned: repos.iter().map(|r| r.commits).sum(),
            blobs_scanned: repos.iter().map(|r| r.blobs_scanned).sum(),
            bytes_scanned: repos.iter().map(|r| r.bytes_scanned).sum(),
            incomplete: repos.iter().filter(|r| !r.complete).count() as u64,
        }
    }
}
