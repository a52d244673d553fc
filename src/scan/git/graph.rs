//! The history's shape, taken from the object stream instead of read twice more: each commit's
//! tree and parents, each tree's subtrees and the wanted blobs it holds, kept compactly (object
//! numbers, names interned). It answers which objects the refs reach (what `git rev-list
//! --objects --all` would list) and gives the second pass its trees without inflating any again.

use super::fast::{git, widen_pipe};
use super::locate::TreeRead;
use super::oidmap::{OidMap, OidSet};
use git2::{ObjectType, Oid, Repository};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Stdio;

/// A commit's links, from its raw object.
pub(super) struct Links {
    pub tree: Oid,
    pub parents: Vec<Oid>,
}

impl Links {
    /// The `tree` and `parent` lines that open a raw commit.
    pub fn parse(raw: &[u8]) -> Option<Links> {
        let mut lines = raw.split(|b| *b == b'\n');
        let tree = hex_oid(lines.next()?.strip_prefix(b"tree ")?)?;
        let parents = lines
            .map_while(|l| l.strip_prefix(b"parent "))
            .map(hex_oid)
            .collect::<Option<_>>()?;
        Some(Links { tree, parents })
    }
}

fn hex_oid(hex: &[u8]) -> Option<Oid> {
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

/// Flags of one object number.
const REACHED: u8 = 1;
const TREE: u8 = 2;
const ARRIVED: u8 = 4;
const BLOB: u8 = 8;

/// No tree record (a tree not read yet, or no tree).
const NONE: u32 = u32::MAX;

/// Where a tree's edges lie in the graph's edge lists.
struct Span {
    subtrees: (u32, u32),
    wanted: (u32, u32),
}

/// The graph, built from the trees as they stream in.
pub(super) struct Graph<'w> {
    wanted: &'w OidSet,
    numbers: OidMap<u32>,
    oids: Vec<Oid>,
    flags: Vec<u8>,
    /// Per object number: its tree's span, or NONE.
    tree_at: Vec<u32>,
    spans: Vec<Span>,
    /// (name, object number) of every subtree entry, then of every wanted blob entry.
    subtrees: Vec<(u32, u32)>,
    wanted_edges: Vec<(u32, u32)>,
    names: Vec<Box<str>>,
    name_numbers: HashMap<Box<[u8]>, u32>,
    /// The blobs of trees not known to be reached yet.
    pending: HashMap<u32, Vec<u32>>,
    /// Blobs named `.gitmodules`.
    gitmodules: Vec<u32>,
    /// Commits the refs reach, and their trees.
    commits: OidMap<Oid>,
}

impl<'w> Graph<'w> {
    pub fn new(wanted: &'w OidSet) -> Graph<'w> {
        Graph {
            wanted,
            numbers: OidMap::default(),
            oids: Vec::new(),
            flags: Vec::new(),
            tree_at: Vec::new(),
            spans: Vec::new(),
            subtrees: Vec::new(),
            wanted_edges: Vec::new(),
            names: Vec::new(),
            name_numbers: HashMap::new(),
            pending: HashMap::new(),
            gitmodules: Vec::new(),
            commits: OidMap::default(),
        }
    }

    fn number(&mut self, oid: Oid) -> u32 {
        if let Some(&n) = self.numbers.get(&oid) {
            return n;
        }
        let n = self.oids.len() as u32;
        self.numbers.insert(oid, n);
        self.oids.push(oid);
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
    pub fn reach_refs(&mut self, repo: &Repository, commits: &OidMap<Links>) -> Option<()> {
        let mut stack = Vec::new();
        for (oid, kind) in ref_targets(repo)? {
            match kind {
                ObjectType::Commit => stack.push(oid),
                ObjectType::Tree => {
                    let n = self.number(oid);
                    self.flags[n as usize] |= TREE;
                    self.reach(n);
                }
                ObjectType::Blob => {
                    let n = self.number(oid);
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
            let tree = self.number(links.tree);
            self.flags[tree as usize] |= TREE;
            self.reach(tree);
        }
        Some(())
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
            if let Some(span) = self.spans.get(self.tree_at[n as usize] as usize) {
                let (start, end) = span.subtrees;
                stack.extend(
                    self.subtrees[start as usize..end as usize]
                        .iter()
                        .map(|e| e.1),
                );
            }
        }
    }

    /// Takes in one raw tree: its subtrees and wanted blobs are kept, its other blobs only
    /// counted as reached (now, or when a tree or commit above it is).
    pub fn add_tree(&mut self, oid: Oid, raw: &[u8]) {
        let t = self.number(oid);
        if self.flags[t as usize] & ARRIVED != 0 {
            return;
        }
        self.flags[t as usize] |= ARRIVED | TREE;
        let (s0, w0) = (self.subtrees.len() as u32, self.wanted_edges.len() as u32);
        let mut blobs = Vec::new();
        for (mode, name, id) in RawTree(raw) {
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
            if self.wanted.contains(&id) {
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
        (!missing).then_some(())
    }

    /// Whether the refs reach blob `oid`.
    pub fn reaches_blob(&self, oid: &Oid) -> bool {
        self.numbers
            .get(oid)
            .is_some_and(|&n| self.flags[n as usize] & (REACHED | BLOB) == REACHED | BLOB)
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

/// The second pass reads trees from the graph: only subtrees and wanted blobs are there.
impl TreeRead for &Graph<'_> {
    fn entries(&mut self, tree: Oid, f: &mut dyn FnMut(bool, &str, Oid)) {
        let Some(&n) = self.numbers.get(&tree) else {
            return;
        };
        let Some(span) = self.spans.get(self.tree_at[n as usize] as usize) else {
            return;
        };
        let edges = |(start, end): (u32, u32), list: &[(u32, u32)]| {
            list[start as usize..end as usize].to_vec()
        };
        for (name, child) in edges(span.subtrees, &self.subtrees) {
            f(true, &self.names[name as usize], self.oids[child as usize]);
        }
        for (name, child) in edges(span.wanted, &self.wanted_edges) {
            f(false, &self.names[name as usize], self.oids[child as usize]);
        }
    }

    fn commit_tree(&mut self, commit: Oid) -> Option<Oid> {
        self.commits.get(&commit).copied()
    }
}

/// What every ref (the stash aside) and HEAD point at, peeled through tags. None when one
/// points at a missing object.
fn ref_targets(repo: &Repository) -> Option<Vec<(Oid, ObjectType)>> {
    let mut out = Vec::new();
    if let Ok(head) = repo.head().and_then(|h| h.peel_to_commit()) {
        out.push((head.id(), ObjectType::Commit));
    }
    for r in repo.references().ok()?.flatten() {
        if r.name_bytes() == b"refs/stash" {
            continue;
        }
        let obj = r.peel(ObjectType::Any).ok()?;
        out.push((obj.id(), obj.kind()?));
    }
    Some(out)
}

/// Reads `trees` through `git cat-file --batch` into `graph`. None when git fails or its
/// output ends early.
pub(super) fn read_trees(git_dir: &Path, trees: Vec<Oid>, graph: &mut Graph<'_>) -> Option<()> {
    let mut child = git(git_dir)
        .args(["cat-file", "--batch", "--buffer"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let stdin = child.stdin.take()?;
    let fed = std::thread::spawn(move || {
        use std::io::Write as _;
        let mut out = std::io::BufWriter::with_capacity(64 << 10, stdin);
        for t in trees {
            writeln!(out, "{t}").ok()?;
        }
        out.flush().ok()
    });
    let read = read_tree_stream(&mut child, graph);
    if read.is_none() {
        let _ = child.kill();
    }
    let fed = fed.join().ok().flatten();
    let ok = child.wait().ok()?.success();
    (read.is_some() && fed.is_some() && ok).then_some(())
}

fn read_tree_stream(child: &mut std::process::Child, graph: &mut Graph<'_>) -> Option<()> {
    let stdout = child.stdout.take()?;
    widen_pipe(&stdout);
    let mut r = BufReader::with_capacity(1 << 20, stdout);
    let (mut header, mut data) = (Vec::new(), Vec::new());
    loop {
        header.clear();
        if r.read_until(b'\n', &mut header).ok()? == 0 {
            return Some(());
        }
        let (oid, kind, size) = super::blobs::parse_header(&header)?;
        if kind != "tree" {
            return None;
        }
        data.clear();
        (&mut r).take(size + 1).read_to_end(&mut data).ok()?;
        if data.len() as u64 != size + 1 {
            return None;
        }
        graph.add_tree(oid, &data[..data.len() - 1]);
    }
}

/// The entries of a raw tree object: `<mode> <name>\0<20-byte id>`, repeated.
pub(super) struct RawTree<'a>(pub &'a [u8]);

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
    use super::*;

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

    #[test]
    fn commit_links_parse() {
        let t = "1".repeat(40);
        let (p, q) = ("2".repeat(40), "3".repeat(40));
        let raw = format!("tree {t}\nparent {p}\nparent {q}\nauthor a <a> 1 +0000\n\nmsg\n");
        let links = Links::parse(raw.as_bytes()).unwrap();
        assert_eq!(links.tree.to_string(), t);
        let parents: Vec<String> = links.parents.iter().map(Oid::to_string).collect();
        assert_eq!(parents, [p, q]);
        assert!(Links::parse(b"author a\n").is_none());
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
        let root = g.number(oid('1'));
        g.reach(root);
        g.add_tree(oid('1'), &tree(&[("40000", "dir", oid('2'))]));
        let blobs: OidSet = [oid('b'), oid('c')].into_iter().collect();
        assert!(g.complete(&blobs).is_some());
        assert!(g.reaches_blob(&oid('b')));
        assert!(!g.reaches_blob(&oid('c')), "tree 3 is reached by nothing");
        let mut seen = Vec::new();
        let mut read = &g;
        read.entries(oid('2'), &mut |is_tree, name, id| {
            seen.push((is_tree, name.to_string(), id))
        });
        assert_eq!(seen, [(false, "key.env".to_string(), oid('b'))]);
    }

    #[test]
    fn a_reached_tree_that_never_came_is_missing() {
        let wanted = OidSet::default();
        let mut g = Graph::new(&wanted);
        g.add_tree(oid('1'), &tree(&[("40000", "gone", oid('2'))]));
        let root = g.number(oid('1'));
        g.reach(root);
        assert!(g.complete(&OidSet::default()).is_none());
    }
}
