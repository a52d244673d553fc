//! The whole history at the speed of reading the object store once. `git cat-file
//! --batch-all-objects --batch-check` lists every object in pack order and `git cat-file --batch`
//! streams its blobs and commits in that order, with git's delta base cache (libgit2, asked for
//! one blob at a time, re-inflates delta chains: 4x slower on a 34,000-commit history; trees are
//! left out, the scan does not read them), while `git rev-list --objects --all` says, at the same
//! time on another core, which objects the refs reach and at which path. Blobs the refs do not
//! reach are scanned but not reported. Used when git can be run; `history` with libgit2 is the
//! fallback.

use super::blobs::{self, Done, Job, parse_header};
use super::locate::{self, Hits};
use super::oidmap::OidMap;
use super::{Ctx, GitOutcome, history, tips};
use crate::finding::{Origin, Skipped};
use crate::scan::BlobOutcome;
use crossbeam_channel::Sender;
use git2::{Oid, Repository};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Blobs up to this size go to the workers whole; larger ones are scanned as they stream in,
/// so the queue holds at most a few megabytes a worker.
const WHOLE: u64 = 1 << 20;

/// What the refs reach: every object `git rev-list --objects` lists, with its path (None for
/// commits and tags).
type Reached = OidMap<Option<Box<str>>>;

/// Scans the history through git; None when git cannot be run or read (libgit2 then does it).
pub(super) fn scan(ctx: &Ctx<'_>, repo: &Repository) -> Option<anyhow::Result<GitOutcome>> {
    let git_dir = repo.path().to_path_buf();
    let done = Mutex::new(Vec::new());
    let (streamed, reached) = std::thread::scope(|s| {
        let reached = s.spawn(|| reached(&git_dir));
        let streamed = blobs::run(ctx, |tx| stream(ctx, &git_dir, tx, &done), &|d| {
            done.lock().unwrap_or_else(|p| p.into_inner()).push(d)
        });
        (streamed, reached.join().ok().flatten())
    });
    match streamed {
        Ok(Some(())) => {}
        Ok(None) => return None,
        Err(e) => return Some(Err(e)),
    }
    let reached = reached?;
    let done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    Some(Ok(finish(ctx, repo, done, &reached)))
}

/// Keeps what the refs reach, names blobs by their paths, and groups the findings by history.
fn finish(ctx: &Ctx<'_>, repo: &Repository, done: Vec<Done>, reached: &Reached) -> GitOutcome {
    let mut hits = Hits::default();
    for mut d in done {
        let Some(path) = reached.get(&d.oid) else {
            continue;
        };
        if let Some(path) = path.as_deref().filter(|_| d.is_blob) {
            rename(&mut d.outcome, &d.oid.to_string(), path);
        }
        d.outcome.skipped.iter().for_each(ctx.on_skip);
        hits.add(d);
    }
    super::locating(ctx, &hits);
    let commits = history::commit_order(repo);
    let tips = tips::tips(repo, ctx.opts.audit);
    let mut outcome = locate::group(repo, &commits, hits, &tips, &Default::default());
    outcome.stats.commits = commits.len() as u64;
    let notes = submodules(repo, reached);
    notes.iter().for_each(ctx.on_skip);
    outcome.skipped.extend(notes);
    outcome
}

/// Submodules are not followed: each path any `.gitmodules` in history names is said once.
fn submodules(repo: &Repository, reached: &Reached) -> Vec<Skipped> {
    let mut paths = std::collections::BTreeSet::new();
    let files = reached.iter().filter(|(_, p)| {
        p.as_deref()
            .is_some_and(|p| p == ".gitmodules" || p.ends_with("/.gitmodules"))
    });
    for (oid, _) in files {
        let Ok(blob) = repo.find_blob(*oid) else {
            continue;
        };
        for line in String::from_utf8_lossy(blob.content()).lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if key.trim() == "path" {
                paths.insert(value.trim().to_string());
            }
        }
    }
    paths
        .into_iter()
        .map(|path| Skipped {
            path,
            reason: "submodule: not followed; scan its own repository with keyhound git".into(),
            incomplete: false,
        })
        .collect()
}

/// A blob was scanned under its id: give its findings and notes its path.
fn rename(out: &mut BlobOutcome, id: &str, path: &str) {
    for f in &mut out.findings {
        f.origin.path = path.to_string();
    }
    for s in &mut out.skipped {
        if let Some(rest) = s.path.strip_prefix(id) {
            s.path = format!("{path}{rest}");
        }
    }
}

/// `git rev-list --objects --all` (the stash aside: `--all-objects` scans it, with libgit2).
fn reached(git_dir: &Path) -> Option<Reached> {
    let mut child = git(git_dir)
        // It runs beside the stream and finishes first: a small delta base cache keeps its
        // memory down (200 -> 113 MB on the benchmark history) at no cost to the whole.
        .args(["-c", "core.deltaBaseCacheLimit=16m"])
        .args(["rev-list", "--objects", "--exclude=refs/stash", "--all"])
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let stdout = child.stdout.take()?;
    widen_pipe(&stdout);
    let out = BufReader::with_capacity(1 << 20, stdout);
    let mut map = Reached::default();
    for line in out.split(b'\n') {
        let line = line.ok()?;
        let (id, path) = match line.iter().position(|b| *b == b' ') {
            Some(i) => (
                &line[..i],
                Some(String::from_utf8_lossy(&line[i + 1..]).into()),
            ),
            None => (&line[..], None),
        };
        let oid = Oid::from_str(std::str::from_utf8(id).ok()?).ok()?;
        map.entry(oid).or_insert(path);
    }
    // A failed walk (a missing object) leaves the scan to libgit2, which says what is missing.
    child.wait().ok()?.success().then_some(map)
}

/// Streams every blob and commit from `git cat-file`: blobs to the workers (large ones scanned
/// here as they arrive), commit messages as text. None when git cannot be run or its output
/// ends early.
fn stream(ctx: &Ctx<'_>, git_dir: &Path, tx: &Sender<Job>, done: &Mutex<Vec<Done>>) -> Option<()> {
    let mut lister = git(git_dir)
        .args(["cat-file", "--batch-all-objects", "--unordered"])
        .arg("--batch-check=%(objectname) %(objecttype)")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut child = git(git_dir)
        // git's 96 MiB delta base cache costs resident memory, not speed, at half the size.
        .args(["-c", "core.deltaBaseCacheLimit=48m"])
        .args(["cat-file", "--batch", "--buffer"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let (list, stdin) = (lister.stdout.take()?, child.stdin.take()?);
    let fed = std::thread::spawn(move || feed(list, stdin));
    let streamed = read_stream(ctx, &mut child, tx, done);
    if streamed.is_none() {
        // The feeder may be blocked on a child nobody reads any more.
        let _ = child.kill();
        let _ = lister.kill();
    }
    let fed = fed.join().ok().flatten();
    let listed = lister.wait().ok()?.success();
    (streamed.is_some() && fed.is_some() && listed).then_some(())
}

/// A `git` command on `git_dir` whose errors are not shown (a failure hands over to libgit2,
/// which says what is wrong).
fn git(git_dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir").arg(git_dir).stderr(Stdio::null());
    cmd
}

/// Passes the blobs and commits of the listing, in pack order, to `git cat-file --batch`:
/// leaving the trees out (a quarter of the bytes on a large history) spares inflating and
/// piping what the scan does not read.
fn feed(list: std::process::ChildStdout, stdin: std::process::ChildStdin) -> Option<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(64 << 10, stdin);
    for line in BufReader::with_capacity(64 << 10, list).split(b'\n') {
        let line = line.ok()?;
        // Anything but a tree or a tag goes on: blobs, commits, and what git cannot read
        // (`missing`), which then ends the stream so that libgit2 says what is wrong.
        let wanted = !(line.ends_with(b" tree") || line.ends_with(b" tag"));
        if let (true, Some(space)) = (wanted, memchr::memchr(b' ', &line)) {
            out.write_all(&line[..space]).ok()?;
            out.write_all(b"\n").ok()?;
        }
    }
    out.flush().ok()
}

/// Reads the objects `child` (`git cat-file --batch`) writes until it ends.
fn read_stream(
    ctx: &Ctx<'_>,
    child: &mut std::process::Child,
    tx: &Sender<Job>,
    done: &Mutex<Vec<Done>>,
) -> Option<()> {
    let stdout = child.stdout.take()?;
    widen_pipe(&stdout);
    // A small buffer: blobs larger than it are read from the pipe straight into their own
    // buffer instead of being copied through this one (a twentieth of the scan's CPU time).
    let mut r = BufReader::with_capacity(64 << 10, stdout);
    let mut header = Vec::new();
    loop {
        header.clear();
        if r.read_until(b'\n', &mut header).ok()? == 0 {
            break;
        }
        let (oid, kind, size) = parse_header(&header)?;
        match kind {
            "blob" if size > WHOLE => {
                let out = scan_streaming(ctx, oid, size, &mut r)?;
                done.lock().unwrap_or_else(|p| p.into_inner()).push(out);
            }
            "blob" => {
                let data = read_exact(&mut r, size)?;
                tx.send(Job::Data { oid, data }).ok()?;
            }
            "commit" => {
                let data = read_exact(&mut r, size)?;
                tx.send(Job::Text {
                    key: oid,
                    text: message(&data).to_vec(),
                })
                .ok()?;
            }
            _ => {
                std::io::copy(&mut (&mut r).take(size), &mut std::io::sink()).ok()?;
            }
        }
        let mut newline = [0u8];
        r.read_exact(&mut newline).ok()?;
    }
    child.wait().ok()?.success().then_some(())
}

/// Asks for a 1 MiB pipe (Linux's default ceiling) instead of 64 KiB: 2 GB through a small
/// pipe cost 300,000 context switches, a tenth of the scan's CPU time.
#[cfg(target_os = "linux")]
fn widen_pipe(pipe: &std::process::ChildStdout) {
    use std::os::fd::AsRawFd as _;
    // SAFETY: F_SETPIPE_SZ on a pipe this process owns; a refusal leaves the pipe as it was.
    unsafe {
        libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20);
    }
}

#[cfg(not(target_os = "linux"))]
fn widen_pipe(_: &std::process::ChildStdout) {}

/// A large blob, scanned from the stream without holding it.
fn scan_streaming(ctx: &Ctx<'_>, oid: Oid, size: u64, r: &mut impl Read) -> Option<Done> {
    let mut outcome = BlobOutcome::default();
    let mut body = r.take(size);
    let origin = Origin::file(oid.to_string());
    ctx.scanner.scan_reader(&mut body, &origin, 0, &mut outcome);
    // What the scanner left unread (it stops at nothing, but a read error might) is skipped.
    std::io::copy(&mut body, &mut std::io::sink()).ok()?;
    outcome.files = 1;
    Some(Done {
        oid,
        is_blob: true,
        read: true,
        outcome,
    })
}

fn read_exact(r: &mut impl Read, size: u64) -> Option<Vec<u8>> {
    let mut data = vec![0; usize::try_from(size).ok()?];
    r.read_exact(&mut data).ok()?;
    Some(data)
}

/// The message of a raw commit object: what follows the first blank line.
fn message(commit: &[u8]) -> &[u8] {
    memchr::memmem::find(commit, b"\n\n").map_or(&[], |i| &commit[i + 2..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_messages_parse() {
        let (oid, kind, size) =
            parse_header(b"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 blob 12\n").unwrap();
        assert_eq!((oid.to_string().len(), kind, size), (40, "blob", 12));
        assert!(parse_header(b"garbage\n").is_none());
        assert_eq!(
            message(b"tree x\nauthor a\n\nsubject\n\nbody\n"),
            b"subject\n\nbody\n"
        );
        assert_eq!(message(b"tree x\n"), b"");
    }
}
