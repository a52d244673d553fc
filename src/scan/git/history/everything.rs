//! `--all-objects` in a repository only git reads (`by_git`): beside what the refs reach, the
//! stash's commits, then the reflogs', then every other commit of the object store, each group
//! walked after the ones before and labelled as the libgit2 walk (`walk`) labels it; then the
//! trees and blobs nothing reaches, a blob under such a tree named by its path in that tree.

use super::catfile::CatFile;
use super::graph::{Graph, commit_order};
use super::{Beyond, cut_shallow, report_in_order};
use crate::finding::{Finding, Reach, Skipped};
use crate::scan::git::by_git::GitDir;
use crate::scan::git::oidmap::OidMap;
use crate::scan::git::{Ctx, GitOutcome};
use git2::Oid;

/// Every object of the repository `dir`, as `--all-objects` reads it.
pub(super) fn scan(
    ctx: &Ctx<'_>,
    dir: &GitDir,
    unread: &dyn Fn() -> anyhow::Error,
) -> anyhow::Result<GitOutcome> {
    let mut source = CatFile::default();
    let mut contents = source
        .contents_in(ctx, dir.git_dir())
        .ok_or_else(unread)??;
    cut_shallow(dir, &mut contents.links);
    let blobs = contents.blobs();
    let mut graph = Graph::with_capacity(&contents.wanted(), (0, 0)).with_id_width(dir.id_width());
    graph.reach_refs(dir, &contents.links).ok_or_else(unread)?;
    let mut commits = commit_order(&contents.links, graph.commits());
    ctx.scanner.progress.set_phase("reading trees");
    source
        .trees_in(dir.git_dir(), &mut graph)
        .ok_or_else(unread)?;
    let mut every: Vec<Oid> = contents.links.keys().copied().collect();
    every.sort_unstable();
    let mut missing = Vec::new();
    let groups = [
        (dir.stash_tips(), Reach::Stash),
        (dir.reflog_tips(), Reach::Reflog),
        (every, Reach::Unreachable),
    ];
    for (tips, reach) in groups {
        let tips: Vec<Oid> = (tips.into_iter())
            .filter(|t| contents.links.contains_key(t))
            .collect();
        let (added, gone) = graph.reach_more(&tips, &contents.links);
        missing.extend(gone);
        let order = commit_order(&contents.links, &added);
        commits.extend(order.into_iter().map(|(c, _)| (c, reach)));
    }
    let mut roots = Vec::new();
    for tree in graph.unreached_trees() {
        if !graph.reaches(&tree) {
            graph.reach_object(tree, true);
            roots.push(tree);
        }
    }
    let mut beyond = Beyond::default();
    let mut loose: Vec<Oid> = blobs
        .iter()
        .filter(|b| !graph.reaches(b))
        .copied()
        .collect();
    loose.sort_unstable();
    for blob in loose {
        graph.reach_object(blob, false);
        beyond.blob_reach.insert(blob, Reach::Unreachable);
    }
    graph.complete(&blobs).ok_or_else(unread)?;
    for tree in roots {
        graph.wanted_under_tree(tree, &mut |path, blob| {
            beyond.paths.entry(blob).or_insert_with(|| path.to_string());
            beyond.blob_reach.insert(blob, Reach::Unreachable);
        });
    }
    beyond.notes.extend(missing.iter().map(|c| Skipped {
        path: ".".into(),
        reason: format!("history walk stopped early: commit {c} is missing"),
        incomplete: true,
    }));
    let (done, links) = contents.into_done();
    let read = (links.len(), beyond);
    Ok(report_in_order(ctx, dir, done, (&graph, &commits), &read))
}

/// Names a blob no commit holds by its path in the unreachable tree that holds it, as the
/// libgit2 walk does, instead of by its id.
pub(super) fn place(f: &mut Finding, paths: &OidMap<String>) {
    let Some(g) = f.git.as_deref() else {
        return;
    };
    let blob = g
        .blob
        .as_deref()
        .filter(|b| g.commit.is_none() && f.origin.path == *b);
    let path = blob.and_then(|b| paths.get(&Oid::from_str(b).ok()?));
    if let Some(path) = path {
        f.origin.path.clone_from(path);
    }
}
