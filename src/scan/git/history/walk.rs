//! The libgit2 walk of the whole history: every commit reachable from every ref (with `--all-objects` also stash
//! entries, reflogs and unreachable objects), each tree walked once and each blob scanned once,
//! streamed to the workers while the walk goes on.

use super::forest::Source;
use super::locate::{self, Hits};
use crate::finding::{Reach, Skipped};
use crate::scan::git::blobs::{self, Done, Job};
use crate::scan::git::objects::{Links, large_commit_head, peeled_commit, read_header};
use crate::scan::git::oidmap::OidSet;
use crate::scan::git::{Ctx, GitMode, GitOutcome, OnSkip, heads, tips};
use crossbeam_channel::Sender;
use git2::{ObjectType, Oid, Repository, Sort};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// How a commit or blob was reached, as reports label it.
const REFS: Reach = Reach::Refs;
const STASH: Reach = Reach::Stash;
const REFLOG: Reach = Reach::Reflog;
const UNREACHABLE: Reach = Reach::Unreachable;

/// The git file mode of a submodule entry (a gitlink).
const GITLINK: i32 = 0o160_000;

pub(super) fn scan(ctx: &Ctx<'_>, repo: &Repository) -> anyhow::Result<GitOutcome> {
    let hits = Mutex::new(Hits::default());
    let done = |d: Done| {
        d.outcome.skipped.iter().for_each(ctx.on_skip);
        hits.lock().unwrap_or_else(|p| p.into_inner()).add(d);
    };
    let walked = blobs::run(ctx, |tx| walk_all(ctx, repo, tx), &done)?;
    let hits = hits.into_inner().unwrap_or_else(|p| p.into_inner());
    super::locating(ctx, &hits);
    let tips = tips::tips(repo, ctx.presence);
    let source = Source::Odb(repo.path());
    let (mut outcome, _) = locate::group(
        repo,
        &walked.commits,
        hits,
        (&tips, source),
        &walked.blob_reach,
    );
    outcome.stats.commits = walked.commits.len() as u64;
    outcome.skipped.extend(walked.notes);
    Ok(outcome)
}

/// What the walk found besides the jobs it sent.
#[derive(Default)]
pub(super) struct Walked {
    /// Every commit, oldest first in topological order, with how it was reached.
    pub commits: Vec<(Oid, Reach)>,
    /// How blobs met outside the refs' history were reached.
    pub blob_reach: HashMap<Oid, Reach>,
    pub notes: Vec<Skipped>,
}

fn walk_all(ctx: &Ctx<'_>, repo: &Repository, tx: &Sender<Job>) -> Walked {
    let mut w = Walker {
        repo,
        revwalks: repo,
        tx,
        on_skip: ctx.on_skip,
        trees: OidSet::default(),
        blobs: OidSet::default(),
        commit_set: OidSet::default(),
        submodules: HashSet::new(),
        walked: Walked::default(),
        hidden: Vec::new(),
        reach: REFS,
    };
    if ctx.opts.mode == GitMode::Tree {
        if let Some((head, _)) = repo.head().ok().and_then(|h| peeled_commit(repo, &h)) {
            w.commit(head);
        }
        return w.walked;
    }
    let heads = heads::open(|| ctx.repo.handle().ok());
    w.revwalks = heads.as_ref().unwrap_or(repo);
    let tips = ref_tips(repo, &mut w);
    w.walk_commits(&tips, REFS);
    if ctx.opts.all_objects {
        let (stash, reflog) = log_tips(repo);
        w.walk_commits(&stash, STASH);
        w.walk_commits(&reflog, REFLOG);
        w.unreachable();
    }
    w.walked
}

/// The commits every ref and HEAD point at; refs at trees or blobs are walked or sent directly.
/// A large commit a ref points at is not read whole (libgit2 would hold it twice: the object and
/// the message it copies out).
fn ref_tips(repo: &Repository, w: &mut Walker<'_>) -> Vec<Oid> {
    let mut tips = Vec::new();
    if let Some((head, _)) = repo.head().ok().and_then(|h| peeled_commit(repo, &h)) {
        tips.push(head);
    }
    let Ok(refs) = repo.references() else {
        return tips;
    };
    for r in refs.flatten() {
        let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
        if name == "refs/stash" {
            continue; // with --all-objects only, like the rest of the stash
        }
        if let Some(oid) = r.resolve().ok().and_then(|r| r.target())
            && large_commit_head(repo, oid).is_some()
        {
            tips.push(oid);
            continue;
        }
        match r.peel(ObjectType::Any) {
            Ok(obj) => match obj.kind() {
                Some(ObjectType::Commit) => tips.push(obj.id()),
                Some(ObjectType::Tree) => w.walk_tree(obj.id(), ""),
                Some(ObjectType::Blob) => w.blob(obj.id(), name),
                _ => {}
            },
            Err(e) => w.note(
                name,
                format!("ref points at a missing object: {}", e.message()),
                true,
            ),
        }
    }
    tips
}

/// The commits the stash's reflog and every other reflog name.
fn log_tips(repo: &Repository) -> (Vec<Oid>, Vec<Oid>) {
    let mut names = vec!["HEAD".to_string()];
    if let Ok(refs) = repo.references() {
        names.extend(
            refs.flatten()
                .filter_map(|r| r.name().ok().map(str::to_string)),
        );
    }
    let (mut stash, mut other) = (Vec::new(), Vec::new());
    for name in names {
        let Ok(log) = repo.reflog(&name) else {
            continue;
        };
        let into = if name == "refs/stash" {
            &mut stash
        } else {
            &mut other
        };
        for e in log.iter() {
            into.extend(
                [e.id_new(), e.id_old()]
                    .into_iter()
                    .filter(|o| !o.is_zero()),
            );
        }
    }
    if let Ok(r) = repo.find_reference("refs/stash") {
        stash.extend(r.target());
    }
    (stash, other)
}

/// The tree of commit `oid`; a large commit's header alone is read.
fn tree_of(repo: &Repository, oid: Oid) -> Result<Oid, git2::Error> {
    if let Some(head) = large_commit_head(repo, oid) {
        let links = Links::parse(&head).ok_or_else(|| git2::Error::from_str("no tree line"))?;
        return Ok(links.tree);
    }
    repo.find_commit(oid).map(|c| c.tree_id())
}

struct Walker<'r> {
    repo: &'r Repository,
    /// What libgit2's revwalk reads commits from: `repo`, but a large commit is read as its
    /// header alone (`heads`).
    revwalks: &'r Repository,
    tx: &'r Sender<Job>,
    on_skip: OnSkip<'r>,
    trees: OidSet,
    blobs: OidSet,
    commit_set: OidSet,
    submodules: HashSet<String>,
    walked: Walked,
    /// Tips walked already, hidden from later walks.
    hidden: Vec<Oid>,
    /// How what is being walked now was reached.
    reach: Reach,
}

impl Walker<'_> {
    fn note(&mut self, path: String, reason: String, incomplete: bool) {
        let s = Skipped {
            path,
            reason,
            incomplete,
        };
        (self.on_skip)(&s);
        self.walked.notes.push(s);
    }

    fn send(&self, job: Job) {
        // A closed channel means the workers failed; their error is reported by `blobs::run`.
        let _ = self.tx.send(job);
    }

    /// Walks every commit reachable from `tips` and not walked before, oldest first.
    fn walk_commits(&mut self, tips: &[Oid], reach: Reach) {
        self.reach = reach;
        let mut walk = match self.revwalks.revwalk() {
            Ok(w) => w,
            Err(e) => {
                return self.note(
                    ".".into(),
                    format!("cannot walk history: {}", e.message()),
                    true,
                );
            }
        };
        let _ = walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE);
        let mut pushed = 0;
        for &tip in tips {
            // Reflog entries may name commits that gc pruned long ago: that is no error.
            pushed += usize::from(walk.push(tip).is_ok());
        }
        for &h in &self.hidden {
            let _ = walk.hide(h);
        }
        self.hidden.extend_from_slice(tips);
        if pushed == 0 {
            return;
        }
        for oid in walk {
            match oid {
                Ok(oid) => self.commit(oid),
                Err(e) => {
                    let reason = format!("history walk stopped early: {}", e.message());
                    return self.note(".".into(), reason, true);
                }
            }
        }
    }

    /// Sends commit `oid` to the workers, which read its message where it lies (one over 1 MiB
    /// as it is inflated), and walks its tree.
    fn commit(&mut self, oid: Oid) {
        if !self.commit_set.insert(oid) {
            return;
        }
        let tree = match tree_of(self.repo, oid) {
            Ok(tree) => tree,
            Err(e) => {
                let reason = format!("missing or corrupt commit: {}", e.message());
                return self.note(oid.to_string(), reason, true);
            }
        };
        self.walked.commits.push((oid, self.reach));
        self.send(Job::ReadCommit { oid });
        self.walk_tree(tree, "");
    }

    /// Sends every blob under tree `root` not sent before; trees seen before are not re-read.
    fn walk_tree(&mut self, root: Oid, root_path: &str) {
        if !self.trees.insert(root) {
            return;
        }
        let mut stack = vec![(root, root_path.to_string())];
        while let Some((oid, prefix)) = stack.pop() {
            let tree = match self.repo.find_tree(oid) {
                Ok(t) => t,
                Err(e) => {
                    let reason = format!("missing or corrupt tree {oid}: {}", e.message());
                    self.note(format!("{prefix}/"), reason, true);
                    continue;
                }
            };
            for entry in &tree {
                // Most entries of a tree are met before: their paths are never built.
                let path = || {
                    let name = String::from_utf8_lossy(entry.name_bytes());
                    if prefix.is_empty() {
                        name.into_owned()
                    } else {
                        format!("{prefix}/{name}")
                    }
                };
                match entry.kind() {
                    Some(ObjectType::Blob) if !self.blobs.contains(&entry.id()) => {
                        self.blob(entry.id(), path());
                    }
                    Some(ObjectType::Tree) if self.trees.insert(entry.id()) => {
                        stack.push((entry.id(), path()));
                    }
                    Some(ObjectType::Commit) if entry.filemode() == GITLINK => {
                        self.submodule(path(), entry.id());
                    }
                    _ => {}
                }
            }
        }
    }

    fn blob(&mut self, oid: Oid, path: String) {
        if self.blobs.insert(oid) {
            if self.reach != REFS {
                self.walked.blob_reach.insert(oid, self.reach);
            }
            self.send(Job::Blob { oid, path });
        }
    }

    fn submodule(&mut self, path: String, commit: Oid) {
        if self.submodules.insert(path.clone()) {
            let reason = format!(
                "submodule (at commit {commit}): not followed; scan its own repository with keyhound git"
            );
            self.note(path, reason, false);
        }
    }

    /// The objects of the repositories this one borrows from (`objects/info/alternates`): they
    /// are that repository's, not this one's, so `--all-objects` leaves them out and says so.
    fn borrowed(&mut self) -> OidSet {
        let mut set = OidSet::default();
        let objects = self.repo.path().join("objects");
        let Ok(text) = std::fs::read_to_string(objects.join("info").join("alternates")) else {
            return set;
        };
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let dir = objects.join(line);
            let Ok(odb) = git2::Odb::new()
                .and_then(|o| o.add_disk_alternate(&dir.to_string_lossy()).map(|()| o))
            else {
                continue;
            };
            let _ = odb.foreach(|oid| {
                set.insert(*oid);
                true
            });
            self.note(
                dir.display().to_string(),
                "objects borrowed from this alternate object store belong to another repository: \
                 --all-objects does not scan the unreachable ones (scan that repository itself)"
                    .into(),
                false,
            );
        }
        set
    }

    /// With `--all-objects`: every object no ref or reflog reaches.
    fn unreachable(&mut self) {
        self.reach = UNREACHABLE;
        let shown = self.repo.path().display().to_string();
        let odb = match self.repo.odb() {
            Ok(odb) => odb,
            Err(e) => {
                let reason = format!("cannot list the objects no ref reaches: {}", e.message());
                return self.note(shown, reason, true);
            }
        };
        let mut all = Vec::new();
        let listed = odb.foreach(|oid| {
            all.push(*oid);
            true
        });
        if let Err(e) = listed {
            let reason = format!("cannot list every object no ref reaches: {}", e.message());
            self.note(shown, reason, true);
        }
        all.sort_unstable();
        all.dedup();
        let borrowed = self.borrowed();
        all.retain(|oid| !borrowed.contains(oid));
        let (mut commits, mut trees, mut blobs) = (Vec::new(), Vec::new(), Vec::new());
        for oid in all {
            if self.commit_set.contains(&oid)
                || self.trees.contains(&oid)
                || self.blobs.contains(&oid)
            {
                continue;
            }
            match read_header(&odb, oid).map(|(_, kind)| kind) {
                Ok(ObjectType::Commit) => commits.push(oid),
                Ok(ObjectType::Tree) => trees.push(oid),
                Ok(ObjectType::Blob) => blobs.push(oid),
                // A tag's target is an object of its own, met in this loop.
                Ok(_) => {}
                Err(e) => {
                    let reason = format!("missing or corrupt object: {}", e.message());
                    self.note(format!("object {oid}"), reason, true);
                }
            }
        }
        self.walk_commits(&commits, UNREACHABLE);
        self.reach = UNREACHABLE;
        for t in trees {
            self.walk_tree(t, "");
        }
        for b in blobs {
            self.blob(b, b.to_string());
        }
    }
}
