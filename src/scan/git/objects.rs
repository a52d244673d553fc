//! Raw git objects as the readers hand them over: a commit's links and message, a tree's
//! entries, the header `git cat-file --batch` puts before each object, and libgit2's header of
//! an object read without git2's panic on a type it does not know.

use git2::{Binding as _, Error, ObjectType, Odb, Oid, Reference, Repository};

/// A commit's links, from its raw object.
pub(crate) struct Links {
    pub tree: Oid,
    pub parents: Vec<Oid>,
    /// The committer's time, in seconds since the epoch (0 when unreadable).
    pub time: i64,
}

impl Links {
    /// The `tree` and `parent` lines that open a raw commit, and the committer's time.
    pub fn parse(raw: &[u8]) -> Option<Links> {
        let head = memchr::memmem::find(raw, b"\n\n").map_or(raw, |end| &raw[..end]);
        let mut lines = head.split(|b| *b == b'\n');
        let tree = hex_oid(lines.next()?.strip_prefix(b"tree ")?)?;
        let mut parents = Vec::new();
        let mut time = 0;
        for line in lines {
            if let Some(p) = line.strip_prefix(b"parent ") {
                parents.push(hex_oid(p)?);
            } else if let Some(c) = line.strip_prefix(b"committer ") {
                time = committer_time(c).unwrap_or(0);
            }
        }
        Some(Links {
            tree,
            parents,
            time,
        })
    }
}

/// The time of a `Name <email> 1700000000 +0100` signature.
fn committer_time(sig: &[u8]) -> Option<i64> {
    let after = &sig[memchr::memrchr(b'>', sig)? + 1..];
    let text = std::str::from_utf8(after).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// An object id from its hex digits: 40 for SHA-1; a SHA-256 id's 64 are taken by their first
/// 40 (its first 160 bits), which is how SHA-256 ids travel through the scan (`by_git`).
pub(crate) fn hex_oid(hex: &[u8]) -> Option<Oid> {
    let hex = match hex.len() {
        SHA1_HEX => hex,
        SHA256_HEX => &hex[..SHA1_HEX],
        _ => return None,
    };
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

/// Hex digits of a SHA-1 and of a SHA-256 object id.
pub(crate) const SHA1_HEX: usize = 40;
pub(crate) const SHA256_HEX: usize = 64;

/// An object id as a tree holds it (a SHA-256 id: its first 20 bytes).
pub(crate) type RawId = [u8; 20];

pub(crate) fn raw(oid: Oid) -> RawId {
    oid.as_bytes().try_into().unwrap_or([0; 20])
}

/// The entries of a raw tree object: `<mode> <name>\0<id>`, repeated, each id `width` bytes
/// (20 for SHA-1, 32 for SHA-256).
pub(crate) struct RawTree<'a> {
    data: &'a [u8],
    width: usize,
}

impl<'a> RawTree<'a> {
    /// A SHA-1 repository's tree.
    pub fn new(data: &'a [u8]) -> RawTree<'a> {
        RawTree { data, width: 20 }
    }

    /// A tree whose ids are `width` bytes long.
    pub fn with_width(data: &'a [u8], width: usize) -> RawTree<'a> {
        RawTree {
            data,
            width: width.max(20),
        }
    }
}

impl<'a> Iterator for RawTree<'a> {
    type Item = (&'a [u8], &'a [u8], &'a RawId);

    fn next(&mut self) -> Option<Self::Item> {
        let data = self.data;
        let space = memchr::memchr(b' ', data)?;
        let nul = space + 1 + memchr::memchr(0, &data[space + 1..])?;
        data.get(nul + 1..nul + 1 + self.width)?;
        let id = data.get(nul + 1..nul + 21)?.try_into().ok()?;
        self.data = &data[nul + 1 + self.width..];
        Some((&data[..space], &data[space + 1..nul], id))
    }
}

/// The message of a raw commit object: what follows the first blank line.
pub(crate) fn message(commit: &[u8]) -> &[u8] {
    memchr::memmem::find(commit, b"\n\n").map_or(&[], |i| &commit[i + 2..])
}

/// `<oid> <type> <size>\n`, the header `git cat-file --batch` puts before each object; None
/// for anything else (`<oid> missing`).
pub(crate) fn parse_header(line: &[u8]) -> Option<(Oid, &str, u64)> {
    let text = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = text.split(' ');
    let oid = hex_oid(parts.next()?.as_bytes())?;
    let kind = parts.next()?;
    let size = parts.next()?.parse().ok()?;
    Some((oid, kind, size))
}

/// The size and type of object `oid`, as libgit2 reads them from its header. `Odb::read_header`
/// unwraps the type, which panics on a corrupt pack whose header holds no object type (0, 5) or
/// a delta whose base it could not resolve; here that is an error, like any other corruption.
pub(crate) fn read_header(odb: &Odb<'_>, oid: Oid) -> Result<(u64, ObjectType), Error> {
    let mut size: libc::size_t = 0;
    let mut kind = libgit2_sys::GIT_OBJECT_INVALID;
    // SAFETY: `odb` and `oid` outlive the call, and libgit2 writes only the two out-values.
    let rc = unsafe {
        libgit2_sys::git_odb_read_header(&raw mut size, &raw mut kind, odb.raw(), oid.raw())
    };
    if rc < 0 {
        return Err(Error::last_error(rc));
    }
    match ObjectType::from_raw(kind) {
        Some(kind) if kind != ObjectType::Any => Ok((size as u64, kind)),
        _ => Err(Error::from_str(&format!(
            "its header names no object type ({kind})"
        ))),
    }
}

/// Commits larger than this are never read whole: their header is inflated here from the
/// object's loose file or pack entry up to the blank line (else read from a `git cat-file`
/// child, stopped there), so a message of hundreds of megabytes costs nothing (libgit2 would
/// hold the object and its compressed bytes, and `git cat-file` the object).
pub(crate) const LARGE_COMMIT: u64 = 1 << 20;

/// The header of commit `oid` (its lines up to the blank one) when it is a commit larger than
/// [`LARGE_COMMIT`]; None otherwise (libgit2 reads it then).
pub(crate) fn large_commit_head(repo: &Repository, oid: Oid) -> Option<Vec<u8>> {
    let (size, kind) = read_header(&repo.odb().ok()?, oid).ok()?;
    if kind != ObjectType::Commit || size <= LARGE_COMMIT {
        return None;
    }
    let mut objects = super::inflate::Objects::new(repo.commondir().join("objects"));
    match objects.stream(oid) {
        Ok(mut s) if s.kind == gix_object::Kind::Commit => Some(head_lines(&mut s.body)),
        _ => commit_head_by_git(repo.path(), oid),
    }
}

/// The lines of a raw commit up to the blank one that ends its header.
fn head_lines(r: &mut impl std::io::BufRead) -> Vec<u8> {
    let mut head = Vec::new();
    loop {
        let start = head.len();
        match r.read_until(b'\n', &mut head) {
            Ok(0) | Err(_) => break,
            Ok(_) if head[start..] == *b"\n" => break,
            Ok(_) => {}
        }
    }
    head
}

/// The header of commit `oid` as `git cat-file commit` writes it, up to the blank line; git is
/// stopped there, so the message is never read.
pub(crate) fn commit_head_by_git(git_dir: &std::path::Path, oid: Oid) -> Option<Vec<u8>> {
    let mut child = super::pipe::git(git_dir)
        .args(["cat-file", "commit", &oid.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let head = head_lines(&mut std::io::BufReader::new(child.stdout.take()?));
    // The message is not wanted: git is stopped rather than read to the end.
    let _ = child.kill();
    let _ = child.wait();
    Some(head)
}

/// The commit `r` points at, peeled through tags, and its tree; a large commit is not read
/// whole.
pub(crate) fn peeled_commit(repo: &Repository, r: &Reference<'_>) -> Option<(Oid, Oid)> {
    if let Some(oid) = r.resolve().ok()?.target()
        && let Some(head) = large_commit_head(repo, oid)
    {
        return Some((oid, Links::parse(&head)?.tree));
    }
    let c = r.peel_to_commit().ok()?;
    Some((c.id(), c.tree_id()))
}
