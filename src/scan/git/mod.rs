//! `keyhound git`: a repository's objects as blobs for the scanner. `open` finds and checks the
//! repository; `history` walks every ref once; `diff` narrows the scan to a range or the index;
//! `blobs` reads blobs on worker threads; `locate` maps blobs with findings back to commits and
//! paths; `meta` formats commits for reports.

mod blobs;
mod diff;
mod history;
mod locate;
mod meta;
mod open;

use crate::finding::{Finding, GitStats, Skipped};
use crate::scan::Scanner;
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
}

/// How a scan reports each skipped object as soon as it is met (a warning on standard error).
pub type OnSkip<'a> = &'a (dyn Fn(&Skipped) + Sync);

/// What every part of a repository scan needs.
struct Ctx<'a> {
    scanner: &'a Scanner<'a>,
    opts: &'a GitOptions,
    repo: open::Opened,
    on_skip: OnSkip<'a>,
}

/// Scans the repository `opts` names. Errors are for a repository that cannot be scanned at
/// all (none there, a partial clone, a bad range); a missing object only makes it incomplete.
pub fn scan(
    opts: &GitOptions,
    scanner: &Scanner<'_>,
    on_skip: OnSkip<'_>,
) -> anyhow::Result<GitOutcome> {
    let opened = open::open(opts)?;
    let repo = opened.handle()?;
    let notes = open::notes(&repo);
    notes.iter().for_each(on_skip);
    let ctx = Ctx {
        scanner,
        opts,
        repo: opened,
        on_skip,
    };
    let mut outcome = match &opts.mode {
        GitMode::History => history::scan(&ctx, &repo)?,
        GitMode::Range(range) => diff::scan_range(&ctx, &repo, range)?,
        GitMode::Staged => diff::scan_staged(&ctx, &repo)?,
    };
    outcome.skipped.extend(notes);
    Ok(outcome)
}
