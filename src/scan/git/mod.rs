//! `keyhound git`: a repository's objects as blobs for the scanner, by job. `open` finds and
//! checks the repository; `history` reads the whole history (one algorithm over three object
//! sources: the packs, `git cat-file`, libgit2); `changes` scans what a range, the index or a
//! commit message adds; `blobs` scans blobs on worker threads; `meta` formats commits for
//! reports.

mod blobs;
mod by_git;
mod changes;
pub(crate) mod command;
mod heads;
mod history;
mod inflate;
mod large;
mod lookup;
mod meta;
mod objects;
mod oidmap;
mod open;
mod packcheck;
mod pipe;
mod tips;

pub use meta::{CommitMeta, commit_meta};
pub use tips::Presence;

use crate::finding::{Finding, Skipped};
use crate::scan::Scanner;
use crate::stats::GitStats;
use crate::suppress::project::{CONFIG_FILE, IGNORE_FILE, RootFiles};
use std::path::PathBuf;

/// Which objects of the repository to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitMode {
    /// Every blob and commit message reachable from every ref.
    History,
    /// What the commits in `rev-list B ^A` added, for `A..B`.
    Range(String),
    /// What the index adds to HEAD.
    Staged,
    /// The message file a commit-msg hook is given.
    CommitMsg(PathBuf),
    /// What a push sends, as a pre-push hook is told.
    PrePush,
    /// The commits a push brings to a server, as its pre-receive hook is told.
    PreReceive,
    /// Only the tree HEAD has checked out: the state code scanning shows.
    Tree,
}

/// What `keyhound git` was asked to do.
#[derive(Debug, Clone)]
pub struct GitOptions {
    /// None: the repository GIT_DIR or the current directory names.
    pub repo: Option<PathBuf>,
    pub mode: GitMode,
    pub all_objects: bool,
    /// Blobs above this many bytes are streamed through `git cat-file --batch`.
    pub max_blob_size: u64,
    pub threads: usize,
    /// How the whole history's objects are read (the others are tried after it).
    pub reader: Reader,
}

/// What a repository scan produced, findings grouped per key and path.
#[derive(Debug, Default)]
pub struct GitOutcome {
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub stats: GitStats,
    pub placeholders: u64,
    /// Every byte scanned: blobs and commit messages.
    pub bytes: u64,
    pub suppressed_inline: u64,
    /// The branch `at_head` is about (history scans).
    pub default_branch: Option<String>,
    /// Its tip commit.
    pub head_commit: Option<String>,
    /// Whole-history scans: what an audit needs of each finding besides what reports say,
    /// `history[i]` of `findings[i]`; empty for the other scans.
    pub history: Vec<HistoryFacts>,
}

/// What a whole-history scan knows of one finding that reports do not show: audits take these
/// into their own model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFacts {
    /// Where `commit` and `last_seen` stand in the topological order of the repository's
    /// commits, oldest first.
    pub order: Option<(u64, u64)>,
    /// The key's line in the `last_seen` commit's blob.
    pub last_line: Option<u64>,
    /// Distinct commits carrying the key at any path.
    pub key_commits: Option<u64>,
    /// Branches whose tip carries the key at this path (with [`Presence::Branches`]).
    pub on_branches: Vec<String>,
}

/// How a scan reports each skipped object as soon as it is met (a warning on standard error).
pub type OnSkip<'a> = &'a (dyn Fn(&Skipped) + Sync);

/// What every part of a repository scan needs.
struct Ctx<'a> {
    scanner: &'a Scanner<'a>,
    opts: &'a GitOptions,
    /// Which tips presence is reported at.
    presence: Presence,
    repo: open::Opened,
    on_skip: OnSkip<'a>,
}

/// What a scan starts before the rules load: for `--staged`, the `git diff --cached` child
/// (see [`changes::StagedDiff`]), which reads the index while the matcher is built.
#[derive(Debug, Default)]
pub struct Started(Option<changes::StagedDiff>);

/// Starts what the scan `opts` asks for can start before the rules load, in the repository
/// whose work tree is `workdir` (as `root_files` found it; None when it found none).
pub fn start(opts: &GitOptions, workdir: Option<&std::path::Path>) -> Started {
    match (&opts.mode, workdir) {
        (GitMode::Staged, Some(dir)) => Started(changes::StagedDiff::start(opts, dir)),
        _ => Started::default(),
    }
}

/// Scans the repository `opts` names, reporting presence at HEAD, with what `start` started.
/// Errors are for a repository that cannot be scanned at all (none there, a partial clone, a
/// bad range); a missing object only makes it incomplete.
pub fn scan(
    opts: &GitOptions,
    started: Started,
    scanner: &Scanner<'_>,
    on_skip: OnSkip<'_>,
) -> anyhow::Result<GitOutcome> {
    scan_started(opts, Presence::Head, started, scanner, on_skip)
}

/// Scans the repository `opts` names, reporting presence at the tips `presence` asks for (an
/// audit asks for the default branch and every branch).
pub fn scan_at(
    opts: &GitOptions,
    presence: Presence,
    scanner: &Scanner<'_>,
    on_skip: OnSkip<'_>,
) -> anyhow::Result<GitOutcome> {
    scan_started(opts, presence, Started::default(), scanner, on_skip)
}

fn scan_started(
    opts: &GitOptions,
    presence: Presence,
    started: Started,
    scanner: &Scanner<'_>,
    on_skip: OnSkip<'_>,
) -> anyhow::Result<GitOutcome> {
    if let GitMode::CommitMsg(file) = &opts.mode {
        return commit_msg(opts, scanner, on_skip, file);
    }
    let (opened, handle) = open::open(opts)?;
    let ctx = Ctx {
        scanner,
        opts,
        presence,
        repo: opened,
        on_skip,
    };
    scanner.progress.set_phase(phase(&opts.mode));
    let repo = match handle {
        open::Handle::Libgit2(repo) => repo,
        open::Handle::Git(dir) => return scan_by_git(&ctx, &dir, started),
    };
    let notes = open::notes(&repo);
    notes.iter().for_each(on_skip);
    let mut outcome = match &opts.mode {
        GitMode::History | GitMode::Tree => history::scan(&ctx, &repo)?,
        GitMode::Range(range) => changes::scan_range(&ctx, &repo, range)?,
        GitMode::Staged => changes::scan_staged(&ctx, &repo, started.0)?,
        GitMode::CommitMsg(_) => unreachable!("handled above"),
        GitMode::PrePush => match changes::push_range(&repo)? {
            Some(range) => changes::scan_range(&ctx, &repo, &range)?,
            None => GitOutcome::default(),
        },
        GitMode::PreReceive => match changes::received(&repo)? {
            Some(range) => changes::scan_range(&ctx, &repo, &range)?,
            None => GitOutcome::default(),
        },
    };
    outcome.skipped.extend(notes);
    Ok(outcome)
}

/// What the progress bar says while `mode` scans.
fn phase(mode: &GitMode) -> &'static str {
    match mode {
        GitMode::History | GitMode::CommitMsg(_) => "scanning history",
        GitMode::Tree => "scanning HEAD's tree",
        GitMode::Range(_) | GitMode::PrePush | GitMode::PreReceive => "scanning new commits",
        GitMode::Staged => "scanning the index",
    }
}

/// Scans a repository only git can read (`by_git`): the whole history, a range, the index,
/// what a push sends or brings.
fn scan_by_git(
    ctx: &Ctx<'_>,
    dir: &by_git::GitDir,
    started: Started,
) -> anyhow::Result<GitOutcome> {
    // Warnings name objects by their full ids, as the report does.
    let outer = ctx.on_skip;
    let on_skip = |s: &Skipped| outer(&dir.widened(s));
    let ctx = &Ctx {
        scanner: ctx.scanner,
        opts: ctx.opts,
        presence: ctx.presence,
        repo: ctx.repo.clone(),
        on_skip: &on_skip,
    };
    let notes: Vec<Skipped> = (dir.shallow_boundary().iter())
        .map(|_| open::shallow_note(dir.git_dir()))
        .collect();
    notes.iter().for_each(ctx.on_skip);
    let mut outcome = match &ctx.opts.mode {
        GitMode::History | GitMode::Tree => {
            dir.check_history(ctx.opts)?;
            history::scan_by_git(ctx, dir)?
        }
        GitMode::CommitMsg(_) => unreachable!("handled before the repository is opened"),
        GitMode::Range(range) => changes::scan_range_by_git(ctx, dir, range)?,
        GitMode::Staged => changes::scan_staged_by_git(ctx, dir, started.0)?,
        GitMode::PrePush => match changes::push_range(dir)? {
            Some(range) => changes::scan_range_by_git(ctx, dir, &range)?,
            None => GitOutcome::default(),
        },
        GitMode::PreReceive => match changes::received(dir)? {
            Some(range) => changes::scan_range_by_git(ctx, dir, &range)?,
            None => GitOutcome::default(),
        },
    };
    outcome.skipped.extend(notes);
    dir.widen(&mut outcome);
    Ok(outcome)
}

/// A repository only git reads (SHA-256 ids, reftable refs), asked which commits it has:
/// `keyhound ci` asks libgit2 of the others.
pub struct ByGit(by_git::GitDir);

impl ByGit {
    /// The repository at `dir` (or above it) when libgit2 refuses its format and git reads it;
    /// None otherwise.
    pub fn open(dir: &std::path::Path) -> Option<ByGit> {
        let opts = GitOptions {
            repo: Some(dir.to_path_buf()),
            mode: GitMode::History,
            all_objects: false,
            max_blob_size: 0,
            threads: 1,
            reader: Reader::default(),
        };
        match open::open(&opts).ok()?.1 {
            open::Handle::Git(dir) => Some(ByGit(dir)),
            open::Handle::Libgit2(_) => None,
        }
    }

    /// The full id of the commit `rev` names; None when there is none.
    pub fn commit_id(&self, rev: &str) -> Option<String> {
        let answer = self.0.objects(&[format!("{rev}^{{commit}}")])?;
        Some(answer.into_iter().next()??.0)
    }

    /// The blob at `path` in commit `commit`: its full id and its bytes; None when there is
    /// none.
    pub fn blob_at(&self, commit: &str, path: &str) -> Option<(String, Vec<u8>)> {
        let answer = self.0.objects(&[format!("{commit}:{path}")])?;
        let (id, kind) = answer.into_iter().next()??;
        if kind != "blob" {
            return None;
        }
        let data = self.0.output(&["cat-file", "blob", &id])?;
        Some((id, data))
    }

    /// Whether `rev` names a commit this repository has.
    pub fn has_commit(&self, rev: &str) -> bool {
        let answer = self.0.objects(&[format!("{rev}^{{commit}}")]);
        answer.is_some_and(|a| a.first().is_some_and(Option::is_some))
    }

    /// Whether it is a shallow clone.
    pub fn is_shallow(&self) -> bool {
        self.0.shallow_boundary().is_some()
    }

    /// The author and author date of `commit` (its full id); both None when it cannot be read.
    pub fn commit_meta(&self, commit: &str) -> CommitMeta {
        objects::hex_oid(commit.as_bytes()).map_or_else(CommitMeta::default, |oid| {
            lookup::Lookup::commit_meta(&self.0, oid)
        })
    }

    /// Its work tree (None when bare).
    pub fn workdir(&self) -> Option<&std::path::Path> {
        self.0.workdir()
    }

    /// Files and folders of the work tree that differ from HEAD: modified, new, untracked,
    /// ignored (ignored and untracked folders whole), as `git status` lists them.
    pub fn changed_paths(&self) -> Result<Vec<PathBuf>, String> {
        self.0.changed_paths()
    }
}

/// How a whole history's objects are read, fastest first; each hands over to the next when it
/// cannot read a repository. The settings choose where to start (tests and benchmarks compare
/// them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reader {
    /// The pack files in-process.
    #[default]
    Packs,
    /// `git cat-file` children.
    CatFile,
    /// libgit2.
    Libgit2,
}

/// The commit-msg hook: the message file, with the repository's comment character when there
/// is a repository (the hook may also be run on a file alone).
fn commit_msg(
    opts: &GitOptions,
    scanner: &Scanner<'_>,
    on_skip: OnSkip<'_>,
    file: &std::path::Path,
) -> anyhow::Result<GitOutcome> {
    let (opened, repo) = open::open(opts).ok().unzip();
    let comment = repo
        .and_then(|r| match r {
            open::Handle::Libgit2(r) => r.config().ok()?.get_string("core.commentChar").ok(),
            open::Handle::Git(d) => {
                let out = d.output(&["config", "--get", "core.commentChar"])?;
                Some(String::from_utf8_lossy(&out).trim_end().to_string())
            }
        })
        .and_then(|c| c.chars().next())
        .filter(|c| *c != 'a') // "auto": git picks a character not in the message; '#' first
        .unwrap_or('#');
    let ctx = Ctx {
        scanner,
        opts,
        presence: Presence::Head,
        repo: opened.unwrap_or_else(open::Opened::none),
        on_skip,
    };
    changes::commit_msg(&ctx, file, comment)
}

/// The text of the file at `path` in commit `at`; None when there is none.
pub fn file_at(opts: &GitOptions, at: &str, path: &str) -> anyhow::Result<Option<String>> {
    let repo = match open::open(opts)?.1 {
        open::Handle::Libgit2(repo) => repo,
        open::Handle::Git(dir) => return by_git::file_at(&dir, at, path),
    };
    let tree = repo
        .revparse_single(at)
        .and_then(|o| o.peel_to_tree())
        .map_err(|e| anyhow::anyhow!("{at}: not a commit in this repository ({})", e.message()))?;
    let Ok(entry) = tree.get_path(std::path::Path::new(path)) else {
        return Ok(None);
    };
    let blob = repo.find_blob(entry.id())?;
    Ok(Some(String::from_utf8_lossy(blob.content()).into_owned()))
}

/// The repository's root files (`.keyhoundignore`, `keyhound.toml`): from commit `at` when
/// given (a pull request's base, so a PR cannot allow its own keys), else from the work tree,
/// else (a bare repository) from HEAD. Also returns the work tree, which rule folders need.
pub fn root_files(
    opts: &GitOptions,
    at: Option<&str>,
) -> anyhow::Result<(RootFiles, Option<PathBuf>)> {
    let repo = match open::open(opts)?.1 {
        open::Handle::Libgit2(repo) => repo,
        open::Handle::Git(dir) => return root_files_by_git(&dir, at),
    };
    if at.is_none()
        && let Some(w) = repo.workdir()
    {
        return Ok((RootFiles::from_dir(w)?, Some(w.to_path_buf())));
    }
    let spec = at.unwrap_or("HEAD");
    let tree = match repo.revparse_single(spec).and_then(|o| o.peel_to_tree()) {
        Ok(t) => t,
        Err(_) if at.is_none() => return Ok((RootFiles::default(), None)),
        Err(e) => anyhow::bail!("{spec}: not a commit in this repository ({})", e.message()),
    };
    let read = |name: &str| -> Option<String> {
        let entry = tree.get_name(name)?;
        let blob = repo.find_blob(entry.id()).ok()?;
        Some(String::from_utf8_lossy(blob.content()).into_owned())
    };
    let files = RootFiles {
        origin: format!("{spec}:"),
        ignore: read(IGNORE_FILE),
        config: read(CONFIG_FILE),
    };
    Ok((files, None))
}

/// `root_files` of a repository only git can read.
fn root_files_by_git(
    dir: &by_git::GitDir,
    at: Option<&str>,
) -> anyhow::Result<(RootFiles, Option<PathBuf>)> {
    if at.is_none()
        && let Some(w) = dir.workdir()
    {
        return Ok((RootFiles::from_dir(w)?, Some(w.to_path_buf())));
    }
    let spec = at.unwrap_or("HEAD");
    let ignore = match by_git::file_at(dir, spec, IGNORE_FILE) {
        Ok(text) => text,
        Err(_) if at.is_none() => return Ok((RootFiles::default(), None)),
        Err(e) => return Err(e),
    };
    let files = RootFiles {
        origin: format!("{spec}:"),
        ignore,
        config: by_git::file_at(dir, spec, CONFIG_FILE)?,
    };
    Ok((files, None))
}
