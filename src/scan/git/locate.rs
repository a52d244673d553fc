//! From blobs with findings back to history: a second pass over the commits, walking only the
//! trees that hold such blobs (each tree's answer kept), groups findings per key and path with the
//! commit that introduced it, the last that still had it, how many had it, and HEAD.

use super::blobs::Done;
use super::meta::MetaCache;
use super::oidmap::{OidMap, OidSet};
use super::{GitOutcome, history};
use crate::finding::{Finding, GitInfo, GitStats, Skipped};
use git2::{ObjectType, Oid, Repository};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// Findings per blob and per commit message, gathered from the workers.
#[derive(Default)]
pub(super) struct Hits {
    pub blobs: HashMap<Oid, Vec<Finding>>,
    pub messages: HashMap<Oid, Vec<Finding>>,
    pub skipped: Vec<Skipped>,
    pub stats: GitStats,
    pub bytes: u64,
    pub placeholders: u64,
    pub suppressed_inline: u64,
}

impl Hits {
    pub fn add(&mut self, d: Done) {
        let o = d.outcome;
        if d.is_blob {
            if d.read {
                self.stats.blobs_scanned += 1;
                self.stats.bytes_scanned += o.bytes;
            } else {
                self.stats.blobs_skipped += 1;
            }
        }
        self.bytes += o.bytes;
        self.placeholders += o.placeholders;
        self.suppressed_inline += o.suppressed_inline;
        self.skipped.extend(o.skipped);
        if !o.findings.is_empty() {
            let map = if d.is_blob {
                &mut self.blobs
            } else {
                &mut self.messages
            };
            let mut findings = o.findings;
            findings.sort_by_key(|f| f.offset);
            map.insert(d.oid, findings);
        }
    }
}

/// The first finding of each distinct key in `findings` (sorted by offset).
pub(super) fn first_per_key(findings: &[Finding]) -> Vec<&Finding> {
    let mut seen = HashSet::new();
    findings
        .iter()
        .filter(|f| seen.insert(f.fingerprint.as_str()))
        .collect()
}

/// One key at one path across history.
struct Group {
    first: usize,
    blob: Oid,
    last: usize,
    count: u64,
}

/// Groups the findings of `hits` per key and path across `commits` (oldest first).
pub(super) fn group(
    repo: &Repository,
    commits: &[(Oid, &'static str)],
    hits: Hits,
    head: Option<Oid>,
    blob_reach: &HashMap<Oid, &'static str>,
) -> GitOutcome {
    let wanted: OidSet = hits.blobs.keys().copied().collect();
    let mut memo = TreeMemo::new(repo, &wanted);
    let mut groups: HashMap<(String, String), Group> = HashMap::new();
    let mut located = HashSet::new();
    if !wanted.is_empty() {
        for (i, (oid, _)) in commits.iter().enumerate() {
            let Ok(tree) = repo.find_commit(*oid).map(|c| c.tree_id()) else {
                continue;
            };
            for (path, blob) in memo.entries(tree).iter() {
                located.insert(*blob);
                for f in first_per_key(&hits.blobs[blob]) {
                    groups
                        .entry((f.fingerprint.clone(), path.clone()))
                        .and_modify(|g| {
                            g.last = i;
                            g.count += 1;
                        })
                        .or_insert(Group {
                            first: i,
                            blob: *blob,
                            last: i,
                            count: 1,
                        });
                }
            }
        }
    }
    let at_head: HashSet<(String, String)> = head
        .map(|t| memo.entries(t))
        .into_iter()
        .flat_map(|e| e.iter().cloned().collect::<Vec<_>>())
        .flat_map(|(path, blob)| {
            first_per_key(&hits.blobs[&blob])
                .into_iter()
                .map(move |f| (f.fingerprint.clone(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut meta = MetaCache::default();
    let mut findings = Vec::new();
    for ((fp, path), g) in groups {
        let base = hits.blobs[&g.blob].iter().find(|f| f.fingerprint == fp);
        let (commit, reach) = commits[g.first];
        let m = meta.get(repo, commit);
        let mut f = base.expect("grouped from this blob").clone();
        f.origin.path = path.clone();
        f.git = Some(Box::new(GitInfo {
            object: "blob",
            reached_by: reach,
            commit: Some(commit.to_string()),
            author: m.author,
            date: m.date,
            blob: Some(g.blob.to_string()),
            last_seen: Some(commits[g.last].0.to_string()),
            commits: Some(g.count),
            at_head: Some(at_head.contains(&(fp, path))),
        }));
        findings.push(f);
    }
    // Blobs no commit holds: reached from a ref or found unreachable by `--all-objects`.
    for (blob, list) in hits.blobs.iter().filter(|(b, _)| !located.contains(*b)) {
        for f in first_per_key(list) {
            let mut f = f.clone();
            f.git = Some(Box::new(GitInfo {
                object: "blob",
                reached_by: blob_reach.get(blob).copied().unwrap_or(history::REFS),
                blob: Some(blob.to_string()),
                ..GitInfo::default()
            }));
            findings.push(f);
        }
    }
    let reach: HashMap<Oid, &'static str> = commits.iter().copied().collect();
    for (commit, list) in &hits.messages {
        let m = meta.get(repo, *commit);
        for f in first_per_key(list) {
            let mut f = f.clone();
            f.git = Some(Box::new(message_info(
                *commit,
                reach.get(commit).copied().unwrap_or(history::REFS),
                m.clone(),
                Some(1),
            )));
            findings.push(f);
        }
    }
    GitOutcome {
        findings,
        skipped: hits.skipped,
        stats: hits.stats,
        placeholders: hits.placeholders,
        bytes: hits.bytes,
        suppressed_inline: hits.suppressed_inline,
    }
}

/// Where a key in the message of `commit` is.
/// `commits` is 1 in a history scan (one commit carries a message) and unknown (null) in a range.
pub(super) fn message_info(
    commit: Oid,
    reached_by: &'static str,
    m: super::meta::CommitMeta,
    commits: Option<u64>,
) -> GitInfo {
    GitInfo {
        object: "commit-message",
        reached_by,
        commit: Some(commit.to_string()),
        author: m.author,
        date: m.date,
        commits,
        ..GitInfo::default()
    }
}

/// For each tree, the (path, blob) pairs under it whose blob is wanted; empty for most trees.
struct TreeMemo<'r> {
    repo: &'r Repository,
    wanted: &'r OidSet,
    memo: OidMap<Rc<Vec<(String, Oid)>>>,
    empty: Rc<Vec<(String, Oid)>>,
}

impl<'r> TreeMemo<'r> {
    fn new(repo: &'r Repository, wanted: &'r OidSet) -> Self {
        TreeMemo {
            repo,
            wanted,
            memo: OidMap::default(),
            empty: Rc::new(Vec::new()),
        }
    }

    fn entries(&mut self, tree: Oid) -> Rc<Vec<(String, Oid)>> {
        if let Some(found) = self.memo.get(&tree) {
            return found.clone();
        }
        let mut out = Vec::new();
        let repo = self.repo;
        if let Ok(t) = repo.find_tree(tree) {
            for e in t.iter() {
                let name = || String::from_utf8_lossy(e.name_bytes());
                match e.kind() {
                    Some(ObjectType::Blob) if self.wanted.contains(&e.id()) => {
                        out.push((name().into_owned(), e.id()));
                    }
                    Some(ObjectType::Tree) => {
                        for (p, b) in self.entries(e.id()).iter() {
                            out.push((format!("{}/{p}", name()), *b));
                        }
                    }
                    _ => {}
                }
            }
        }
        let rc = if out.is_empty() {
            self.empty.clone()
        } else {
            Rc::new(out)
        };
        self.memo.insert(tree, rc.clone());
        rc
    }
}
