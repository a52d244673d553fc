//! Commits as reports show them: the author as `Name <email>` and the author date in RFC 3339.

use crate::verify::clock::rfc3339;
use git2::{Oid, Repository};
use std::collections::HashMap;

/// A commit's author and date, looked up once per commit.
#[derive(Debug, Clone, Default)]
pub(super) struct CommitMeta {
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
            .or_insert_with(|| match repo.find_commit(oid) {
                Ok(c) => {
                    let a = c.author();
                    let name = String::from_utf8_lossy(a.name_bytes()).into_owned();
                    let email = String::from_utf8_lossy(a.email_bytes()).into_owned();
                    CommitMeta {
                        author: Some(format!("{name} <{email}>")),
                        date: Some(rfc3339(a.when().seconds())),
                    }
                }
                Err(_) => CommitMeta::default(),
            })
            .clone()
    }
}
