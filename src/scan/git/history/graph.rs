//! The history's shape, taken from the object stream instead of read twice more: each commit's
//! tree and parents, each tree's subtrees and the wanted blobs it holds, kept compactly (object
//! numbers, names interned). It answers which objects the refs reach (what `git rev-list
//! --objects --all` would list) and gives the second pass its trees without inflating any again.

use crate::finding::Reach;
use crate::scan::git::lookup::Lookup;
use crate::scan::git::objects::{Links, RawId, RawTree, large_commit_head, peeled_commit, raw};
use crate::scan::git::oidmap::{OidHasher, OidMap, OidSet};
use git2::{ObjectType, Oid, Repository};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// Every commit of `reached` (the commits the refs reach), oldest first: parents before children, and where the
/// order is free, older committer time first (what libgit2's topological, time-sorted,
/// reversed walk gives, here without reading a commit again).
pub(crate) fn commit_order(
    links: &OidMap<Links>,
    reached: &OidMap<Oid>,
) -> Vec<(Oid, crate::finding::Reach)> {
    let mut children: OidMap<u32> = reached.keys().map(|c| (*c, 0)).collect();
    for c in reached.keys() {
        for p in links.get(c).map_or(&[][..], |l| &l.parents) {
            if let Some(n) = children.get_mut(p) {
                *n += 1;
            }
        }
    }
    let time = |c: &Oid| links.get(c).map_or(0, |l| l.time);
    // Newest first from the tips down, then reversed.
    let mut ready: std::collections::BinaryHeap<(i64, Oid)> = (children.iter())
        .filter(|(_, n)| **n == 0)
        .map(|(c, _)| (time(c), *c))
        .collect();
    let mut out = Vec::with_capacity(reached.len());
    while let Some((_, c)) = ready.pop() {
        out.push((c, Reach::Refs));
        for p in links.get(&c).map_or(&[][..], |l| &l.parents) {
            if let Some(n) = children.get_mut(p) {
                *n -= 1;
                if *n == 0 {
                    ready.push((time(p), *p));
                }
            }
        }
    }
    out.reverse();
    out
}

/// Flags of one object number.
const REACHED: u8 = 1;
const TREE: u8 = 2;
const ARRIVED: u8 = 4;
const BLOB: u8 = 8;
const WANTED: u8 = 16;
/// A tree that holds a wanted blob, here or below.
const HOLDS: u8 = 32;

/// No tree record (a tree not read yet, or no tree).
const NONE: u32 = u32::MAX;

/// Slots of the cache of recent lookups.
const RECENT: usize = 1 << 14;

/// An edge of a tree: (name number, object number).
type Edge = (u32, u32);

/// Where a tree's edges lie in the graph's edge lists.
struct Span {
    subtrees: (u32, u32),
    wanted: (u32, u32),
}

/// The graph, built from the trees as they stream in.
pub(crate) struct Graph {
    /// Object numbers by raw id: `Oid`'s equality is a call into libgit2, and a large history
    /// has millions of tree entries to look up.
    numbers: HashMap<RawId, u32, BuildHasherDefault<OidHasher>>,
    /// The numbers looked up last, by the low bits of their ids: a tree shares most entries
    /// with the version of it read just before, and this answers them from the cache.
    recent: Vec<(RawId, u32)>,
    oids: Vec<Oid>,
    flags: Vec<u8>,
    /// Per object number: its tree's span, or NONE.
    tree_at: Vec<u32>,
    spans: Vec<Span>,
    /// (name, object number) of every subtree entry, then of every wanted blob entry.
    subtrees: Vec<Edge>,
    wanted_edges: Vec<Edge>,
    names: Vec<Box<str>>,
    name_numbers: HashMap<Box<[u8]>, u32>,
    /// The blobs of trees not known to be reached yet.
    pending: HashMap<u32, Vec<u32>>,
    /// Blobs named `.gitmodules`.
    gitmodules: Vec<u32>,
    /// Commits the refs reach, and their trees.
    commits: OidMap<Oid>,
    /// Bytes of an object id in a raw tree: 20 (SHA-1), 32 (SHA-256).
    id_width: usize,
}

impl Graph {
    /// An empty graph that keeps the tree entries of the `wanted` blobs.
    #[cfg(test)]
    pub fn new(wanted: &OidSet) -> Graph {
        Graph::with_capacity(wanted, (0, 0))
    }

    /// An empty graph for about `objects` objects, `trees` of them trees: growing by doubling
    /// would hold half as much again, and twice that while a table is rebuilt.
    pub fn with_capacity(wanted: &OidSet, (objects, trees): (usize, usize)) -> Graph {
        let mut g = Graph {
            numbers: HashMap::with_capacity_and_hasher(objects, BuildHasherDefault::default()),
            recent: vec![([0; 20], NONE); RECENT],
            oids: Vec::with_capacity(objects),
            flags: Vec::with_capacity(objects),
            tree_at: Vec::with_capacity(objects),
            spans: Vec::with_capacity(trees),
            subtrees: Vec::new(),
            wanted_edges: Vec::new(),
            names: Vec::new(),
            name_numbers: HashMap::new(),
            pending: HashMap::new(),
            gitmodules: Vec::new(),
            commits: OidMap::default(),
            id_width: 20,
        };
        for oid in wanted {
            let n = g.number(&raw(*oid));
            g.flags[n as usize] |= WANTED;
        }
        g
    }

    /// The same graph for trees whose ids are `width` bytes long (32 in a SHA-256 repository).
    pub fn with_id_width(mut self, width: usize) -> Graph {
        self.id_width = width;
        self
    }

    fn number(&mut self, id: &RawId) -> u32 {
        let slot = usize::from(u16::from_le_bytes([id[0], id[1]])) % RECENT;
        let (recent, n) = &self.recent[slot];
        if recent == id && *n != NONE {
            return *n;
        }
        let n = self.lookup(id);
        self.recent[slot] = (*id, n);
        n
    }

    fn lookup(&mut self, id: &RawId) -> u32 {
        if let Some(&n) = self.numbers.get(id) {
            return n;
        }
        let n = self.oids.len() as u32;
        self.numbers.insert(*id, n);
        self.oids
            .push(Oid::from_bytes(id).unwrap_or(Oid::ZERO_SHA1));
        self.flags.push(0);
        self.tree_at.push(NONE);
        n
    }

    fn name(&mut self, name: &[u8]) -> u32 {
        if let Some(&n) = self.name_numbers.get(name) {
            return n;
        }
        let n = self.names.len() as u32;
        self.names.push(String::from_utf8_lossy(name).into());
        self.name_numbers.insert(name.into(), n);
        n
    }

    /// Marks what the refs point at, and every commit they reach, as reached. None when a ref
    /// or a parent names an object the stream did not carry.
    pub fn reach_refs(&mut self, repo: &dyn Lookup, commits: &OidMap<Links>) -> Option<()> {
        let mut stack = Vec::new();
        for (oid, kind) in repo.ref_targets()? {
            match kind {
                ObjectType::Commit => stack.push(oid),
                ObjectType::Tree => {
                    let n = self.number(&raw(oid));
                    self.flags[n as usize] |= TREE;
                    self.reach(n);
                }
                ObjectType::Blob => {
                    let n = self.number(&raw(oid));
                    self.flags[n as usize] |= BLOB | REACHED;
                }
                _ => {}
            }
        }
        while let Some(c) = stack.pop() {
            if self.commits.contains_key(&c) {
                continue;
            }
            let links = commits.get(&c)?;
            self.commits.insert(c, links.tree);
            stack.extend(&links.parents);
            let tree = self.number(&raw(links.tree));
            self.flags[tree as usize] |= TREE;
            self.reach(tree);
        }
        Some(())
    }

    /// Marks the commits `tips` reach that no earlier call reached, and their trees, as reached
    /// (`--all-objects`: the stash's, then the reflogs', then every other commit). Returns them
    /// with their trees, and the parents the stream did not carry.
    pub fn reach_more(&mut self, tips: &[Oid], commits: &OidMap<Links>) -> (OidMap<Oid>, Vec<Oid>) {
        let (mut added, mut missing) = (OidMap::default(), Vec::new());
        let mut stack = tips.to_vec();
        while let Some(c) = stack.pop() {
            if self.commits.contains_key(&c) {
                continue;
            }
            let Some(links) = commits.get(&c) else {
                missing.push(c);
                continue;
            };
            self.commits.insert(c, links.tree);
            added.insert(c, links.tree);
            stack.extend(&links.parents);
            let tree = self.number(&raw(links.tree));
            self.flags[tree as usize] |= TREE;
            self.reach(tree);
        }
        (added, missing)
    }

    /// Marks tree (or blob) `oid` and everything under it as reached (`--all-objects`).
    pub fn reach_object(&mut self, oid: Oid, is_tree: bool) {
        let n = self.number(&raw(oid));
        self.flags[n as usize] |= if is_tree { TREE } else { BLOB };
        self.reach(n);
    }

    /// Whether tree or blob `oid` is reached.
    pub fn reaches(&self, oid: &Oid) -> bool {
        (self.numbers.get(&raw(*oid))).is_some_and(|&n| self.flags[n as usize] & REACHED != 0)
    }

    /// Every tree that arrived and nothing reaches, sorted.
    pub fn unreached_trees(&self) -> Vec<Oid> {
        let mut out: Vec<Oid> = (self.flags.iter().zip(&self.oids))
            .filter(|(f, _)| **f & (TREE | ARRIVED) == TREE | ARRIVED && **f & REACHED == 0)
            .map(|(_, oid)| *oid)
            .collect();
        out.sort_unstable();
        out
    }

    /// Marks tree or blob `n` and everything under what has arrived of it as reached.
    fn reach(&mut self, n: u32) {
        let mut stack = vec![n];
        while let Some(n) = stack.pop() {
            let flags = &mut self.flags[n as usize];
            if *flags & REACHED != 0 {
                continue;
            }
            *flags |= REACHED;
            if let Some(blobs) = self.pending.remove(&n) {
                for b in blobs {
                    self.flags[b as usize] |= REACHED;
                }
            }
            if let Some((subtrees, _)) = self.edges(n) {
                stack.extend(subtrees.iter().map(|e| e.1));
            }
        }
    }

    /// Takes in one raw tree: its subtrees and wanted blobs are kept, its other blobs only
    /// counted as reached (now, or when a tree or commit above it is).
    pub fn add_tree(&mut self, oid: Oid, data: &[u8]) {
        let t = self.number(&raw(oid));
        if self.flags[t as usize] & ARRIVED != 0 {
            return;
        }
        self.flags[t as usize] |= ARRIVED | TREE;
        let (s0, w0) = (self.subtrees.len() as u32, self.wanted_edges.len() as u32);
        let mut blobs = Vec::new();
        for (mode, name, id) in RawTree::with_width(data, self.id_width) {
            if mode == b"160000" {
                continue; // a submodule's commit, in another repository
            }
            let child = self.number(id);
            if mode == b"40000" {
                self.flags[child as usize] |= TREE;
                let name = self.name(name);
                self.subtrees.push((name, child));
                continue;
            }
            self.flags[child as usize] |= BLOB;
            blobs.push(child);
            if self.flags[child as usize] & WANTED != 0 {
                let name = self.name(name);
                self.wanted_edges.push((name, child));
            }
            if name == b".gitmodules" {
                self.gitmodules.push(child);
            }
        }
        self.tree_at[t as usize] = self.spans.len() as u32;
        self.spans.push(Span {
            subtrees: (s0, self.subtrees.len() as u32),
            wanted: (w0, self.wanted_edges.len() as u32),
        });
        if self.flags[t as usize] & REACHED == 0 {
            self.pending.insert(t, blobs);
            return;
        }
        for b in blobs {
            self.flags[b as usize] |= REACHED;
        }
        for i in s0..self.subtrees.len() as u32 {
            let child = self.subtrees[i as usize].1;
            self.reach(child);
        }
    }

    /// Checks that every reached object arrived: a tree the stream did not carry, or a blob
    /// not in `blobs`, is missing (None: libgit2 then says which).
    pub fn complete(&mut self, blobs: &OidSet) -> Option<()> {
        self.pending = HashMap::new();
        let missing = (self.flags.iter().zip(&self.oids)).any(|(&f, oid)| {
            f & REACHED != 0
                && ((f & TREE != 0 && f & ARRIVED == 0) || (f & BLOB != 0 && !blobs.contains(oid)))
        });
        self.mark_holders();
        (!missing).then_some(())
    }

    /// Flags every tree that holds a wanted blob, here or below, so that the second pass
    /// skips the others without looking inside.
    fn mark_holders(&mut self) {
        const SEEN: u8 = 64;
        let mut stack = Vec::new();
        for root in 0..self.oids.len() as u32 {
            stack.push((root, false));
            while let Some((t, done)) = stack.pop() {
                let Some((children, wanted)) = self.edges(t) else {
                    continue;
                };
                if done {
                    let below = children
                        .iter()
                        .any(|e| self.flags[e.1 as usize] & HOLDS != 0);
                    if below || !wanted.is_empty() {
                        self.flags[t as usize] |= HOLDS;
                    }
                } else if self.flags[t as usize] & SEEN == 0 {
                    stack.push((t, true));
                    stack.extend(children.iter().map(|e| (e.1, false)));
                    self.flags[t as usize] |= SEEN;
                }
            }
        }
    }

    /// The (name, object number) edges of tree `t` to its subtrees and to its wanted blobs;
    /// None for a tree not read (or no tree).
    fn edges(&self, t: u32) -> Option<(&[Edge], &[Edge])> {
        fn slice(list: &[Edge], (start, end): (u32, u32)) -> Option<&[Edge]> {
            list.get(start as usize..end as usize)
        }
        let span = self.spans.get(self.tree_at[t as usize] as usize)?;
        let subtrees = slice(&self.subtrees, span.subtrees)?;
        Some((subtrees, slice(&self.wanted_edges, span.wanted)?))
    }

    /// Whether the refs reach blob `oid`.
    pub fn reaches_blob(&self, oid: &Oid) -> bool {
        self.numbers
            .get(&raw(*oid))
            .is_some_and(|&n| self.flags[n as usize] & (REACHED | BLOB) == REACHED | BLOB)
    }

    /// The commits the refs reach, with their trees.
    pub fn commits(&self) -> &OidMap<Oid> {
        &self.commits
    }

    /// Whether the refs reach commit `oid`.
    pub fn reaches_commit(&self, oid: &Oid) -> bool {
        self.commits.contains_key(oid)
    }

    /// The reached blobs named `.gitmodules`.
    pub fn gitmodules(&self) -> Vec<Oid> {
        let mut out: Vec<Oid> = (self.gitmodules.iter())
            .filter(|&&n| self.flags[n as usize] & REACHED != 0)
            .map(|&n| self.oids[n as usize])
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// What the second pass walks: only the trees that hold wanted blobs, and those blobs.
impl Graph {
    /// Calls `f` with each wanted blob under commit `commit`'s tree, and its path.
    pub fn wanted_under_commit(&self, commit: Oid, f: &mut dyn FnMut(&str, Oid)) {
        if let Some(tree) = self.commits.get(&commit) {
            self.wanted_under_tree(*tree, f);
        }
    }

    /// Calls `f` with each wanted blob under tree `tree`, and its path.
    pub fn wanted_under_tree(&self, tree: Oid, f: &mut dyn FnMut(&str, Oid)) {
        if let Some(&n) = self.numbers.get(&raw(tree)) {
            self.visit(n, &mut String::new(), 0, f);
        }
    }
}

/// Trees nested deeper are not followed (git itself refuses more than 2,048 by default).
const MAX_DEPTH: usize = 4096;

impl Graph {
    /// Calls `f` with each wanted blob under tree `t`, and its path (`path` + its own).
    fn visit(&self, t: u32, path: &mut String, depth: usize, f: &mut dyn FnMut(&str, Oid)) {
        let Some((subtrees, wanted)) = self.edges(t) else {
            return;
        };
        let holders = subtrees
            .iter()
            .filter(|e| self.flags[e.1 as usize] & HOLDS != 0 && depth < MAX_DEPTH);
        for &(name, child) in holders {
            let len = push_name(path, &self.names[name as usize]);
            self.visit(child, path, depth + 1, f);
            path.truncate(len);
        }
        for &(name, blob) in wanted {
            let len = push_name(path, &self.names[name as usize]);
            f(path, self.oids[blob as usize]);
            path.truncate(len);
        }
    }
}

/// Appends `/name` (or `name` to an empty path); returns the length to truncate back to.
fn push_name(path: &mut String, name: &str) -> usize {
    let len = path.len();
    if len > 0 {
        path.push('/');
    }
    path.push_str(name);
    len
}

/// What every ref (the stash aside) and HEAD point at, peeled through tags. None when one
/// points at a missing object.
pub(crate) fn ref_targets(repo: &Repository) -> Option<Vec<(Oid, ObjectType)>> {
    let mut out = Vec::new();
    if let Some((head, _)) = repo.head().ok().and_then(|h| peeled_commit(repo, &h)) {
        out.push((head, ObjectType::Commit));
    }
    for r in repo.references().ok()?.flatten() {
        if r.name_bytes() == b"refs/stash" {
            continue;
        }
        // A large commit is not read whole just to learn it is one.
        if let Some(oid) = r.target().filter(|o| large_commit_head(repo, *o).is_some()) {
            out.push((oid, ObjectType::Commit));
            continue;
        }
        let obj = r.peel(ObjectType::Any).ok()?;
        out.push((obj.id(), obj.kind()?));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_trees_parse() {
        let mut raw = b"100644 a.txt\0".to_vec();
        raw.extend([1u8; 20]);
        raw.extend(b"40000 dir\0");
        raw.extend([2u8; 20]);
        let entries: Vec<_> = RawTree::new(&raw)
            .map(|(m, n, _)| (m.to_vec(), n.to_vec()))
            .collect();
        assert_eq!(
            entries,
            [
                (b"100644".to_vec(), b"a.txt".to_vec()),
                (b"40000".to_vec(), b"dir".to_vec())
            ]
        );
        assert_eq!(
            RawTree::new(&raw[..30]).count(),
            0,
            "a cut entry ends the walk"
        );
    }

    #[test]
    fn commit_links_parse() {
        let t = "1".repeat(40);
        let (p, q) = ("2".repeat(40), "3".repeat(40));
        let raw = format!(
            "tree {t}\nparent {p}\nparent {q}\nauthor a <a> 1 +0000\n\
             committer C <c@x> 1700000000 +0100\n\nparent {t}\n"
        );
        let links = Links::parse(raw.as_bytes()).unwrap();
        assert_eq!(links.tree.to_string(), t);
        assert_eq!(links.time, 1_700_000_000);
        let parents: Vec<String> = links.parents.iter().map(Oid::to_string).collect();
        assert_eq!(parents, [p, q]);
        assert!(Links::parse(b"author a\n").is_none());
    }

    #[test]
    fn commits_come_parents_first_then_oldest_first() {
        // root <- a (time 30) and root <- b (time 20), m merges both (time 40).
        let link = |parents: &[Oid], time| Links {
            tree: oid('f'),
            parents: parents.to_vec(),
            time,
        };
        let (root, a, b, m) = (oid('1'), oid('2'), oid('3'), oid('4'));
        let links: OidMap<Links> = [
            (root, link(&[], 50)), // a clock set wrong: still first, as the parent
            (a, link(&[root], 30)),
            (b, link(&[root], 20)),
            (m, link(&[a, b], 40)),
        ]
        .into_iter()
        .collect();
        let reached: OidMap<Oid> = links.keys().map(|c| (*c, oid('f'))).collect();
        let order: Vec<Oid> = commit_order(&links, &reached)
            .into_iter()
            .map(|c| c.0)
            .collect();
        assert_eq!(order, [root, b, a, m]);
    }

    fn oid(c: char) -> Oid {
        Oid::from_str(&c.to_string().repeat(40)).unwrap()
    }

    fn tree(entries: &[(&str, &str, Oid)]) -> Vec<u8> {
        let mut raw = Vec::new();
        for (mode, name, id) in entries {
            raw.extend(format!("{mode} {name}\0").bytes());
            raw.extend(id.as_bytes());
        }
        raw
    }

    #[test]
    fn blobs_are_reached_whichever_comes_first() {
        let wanted: OidSet = [oid('b')].into_iter().collect();
        let mut g = Graph::new(&wanted);
        // The subtree arrives before the root that holds it, and before anything reaches it.
        g.add_tree(oid('2'), &tree(&[("100644", "key.env", oid('b'))]));
        g.add_tree(oid('3'), &tree(&[("100644", "other", oid('c'))]));
        let root = g.number(&raw(oid('1')));
        g.reach(root);
        g.add_tree(
            oid('1'),
            &tree(&[("40000", "dir", oid('2')), ("40000", "x", oid('3'))]),
        );
        let blobs: OidSet = [oid('b'), oid('c')].into_iter().collect();
        assert!(g.complete(&blobs).is_some());
        assert!(g.reaches_blob(&oid('b')));
        assert!(
            g.reaches_blob(&oid('c')),
            "tree 3 came before tree 1 reached it"
        );
        assert!(!g.reaches_blob(&oid('d')), "never seen");
        let mut seen = Vec::new();
        g.wanted_under_tree(oid('1'), &mut |path, id| seen.push((path.to_string(), id)));
        assert_eq!(
            seen,
            [("dir/key.env".to_string(), oid('b'))],
            "x holds nothing wanted"
        );
    }

    #[test]
    fn trees_nothing_reaches_leave_their_blobs_unreached() {
        let wanted = OidSet::default();
        let mut g = Graph::new(&wanted);
        g.add_tree(oid('3'), &tree(&[("100644", "other", oid('c'))]));
        let root = g.number(&raw(oid('1')));
        g.reach(root);
        g.add_tree(oid('1'), &tree(&[]));
        assert!(g.complete(&[oid('c')].into_iter().collect()).is_some());
        assert!(!g.reaches_blob(&oid('c')));
    }

    #[test]
    fn a_reached_tree_that_never_came_is_missing() {
        let wanted = OidSet::default();
        let mut g = Graph::new(&wanted);
        g.add_tree(oid('1'), &tree(&[("40000", "gone", oid('2'))]));
        let root = g.number(&raw(oid('1')));
        g.reach(root);
        assert!(g.complete(&OidSet::default()).is_none());
    }
}
