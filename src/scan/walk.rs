//! Files and directories in, outcomes out: an `ignore` walk on its own thread (honouring
//! `.gitignore` and `.git/info/exclude` only, hidden files included, `.git/` never entered)
//! feeding `-j` scanning threads, plus the count of what the ignore rules kept out.

use super::crew::{Crew, Work};
use super::handoff::{AbandonOnDrop, Handoff};
use super::{BlobOutcome, Scanner};
use crate::finding::Origin;
use ignore::{DirEntry, WalkBuilder, WalkState};
use std::collections::HashSet;
use std::fs::File;
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// How to walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    pub no_ignore: bool,
    pub follow_links: bool,
    pub threads: usize,
    pub max_filesize: Option<u64>,
}

/// What the walk itself saw, besides the outcomes it handed on.
#[derive(Debug, Default)]
pub struct WalkSummary {
    /// Paths that ignore rules kept out (an ignored directory counts once).
    pub ignored: u64,
    /// Ignored paths named `.env*`, which users most need to hear about.
    pub ignored_env: Vec<String>,
    pub symlinks_not_followed: u64,
}

enum Job {
    File(PathBuf),
    /// A directory or link, whose name is scanned.
    Name(PathBuf),
    Outcome(BlobOutcome),
    /// A link the walk could not follow (dangling, or a loop), never yielded: its name is
    /// scanned here.
    Error(PathBuf, BlobOutcome),
}

/// Scans every path (`-` is standard input), handing each blob's outcome to `sink`. Names are
/// content: every key in a path a warning shows, or in the list of ignored `.env` files, is
/// redacted.
pub fn scan_paths(
    paths: &[PathBuf],
    opts: &WalkOptions,
    scanner: &Scanner<'_>,
    sink: &(dyn Fn(BlobOutcome) + Sync),
) -> WalkSummary {
    let redacting = |mut out: BlobOutcome| {
        for s in &mut out.skipped {
            s.path = scanner.redact_name(&s.path);
            s.reason = scanner.redact_name(&s.reason);
        }
        sink(out);
    };
    let mut summary = walk_paths(paths, opts, scanner, &redacting);
    for name in &mut summary.ignored_env {
        *name = scanner.redact_name(name);
    }
    summary
}

fn walk_paths(
    paths: &[PathBuf],
    opts: &WalkOptions,
    scanner: &Scanner<'_>,
    sink: &(dyn Fn(BlobOutcome) + Sync),
) -> WalkSummary {
    let mut summary = WalkSummary::default();
    let (mut roots, mut files) = (Vec::new(), Vec::new());
    for path in paths {
        if path.as_os_str() == "-" {
            let mut out = BlobOutcome {
                files: 1,
                ..Default::default()
            };
            scanner.scan_reader(
                &mut std::io::stdin().lock(),
                &Origin::file("-"),
                0,
                &mut out,
            );
            sink(out);
            continue;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => roots.push(path.clone()),
            Ok(m) if m.is_file() => files.push(path),
            Ok(_) => sink(skipped(path, NOT_REGULAR, false)),
            Err(e) => sink(skipped(
                path,
                &format!("cannot read: {e} — check the path"),
                true,
            )),
        }
    }
    let scanned = Scanned::new(paths);
    if !files.is_empty() {
        let queue = Handoff::new(files.len());
        queue.push(&mut files.into_iter().map(|f| Job::File(f.clone())).collect());
        queue.close();
        let run = |job| run_job(job, opts, scanner, sink, &scanned);
        if let Some(e) = scan_queue(opts.threads, &queue, scanner, &run) {
            sink(skipped(Path::new("(scan)"), &e, true));
        }
    }
    if !roots.is_empty() {
        walk_roots(&roots, opts, scanner, sink, &scanned, &mut summary);
    }
    summary
}

const NOT_REGULAR: &str = "not a regular file (a FIFO, socket or device): not read";

fn skipped(path: &Path, reason: &str, incomplete: bool) -> BlobOutcome {
    let mut out = BlobOutcome::default();
    out.skip(display(path), reason, incomplete);
    out
}

/// A path as the user would write it: without a leading `./`.
fn display(path: &Path) -> String {
    let s = path.to_string_lossy();
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

/// Files already scanned, by the path shown, when several paths were named: `scan . sub`
/// reaches `sub/a.txt` twice and reads it once. A file behind two links is two places, and
/// stays two findings.
struct Scanned(Option<Mutex<HashSet<String>>>);

impl Scanned {
    fn new(paths: &[PathBuf]) -> Self {
        Scanned((paths.len() > 1).then(Mutex::default))
    }

    fn first_time(&self, shown: &str) -> bool {
        self.0.as_ref().is_none_or(|seen| {
            seen.lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(shown.to_string())
        })
    }
}

/// Scans one regular file, unless it was scanned already.
fn scan_file(
    scanner: &Scanner<'_>,
    path: &Path,
    max_filesize: Option<u64>,
    scanned: &Scanned,
) -> BlobOutcome {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            return skipped(
                path,
                &format!("cannot open: {e} — check its permissions"),
                true,
            );
        }
    };
    if !scanned.first_time(&display(path)) {
        return BlobOutcome::default();
    }
    let mut out = BlobOutcome::default();
    let shown = scan_name(scanner, path, &mut out);
    // The size is asked for only under a limit: a stat per file is a tenth of a walk's calls.
    if let Some(max) = max_filesize
        && let Ok(meta) = file.metadata()
        && meta.len() > max
    {
        let reason = format!("{} bytes, over --max-filesize {max}", meta.len());
        out.skip(shown, reason, true);
        return out;
    }
    out.files = 1;
    scanner.scan_file(&mut file, &Origin::file(shown), &mut out);
    out
}

/// Scans the last name of `path` for keys, and returns the path to show, every key in it
/// redacted.
fn scan_name(scanner: &Scanner<'_>, path: &Path, out: &mut BlobOutcome) -> String {
    let shown = scanner.redact_name(&display(path));
    if let Some(name) = path.file_name() {
        scanner.scan_name(&name.to_string_lossy(), |_| Origin::file(&shown), out);
    }
    shown
}

/// What the walker threads share: the hash of every path they yielded, and the directories.
#[derive(Default)]
struct Seen {
    paths: HashSet<u64>,
    dirs: Vec<PathBuf>,
    symlinks: u64,
    /// An ignore file was walked: ignore rules may have kept something out.
    ignores: bool,
}

fn walk_roots(
    roots: &[PathBuf],
    opts: &WalkOptions,
    scanner: &Scanner<'_>,
    sink: &(dyn Fn(BlobOutcome) + Sync),
    scanned: &Scanned,
    summary: &mut WalkSummary,
) {
    // One walking thread, started here so that a thread the system refuses is an error (the
    // `ignore` crate's parallel walker panics then, and could wait forever on a worker that did
    // not start); the scanning is parallel.
    let repos = Arc::new(AtomicBool::new(false));
    let walker = builder(roots, opts, repos.clone()).build();
    let seen = Mutex::new(Seen::default());
    let hasher = RandomState::new();
    let queue = Handoff::new(QUEUED);
    std::thread::scope(|s| {
        let mut visitor = Visitor {
            queue: &queue,
            pending: Vec::with_capacity(ADDED),
            local: Seen::default(),
            shared: &seen,
            hasher: &hasher,
        };
        let walking = crate::threads::spawn_scoped(s, "keyhound-walk", move || {
            for entry in walker {
                if let WalkState::Quit = visitor.visit(entry) {
                    break;
                }
            }
        });
        if let Err(e) = walking {
            for root in roots {
                sink(skipped(root, &e, true));
            }
            return;
        }
        let _gone = AbandonOnDrop(&queue);
        let run = |job| run_job(job, opts, scanner, sink, scanned);
        if let Some(e) = scan_queue(opts.threads, &queue, scanner, &run) {
            sink(skipped(&roots[0], &e, true));
        }
    });
    let seen = seen.into_inner().unwrap_or_else(|p| p.into_inner());
    summary.symlinks_not_followed += seen.symlinks;
    // Only ignore files (and a repository's exclude file) keep anything out: with none met, in
    // the tree or above it, every directory is not read a second time for nothing (the bench
    // tree: 9,769 directories, 7 % of the scan's time).
    let may_ignore =
        seen.ignores || repos.load(Ordering::Relaxed) || roots.iter().any(|r| ignores_above(r));
    if !opts.no_ignore && may_ignore {
        count_ignored(&seen, &hasher, opts.threads, summary);
    }
}

/// Runs the jobs of `queue` on up to `threads` threads, this one among them, each taking one
/// at a time until the queue ends, started as a [`Crew`] starts them. Plain threads, not a
/// rayon pool, whose workers each kept queues of their own (1.3 MB more at `-j 64`). A thread
/// that panicked or that the system refused is the error returned; the others did its share.
fn scan_queue(
    threads: usize,
    queue: &Handoff<Job>,
    scanner: &Scanner<'_>,
    run: &(dyn Fn(Job) + Sync),
) -> Option<String> {
    let work = Work {
        next: &|| queue.pop(),
        backlog: &|| queue.backlog(),
        start: &|| Ok(()),
        run: &|(): &mut (), job| run(job),
    };
    let crew = Crew::new(work, threads, scanner.limits.chunks, scanner.chunk_bytes());
    std::thread::scope(|s| crew.run_here(s));
    crew.outcome().err().map(|e| e.to_string())
}

/// Jobs the walk may be ahead of the scanners.
const QUEUED: usize = 512;

/// Jobs the walk adds to the queue at once, unless a scanner waits for one.
const ADDED: usize = 32;

fn run_job(
    job: Job,
    opts: &WalkOptions,
    scanner: &Scanner<'_>,
    sink: &(dyn Fn(BlobOutcome) + Sync),
    scanned: &Scanned,
) {
    match job {
        Job::File(path) => sink(scan_file(scanner, &path, opts.max_filesize, scanned)),
        Job::Name(path) => {
            let mut out = BlobOutcome::default();
            scan_name(scanner, &path, &mut out);
            sink(out);
        }
        Job::Outcome(out) => sink(out),
        Job::Error(path, mut out) => {
            scan_name(scanner, &path, &mut out);
            sink(out);
        }
    }
}

/// Whether a directory above `root` holds an ignore file or a repository, whose rules the walk
/// of `root` follows (a root that cannot be resolved is taken to).
fn ignores_above(root: &Path) -> bool {
    let Ok(root) = root.canonicalize() else {
        return true;
    };
    root.ancestors().skip(1).any(|dir| {
        [".gitignore", crate::suppress::project::IGNORE_FILE, ".git"]
            .iter()
            .any(|name| dir.join(name).symlink_metadata().is_ok())
    })
}

/// The walk of `roots`; `repos` is set when it meets a `.git` (not entered).
fn builder(roots: &[PathBuf], opts: &WalkOptions, repos: Arc<AtomicBool>) -> WalkBuilder {
    let mut b = WalkBuilder::new(&roots[0]);
    for root in &roots[1..] {
        b.add(root);
    }
    let honour = !opts.no_ignore;
    b.standard_filters(false)
        .hidden(false)
        .ignore(false)
        .git_global(false)
        .git_ignore(honour)
        .git_exclude(honour)
        .parents(honour)
        .require_git(false)
        .follow_links(opts.follow_links)
        .filter_entry(move |e| {
            let git = e.file_name() == ".git";
            if git {
                repos.store(true, Ordering::Relaxed);
            }
            !git
        });
    if honour {
        // Path globs in `.keyhoundignore` skip files like `.gitignore` entries do (its
        // fingerprint lines match no file name a repository holds).
        b.add_custom_ignore_filename(crate::suppress::project::IGNORE_FILE);
    }
    b
}

struct Visitor<'a> {
    queue: &'a Handoff<Job>,
    /// Jobs not yet queued: added [`ADDED`] at a time, at once when a scanner waits, and the
    /// rest when the walk ends.
    pending: Vec<Job>,
    local: Seen,
    shared: &'a Mutex<Seen>,
    hasher: &'a RandomState,
}

impl Visitor<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        let job = match entry {
            Ok(entry) => {
                self.local.paths.insert(self.hasher.hash_one(entry.path()));
                match entry.file_type() {
                    Some(t) if t.is_dir() && entry.depth() == 0 => {
                        self.local.dirs.push(entry.into_path());
                        return WalkState::Continue;
                    }
                    Some(t) if t.is_dir() => {
                        self.local.dirs.push(entry.path().to_path_buf());
                        Job::Name(entry.into_path())
                    }
                    Some(t) if t.is_file() => {
                        let name = entry.file_name();
                        self.local.ignores |=
                            name == ".gitignore" || name == crate::suppress::project::IGNORE_FILE;
                        Job::File(entry.into_path())
                    }
                    Some(t) if t.is_symlink() => {
                        self.local.symlinks += 1;
                        Job::Name(entry.into_path())
                    }
                    _ => Job::Outcome(skipped(entry.path(), NOT_REGULAR, false)),
                }
            }
            Err(err) => match error_path(&err).map(Path::to_path_buf) {
                Some(path) if path.symlink_metadata().is_ok_and(|m| m.is_symlink()) => {
                    self.local.paths.insert(self.hasher.hash_one(&path));
                    Job::Error(path, walk_error(err))
                }
                Some(path) => {
                    self.local.paths.insert(self.hasher.hash_one(&path));
                    Job::Outcome(walk_error(err))
                }
                None => Job::Outcome(walk_error(err)),
            },
        };
        self.pending.push(job);
        let now = self.pending.len() >= ADDED || self.queue.hungry();
        if now && !self.queue.push(&mut self.pending) {
            return WalkState::Quit;
        }
        WalkState::Continue
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        // Also when the walk panics, or its thread never started: the scanners then stop.
        if !self.pending.is_empty() {
            self.queue.push(&mut self.pending);
        }
        self.queue.close();
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        shared.paths.extend(self.local.paths.drain());
        shared.dirs.append(&mut self.local.dirs);
        shared.symlinks += self.local.symlinks;
        shared.ignores |= self.local.ignores;
    }
}

/// A walk error as a skipped entry. A link loop or a dangling link only warns (nothing is
/// missed); anything else makes the scan incomplete.
fn walk_error(err: ignore::Error) -> BlobOutcome {
    let path = error_path(&err).map(Path::to_path_buf);
    let shown = path
        .as_deref()
        .map_or_else(|| "(walk)".to_string(), display);
    let dangling = err
        .io_error()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        && path
            .as_deref()
            .is_some_and(|p| p.symlink_metadata().is_ok_and(|m| m.is_symlink()));
    let (reason, incomplete) = if matches!(innermost(&err), ignore::Error::Loop { .. }) {
        (
            format!("symbolic link loop, not followed again: {err}"),
            false,
        )
    } else if dangling {
        (
            "dangling symbolic link: its target does not exist".to_string(),
            false,
        )
    } else {
        (err.to_string(), true)
    };
    let mut out = BlobOutcome::default();
    out.skip(shown, reason, incomplete);
    out
}

fn innermost(err: &ignore::Error) -> &ignore::Error {
    match err {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => innermost(err),
        e => e,
    }
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

/// Counts the children of walked directories that the walk did not yield: ignore rules kept
/// them out. The directories are read on up to `threads` threads (here, should the system
/// refuse one).
fn count_ignored(seen: &Seen, hasher: &RandomState, threads: usize, summary: &mut WalkSummary) {
    let share = seen.dirs.len().div_ceil(threads.max(1)).max(1);
    let count = |dirs: &[PathBuf]| count_children(dirs, seen, hasher);
    let results: Vec<(u64, Vec<String>)> = std::thread::scope(|s| {
        let started: Vec<_> = (seen.dirs.chunks(share))
            .map(|dirs| {
                (
                    dirs,
                    crate::threads::spawn_scoped(s, "keyhound-count", move || count(dirs)),
                )
            })
            .collect();
        (started.into_iter())
            .map(|(dirs, thread)| match thread {
                Ok(t) => t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(_) => count(dirs),
            })
            .collect()
    });
    for (count, env) in results {
        summary.ignored += count;
        summary.ignored_env.extend(env);
    }
    summary.ignored_env.sort();
}

/// The children of `dirs` the walk did not yield, and those of them named `.env*`.
fn count_children(dirs: &[PathBuf], seen: &Seen, hasher: &RandomState) -> (u64, Vec<String>) {
    let (mut count, mut env) = (0, Vec::new());
    for dir in dirs {
        for child in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = child.path();
            if child.file_name() == ".git" || seen.paths.contains(&hasher.hash_one(&path)) {
                continue;
            }
            count += 1;
            if child.file_name().to_string_lossy().starts_with(".env") {
                env.push(display(&path));
            }
        }
    }
    (count, env)
}
