//! Opening the repository: where it is, whether it can be scanned at all (a partial clone
//! cannot), and what the report should say about it (a shallow clone).

use super::GitMode;
use super::GitOptions;
use super::by_git::GitDir;
use crate::finding::Skipped;
use anyhow::{Context as _, bail};
use git2::{ErrorCode, Repository, RepositoryOpenFlags};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Where the repository is, and how to open another handle on it for a worker thread.
#[derive(Debug, Clone)]
pub(super) struct Opened {
    git_dir: PathBuf,
    /// Opened as git's hooks expect (GIT_DIR, GIT_INDEX_FILE, GIT_OBJECT_DIRECTORY honoured).
    from_env: bool,
    /// Read through git only: libgit2 cannot open it (`by_git`).
    by_git: bool,
}

/// How the repository is read: libgit2's handle, or git commands for a format libgit2 refuses.
pub(super) enum Handle {
    Libgit2(Repository),
    Git(GitDir),
}

impl Opened {
    /// A new handle on the repository, one per thread (libgit2's handles are not `Sync`).
    pub fn handle(&self) -> anyhow::Result<Repository> {
        let flags = if self.from_env {
            RepositoryOpenFlags::FROM_ENV
        } else {
            RepositoryOpenFlags::NO_SEARCH
        };
        Repository::open_ext(&self.git_dir, flags, std::iter::empty::<&OsStr>())
            .with_context(|| format!("{}: cannot open the repository", self.git_dir.display()))
    }

    /// No repository (a commit message file scanned on its own); workers are never started.
    pub fn none() -> Opened {
        Opened {
            git_dir: PathBuf::new(),
            from_env: false,
            by_git: false,
        }
    }

    /// Whether only git can read it: workers then ask `git cat-file` for every blob.
    pub fn by_git(&self) -> bool {
        self.by_git
    }

    /// The `.git` directory (the repository itself when bare).
    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }
}

/// Bytes of pack files libgit2 maps at a time, and per window: it maps a whole pack by default,
/// which a large history pays for in resident memory without gaining speed. Windows of 32 MiB
/// up to 128 MiB kept the pages every reader touched: `--all-objects` over 300 blobs of 1 MB
/// peaked at 114 MB at `-j 2` and 150 MB at `-j 64`; 49 MB and 36 MB now, in the same time.
const MAPPED_LIMIT: usize = 32 << 20;
const WINDOW_SIZE: usize = 4 << 20;
/// libgit2's cache of parsed objects; the walk reads each tree once, so it helps little.
const OBJECT_CACHE: isize = 16 << 20;

/// Sets libgit2's process-wide limits, once, before any repository is opened.
fn tune_libgit2() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Reading an object re-hashes it by default (SHA-1, collision-detecting): a scanner
        // does not need that, and `git cat-file` does not do it either. zlib still checks.
        git2::opts::strict_hash_verification(false);
        // Each tree is read once by the walk: caching parsed objects only costs (storing and
        // evicting them was a sixth of the time on a 34,000-commit history).
        git2::opts::enable_caching(false);
        // SAFETY: called once, before any other libgit2 call of this process, so no other
        // thread reads these settings while they change.
        unsafe {
            let _ = git2::opts::set_mwindow_mapped_limit(MAPPED_LIMIT);
            let _ = git2::opts::set_mwindow_size(WINDOW_SIZE);
            let _ = git2::opts::set_cache_max_size(OBJECT_CACHE);
        }
    });
}

/// Finds the repository and refuses one that cannot be scanned; opens it with libgit2, or
/// with git when libgit2 refuses its format (SHA-256 ids, reftable refs). Returns the handle
/// and how worker threads open their own.
pub(super) fn open(opts: &GitOptions) -> anyhow::Result<(Opened, Handle)> {
    tune_libgit2();
    // Hooks run with GIT_DIR and GIT_INDEX_FILE set; `--staged` must read that index.
    let from_env = opts.repo.is_none() || opts.mode == GitMode::Staged;
    let shown = opts
        .repo
        .as_deref()
        .unwrap_or(Path::new("."))
        .display()
        .to_string();
    let repo = match &opts.repo {
        None => Repository::open_from_env(),
        Some(p) => {
            let flags = if from_env {
                RepositoryOpenFlags::FROM_ENV
            } else {
                RepositoryOpenFlags::empty()
            };
            Repository::open_ext(p, flags, std::iter::empty::<&OsStr>())
        }
    };
    let repo = match repo {
        Ok(repo) => repo,
        Err(e) => {
            let Some(format) = unsupported_format(e.message()) else {
                return Err(open_error(&shown, opts.repo.as_deref(), e));
            };
            let dir = GitDir::open(opts, &shown, from_env, format)?;
            let opened = Opened {
                git_dir: dir.git_dir().to_path_buf(),
                from_env,
                by_git: true,
            };
            return Ok((opened, Handle::Git(dir)));
        }
    };
    refuse_partial_clone(&repo, &shown)?;
    super::packcheck::refuse_damaged(repo.path(), from_env)?;
    let opened = Opened {
        git_dir: repo.path().to_path_buf(),
        from_env,
        by_git: false,
    };
    Ok((opened, Handle::Libgit2(repo)))
}

fn open_error(shown: &str, path: Option<&Path>, e: git2::Error) -> anyhow::Error {
    if e.message().contains("partialclone") {
        return partial_clone(shown);
    }
    if path.is_some_and(|p| !p.exists()) {
        return anyhow::anyhow!("{shown}: no such file or directory");
    }
    if e.code() == ErrorCode::Owner {
        return anyhow::anyhow!(
            "{shown}: the repository belongs to another user, and git's safe.directory check refuses it; \
             if you trust it, run `git config --global --add safe.directory <its full path>`"
        );
    }
    if e.code() == ErrorCode::NotFound {
        return anyhow::anyhow!(
            "{shown}: not a git repository (nor inside one); to scan its files, run `keyhound scan {shown}`"
        );
    }
    anyhow::anyhow!("{shown}: cannot open the git repository: {}", e.message())
}

/// A repository format libgit2 cannot open (git then reads it), named.
fn unsupported_format(message: &str) -> Option<&'static str> {
    if message.contains("object format 'sha256'") {
        return Some("a SHA-256 repository (extensions.objectFormat = sha256)");
    }
    if message.contains("extensions.refstorage") {
        return Some("a repository storing its refs as reftable (extensions.refStorage)");
    }
    None
}

/// A partial clone lacks objects its promisor remote would fetch on demand; scanning it would
/// silently miss them.
fn refuse_partial_clone(repo: &Repository, shown: &str) -> anyhow::Result<()> {
    let Ok(config) = repo.config() else {
        return Ok(());
    };
    let mut promisor = config.get_string("extensions.partialclone").is_ok();
    if let Ok(mut entries) = config.entries(Some(r"remote\..*\.promisor")) {
        while let Some(Ok(entry)) = entries.next() {
            promisor |= entry.value().is_ok_and(|v| v.eq_ignore_ascii_case("true"));
        }
    }
    if promisor {
        bail!(partial_clone(shown));
    }
    Ok(())
}

pub(super) fn partial_clone(shown: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{shown}: a partial clone (cloned with --filter): blobs it never fetched cannot be scanned. \
         Fetch them first with `git fetch --refetch --no-filter` (or clone without --filter), then run keyhound again"
    )
}

/// What the report should say about the repository as a whole.
pub(super) fn notes(repo: &Repository) -> Vec<Skipped> {
    let mut notes = Vec::new();
    if repo.is_shallow() {
        notes.push(shallow_note(repo.path()));
    }
    notes
}

/// The note for a shallow clone whose git directory is `git_dir`.
pub(super) fn shallow_note(git_dir: &Path) -> Skipped {
    Skipped {
        path: git_dir.join("shallow").display().to_string(),
        reason: "shallow clone: commits before the shallow boundary are not in this repository \
                 and were not scanned; run `git fetch --unshallow` to scan the whole history"
            .into(),
        incomplete: false,
    }
}
