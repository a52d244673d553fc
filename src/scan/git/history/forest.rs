//! What the second pass walks: for a commit or a tree, each wanted blob under it and its path.
//! Read from the graph the stream built (already in memory, already reduced to the trees that
//! hold wanted blobs), or through libgit2, each tree reduced to what leads to wanted blobs and
//! kept, shared by the pass's threads, so that no tree is read twice.

use super::graph::Graph;
use crate::scan::git::objects::RawTree;
use crate::scan::git::oidmap::{OidMap, OidSet};
use git2::{Oid, Repository};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Each wanted blob under a commit's or a tree's tree, with its path.
pub(super) trait Forest {
    fn commit(&mut self, commit: Oid, f: &mut dyn FnMut(&str, Oid));
    fn tree(&mut self, tree: Oid, f: &mut dyn FnMut(&str, Oid));
}

/// Where the trees come from.
#[derive(Clone, Copy)]
pub(super) enum Source<'a> {
    /// The object database of this repository (a git directory).
    Odb(&'a Path),
    Graph(&'a Graph),
}

/// Opens one forest per thread of the pass over one source, for one set of wanted blobs.
pub(super) struct Forests<'a> {
    source: Source<'a>,
    wanted: &'a OidSet,
    shared: Shared,
}

impl<'a> Forests<'a> {
    pub fn new(source: Source<'a>, wanted: &'a OidSet) -> Forests<'a> {
        Forests {
            source,
            wanted,
            shared: Shared::default(),
        }
    }

    pub fn wants_nothing(&self) -> bool {
        self.wanted.is_empty()
    }

    /// A forest for one thread; None when the repository cannot be opened again.
    pub fn open(&self) -> Option<Box<dyn Forest + '_>> {
        Some(match self.source {
            Source::Graph(g) => Box::new(GraphForest(g)),
            Source::Odb(git_dir) => Box::new(TreeMemo {
                repo: Repository::open(git_dir).ok()?,
                wanted: self.wanted,
                shared: &self.shared,
            }),
        })
    }
}

/// The graph the first pass built, already reduced to the trees that hold wanted blobs.
struct GraphForest<'a>(&'a Graph);

impl Forest for GraphForest<'_> {
    fn commit(&mut self, commit: Oid, f: &mut dyn FnMut(&str, Oid)) {
        self.0.wanted_under_commit(commit, f);
    }

    fn tree(&mut self, tree: Oid, f: &mut dyn FnMut(&str, Oid)) {
        self.0.wanted_under_tree(tree, f);
    }
}

/// A tree reduced to what leads to wanted blobs, shared by every tree that holds it.
struct Node {
    entries: Vec<(Box<str>, Child)>,
}

enum Child {
    Blob(Oid),
    Tree(Arc<Node>),
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

/// Shards of the memo the threads of the second pass share.
const MEMO_SHARDS: usize = 64;

/// For each tree read so far, the node of what under it is wanted (None for most trees),
/// shared by the threads of the pass so that a tree two parts of history hold is read once.
struct Shared {
    shards: Vec<Mutex<OidMap<Option<Arc<Node>>>>>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            shards: (0..MEMO_SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl Shared {
    fn shard(&self, tree: Oid) -> std::sync::MutexGuard<'_, OidMap<Option<Arc<Node>>>> {
        let i = usize::from(tree.as_bytes()[0]) % MEMO_SHARDS;
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One thread's view of the shared memo, reading raw trees through its own repository handle
/// (libgit2's tree objects allocate for every entry, and this pass reads every tree).
struct TreeMemo<'r> {
    repo: Repository,
    wanted: &'r OidSet,
    shared: &'r Shared,
}

impl TreeMemo<'_> {
    fn node(&mut self, tree: Oid) -> Option<Arc<Node>> {
        if let Some(found) = self.shared.shard(tree).get(&tree) {
            return found.clone();
        }
        let mut entries = Vec::new();
        for (is_tree, name, id) in self.listed(tree) {
            let child = if is_tree {
                self.node(id).map(Child::Tree)
            } else {
                Some(Child::Blob(id))
            };
            if let Some(child) = child {
                entries.push((name, child));
            }
        }
        let node = (!entries.is_empty()).then(|| Arc::new(Node { entries }));
        self.shared.shard(tree).insert(tree, node.clone());
        node
    }

    /// The subtrees and wanted blobs of `tree`.
    fn listed(&self, tree: Oid) -> Vec<(bool, Box<str>, Oid)> {
        let mut listed = Vec::new();
        let Ok(odb) = self.repo.odb() else {
            return listed;
        };
        let Ok(raw) = odb.read(tree) else {
            return listed;
        };
        for (mode, name, id) in RawTree::new(raw.data()) {
            let Ok(id) = Oid::from_bytes(id) else {
                continue;
            };
            let is_tree = mode == b"40000";
            if is_tree || (mode != b"160000" && self.wanted.contains(&id)) {
                listed.push((is_tree, String::from_utf8_lossy(name).into(), id));
            }
        }
        listed
    }
}

impl Forest for TreeMemo<'_> {
    fn commit(&mut self, commit: Oid, f: &mut dyn FnMut(&str, Oid)) {
        if let Ok(tree) = self.repo.find_commit(commit).map(|c| c.tree_id()) {
            self.tree(tree, f);
        }
    }

    fn tree(&mut self, tree: Oid, f: &mut dyn FnMut(&str, Oid)) {
        if let Some(node) = self.node(tree) {
            node.visit(&mut String::new(), f);
        }
    }
}
