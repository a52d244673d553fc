//! A repository handle for libgit2's revwalk that never reads a large commit whole: its object
//! database answers a commit over [`LARGE_COMMIT`](super::objects::LARGE_COMMIT) with its
//! header alone (the revwalk needs only the parents and the committer's time), read as
//! [`large_commit_head`] reads it, from a second handle; every other object comes from the
//! repository's own backends. libgit2's revwalk reads each commit it passes whole, and a
//! 400 MB message cost 400 MB packed and 795 MB loose under `--all-objects`.

use super::objects::large_commit_head;
use git2::{Binding, Oid, Repository};
use libgit2_sys as raw;
use std::os::raw::{c_int, c_void};

/// The backend: libgit2's table of functions first, as libgit2 hands back a pointer to it.
#[repr(C)]
struct Heads {
    table: raw::git_odb_backend,
    /// The same repository, opened apart: its database reads what the backend answers from.
    real: Repository,
}

/// Asked before the repository's own backends (loose files 1, packs 2).
const FIRST: c_int = 1000;

/// A handle from `open`, whose object database answers a large commit with its header. None
/// when `open` gives none or libgit2 refuses the backend.
pub(crate) fn open(open: impl Fn() -> Option<Repository>) -> Option<Repository> {
    let (walked, real) = (open()?, open()?);
    // A header's bytes do not hash to its commit's id: libgit2 must not check them (`open`
    // has turned the check off for the process already; a test may not have).
    git2::opts::strict_hash_verification(false);
    // SAFETY: an all-zero table is libgit2's empty one (null pointers, no functions);
    // `git_odb_init_backend` then sets its version.
    let mut table: raw::git_odb_backend = unsafe { std::mem::zeroed() };
    // SAFETY: `table` is a valid, writable table.
    if unsafe { raw::git_odb_init_backend(&raw mut table, raw::GIT_ODB_BACKEND_VERSION) } < 0 {
        return None;
    }
    table.read = Some(read);
    table.read_header = Some(no_header);
    table.free = Some(free);
    let backend = Box::into_raw(Box::new(Heads { table, real }));
    let odb = walked.odb().ok()?;
    // SAFETY: `backend` starts with its table; the database owns it from here and frees it
    // (through `free`) when the handle is dropped.
    let added = unsafe { raw::git_odb_add_backend(odb.raw(), backend.cast(), FIRST) };
    if added < 0 {
        // SAFETY: refused, so still ours, made by `Box::into_raw` above.
        drop(unsafe { Box::from_raw(backend) });
        return None;
    }
    drop(odb);
    Some(walked)
}

/// A large commit's header, in a buffer libgit2 allocated; any other object is passed on to
/// the next backend.
extern "C" fn read(
    data: *mut *mut c_void,
    len: *mut libc::size_t,
    kind: *mut raw::git_object_t,
    backend: *mut raw::git_odb_backend,
    oid: *const raw::git_oid,
) -> c_int {
    // SAFETY: libgit2 hands back the backend `open` added, a `Heads`, and a valid id.
    let (heads, oid) = unsafe { (&*backend.cast::<Heads>(), Oid::from_raw(oid)) };
    let Some(head) = large_commit_head(&heads.real, oid) else {
        return raw::GIT_PASSTHROUGH;
    };
    // SAFETY: libgit2 allocates the buffer for this backend; `head.len()` bytes are copied
    // into it, and the three out-values are libgit2's own, valid for writing.
    unsafe {
        let buf = raw::git_odb_backend_data_alloc(backend, head.len());
        if buf.is_null() {
            return raw::GIT_ERROR;
        }
        std::ptr::copy_nonoverlapping(head.as_ptr(), buf.cast::<u8>(), head.len());
        *data = buf;
        *len = head.len();
        *kind = raw::GIT_OBJECT_COMMIT;
    }
    0
}

/// Headers are left to the other backends. Not found, rather than no answer: with no answer
/// libgit2 would read a missing object whole to learn its header, and so ask `read` again.
extern "C" fn no_header(
    _: *mut libc::size_t,
    _: *mut raw::git_object_t,
    _: *mut raw::git_odb_backend,
    _: *const raw::git_oid,
) -> c_int {
    raw::GIT_ENOTFOUND
}

extern "C" fn free(backend: *mut raw::git_odb_backend) {
    // SAFETY: `open` made it with `Box::into_raw`, and libgit2 frees it once, with its database.
    drop(unsafe { Box::from_raw(backend.cast::<Heads>()) });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_commit_is_read_as_its_header_and_the_rest_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let sig =
            git2::Signature::new("a", "a@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
        let tree = repo.find_tree(repo.treebuilder(None).unwrap().write().unwrap());
        let tree = tree.unwrap();
        let large = "x".repeat(2 << 20);
        let first = repo.commit(None, &sig, &sig, &large, &tree, &[]).unwrap();
        let parent = repo.find_commit(first).unwrap();
        let second = (repo.commit(None, &sig, &sig, "small", &tree, &[&parent])).unwrap();
        let walked = open(|| Repository::open_bare(dir.path()).ok()).unwrap();
        let header = walked.find_commit(first).unwrap();
        assert_eq!(header.message().ok(), Some(""));
        assert_eq!(header.tree_id(), tree.id());
        assert_eq!(header.time(), sig.when());
        let small = walked.find_commit(second).unwrap();
        assert_eq!(small.message().ok(), Some("small"));
        let mut walk = walked.revwalk().unwrap();
        walk.push(second).unwrap();
        assert_eq!(
            walk.collect::<Result<Vec<_>, _>>().unwrap(),
            [second, first]
        );
        let missing = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        let e = walked.odb().unwrap().read_header(missing).unwrap_err();
        assert_eq!(e.code(), git2::ErrorCode::NotFound);
        assert!(walked.find_commit(missing).is_err());
    }
}
