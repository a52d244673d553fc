//! Audits one repository: its whole history (every ref) through the history scan, plus the
//! work tree's uncommitted, untracked and ignored files, as observations of keys.

use super::aggregate::{Core, Obs};
use super::discover::Found;
use super::model::{Location, RepoAudit, Sighting, Source};
use crate::finding::{Finding, Skipped};
use crate::rules::RuleSet;
use crate::scan::git::{ByGit, CommitMeta, GitOptions, HistoryFacts, Presence, commit_meta};
use crate::scan::walk::WalkOptions;
use crate::scan::{BlobOutcome, Scanner};
use git2::{Repository, Status, StatusOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What the audit needs to scan a repository.
pub struct Tools<'a> {
    pub scanner: &'a Scanner<'a>,
    pub rules: &'a RuleSet,
    pub show_secrets: bool,
    /// How to read each repository's history (its `repo` is set per repository).
    pub git: GitOptions,
    pub on_skip: crate::scan::git::OnSkip<'a>,
}

/// What auditing one repository gave.
pub struct Collected {
    pub repo: RepoAudit,
    pub obs: Vec<Obs>,
    pub skipped: Vec<Skipped>,
    /// One finding per distinct key (for verification and `--emit-replacements`).
    pub keys: Vec<Finding>,
}

/// Audits the repository `found`. Nothing here fails the audit: a repository that cannot be
/// read is reported incomplete, with the reason.
pub fn collect(found: &Found, tools: &Tools<'_>) -> Collected {
    let mut c = Collected {
        repo: RepoAudit {
            name: found.name.clone(),
            path: found.rel.clone(),
            remote: found.remote.clone(),
            default_branch: None,
            head: None,
            commits: 0,
            blobs_scanned: 0,
            bytes_scanned: 0,
            worktree_files: 0,
            keys: 0,
            complete: true,
            notes: Vec::new(),
        },
        obs: Vec::new(),
        skipped: Vec::new(),
        keys: Vec::new(),
    };
    let opts = GitOptions {
        repo: Some(found.dir.clone()),
        ..tools.git.clone()
    };
    match crate::scan::git::scan_at(&opts, Presence::Branches, tools.scanner, tools.on_skip) {
        Ok(outcome) => {
            let repo = Repository::open(&found.dir).ok();
            let by_git = repo.is_none().then(|| ByGit::open(&found.dir)).flatten();
            let meta = |commit: &str| match (&repo, &by_git) {
                (Some(repo), _) => git2::Oid::from_str(commit)
                    .map_or_else(|_| CommitMeta::default(), |oid| commit_meta(repo, oid)),
                (None, Some(by_git)) => by_git.commit_meta(commit),
                (None, None) => CommitMeta::default(),
            };
            c.repo.default_branch.clone_from(&outcome.default_branch);
            c.repo.head.clone_from(&outcome.head_commit);
            c.repo.commits = outcome.stats.commits;
            c.repo.blobs_scanned = outcome.stats.blobs_scanned;
            c.repo.bytes_scanned = outcome.stats.bytes_scanned;
            for (i, f) in outcome.findings.iter().enumerate() {
                let facts = outcome.history.get(i).cloned().unwrap_or_default();
                c.obs.push(history_obs(f, facts, &c.repo, &meta, tools));
            }
            c.keys.extend(outcome.findings);
            c.skipped.extend(outcome.skipped);
            match (&repo, &by_git) {
                (Some(repo), _) => worktree(repo, &found.dir, tools, &mut c),
                (None, Some(by_git)) => worktree_by_git(by_git, &found.dir, tools, &mut c),
                (None, None) => c.skipped.push(unread_worktree(&found.rel)),
            }
        }
        Err(e) => {
            let msg = format!("{}: cannot be audited: {e:#}", found.rel);
            c.skipped.push(Skipped {
                path: found.rel.clone(),
                reason: msg,
                incomplete: true,
            });
        }
    }
    c.repo.complete = !c.skipped.iter().any(|s| s.incomplete);
    c.repo.notes = c.skipped.iter().map(note).collect();
    c.repo.notes.sort();
    c.repo.notes.dedup();
    let mut seen = std::collections::HashSet::new();
    c.keys.retain(|k| seen.insert(k.fingerprint.clone()));
    c
}

fn note(s: &Skipped) -> String {
    if s.reason.starts_with(&s.path) {
        s.reason.clone()
    } else {
        format!("{}: {}", s.path, s.reason)
    }
}

fn core(f: &Finding, tools: &Tools<'_>) -> Core {
    let spec = &tools.rules.rules[f.rule].spec;
    Core {
        fingerprint: f.fingerprint.clone(),
        kind: spec.kind.clone(),
        provider: spec.provider.clone(),
        rule: spec.id.clone(),
        secret: f.secret.display(tools.show_secrets),
    }
}

/// A history finding (a blob's key at a path, or a commit message's) as an observation, with
/// what the history scan knew of it besides (`facts`).
fn history_obs(
    f: &Finding,
    facts: HistoryFacts,
    r: &RepoAudit,
    meta: &dyn Fn(&str) -> CommitMeta,
    tools: &Tools<'_>,
) -> Obs {
    let g = f.git.as_deref().cloned().unwrap_or_default();
    let message = g.in_message();
    let path = if message {
        "(commit message)".to_string()
    } else {
        f.origin.display()
    };
    let (first_order, last_order) = facts.order.unzip();
    let sighting = |commit: Option<&String>, order: Option<u64>, line: u64| {
        let commit = commit?.clone();
        let (author, date) = if commit.as_str() == g.commit.as_deref().unwrap_or("") {
            (g.author.clone(), g.date.clone())
        } else {
            let m = meta(&commit);
            (m.author, m.date)
        };
        Some(Sighting {
            repository: r.path.clone(),
            commit,
            author,
            date,
            path: path.clone(),
            line,
            order: order?,
        })
    };
    Obs {
        core: core(f, tools),
        location: Location {
            repository: r.path.clone(),
            source: if message {
                Source::CommitMessage
            } else {
                Source::History
            },
            path: if message {
                g.commit.clone().unwrap_or_default()
            } else {
                path.clone()
            },
            line: f.line,
            column: f.column,
            commit: g.commit.clone(),
            commits: g.commits,
            at_head: if message { None } else { g.at_head },
            allowed: f.allowed,
        },
        first: sighting(g.commit.as_ref(), first_order, f.line),
        last: sighting(
            g.last_seen.as_ref(),
            last_order,
            facts.last_line.unwrap_or(f.line),
        ),
        at_head: g.at_head.unwrap_or(false),
        on_branches: facts.on_branches,
        key_commits: facts.key_commits.unwrap_or(0),
    }
}

/// Scans what the work tree has and HEAD does not: modified, untracked and ignored files (an
/// ignored `.env` is still an exposure on that disk), whole ignored folders included.
/// Scans the work tree's changed files, when the work tree is the audited folder (a bare
/// repository's `core.worktree` may name any other directory); symbolic links among them are
/// named, never followed.
fn worktree(repo: &Repository, dir: &Path, tools: &Tools<'_>, c: &mut Collected) {
    let Some(workdir) = repo.workdir() else {
        return;
    };
    let listed = || changed_paths(repo, workdir).map_err(|e| e.to_string());
    scan_worktree(workdir, &listed, dir, tools, c);
}

/// `worktree` for a repository libgit2 cannot open (SHA-256 ids, reftable refs): the changed
/// files as `git status` lists them.
fn worktree_by_git(repo: &ByGit, dir: &Path, tools: &Tools<'_>, c: &mut Collected) {
    let Some(workdir) = repo.workdir() else {
        return;
    };
    scan_worktree(workdir, &|| repo.changed_paths(), dir, tools, c);
}

/// Scans the files `listed` names in `workdir` (all of it when they cannot be listed), when
/// the work tree is inside the audited folder `dir`.
fn scan_worktree(
    workdir: &Path,
    listed: &dyn Fn() -> Result<Vec<PathBuf>, String>,
    dir: &Path,
    tools: &Tools<'_>,
    c: &mut Collected,
) {
    if !is_within(workdir, dir) {
        c.skipped.push(Skipped {
            path: c.repo.path.clone(),
            reason: format!(
                "its work tree ({}, from core.worktree) is outside the audited folder: not scanned",
                workdir.display()
            ),
            incomplete: false,
        });
        return;
    }
    let paths = match listed() {
        Ok(p) => p,
        Err(e) => {
            c.skipped.push(Skipped {
                path: c.repo.path.clone(),
                reason: format!("cannot list the work tree's changes ({e}); scanning all of it"),
                incomplete: false,
            });
            vec![workdir.to_path_buf()]
        }
    };
    let (links, paths): (Vec<PathBuf>, Vec<PathBuf>) = paths
        .into_iter()
        .partition(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink()));
    for link in links {
        c.skipped.push(Skipped {
            path: rel_path(&link.to_string_lossy(), workdir),
            reason: "symbolic link in the work tree: not followed".into(),
            incomplete: false,
        });
    }
    if paths.is_empty() {
        return;
    }
    let walk = WalkOptions {
        no_ignore: true,
        follow_links: false,
        threads: tools.git.threads,
        max_filesize: None,
    };
    let outcomes = Mutex::new(Vec::new());
    let sink = |o: BlobOutcome| outcomes.lock().unwrap_or_else(|p| p.into_inner()).push(o);
    crate::scan::walk::scan_paths(&paths, &walk, tools.scanner, &sink);
    for o in outcomes.into_inner().unwrap_or_else(|p| p.into_inner()) {
        c.repo.worktree_files += o.files;
        for s in o.skipped {
            (tools.on_skip)(&s);
            c.skipped.push(relative(s, workdir));
        }
        for f in o.findings {
            let rel = rel_path(&f.origin.path, workdir);
            c.obs.push(worktree_obs(&f, rel, &c.repo, tools));
            c.keys.push(f);
        }
    }
}

fn worktree_obs(f: &Finding, path: String, r: &RepoAudit, tools: &Tools<'_>) -> Obs {
    let mut origin = f.origin.clone();
    origin.path = path;
    Obs {
        core: core(f, tools),
        location: Location {
            repository: r.path.clone(),
            source: Source::Worktree,
            path: origin.display(),
            line: f.line,
            column: f.column,
            commit: None,
            commits: None,
            at_head: None,
            allowed: f.allowed,
        },
        first: None,
        last: None,
        at_head: false,
        on_branches: Vec::new(),
        key_commits: 0,
    }
}

fn relative(mut s: Skipped, workdir: &Path) -> Skipped {
    s.path = rel_path(&s.path, workdir);
    s
}

fn rel_path(path: &str, workdir: &Path) -> String {
    Path::new(path).strip_prefix(workdir).map_or_else(
        |_| path.to_string(),
        |p| p.to_string_lossy().replace('\\', "/"),
    )
}

/// Whether `path` is `dir` or inside it, both resolved (a path that cannot be resolved is not).
fn is_within(path: &Path, dir: &Path) -> bool {
    match (std::fs::canonicalize(path), std::fs::canonicalize(dir)) {
        (Ok(p), Ok(d)) => p.starts_with(d),
        _ => false,
    }
}

/// Files and folders of the work tree that differ from HEAD: modified, new, untracked, ignored.
fn changed_paths(repo: &Repository, workdir: &Path) -> Result<Vec<PathBuf>, git2::Error> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .include_ignored(true)
        .recurse_untracked_dirs(false)
        .recurse_ignored_dirs(false)
        .exclude_submodules(true);
    let statuses = repo.statuses(Some(&mut opts))?;
    let wanted = Status::WT_NEW
        | Status::WT_MODIFIED
        | Status::WT_TYPECHANGE
        | Status::WT_RENAMED
        | Status::IGNORED
        | Status::INDEX_NEW
        | Status::INDEX_MODIFIED
        | Status::INDEX_RENAMED
        | Status::INDEX_TYPECHANGE;
    let mut paths: Vec<PathBuf> = statuses
        .iter()
        .filter(|e| e.status().intersects(wanted))
        .filter_map(|e| e.path().ok().map(|p| workdir.join(p.trim_end_matches('/'))))
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .collect();
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// The note for a repository whose history git read but then could not open again (a SHA-256
/// or reftable repository, which libgit2 cannot open): its work tree's files were not audited.
fn unread_worktree(rel: &str) -> Skipped {
    Skipped {
        path: rel.to_string(),
        reason: "a SHA-256 repository or one storing its refs as reftable: its history was \
                 scanned through git, its work tree's modified, untracked and ignored files were \
                 not (git could not open the repository again)"
            .into(),
        incomplete: true,
    }
}
