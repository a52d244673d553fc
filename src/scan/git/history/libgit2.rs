//! The objects as libgit2 reads them, one at a time from its object database: every object
//! listed, blobs read and scanned on the workers (a blob over `--max-blob-size` streamed through
//! `git cat-file`, as everywhere), commits and trees read here. Slower than the other sources
//! (libgit2 re-inflates delta chains for each object it is asked for): the last choice.

use super::graph::Graph;
use super::source::{Contents, ObjectSource};
use crate::scan::git::Ctx;
use crate::scan::git::blobs::{self, Job};
use crate::scan::git::objects::{Links, message, read_header};
use crate::scan::git::oidmap::OidMap;
use crossbeam_channel::Sender;
use git2::{ObjectType, Odb, Oid, Repository};
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
        let done = Mutex::new(Vec::new());
        let sent = blobs::run(ctx, |tx| self.send(&odb, &all, tx), &|d| {
            done.lock().unwrap_or_else(|p| p.into_inner()).push(d);
        });
        let links = match sent {
            Ok(links) => links?,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok(Contents::gathered(links, done)))
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
    /// commit's message; lists the trees. Returns the commits' links; None when an object
    /// cannot be read.
    fn send(&mut self, odb: &Odb<'_>, all: &[Oid], tx: &Sender<Job>) -> Option<OidMap<Links>> {
        let mut links = OidMap::default();
        for &oid in all {
            let job = match read_header(odb, oid).ok()?.1 {
                ObjectType::Blob => Job::Blob {
                    oid,
                    path: oid.to_string(),
                },
                ObjectType::Commit => {
                    let raw = odb.read(oid).ok()?;
                    links.insert(oid, Links::parse(raw.data())?);
                    Job::Text {
                        key: oid,
                        text: message(raw.data()).to_vec(),
                    }
                }
                ObjectType::Tree => {
                    self.trees.push(oid);
                    continue;
                }
                _ => continue,
            };
            tx.send(job).ok()?;
        }
        Some(links)
    }
}
