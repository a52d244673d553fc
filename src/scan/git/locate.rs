//! From blobs with findings back to history: a second pass over the commits, walking only the
//! trees that hold such blobs (each tree's answer kept), groups findings per key and path with the
//! commit that introduced it, the last that still had it, how many had it, and HEAD.

use super::blobs::Done;
use super::meta::MetaCache;
use super::oidmap::{OidMap, OidSet};
use super::{GitOutcome, history};
use crate::finding::{Finding, GitInfo, GitStats, Skipped};
use git2::{Oid, Repository};
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

impl Hits {
    /// One finding per key in each commit message, located at its commit. `commits` is 1 in a
    /// history scan (one commit carries a message) and unknown (None) in a range.
    pub fn message_findings(
        &self,
        repo: &Repository,
        meta: &mut MetaCache,
        reached_by: &dyn Fn(Oid) -> &'static str,
        commits: Option<u64>,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        for (commit, list) in &self.messages {
            let m = meta.get(repo, *commit);
            for f in first_per_key(list) {
                let mut f = f.clone();
                f.git = Some(Box::new(GitInfo {
                    object: "commit-message",
                    reached_by: reached_by(*commit),
                    commit: Some(commit.to_string()),
                    author: m.author.clone(),
                    date: m.date.clone(),
                    commits,
                    ..GitInfo::default()
                }));
                out.push(f);
            }
        }
        out
    }

    /// What a scan reports: `findings`, with these hits' notes and counters.
    pub fn into_outcome(self, findings: Vec<Finding>) -> GitOutcome {
        GitOutcome {
            findings,
            skipped: self.skipped,
            stats: self.stats,
            placeholders: self.placeholders,
            bytes: self.bytes,
            suppressed_inline: self.suppressed_inline,
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

/// Threads of the second pass.
const PASS_THREADS: usize = 2;

/// Per path, per key: a path is allocated once, not once a commit.
struct Groups(HashMap<String, HashMap<String, Group>>);

impl Groups {
    fn new() -> Self {
        Groups(HashMap::new())
    }

    /// Counts `blob`'s keys as present at `path` in commit `i` (commits come in order).
    fn add(&mut self, path: &str, blob: Oid, i: usize, hits: &Hits) {
        let by_key = match self.0.get_mut(path) {
            Some(g) => g,
            None => self.0.entry(path.to_string()).or_default(),
        };
        for f in first_per_key(&hits.blobs[&blob]) {
            match by_key.get_mut(&f.fingerprint) {
                Some(g) => {
                    g.last = i;
                    g.count += 1;
                }
                None => {
                    let g = Group {
                        first: i,
                        blob,
                        last: i,
                        count: 1,
                    };
                    by_key.insert(f.fingerprint.clone(), g);
                }
            }
        }
    }

    /// Adds the groups of a later part of the history.
    fn merge(&mut self, later: Groups) {
        for (path, by_key) in later.0 {
            let mine = self.0.entry(path).or_default();
            for (fp, g) in by_key {
                match mine.get_mut(&fp) {
                    Some(m) => {
                        m.last = g.last;
                        m.count += g.count;
                    }
                    None => {
                        mine.insert(fp, g);
                    }
                }
            }
        }
    }
}

/// The groups of the commits `part`, the first of which is commit number `first`.
fn walk_part(
    git_dir: &std::path::Path,
    part: &[(Oid, &'static str)],
    first: usize,
    hits: &Hits,
    wanted: &OidSet,
) -> (Groups, Vec<Oid>) {
    let mut groups = Groups::new();
    let mut located = Vec::new();
    let Ok(repo) = Repository::open(git_dir) else {
        return (groups, located);
    };
    let odb = repo.odb().ok();
    let mut memo = TreeMemo::new(odb.as_ref(), wanted);
    for (k, (oid, _)) in part.iter().enumerate() {
        let Ok(tree) = repo.find_commit(*oid).map(|c| c.tree_id()) else {
            continue;
        };
        if let Some(node) = memo.node(tree) {
            node.visit(&mut String::new(), &mut |path, blob| {
                located.push(blob);
                groups.add(path, blob, first + k, hits);
            });
        }
    }
    (groups, located)
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
    let mut groups = Groups::new();
    let mut located = HashSet::new();
    if !wanted.is_empty() {
        // Two halves of the history on two threads, each with its own handle and tree memo:
        // the trees they share are read twice, the pass takes about two thirds of the time.
        let half = commits.len().div_ceil(PASS_THREADS).max(1);
        let git_dir = repo.path().to_path_buf();
        let parts: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = commits
                .chunks(half)
                .enumerate()
                .map(|(n, part)| {
                    let (hits, wanted, git_dir) = (&hits, &wanted, &git_dir);
                    s.spawn(move || walk_part(git_dir, part, n * half, hits, wanted))
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        for (part, seen) in parts {
            groups.merge(part);
            located.extend(seen);
        }
    }
    let odb = repo.odb().ok();
    let mut memo = TreeMemo::new(odb.as_ref(), &wanted);
    let mut at_head: HashSet<(String, String)> = HashSet::new();
    if let Some(node) = head.and_then(|t| memo.node(t)) {
        node.visit(&mut String::new(), &mut |path, blob| {
            for f in first_per_key(&hits.blobs[&blob]) {
                at_head.insert((f.fingerprint.clone(), path.to_string()));
            }
        });
    }
    let groups = groups.0.into_iter().flat_map(|(path, by_key)| {
        by_key
            .into_iter()
            .map(move |(fp, g)| ((fp, path.clone()), g))
    });
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
    let reached_by = |c: Oid| reach.get(&c).copied().unwrap_or(history::REFS);
    findings.extend(hits.message_findings(repo, &mut meta, &reached_by, Some(1)));
    hits.into_outcome(findings)
}

/// A tree reduced to what leads to wanted blobs, shared by every tree that holds it.
struct Node {
    entries: Vec<(Box<str>, Child)>,
}

enum Child {
    Blob(Oid),
    Tree(Rc<Node>),
}

impl Node {
    /// Calls `f` with each wanted blob under this node and its path (`prefix` + name).
    fn visit(&self, prefix: &mut String, f: &mut dyn FnMut(&str, Oid)) {
        for (name, child) in &self.entries {
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(name);
            match child {
                Child::Blob(oid) => f(prefix, *oid),
                Child::Tree(node) => node.visit(prefix, f),
            }
            prefix.truncate(len);
        }
    }
}

/// For each tree, the node of what under it is wanted (None for most trees), each tree read once.
struct TreeMemo<'r> {
    odb: Option<&'r git2::Odb<'r>>,
    wanted: &'r OidSet,
    memo: OidMap<Option<Rc<Node>>>,
}

impl<'r> TreeMemo<'r> {
    fn new(odb: Option<&'r git2::Odb<'r>>, wanted: &'r OidSet) -> Self {
        TreeMemo {
            odb,
            wanted,
            memo: OidMap::default(),
        }
    }

    fn node(&mut self, tree: Oid) -> Option<Rc<Node>> {
        if let Some(found) = self.memo.get(&tree) {
            return found.clone();
        }
        let mut entries = Vec::new();
        // The raw tree, parsed here: libgit2's tree objects allocate for every entry, and this
        // pass reads every tree of the history.
        let odb = self.odb;
        if let Some(raw) = odb.and_then(|odb| odb.read(tree).ok()) {
            for (mode, name, id) in RawTree(raw.data()) {
                let child = if mode == b"40000" {
                    self.node(id).map(Child::Tree)
                } else if mode != b"160000" && self.wanted.contains(&id) {
                    Some(Child::Blob(id))
                } else {
                    None
                };
                if let Some(child) = child {
                    entries.push((String::from_utf8_lossy(name).into(), child));
                }
            }
        }
        let node = (!entries.is_empty()).then(|| Rc::new(Node { entries }));
        self.memo.insert(tree, node.clone());
        node
    }
}

/// The entries of a raw tree object: `<mode> <name>\0<20-byte id>`, repeated.
struct RawTree<'a>(&'a [u8]);

impl<'a> Iterator for RawTree<'a> {
    type Item = (&'a [u8], &'a [u8], Oid);

    fn next(&mut self) -> Option<Self::Item> {
        let data = self.0;
        let space = memchr::memchr(b' ', data)?;
        let nul = space + 1 + memchr::memchr(0, &data[space + 1..])?;
        let id = data.get(nul + 1..nul + 21)?;
        self.0 = &data[nul + 21..];
        Some((
            &data[..space],
            &data[space + 1..nul],
            Oid::from_bytes(id).ok()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::RawTree;

    #[test]
    fn raw_trees_parse() {
        let mut raw = b"100644 a.txt\0".to_vec();
        raw.extend([1u8; 20]);
        raw.extend(b"40000 dir\0");
        raw.extend([2u8; 20]);
        let entries: Vec<_> = RawTree(&raw)
            .map(|(m, n, _)| (m.to_vec(), n.to_vec()))
            .collect();
        assert_eq!(
            entries,
            [
                (b"100644".to_vec(), b"a.txt".to_vec()),
                (b"40000".to_vec(), b"dir".to_vec())
            ]
        );
        assert_eq!(RawTree(&raw[..30]).count(), 0, "a cut entry ends the walk");
    }
}
