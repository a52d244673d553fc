//! Commits as reports show them: the author as `Name <email>` and the author date in RFC 3339.

use super::lookup::Lookup;
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
    pub fn get(&mut self, repo: &dyn Lookup, oid: Oid) -> CommitMeta {
        self.seen
            .entry(oid)
            .or_insert_with(|| repo.commit_meta(oid))
            .clone()
    }
}

/// The author and author date of commit `oid`; both None when it cannot be read.
pub fn commit_meta(repo: &Repository, oid: Oid) -> CommitMeta {
    if let Some(head) = super::objects::large_commit_head(repo, oid) {
        return meta_of_head(&head);
    }
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

/// The author and author date in a raw commit header (`author Name <email> 1700000000 +0100`),
/// read as libgit2 reads them: the name and the email trimmed.
pub(super) fn meta_of_head(head: &[u8]) -> CommitMeta {
    let Some(line) = head
        .split(|b| *b == b'\n')
        .find_map(|l| l.strip_prefix(b"author "))
    else {
        return CommitMeta::default();
    };
    let (Some(lt), Some(gt)) = (memchr::memchr(b'<', line), memchr::memrchr(b'>', line)) else {
        return CommitMeta::default();
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b.trim_ascii()).into_owned();
    let seconds = std::str::from_utf8(&line[(gt + 1).max(lt)..])
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    CommitMeta {
        author: Some(format!(
            "{} <{}>",
            text(&line[..lt]),
            text(&line[lt + 1..gt.max(lt + 1)])
        )),
        date: Some(rfc3339(seconds)),
    }
}
