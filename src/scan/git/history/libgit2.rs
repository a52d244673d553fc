//! The objects as libgit2 reads them, one at a time from its object database: every object
//! listed, blobs and commits read and scanned on the workers (a blob over `--max-blob-size`
//! streamed through `git cat-file`, as everywhere; a commit over 1 MiB inflated as it is
//! scanned, its message never copied), trees read here. Slower than the other sources
//! (libgit2 re-inflates delta chains for each object it is asked for): the last choice.

use super::graph::Graph;
use super::source::{Contents, ObjectSource};
use crate::scan::git::Ctx;
use crate::scan::git::blobs::{self, Job};
use crate::scan::git::objects::read_header;
use crate::scan::git::oidmap::OidMap;
use crossbeam_channel::Sender;
use git2::{ObjectType, Oid, Repository};
use std::sync::Mutex;

/// The trees listed by the first pass, for the second.
#[derive(Default)]
pub(super) struct Libgit2 {
    trees: Vec<Oid>,
}

impl ObjectSource for Libgit2 {
    /// Every blob and commit; None when an object cannot be read.
    fn contents(&mut self, ctx: &Ctx<'_>, repo: &Repository) -> Option<anyhow::Result<Contents>> {
        let odb = repo.odb().ok()?;
        let mut all = Vec::new();
        odb.foreach(|oid| {
            all.push(*oid);
            true
        })
        .ok()?;
        all.sort_unstable();
        all.dedup();
        let mut kinds = Vec::with_capacity(all.len());
        let mut held = 0;
        for &oid in &all {
            let (size, kind) = read_header(&odb, oid).ok()?;
            if kind == ObjectType::Blob {
                held = held.max(blobs::held_bytes(size));
            }
            kinds.push(kind);
        }
        // Workers beyond what the budget of held objects holds at once would only wait.
        let threads = blobs::held_workers(ctx.opts.threads, held);
        let done = Mutex::new(Vec::new());
        let sent = blobs::run_with(ctx, threads, |tx| self.send(&all, &kinds, tx), &|d| {
            done.lock().unwrap_or_else(|p| p.into_inner()).push(d);
        });
        let commits = match sent {
            Ok(commits) => commits?,
            Err(e) => return Some(Err(e)),
        };
        let contents = Contents::gathered(OidMap::default(), done);
        // A commit a worker could not read leaves no links: this source cannot read it.
        (contents.links.len() == commits).then_some(Ok(contents))
    }

    fn trees(&mut self, _: &Ctx<'_>, repo: &Repository, graph: &mut Graph) -> Option<()> {
        let odb = repo.odb().ok()?;
        for tree in std::mem::take(&mut self.trees) {
            graph.add_tree(tree, odb.read(tree).ok()?.data());
        }
        Some(())
    }
}

impl Libgit2 {
    /// Sends every blob to the workers (named by its id until its path is known) and every
    /// commit, which the workers read and return the links of; lists the trees. `kinds` are
    /// the objects' types, in the order of `all`. Returns how many commits were sent; None when
    /// the workers are gone.
    fn send(&mut self, all: &[Oid], kinds: &[ObjectType], tx: &Sender<Job>) -> Option<usize> {
        let mut commits = 0;
        for (&oid, &kind) in all.iter().zip(kinds) {
            let job = match kind {
                ObjectType::Blob => Job::Blob {
                    oid,
                    path: oid.to_string(),
                },
                ObjectType::Commit => {
                    commits += 1;
                    Job::ReadCommit { oid }
                }
                ObjectType::Tree => {
                    self.trees.push(oid);
                    continue;
                }
                _ => continue,
            };
            tx.send(job).ok()?;
        }
        Some(commits)
    }
}
