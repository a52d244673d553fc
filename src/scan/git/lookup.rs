//! What a scan asks of a repository besides its objects' contents: what the refs point at, the
//! tips reports name, a commit's author, a small blob's bytes. libgit2 answers for the
//! repositories it opens; `by_git` answers through `git` for the others (SHA-256 object ids,
//! reftable refs).

use super::meta::CommitMeta;
use super::tips::{Presence, Tips};
use git2::{ObjectType, Oid, Repository};

/// A repository as the history's report and the changes' findings need it.
pub(crate) trait Lookup {
    /// What every ref (the stash aside) and HEAD point at, peeled through tags. None when one
    /// points at a missing object.
    fn ref_targets(&self) -> Option<Vec<(Oid, ObjectType)>>;

    /// The tips `presence` asks for: HEAD's, or the default branch's and every branch's.
    fn tips(&self, presence: Presence) -> Tips;

    /// The author and author date of commit `oid`; both None when it cannot be read.
    fn commit_meta(&self, oid: Oid) -> CommitMeta;

    /// The bytes of blob `oid` (a `.gitmodules`); None when it cannot be read.
    fn blob(&self, oid: Oid) -> Option<Vec<u8>>;
}

impl Lookup for Repository {
    fn ref_targets(&self) -> Option<Vec<(Oid, ObjectType)>> {
        super::history::ref_targets(self)
    }

    fn tips(&self, presence: Presence) -> Tips {
        super::tips::tips(self, presence)
    }

    fn commit_meta(&self, oid: Oid) -> CommitMeta {
        super::meta::commit_meta(self, oid)
    }

    fn blob(&self, oid: Oid) -> Option<Vec<u8>> {
        Some(self.find_blob(oid).ok()?.content().to_vec())
    }
}
