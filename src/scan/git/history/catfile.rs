//! The whole history at the speed of reading the object store once. `git cat-file
//! --batch-all-objects --batch-check` lists every object in pack order and `git cat-file --batch`
//! streams its blobs and commits in that order, with git's delta base cache (libgit2, asked for
//! one blob at a time, re-inflates delta chains: 4x slower on a 34,000-commit history), then its
//! trees, which `graph` keeps compactly: which objects the refs reach, and the trees the second
//! pass walks, come from that one read. Blobs the refs do not reach are scanned but not
//! reported. A commit over 1 MiB is not asked of git, which holds any commit whole (only
//! blobs stream through it): it is inflated here from its loose file or pack entry as it is
//! scanned (`inflate`), and only one stored as a delta is read through git. The second choice,
//! after `packs`.

use super::graph::Graph;
use super::source::{Contents, ObjectSource};
use crate::scan::Held;
use crate::scan::git::Ctx;
use crate::scan::git::blobs::{self, Done, Job};
use crate::scan::git::objects::{Links, hex_oid, parse_header};
use crate::scan::git::oidmap::OidMap;
use crate::scan::git::pipe::{Batched, git};
use crate::scan::git::{inflate, large};
use crossbeam_channel::Sender;
use git2::{Oid, Repository};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Mutex;

/// Blobs up to this size go to the workers whole; larger ones are scanned as they stream in,
/// so the queue holds at most a few megabytes a worker.
const WHOLE: u64 = 1 << 20;

/// The objects as `git cat-file` reads them; the trees listed by the first pass, for the second.
#[derive(Default)]
pub(super) struct CatFile {
    trees: Vec<Oid>,
    /// Only HEAD's commit and the objects of its tree (`--files`), not every object.
    head_only: bool,
    /// The object folder large commits are inflated from here; None: every commit is read
    /// through git (a repository only git can read).
    objects: Option<PathBuf>,
}

impl ObjectSource for CatFile {
    /// Streams every blob and commit through git; None when git cannot be run or read.
    fn contents(&mut self, ctx: &Ctx<'_>, repo: &Repository) -> Option<anyhow::Result<Contents>> {
        self.objects = own_objects(repo);
        self.contents_in(ctx, repo.path())
    }

    fn trees(&mut self, _: &Ctx<'_>, repo: &Repository, graph: &mut Graph) -> Option<()> {
        self.trees_in(repo.path(), graph)
    }
}

impl CatFile {
    /// The objects of HEAD's commit and tree only.
    pub fn head_only() -> CatFile {
        CatFile {
            head_only: true,
            ..CatFile::default()
        }
    }

    /// Streams every blob and commit of the repository at `git_dir` through git; None when git
    /// cannot be run or read.
    pub fn contents_in(
        &mut self,
        ctx: &Ctx<'_>,
        git_dir: &Path,
    ) -> Option<anyhow::Result<Contents>> {
        let done = Mutex::new(Vec::new());
        let from = From {
            git_dir,
            head_only: self.head_only,
            objects: self.objects.as_deref(),
        };
        let streamed = blobs::run(ctx, |tx| stream(ctx, from, tx, &done), &|d| {
            done.lock().unwrap_or_else(|p| p.into_inner()).push(d);
        });
        let streamed = match streamed {
            Ok(Some(streamed)) => streamed,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        self.trees = streamed.trees;
        Some(Ok(Contents::gathered(streamed.commits, done)))
    }

    /// Hands every tree the first pass listed to `graph`.
    pub fn trees_in(&mut self, git_dir: &Path, graph: &mut Graph) -> Option<()> {
        read_trees(git_dir, std::mem::take(&mut self.trees), graph)
    }
}

/// What the stream of blobs and commits leaves for the graph: every tree's id, in pack order,
/// and every commit's links.
#[derive(Default)]
struct Streamed {
    trees: Vec<Oid>,
    commits: OidMap<Links>,
}

/// The object folder of `repo`, unless the environment names another.
fn own_objects(repo: &Repository) -> Option<PathBuf> {
    let moved = ["GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    // A linked work tree's objects are in the repository it belongs to.
    (!moved).then(|| repo.commondir().join("objects"))
}

/// What `stream` reads: the repository, whether HEAD's objects alone, and the object folder
/// commits over [`WHOLE`] are inflated from (None: they are read through git too).
#[derive(Clone, Copy)]
struct From<'a> {
    git_dir: &'a Path,
    head_only: bool,
    objects: Option<&'a Path>,
}

/// The child listing every object (`head_only`: HEAD's commit and the objects of its tree) as
/// `<id> <type> <size>` lines, and the `git rev-list` child feeding it, if any.
fn list_objects(git_dir: &Path, head_only: bool) -> Option<(Child, Option<Child>)> {
    let check = "--batch-check=%(objectname) %(objecttype) %(objectsize)";
    if !head_only {
        let child = git(git_dir)
            .args(["cat-file", "--batch-all-objects", "--unordered", check])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        return Some((child, None));
    }
    let mut walk = git(git_dir)
        .args([
            "rev-list",
            "--objects",
            "--no-walk",
            "--no-object-names",
            "HEAD",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let ids = walk.stdout.take()?;
    let spawned = git(git_dir)
        .args(["cat-file", check])
        .stdin(Stdio::from(ids))
        .stdout(Stdio::piped())
        .spawn();
    if let Ok(child) = spawned {
        return Some((child, Some(walk)));
    }
    let _ = walk.kill();
    let _ = walk.wait();
    None
}

/// Streams every blob and commit from `git cat-file` (of HEAD alone with `head_only`): blobs to
/// the workers (large ones scanned here as they arrive), commit messages as text; the trees are
/// listed for later. Commits over [`WHOLE`] are read from `objects` afterwards, when it is
/// given. None when git cannot be run or its output ends early.
fn stream(
    ctx: &Ctx<'_>,
    from: From<'_>,
    tx: &Sender<Job>,
    done: &Mutex<Vec<Done>>,
) -> Option<Streamed> {
    let git_dir = from.git_dir;
    let (mut lister, mut walk) = list_objects(git_dir, from.head_only)?;
    let mut child = git(git_dir)
        // git's 96 MiB delta base cache costs resident memory, not speed, at half the size.
        .args(["-c", "core.deltaBaseCacheLimit=48m"])
        .args(["cat-file", "--batch", "--buffer"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let (list, stdin) = (lister.stdout.take()?, child.stdin.take()?);
    let set_aside = from.objects.is_some();
    let Ok(fed) = crate::threads::spawn("keyhound-feed", move || feed(list, stdin, set_aside))
    else {
        // No thread: the slower route reads the history instead.
        let _ = child.kill();
        let _ = lister.kill();
        if let Some(w) = walk.as_mut() {
            let _ = w.kill();
        }
        return None;
    };
    let streamed = read_stream(ctx, &mut child, tx, done);
    if streamed.is_none() {
        // The feeder may be blocked on a child nobody reads any more.
        let _ = child.kill();
        let _ = lister.kill();
        if let Some(w) = walk.as_mut() {
            let _ = w.kill();
        }
    }
    let fed = fed.join().ok().flatten();
    let walked = walk
        .as_mut()
        .is_none_or(|w| w.wait().is_ok_and(|s| s.success()));
    let listed = lister.wait().ok()?.success() && walked;
    let (mut commits, Listed { trees, large }) = (streamed?, fed?);
    if let Some(objects) = from.objects {
        scan_large(ctx, (git_dir, objects), large, &mut commits, done)?;
    }
    listed.then_some(Streamed { trees, commits })
}

/// What the feeder leaves: every tree, and the commits over [`WHOLE`] it set aside.
struct Listed {
    trees: Vec<Oid>,
    large: Vec<Oid>,
}

/// Passes the blobs and commits of the listing, in pack order, to `git cat-file --batch`, and
/// returns the trees: they are read once every blob is scanned, when the graph knows which
/// blobs it wants (trees and blobs are delta-compressed apart, so reading them later costs
/// git nothing). With `set_aside`, commits over [`WHOLE`] are not passed but returned.
fn feed(
    list: std::process::ChildStdout,
    stdin: std::process::ChildStdin,
    set_aside: bool,
) -> Option<Listed> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(64 << 10, stdin);
    let (mut trees, mut large) = (Vec::new(), Vec::new());
    for line in BufReader::with_capacity(64 << 10, list).split(b'\n') {
        let line = line.ok()?;
        let Some(space) = memchr::memchr(b' ', &line) else {
            continue;
        };
        let (kind, size) = split_size(&line[space + 1..]);
        match kind {
            b"tree" => trees.push(hex_oid(&line[..space])?),
            b"tag" => {}
            b"commit" if set_aside && size.is_some_and(|s| s > WHOLE) => {
                large.push(hex_oid(&line[..space])?);
            }
            // Blobs, commits, and what git cannot read (`missing`), which then ends the stream
            // so that libgit2 says what is wrong.
            _ => {
                out.write_all(&line[..space]).ok()?;
                out.write_all(b"\n").ok()?;
            }
        }
    }
    out.flush().ok()?;
    Some(Listed { trees, large })
}

/// `<kind> <size>` of a listing line: the kind, and the size when it is there.
fn split_size(rest: &[u8]) -> (&[u8], Option<u64>) {
    let Some(space) = memchr::memchr(b' ', rest) else {
        return (rest, None);
    };
    let size = std::str::from_utf8(&rest[space + 1..])
        .ok()
        .and_then(|s| s.parse().ok());
    (&rest[..space], size)
}

/// Scans the commits over [`WHOLE`] set aside: each inflated here from its loose file or pack
/// entry as it is scanned, so that no process holds it whole; one the packs store as a delta
/// (which only a whole base can resolve), or that another repository lends, is read through
/// git, which holds it whole. None when git cannot read one either.
fn scan_large(
    ctx: &Ctx<'_>,
    (git_dir, objects): (&Path, &Path),
    large: Vec<Oid>,
    commits: &mut OidMap<Links>,
    done: &Mutex<Vec<Done>>,
) -> Option<()> {
    let mut store = inflate::Objects::new(objects.to_path_buf());
    let mut by_git: Option<blobs::CatFile> = None;
    for oid in large {
        let (links, out) = if let Ok(scanned) = large::inflated_commit(ctx, &mut store, oid) {
            scanned
        } else {
            let git = match &mut by_git {
                Some(git) => git,
                None => by_git.insert(blobs::CatFile::spawn(git_dir).ok()?),
            };
            let read = |size, mut body: &mut dyn BufRead| {
                large::scan_commit_stream(ctx, oid, size, &mut body)
            };
            git.with_object(oid, "commit", read).ok()??
        };
        commits.insert(oid, links);
        done.lock().unwrap_or_else(|p| p.into_inner()).push(out);
    }
    Some(())
}

/// Reads the objects `child` (`git cat-file --batch`) writes until it ends; returns the
/// commits' links.
fn read_stream(
    ctx: &Ctx<'_>,
    child: &mut std::process::Child,
    tx: &Sender<Job>,
    done: &Mutex<Vec<Done>>,
) -> Option<OidMap<Links>> {
    let mut commits = OidMap::default();
    let stdout = Batched::new(child.stdout.take()?);
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
                let out = large::scan_blob_stream(ctx, oid, size, &mut r)?;
                done.lock().unwrap_or_else(|p| p.into_inner()).push(out);
            }
            "blob" => {
                let held = Held::take(size);
                let data = read_exact(&mut r, size)?;
                tx.send(Job::Data { oid, data, held }).ok()?;
            }
            "commit" if size > WHOLE => {
                let (links, out) = large::scan_commit_stream(ctx, oid, size, &mut r)?;
                commits.insert(oid, links);
                done.lock().unwrap_or_else(|p| p.into_inner()).push(out);
            }
            "commit" => {
                let held = Held::take(size);
                let data = read_exact(&mut r, size)?;
                commits.insert(oid, Links::parse(&data)?);
                tx.send(Job::Commit {
                    oid,
                    raw: data,
                    held,
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
    child.wait().ok()?.success().then_some(commits)
}

fn read_exact(r: &mut impl Read, size: u64) -> Option<Vec<u8>> {
    let mut data = vec![0; usize::try_from(size).ok()?];
    r.read_exact(&mut data).ok()?;
    Some(data)
}

/// Reads `trees` through `git cat-file --batch` into `graph`. None when git fails or its
/// output ends early.
fn read_trees(git_dir: &Path, trees: Vec<Oid>, graph: &mut Graph) -> Option<()> {
    let mut child = git(git_dir)
        .args(["cat-file", "--batch", "--buffer"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let stdin = child.stdin.take()?;
    let fed = crate::threads::spawn("keyhound-feed", move || {
        use std::io::Write as _;
        let mut out = std::io::BufWriter::with_capacity(64 << 10, stdin);
        for t in trees {
            writeln!(out, "{t}").ok()?;
        }
        out.flush().ok()
    });
    let Ok(fed) = fed else {
        let _ = child.kill();
        return None;
    };
    let read = read_tree_stream(&mut child, graph);
    if read.is_none() {
        let _ = child.kill();
    }
    let fed = fed.join().ok().flatten();
    let ok = child.wait().ok()?.success();
    (read.is_some() && fed.is_some() && ok).then_some(())
}

fn read_tree_stream(child: &mut std::process::Child, graph: &mut Graph) -> Option<()> {
    let mut r = BufReader::with_capacity(1 << 20, Batched::new(child.stdout.take()?));
    let (mut header, mut data) = (Vec::new(), Vec::new());
    loop {
        header.clear();
        if r.read_until(b'\n', &mut header).ok()? == 0 {
            return Some(());
        }
        let (oid, kind, size) = parse_header(&header)?;
        if kind != "tree" {
            return None;
        }
        data.clear();
        (&mut r).take(size + 1).read_to_end(&mut data).ok()?;
        if data.len() as u64 != size + 1 {
            return None;
        }
        graph.add_tree(oid, &data[..data.len() - 1]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::git::objects::message;

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
