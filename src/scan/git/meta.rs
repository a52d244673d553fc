//! Commits as reports show them: the author as `Name <email>` and the author date in RFC 3339.

use crate::verify::clock::rfc3339;
use git2::{Oid, Repository};
use std::collections::HashMap;

/// A commit's author and date, looked up once per commit.
#[derive(Debug, Clone, Default)]
pub struct CommitMeta {
    pub author: Option<String>,
    pub date: Option<String>,
}

/// Looks up commits for reports, each once.
#[derive(Default)]
pub(super) struct MetaCache {
    seen: HashMap<Oid, CommitMeta>,
}

impl MetaCache {
    pub fn get(&mut self, repo: &Repository, oid: Oid) -> CommitMeta {
        self.seen
            .entry(oid)
            .or_insert_with(|| commit_meta(repo, oid))
            .clone()
    }
}

/// The author and author date of commit `oid`; both None when it cannot be read.
pub fn commit_meta(repo: &Repository, oid: Oid) -> CommitMeta {
    let Ok(c) = repo.find_commit(oid) else {
        return CommitMeta::default();
    };
    let a = c.author();
    let name = String::from_utf8_lossy(a.name_bytes());
    let email = String::from_utf8_lossy(a.email_bytes());
    CommitMeta {
        author: Some(format!("{name} <{email}>")),
        date: Some(rfc3339(a.when().seconds())),
    }
}
