//! From blobs with findings back to history: a second pass over the commits, walking only the
//! trees that hold such blobs (each tree's answer kept), groups findings per key and path with the
//! commit that introduced it, the last that still had it, how many had it, and HEAD.

use super::forest::{Forests, Source};
use crate::finding::{Finding, GitInfo, GitObject, Reach, Skipped};
use crate::scan::git::blobs::Done;
use crate::scan::git::lookup::Lookup;
use crate::scan::git::meta::MetaCache;
use crate::scan::git::oidmap::{OidMap, OidSet};
use crate::scan::git::tips::Tips;
use crate::scan::git::{GitOutcome, HistoryFacts};
use crate::stats::GitStats;
use git2::Oid;
use std::collections::{HashMap, HashSet};

/// Findings per blob and per commit message, gathered from the workers.
#[derive(Default)]
pub(crate) struct Hits {
    pub blobs: HashMap<Oid, Vec<Finding>>,
    pub messages: HashMap<Oid, Vec<Finding>>,
    /// Blobs without findings whose notes need their path.
    pub noted: OidSet,
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
        repo: &dyn Lookup,
        meta: &mut MetaCache,
        reached_by: &dyn Fn(Oid) -> Reach,
        commits: Option<u64>,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        for (commit, list) in &self.messages {
            let m = meta.get(repo, *commit);
            for f in first_per_key(list) {
                let mut f = f.clone();
                f.git = Some(Box::new(GitInfo {
                    object: GitObject::CommitMessage,
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
            ..GitOutcome::default()
        }
    }
}

/// The first finding of each distinct key in `findings` (sorted by offset).
pub(crate) fn first_per_key(findings: &[Finding]) -> Vec<&Finding> {
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
    last_blob: Oid,
    count: u64,
}

/// Threads of the second pass.
const PASS_THREADS: usize = 2;

/// The distinct keys of the hits, numbered, and each blob's keys by number: the pass meets a
/// blob once per commit holding it, and looks its keys up by number, not by fingerprint.
struct Keys {
    fingerprints: Vec<String>,
    of_blob: OidMap<Vec<u32>>,
}

impl Keys {
    /// The keys of `blob`: none for a blob wanted only for its path.
    fn of(&self, blob: Oid) -> &[u32] {
        self.of_blob.get(&blob).map_or(&[], Vec::as_slice)
    }

    fn new(hits: &Hits) -> Keys {
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let mut fingerprints = Vec::new();
        let mut of_blob = OidMap::default();
        for (blob, list) in &hits.blobs {
            let mut keys = Vec::new();
            for f in first_per_key(list) {
                let id = *ids.entry(&f.fingerprint).or_insert_with(|| {
                    fingerprints.push(f.fingerprint.clone());
                    (fingerprints.len() - 1) as u32
                });
                keys.push(id);
            }
            of_blob.insert(*blob, keys);
        }
        Keys {
            fingerprints,
            of_blob,
        }
    }
}

/// Per path, per key: a path is allocated once, not once a commit. Also, per key, the commits
/// carrying it at any path.
struct Groups {
    by_path: HashMap<String, Vec<(u32, Group)>>,
    key_commits: Vec<u64>,
}

impl Groups {
    fn new(keys: &Keys) -> Groups {
        Groups {
            by_path: HashMap::new(),
            key_commits: vec![0; keys.fingerprints.len()],
        }
    }

    /// Counts `blob`'s keys as present at `path` in commit `i` (commits come in order), and
    /// notes them in `seen`, the keys of commit `i` so far.
    fn add(&mut self, path: &str, blob: Oid, i: usize, keys: &Keys, seen: &mut Vec<u32>) {
        if keys.of(blob).is_empty() {
            return;
        }
        let by_key = match self.by_path.get_mut(path) {
            Some(g) => g,
            None => self.by_path.entry(path.to_string()).or_default(),
        };
        for &k in keys.of(blob) {
            seen.push(k);
            if let Some((_, g)) = by_key.iter_mut().find(|(id, _)| *id == k) {
                g.last = i;
                g.last_blob = blob;
                g.count += 1;
            } else {
                let g = Group {
                    first: i,
                    blob,
                    last: i,
                    last_blob: blob,
                    count: 1,
                };
                by_key.push((k, g));
            }
        }
    }

    /// Counts each key of one commit once.
    fn commit_done(&mut self, seen: &mut Vec<u32>) {
        seen.sort_unstable();
        seen.dedup();
        for k in seen.drain(..) {
            self.key_commits[k as usize] += 1;
        }
    }

    /// Adds the groups of a later part of the history.
    fn merge(&mut self, later: Groups) {
        for (path, by_key) in later.by_path {
            let mine = self.by_path.entry(path).or_default();
            for (k, g) in by_key {
                match mine.iter_mut().find(|(id, _)| *id == k) {
                    Some((_, m)) => {
                        m.last = g.last;
                        m.last_blob = g.last_blob;
                        m.count += g.count;
                    }
                    None => mine.push((k, g)),
                }
            }
        }
        for (mine, n) in self.key_commits.iter_mut().zip(later.key_commits) {
            *mine += n;
        }
    }
}

/// The groups of the commits `part`, the first of which is commit number `first`, and the
/// first path of each wanted blob met.
fn walk_part(
    forests: &Forests<'_>,
    part: &[(Oid, Reach)],
    first: usize,
    keys: &Keys,
) -> (Groups, OidMap<String>) {
    let mut groups = Groups::new(keys);
    let mut paths = OidMap::default();
    let Some(mut forest) = forests.open() else {
        return (groups, paths);
    };
    let mut seen = Vec::new();
    for (k, (oid, _)) in part.iter().enumerate() {
        forest.commit(*oid, &mut |path, blob| {
            paths.entry(blob).or_insert_with(|| path.to_string());
            groups.add(path, blob, first + k, keys, &mut seen);
        });
        groups.commit_done(&mut seen);
    }
    (groups, paths)
}

/// Groups the findings of `hits` per key and path across `commits` (oldest first), with
/// presence at the `tips`, reading trees from `source`. Also gives the first path of each
/// blob with findings or notes that some commit holds.
pub(super) fn group(
    repo: &dyn Lookup,
    commits: &[(Oid, Reach)],
    hits: Hits,
    (tips, source): (&Tips, Source<'_>),
    blob_reach: &HashMap<Oid, Reach>,
) -> (GitOutcome, OidMap<String>) {
    let wanted: OidSet = hits.blobs.keys().chain(&hits.noted).copied().collect();
    let keys = Keys::new(&hits);
    let forests = Forests::new(source, &wanted);
    let (groups, paths) = walk(&forests, commits, &keys);
    let present = Present::at(&forests, &keys, tips);
    let mut meta = MetaCache::default();
    let mut findings = Vec::new();
    let mut history = Vec::new();
    for (path, by_key) in groups.by_path {
        for (k, g) in by_key {
            let fp = &keys.fingerprints[k as usize];
            let (mut f, mut facts) = grouped(repo, commits, &hits, &mut meta, (fp, &path), &g);
            facts.key_commits = Some(groups.key_commits[k as usize]);
            with_presence(&mut f, &mut facts, &present);
            findings.push(f);
            history.push(facts);
        }
    }
    // Blobs no commit holds: reached from a ref or found unreachable by `--all-objects`.
    for (blob, list) in hits.blobs.iter().filter(|(b, _)| !paths.contains_key(*b)) {
        for f in first_per_key(list) {
            let mut f = f.clone();
            f.git = Some(Box::new(GitInfo {
                object: GitObject::Blob,
                reached_by: blob_reach.get(blob).copied().unwrap_or(Reach::Refs),
                blob: Some(blob.to_string()),
                ..GitInfo::default()
            }));
            findings.push(f);
            history.push(HistoryFacts::default());
        }
    }
    let reach: HashMap<Oid, Reach> = commits.iter().copied().collect();
    let order: HashMap<Oid, u64> = (commits.iter().enumerate())
        .map(|(i, (c, _))| (*c, i as u64))
        .collect();
    let reached_by = |c: Oid| reach.get(&c).copied().unwrap_or(Reach::Refs);
    let mut messages = hits.message_findings(repo, &mut meta, &reached_by, Some(1));
    for f in &mut messages {
        let mut facts = HistoryFacts::default();
        if let Some(g) = f.git.as_mut() {
            let at = g.commit.as_deref().and_then(|c| Oid::from_str(c).ok());
            facts.order = at.and_then(|c| order.get(&c)).map(|&i| (i, i));
            g.last_seen.clone_from(&g.commit);
            facts.last_line = Some(f.line);
            facts.key_commits = Some(1);
        }
        history.push(facts);
    }
    findings.extend(messages);
    let mut outcome = hits.into_outcome(findings);
    outcome.history = history;
    outcome.default_branch.clone_from(&tips.head_name);
    outcome.head_commit = tips.head_commit.map(|c| c.to_string());
    (outcome, paths)
}

/// The groups of every commit, on `PASS_THREADS` threads, and the first path of each wanted
/// blob some commit holds.
fn walk(forests: &Forests<'_>, commits: &[(Oid, Reach)], keys: &Keys) -> (Groups, OidMap<String>) {
    let mut groups = Groups::new(keys);
    let mut paths = OidMap::default();
    if forests.wants_nothing() {
        return (groups, paths);
    }
    // Two halves of the history on two threads, each with its own reader (sharing what they
    // read: a tree both halves hold is read once).
    let half = commits.len().div_ceil(PASS_THREADS).max(1);
    let parts: Vec<_> = std::thread::scope(|s| {
        let started: Vec<_> = commits
            .chunks(half)
            .enumerate()
            .map(|(n, part)| {
                let job = move || walk_part(forests, part, n * half, keys);
                (
                    job,
                    crate::threads::spawn_scoped(s, "keyhound-paths", job).ok(),
                )
            })
            .collect();
        // A half whose thread the system refused is walked here.
        (started.into_iter())
            .filter_map(|(job, h)| h.map_or_else(|| Some(job()), |h| h.join().ok()))
            .collect()
    });
    // Parts come oldest first: a blob's first path is the earliest part's.
    for (part, part_paths) in parts {
        groups.merge(part);
        for (blob, path) in part_paths {
            paths.entry(blob).or_insert(path);
        }
    }
    (groups, paths)
}

/// Which (key, path) pairs the tips hold: HEAD's and each branch's.
#[derive(Default)]
struct Present {
    head: HashSet<(String, String)>,
    branches: HashMap<(String, String), Vec<String>>,
}

impl Present {
    fn at(forests: &Forests<'_>, keys: &Keys, tips: &Tips) -> Present {
        let mut present = Present::default();
        let Some(mut forest) = forests.open().filter(|_| !forests.wants_nothing()) else {
            return present;
        };
        let mut pairs = |tree: Oid, f: &mut dyn FnMut((String, String))| {
            forest.tree(tree, &mut |path, blob| {
                for &k in keys.of(blob) {
                    f((keys.fingerprints[k as usize].clone(), path.to_string()));
                }
            });
        };
        if let Some(head) = tips.head {
            pairs(head, &mut |p| {
                present.head.insert(p);
            });
        }
        for (name, tree) in &tips.branches {
            pairs(*tree, &mut |p| {
                present.branches.entry(p).or_default().push(name.clone());
            });
        }
        present
    }
}

/// The finding of key `fp` at `path` as group `g` has it: introduced, last seen, how often;
/// with where those stand in the commit order.
fn grouped(
    repo: &dyn Lookup,
    commits: &[(Oid, Reach)],
    hits: &Hits,
    meta: &mut MetaCache,
    (fp, path): (&str, &str),
    g: &Group,
) -> (Finding, HistoryFacts) {
    let line_in = |blob: Oid| hits.blobs[&blob].iter().find(|f| f.fingerprint == fp);
    let (commit, reach) = commits[g.first];
    let m = meta.get(repo, commit);
    let mut f = line_in(g.blob).expect("grouped from this blob").clone();
    f.origin.path = path.to_string();
    f.git = Some(Box::new(GitInfo {
        object: GitObject::Blob,
        reached_by: reach,
        commit: Some(commit.to_string()),
        author: m.author,
        date: m.date,
        blob: Some(g.blob.to_string()),
        last_seen: Some(commits[g.last].0.to_string()),
        commits: Some(g.count),
        ..GitInfo::default()
    }));
    let facts = HistoryFacts {
        order: Some((g.first as u64, g.last as u64)),
        last_line: line_in(g.last_blob).map(|l| l.line),
        ..HistoryFacts::default()
    };
    (f, facts)
}

/// Says whether HEAD and which branches hold `f`.
fn with_presence(f: &mut Finding, facts: &mut HistoryFacts, p: &Present) {
    let pair = (f.fingerprint.clone(), f.origin.path.clone());
    if let Some(g) = f.git.as_mut() {
        g.at_head = Some(p.head.contains(&pair));
        facts.on_branches = p.branches.get(&pair).cloned().unwrap_or_default();
    }
}
