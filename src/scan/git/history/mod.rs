//! The whole history, by one algorithm over an object source (`source`): the first pass scans
//! every blob and commit message the source reads, on the scanning threads; the graph then
//! learns from the commits and trees which objects the refs reach; the second pass (`locate`)
//! walks only the trees that hold blobs with findings, back to commits and paths. The sources:
//! the pack files in-process (`packs`), `git cat-file` (`catfile`), libgit2 (`libgit2`), fastest
//! first; each hands over to the next when it cannot read a repository. When none can (an
//! object is missing), the libgit2 walk (`walk`) scans what is there and says what is not; it
//! also reads `--all-objects`, HEAD's tree alone, and shallow clones. A repository only git
//! reads (`by_git`) goes through the `catfile` source for all of these (`everything` for
//! `--all-objects`).

mod catfile;
mod everything;
mod forest;
mod graph;
mod libgit2;
pub(super) mod locate;
mod packs;
mod source;
mod walk;

use self::forest::Source;
use self::graph::Graph;
use self::locate::Hits;
use self::source::ObjectSource;
use super::by_git::GitDir;
use super::lookup::Lookup;
use super::objects::Links;
use super::objects::hex_oid;
use super::oidmap::OidMap;
use super::{Ctx, GitMode, GitOutcome, Reader, blobs::Done};
use crate::finding::Skipped;
use git2::{ObjectType, Oid, Repository};

pub(super) use graph::ref_targets;

/// Scans the whole history (or HEAD's tree alone) of `repo`.
pub(super) fn scan(ctx: &Ctx<'_>, repo: &Repository) -> anyhow::Result<GitOutcome> {
    let by_walk = ctx.opts.mode == GitMode::Tree || ctx.opts.all_objects || repo.is_shallow();
    if !by_walk {
        for mut source in sources(ctx.opts.reader) {
            if let Some(outcome) = read(ctx, repo, source.as_mut()) {
                return outcome;
            }
        }
    }
    walk::scan(ctx, repo)
}

/// The sources to try for `reader`: it, then the slower ones.
fn sources(reader: Reader) -> Vec<Box<dyn ObjectSource>> {
    let packs = || Box::new(packs::Packs::default()) as Box<dyn ObjectSource>;
    let catfile = || Box::new(catfile::CatFile::default()) as Box<dyn ObjectSource>;
    let libgit2 = || Box::new(libgit2::Libgit2::default()) as Box<dyn ObjectSource>;
    match reader {
        Reader::Packs => vec![packs(), catfile(), libgit2()],
        Reader::CatFile => vec![catfile(), libgit2()],
        Reader::Libgit2 => vec![libgit2()],
    }
}

/// The history read from `source`: every blob and commit scanned, the trees into the graph,
/// what the refs reach kept, and the findings grouped by history. None when the source cannot
/// read the repository or it misses an object the refs reach.
fn read(
    ctx: &Ctx<'_>,
    repo: &Repository,
    source: &mut dyn ObjectSource,
) -> Option<anyhow::Result<GitOutcome>> {
    let contents = match source.contents(ctx, repo)? {
        Ok(contents) => contents,
        Err(e) => return Some(Err(e)),
    };
    let blobs = contents.blobs();
    let mut graph = Graph::with_capacity(&contents.wanted(), source.sizes(contents.len()));
    graph.reach_refs(repo, &contents.links)?;
    ctx.scanner.progress.set_phase("reading trees");
    source.trees(ctx, repo, &mut graph)?;
    graph.complete(&blobs)?;
    drop(blobs);
    let (done, links) = contents.into_done();
    Some(Ok(report(ctx, repo, done, &links, &graph)))
}

/// The whole history (or HEAD's tree alone) of a repository only git can read (`by_git`), by
/// the `catfile` source: the same passes, with the refs, tips and authors asked of git. An
/// object git cannot read is an error (the libgit2 walk, which would say which, cannot open
/// such a repository).
pub(super) fn scan_by_git(ctx: &Ctx<'_>, dir: &GitDir) -> anyhow::Result<GitOutcome> {
    let unread = || {
        anyhow::anyhow!(
            "{}: {}: git could not read every object the refs reach (run `git fsck`); \
             nothing was reported",
            dir.git_dir().display(),
            dir.format()
        )
    };
    if ctx.opts.all_objects && ctx.opts.mode != GitMode::Tree {
        return everything::scan(ctx, dir, &unread);
    }
    let at_head = AtHead(dir);
    let (mut source, lookup): (_, &dyn Lookup) = match ctx.opts.mode {
        GitMode::Tree if at_head.commit().is_none() => return Ok(GitOutcome::default()),
        GitMode::Tree => (catfile::CatFile::head_only(), &at_head),
        _ => (catfile::CatFile::default(), dir),
    };
    let mut contents = source
        .contents_in(ctx, dir.git_dir())
        .ok_or_else(unread)??;
    cut_shallow(dir, &mut contents.links);
    if ctx.opts.mode == GitMode::Tree {
        // HEAD's commit is the only one read.
        contents.links.values_mut().for_each(|l| l.parents.clear());
    }
    let blobs = contents.blobs();
    let mut graph = Graph::with_capacity(&contents.wanted(), (0, 0)).with_id_width(dir.id_width());
    graph
        .reach_refs(lookup, &contents.links)
        .ok_or_else(unread)?;
    ctx.scanner.progress.set_phase("reading trees");
    source
        .trees_in(dir.git_dir(), &mut graph)
        .ok_or_else(unread)?;
    graph.complete(&blobs).ok_or_else(unread)?;
    drop(blobs);
    let (done, links) = contents.into_done();
    Ok(report(ctx, lookup, done, &links, &graph))
}

/// A shallow clone's history ends at its boundary: the parents there were never fetched.
fn cut_shallow(dir: &GitDir, links: &mut OidMap<Links>) {
    for oid in dir.shallow_boundary().unwrap_or_default() {
        if let Some(links) = links.get_mut(&oid) {
            links.parents.clear();
        }
    }
}

/// A repository only git reads, seen as HEAD's commit alone (`keyhound ci`'s SARIF of the
/// checked-out tree): the one ref it has.
struct AtHead<'a>(&'a GitDir);

impl AtHead<'_> {
    fn commit(&self) -> Option<Oid> {
        let answer = self.0.objects(&["HEAD^{commit}".to_string()])?;
        hex_oid(answer.into_iter().next()??.0.as_bytes())
    }
}

impl Lookup for AtHead<'_> {
    fn ref_targets(&self) -> Option<Vec<(Oid, ObjectType)>> {
        Some(vec![(self.commit()?, ObjectType::Commit)])
    }

    fn tips(&self, presence: super::tips::Presence) -> super::tips::Tips {
        self.0.tips(presence)
    }

    fn commit_meta(&self, oid: Oid) -> super::meta::CommitMeta {
        self.0.commit_meta(oid)
    }

    fn blob(&self, oid: Oid) -> Option<Vec<u8>> {
        self.0.blob(oid)
    }
}

/// Says on the progress bar that the second pass, from blobs back to commits, has begun.
fn locating(ctx: &Ctx<'_>, hits: &Hits) {
    if !ctx.scanner.progress.is_shown() {
        return;
    }
    let keys: std::collections::HashSet<&str> = (hits.blobs.values().flatten())
        .map(|f| f.fingerprint.as_str())
        .collect();
    ctx.scanner.progress.set_phase(&match keys.len() {
        0 => "reading the commit order".to_string(),
        1 => "locating 1 key in history".to_string(),
        n => format!("locating {n} keys in history"),
    });
}

/// Keeps what the refs reach of what was scanned, and groups the findings by history, walking
/// the complete `graph`.
fn report(
    ctx: &Ctx<'_>,
    repo: &dyn Lookup,
    done: Vec<Done>,
    links: &OidMap<Links>,
    graph: &Graph,
) -> GitOutcome {
    let commits = graph::commit_order(links, graph.commits());
    let read = (links.len(), Beyond::default());
    report_in_order(ctx, repo, done, (graph, &commits), &read)
}

/// What `--all-objects` adds to a history read through git: how the blobs no commit holds
/// were reached, the paths of those under trees nothing else reaches, and notes.
#[derive(Default)]
struct Beyond {
    blob_reach: std::collections::HashMap<Oid, crate::finding::Reach>,
    paths: OidMap<String>,
    notes: Vec<Skipped>,
}

/// `report` over `commits` in their order (each labelled with how it was reached), `read`
/// being how many commits were read and what `--all-objects` adds.
fn report_in_order(
    ctx: &Ctx<'_>,
    repo: &dyn Lookup,
    done: Vec<Done>,
    (graph, commits): (&Graph, &[(Oid, crate::finding::Reach)]),
    (read, beyond): &(usize, Beyond),
) -> GitOutcome {
    let mut hits = Hits::default();
    for d in done {
        let reached = if d.is_blob {
            graph.reaches_blob(&d.oid)
        } else {
            graph.reaches_commit(&d.oid)
        };
        if reached {
            if d.is_blob && d.outcome.findings.is_empty() && !d.outcome.skipped.is_empty() {
                hits.noted.insert(d.oid);
            }
            hits.add(d);
        }
    }
    locating(ctx, &hits);
    // Every commit object read was counted on the bar; the report counts those the refs reach.
    (ctx.scanner.progress).uncount_commits(read.saturating_sub(commits.len()) as u64);
    let tips = repo.tips(ctx.presence);
    let source = Source::Graph(graph);
    let (mut outcome, paths) =
        locate::group(repo, commits, hits, (&tips, source), &beyond.blob_reach);
    outcome.stats.commits = commits.len() as u64;
    for s in &mut outcome.skipped {
        rename_note(s, &paths);
        rename_note(s, &beyond.paths);
    }
    for f in &mut outcome.findings {
        everything::place(f, &beyond.paths);
    }
    outcome.skipped.extend(beyond.notes.iter().cloned());
    outcome
        .skipped
        .extend(submodules(repo, &graph.gitmodules()));
    outcome.skipped.iter().for_each(ctx.on_skip);
    outcome
}

/// A blob's note names it by its id: name it by its first path instead.
fn rename_note(s: &mut Skipped, paths: &OidMap<String>) {
    let Some(id) = s.path.get(..40) else {
        return;
    };
    let Some(path) = Oid::from_str(id).ok().and_then(|oid| paths.get(&oid)) else {
        return;
    };
    s.path = format!("{path}{}", &s.path[40..]);
}

/// Submodules are not followed: each path any `.gitmodules` in history names is said once.
fn submodules(repo: &dyn Lookup, files: &[Oid]) -> Vec<Skipped> {
    let mut paths = std::collections::BTreeSet::new();
    for oid in files {
        let Some(blob) = repo.blob(*oid) else {
            continue;
        };
        for line in String::from_utf8_lossy(&blob).lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if key.trim() == "path" {
                paths.insert(value.trim().to_string());
            }
        }
    }
    paths
        .into_iter()
        .map(|path| Skipped {
            path,
            reason: "submodule: not followed; scan its own repository with keyhound git".into(),
            incomplete: false,
        })
        .collect()
}
