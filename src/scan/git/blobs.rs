//! Reading and scanning blobs on worker threads, each with its own repository handle. A blob over
//! 1 MiB stored whole is inflated from its loose file or pack entry as it is scanned; one over
//! `--max-blob-size` that cannot be is streamed through a `git cat-file --batch` child; a large
//! one under it (a delta) is read whole only with memory from the process's shared budget.

use super::inflate::Objects;
pub(super) use super::objects::parse_header;
use super::objects::{Links, message};
use super::{Ctx, large, objects};
use crate::finding::Origin;
use crate::scan::crew::{Crew, Work};
use crate::scan::{BlobOutcome, Held, budget};
use crossbeam_channel::{Sender, bounded};
use git2::{Oid, Repository};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

/// One thing to scan.
pub(super) enum Job {
    /// A blob, named in reports by `path` (the first path it was met at).
    Blob { oid: Oid, path: String },
    /// Text that is no blob, a commit message: `key` is the commit.
    Text { key: Oid, text: Vec<u8> },
    /// A blob read already, named by its id until its path is known; its bytes held within the
    /// process's budget until it is scanned.
    Data { oid: Oid, data: Vec<u8>, held: Held },
    /// A raw commit read already: its message is scanned where it lies, not copied out.
    Commit { oid: Oid, raw: Vec<u8>, held: Held },
    /// A commit for the worker to read and scan, its links returned in [`Done::links`]: one
    /// over [`large::LARGE_COMMIT`] is inflated as it is scanned, never held whole, unless it
    /// is a delta in a pack; a smaller one is read by libgit2, its message scanned in place.
    ReadCommit { oid: Oid },
}

/// What scanning a job produced.
pub(super) struct Done {
    /// The blob or commit.
    pub oid: Oid,
    pub is_blob: bool,
    /// True when the blob was read (even if a limit then cut it short).
    pub read: bool,
    pub outcome: BlobOutcome,
    /// A commit's links, when the worker read it ([`Job::ReadCommit`]); None when it could not.
    pub links: Option<Links>,
}

/// Jobs waiting per worker before the producer blocks: enough to keep workers busy while the
/// producer reads a large tree, few enough to bound memory.
const QUEUE_PER_WORKER: usize = 64;

/// Jobs known up front per worker started for them.
const JOBS_PER_WORKER: usize = 8;

/// Runs `produce` on this thread, sending jobs to `ctx.opts.threads` workers that scan them and
/// hand each result to `done`. Returns what `produce` returned once every job is done.
pub(super) fn run<R>(
    ctx: &Ctx<'_>,
    produce: impl FnOnce(&Sender<Job>) -> R,
    done: &(dyn Fn(Done) + Sync),
) -> anyhow::Result<R> {
    run_with(ctx, ctx.opts.threads, produce, done)
}

pub(super) fn run_with<R>(
    ctx: &Ctx<'_>,
    threads: usize,
    produce: impl FnOnce(&Sender<Job>) -> R,
    done: &(dyn Fn(Done) + Sync),
) -> anyhow::Result<R> {
    let threads = workers(threads);
    let (tx, rx) = bounded::<Job>(threads * QUEUE_PER_WORKER);
    let work = Work {
        next: &|| rx.recv().ok(),
        backlog: &|| !rx.is_empty(),
        start: &|| BlobReader::new(ctx),
        run: &|reader: &mut BlobReader, job| done(reader.run(ctx, job)),
    };
    let chunks = ctx.scanner.limits.chunks;
    let crew = Crew::new(work, threads, chunks, ctx.scanner.chunk_bytes());
    let result = std::thread::scope(|s| {
        // The threads started end when `tx` is dropped on the way out.
        crew.start(s).map_err(|e| anyhow::anyhow!(e))?;
        let result = produce(&tx);
        drop(tx);
        Ok(result)
    });
    crew.outcome()?;
    result
}

/// How many workers scan: `-j`, but no more than the cores, as the pack reader decodes. Each
/// holds the blob it scans, its scanner's buffers and its own libgit2 handle: workers beyond
/// the cores scan nothing faster and only multiply those (`--all-objects` over 150 blobs of
/// 1 MB: 133 MB at `-j 2`, 318 MB at `-j 64` on two cores before this bound).
fn workers(threads: usize) -> usize {
    threads.clamp(1, crate::threads::cores())
}

/// Bytes of [`budget::HELD`] a worker holds while [`BlobReader`] reads and scans a blob of
/// `size` bytes: none under the budget's floor; past [`budget::SMALL`] the chunk it is streamed
/// through, about that size; else twice the blob, which libgit2 reads whole (the worker scans
/// it where it lies), as what each worker's repository handle keeps besides (its pack windows
/// and caches) makes it cost: counted once, `-j 64` cost 1.08-1.11 times what `-j 2` does on
/// 300 blobs of 1 MB (`scripts/bench/workers_memory.py`).
pub(super) fn held_bytes(size: u64) -> u64 {
    if size < budget::HELD.floor() {
        0
    } else if size > budget::SMALL {
        budget::SMALL
    } else {
        2 * size
    }
}

/// How many of `threads` workers read blobs that each hold up to `held` bytes of
/// [`budget::HELD`]: no more than the budget holds at once. The others would only wait for
/// it, each after taking a thread's stack, heap and repository handle; on 300 blobs of 1 MB
/// read by libgit2, -j 64 on 64 cores cost 1.25 times -j 2 with them.
pub(super) fn held_workers(threads: usize, held: u64) -> usize {
    let fit = match held {
        0 => usize::MAX,
        held => usize::try_from(budget::HELD.capacity() / held).map_or(usize::MAX, |n| n.max(1)),
    };
    threads.min(fit).max(1)
}

/// Scans every job given to `jobs` and returns what each produced, in no particular order.
pub(super) fn scan_all(ctx: &Ctx<'_>, jobs: Vec<Job>) -> anyhow::Result<Vec<Done>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let results = std::sync::Mutex::new(Vec::new());
    // A pre-commit hook stages a file or two: a worker each would cost more than the scan.
    let threads = ctx.opts.threads.min(jobs.len().div_ceil(JOBS_PER_WORKER));
    run_with(
        ctx,
        threads,
        |tx| {
            for job in jobs {
                if tx.send(job).is_err() {
                    break;
                }
            }
        },
        &|d| results.lock().unwrap_or_else(|p| p.into_inner()).push(d),
    )?;
    Ok(results.into_inner().unwrap_or_else(|p| p.into_inner()))
}

impl BlobReader {
    /// A worker's way into the object database of `ctx`'s repository.
    fn new(ctx: &Ctx<'_>) -> anyhow::Result<BlobReader> {
        Ok(BlobReader {
            // A repository only git can read has every blob streamed through `git cat-file`.
            repo: if ctx.repo.by_git() {
                None
            } else {
                Some(ctx.repo.handle()?)
            },
            cat_file: None,
            git_dir: ctx.repo.git_dir().to_path_buf(),
            objects: None,
        })
    }

    /// Does `job`.
    fn run(&mut self, ctx: &Ctx<'_>, job: Job) -> Done {
        match job {
            Job::Blob { oid, path } => self.scan(ctx, oid, &path),
            Job::Data {
                oid,
                data,
                held: _held,
            } => blob_done(ctx, oid, &data),
            Job::Text { key, text } => message_done(ctx, key, &text),
            Job::Commit {
                oid,
                raw,
                held: _held,
            } => message_done(ctx, oid, message(&raw)),
            Job::ReadCommit { oid } => self.commit(ctx, oid),
        }
    }
}

/// Scans blob `oid`, read already, named by its id until its path is known.
pub(super) fn blob_done(ctx: &Ctx<'_>, oid: Oid, data: &[u8]) -> Done {
    let mut outcome = BlobOutcome::default();
    scan_data(ctx, oid, &oid.to_string(), data, &mut outcome);
    outcome.files = 1;
    Done {
        oid,
        is_blob: true,
        read: true,
        outcome,
        links: None,
    }
}

/// Scans the message of `commit`.
pub(super) fn message_done(ctx: &Ctx<'_>, commit: Oid, text: &[u8]) -> Done {
    let mut outcome = BlobOutcome::default();
    let origin = Origin::file(commit.to_string());
    ctx.scanner.scan_message(text, &origin, &mut outcome);
    Done {
        oid: commit,
        is_blob: false,
        read: true,
        outcome,
        links: None,
    }
}

/// The start of every Git LFS pointer file.
const LFS_POINTER: &[u8] = b"version https://git-lfs.github.com/spec/";

/// Scans the content of blob `oid`, named `path`; a Git LFS pointer is named as such.
pub(super) fn scan_data(ctx: &Ctx<'_>, oid: Oid, path: &str, data: &[u8], out: &mut BlobOutcome) {
    if data.len() < 1024 && data.starts_with(LFS_POINTER) {
        out.skip(
            format!("{path} (blob {oid})"),
            "Git LFS pointer: the content is stored on the LFS server, not in git; \
             run `git lfs pull` and `keyhound scan` to scan it",
            false,
        );
    }
    ctx.scanner.scan_bytes(data, &Origin::file(path), 0, out);
}

/// One worker's way into the object database.
struct BlobReader {
    repo: Option<Repository>,
    cat_file: Option<CatFile>,
    git_dir: std::path::PathBuf,
    /// The object folder large commits are inflated from, opened on first use.
    objects: Option<Objects>,
}

impl BlobReader {
    fn scan(&mut self, ctx: &Ctx<'_>, oid: Oid, path: &str) -> Done {
        let mut out = BlobOutcome::default();
        let read = self.read_into(ctx, oid, path, &mut out);
        if read {
            out.files = 1;
        }
        Done {
            oid,
            is_blob: true,
            read,
            outcome: out,
            links: None,
        }
    }

    /// Reads and scans commit `oid`: over [`large::LARGE_COMMIT`] inflated as it is scanned
    /// when it can be, else read whole by libgit2 and its message scanned where it lies.
    fn commit(&mut self, ctx: &Ctx<'_>, oid: Oid) -> Done {
        let mut unread = Done {
            oid,
            is_blob: false,
            read: false,
            outcome: BlobOutcome::default(),
            links: None,
        };
        let Some(repo) = &self.repo else {
            return unread;
        };
        let shown = oid.to_string();
        let odb = match repo.odb() {
            Ok(odb) => odb,
            Err(e) => {
                let reason = format!("cannot read the object database: {}", e.message());
                unread.outcome.skip(shown, reason, true);
                return unread;
            }
        };
        let large =
            objects::read_header(&odb, oid).is_ok_and(|(size, _)| size > large::LARGE_COMMIT);
        if large {
            let dir = repo.commondir().join("objects");
            let store = self.objects.get_or_insert_with(|| Objects::new(dir));
            if let Ok((links, mut done)) = large::inflated_commit(ctx, store, oid) {
                done.links = Some(links);
                return done;
            }
        }
        match odb.read(oid) {
            Ok(obj) => {
                let mut done = message_done(ctx, oid, message(obj.data()));
                done.links = Links::parse(obj.data());
                done
            }
            Err(e) => {
                let reason = format!("missing or corrupt commit: {}", e.message());
                unread.outcome.skip(shown, reason, true);
                unread
            }
        }
    }

    /// Scans blob `oid` into `out`; false when it could not be read.
    fn read_into(&mut self, ctx: &Ctx<'_>, oid: Oid, path: &str, out: &mut BlobOutcome) -> bool {
        let origin = Origin::file(path);
        let shown = || format!("{path} (blob {oid})");
        let Some(repo) = &self.repo else {
            return self.stream(ctx, oid, None, &origin, out);
        };
        let odb = match repo.odb() {
            Ok(odb) => odb,
            Err(e) => {
                out.skip(
                    shown(),
                    format!("cannot read the object database: {}", e.message()),
                    true,
                );
                return false;
            }
        };
        let size = match objects::read_header(&odb, oid) {
            Ok((size, _)) => size,
            Err(e) => {
                out.skip(
                    shown(),
                    format!("missing or corrupt object: {}", e.message()),
                    true,
                );
                return false;
            }
        };
        // Held until the blob is scanned: the objects all workers hold, or stream through
        // chunks of up to 1 MiB, stay within budget however many workers run ([`held_bytes`]).
        let _held = Held::of(held_bytes(size));
        if size > budget::SMALL {
            let dir = repo.commondir().join("objects");
            let store = self.objects.get_or_insert_with(|| Objects::new(dir));
            if inflated(ctx, store, oid, &origin, out) {
                return true;
            }
        }
        if size > ctx.opts.max_blob_size {
            drop(odb);
            return self.stream(ctx, oid, Some(size), &origin, out);
        }
        // Held until the blob is scanned: the whole blobs all workers hold stay within budget.
        let _permit = budget::BLOBS.acquire(size);
        match odb.read(oid) {
            Ok(obj) => {
                scan_data(ctx, oid, path, obj.data(), out);
                true
            }
            Err(e) => {
                out.skip(
                    shown(),
                    format!("missing or corrupt object: {}", e.message()),
                    true,
                );
                false
            }
        }
    }

    /// Streams a large blob (of `size` bytes; every blob when libgit2 cannot read the
    /// repository) from `git cat-file --batch` through the scanner.
    fn stream(
        &mut self,
        ctx: &Ctx<'_>,
        oid: Oid,
        size: Option<u64>,
        origin: &Origin,
        out: &mut BlobOutcome,
    ) -> bool {
        let shown = format!("{} (blob {oid})", origin.path);
        let over = match size {
            Some(size) => format!(
                "{size} bytes, over --max-blob-size {}",
                ctx.opts.max_blob_size
            ),
            None => "read through git".to_string(),
        };
        if self.cat_file.is_none() {
            match CatFile::spawn(&self.git_dir) {
                Ok(c) => self.cat_file = Some(c),
                Err(e) => {
                    let reason = format!("{over}, and `git cat-file` could not stream it: {e}");
                    out.skip(shown, reason, true);
                    return false;
                }
            }
        }
        let cat_file = self.cat_file.as_mut().expect("spawned above");
        let result = cat_file.with_blob(oid, |r| ctx.scanner.scan_reader(r, origin, 0, out));
        if let Err(e) = result {
            self.cat_file = None;
            out.skip(shown, format!("{over}; `git cat-file` failed: {e}"), true);
            return false;
        }
        true
    }
}

/// Scans blob `oid` into `out` as it is inflated from `store`, never whole; false when it cannot
/// be (a delta, an object another store holds, a damaged one), with nothing added to `out`.
fn inflated(
    ctx: &Ctx<'_>,
    store: &mut Objects,
    oid: Oid,
    origin: &Origin,
    out: &mut BlobOutcome,
) -> bool {
    let Ok(s) = store.stream(oid) else {
        return false;
    };
    if s.kind != gix_object::Kind::Blob {
        return false;
    }
    let mut body = s.body;
    let mut scanned = BlobOutcome::default();
    ctx.scanner.scan_reader(&mut body, origin, 0, &mut scanned);
    if !body.finish() {
        return false;
    }
    *out = scanned;
    true
}

/// A `git cat-file --batch` child, asked for one object at a time.
pub(super) struct CatFile {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl CatFile {
    pub(super) fn spawn(git_dir: &std::path::Path) -> std::io::Result<CatFile> {
        let mut child = super::pipe::git(git_dir)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::with_capacity(1 << 20, child.stdout.take().expect("piped"));
        Ok(CatFile {
            child,
            stdin,
            stdout,
        })
    }

    /// Hands the content of blob `oid` to `f` as a reader, then skips what `f` left unread.
    fn with_blob(&mut self, oid: Oid, f: impl FnOnce(&mut dyn Read)) -> std::io::Result<()> {
        self.with_object(oid, "blob", |_, body| f(body))
    }

    /// Hands the size and content of object `oid`, which must be a `kind`, to `f` as a
    /// reader, then skips what `f` left unread.
    pub(super) fn with_object<T>(
        &mut self,
        oid: Oid,
        kind: &str,
        f: impl FnOnce(u64, &mut dyn BufRead) -> T,
    ) -> std::io::Result<T> {
        writeln!(self.stdin, "{oid}")?;
        self.stdin.flush()?;
        let mut header = String::new();
        self.stdout.read_line(&mut header)?;
        let size = object_size(&header, kind).ok_or_else(|| {
            std::io::Error::other(format!("unexpected answer {:?}", header.trim_end()))
        })?;
        let mut body = (&mut self.stdout).take(size);
        let out = f(size, &mut body);
        std::io::copy(&mut body, &mut std::io::sink())?;
        let mut newline = [0u8; 1];
        self.stdout.read_exact(&mut newline)?;
        Ok(out)
    }
}

impl Drop for CatFile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The size in `<oid> <kind> <size>\n`; None for `<oid> missing` or another type.
fn object_size(line: &str, kind: &str) -> Option<u64> {
    match parse_header(line.as_bytes())? {
        (_, k, size) if k == kind => Some(size),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{held_bytes, held_workers, object_size, workers};

    fn blob_size(line: &str) -> Option<u64> {
        object_size(line, "blob")
    }

    #[test]
    fn blobs_are_scanned_on_at_most_the_cores() {
        let cores = crate::threads::cores();
        assert_eq!(workers(0), 1);
        assert_eq!(workers(1), 1);
        assert_eq!(workers(256), cores);
    }

    /// Issue 14 point 10: the libgit2 reader starts no more workers than the budget of held
    /// objects lets read at once, whatever -j is.
    #[test]
    fn r14_libgit2_workers_are_as_many_as_the_held_objects_budget_holds() {
        assert_eq!(
            held_workers(64, held_bytes(1_000)),
            64,
            "small blobs hold nothing"
        );
        assert_eq!(
            held_workers(64, held_bytes(1_000_000)),
            2,
            "held twice: 2 MB each"
        );
        assert_eq!(held_workers(64, held_bytes(300 << 10)), 6);
        assert_eq!(
            held_workers(64, held_bytes(50 << 20)),
            4,
            "streamed in 1 MiB"
        );
        assert_eq!(held_workers(1, held_bytes(1_000_000)), 1);
        assert_eq!(held_workers(0, 0), 1);
    }

    #[test]
    fn cat_file_headers_parse() {
        let oid = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";
        assert_eq!(blob_size(&format!("{oid} blob 12\n")), Some(12));
        assert_eq!(blob_size(&format!("{oid} missing\n")), None);
        assert_eq!(blob_size(&format!("{oid} tree 3\n")), None);
    }
}
