//! Narrowing the scan to what changed: `--range A..B` (each commit of `rev-list B ^A` against each
//! of its parents) and `--staged` (the index against HEAD). A key is new when a changed blob has
//! it and the blob at that path (or its rename source) in every parent does not.

use crate::finding::{Finding, GitInfo, GitObject, Reach};
use crate::scan::git::blobs::{self, Job};
use crate::scan::git::history::locate::{Hits, first_per_key};
use crate::scan::git::lookup::Lookup;
use crate::scan::git::meta::MetaCache;
use crate::scan::git::objects::hex_oid;
use crate::scan::git::{Ctx, GitOptions, GitOutcome};
use anyhow::{Context as _, anyhow};
use git2::{Delta, DiffFindOptions, DiffOptions, ErrorCode, FileMode, Oid, Repository, Sort, Tree};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// A blob a commit (or the index) put at `path`, and what each parent had there.
pub(super) struct Candidate {
    /// Index into the range's commits; None for the index.
    commit: Option<usize>,
    path: String,
    new: Oid,
    /// Per parent: the blob at this path or its rename source, None when the path is new.
    olds: Vec<Option<Oid>>,
}

pub(in crate::scan::git) fn scan_range(
    ctx: &Ctx<'_>,
    repo: &Repository,
    range: &str,
) -> anyhow::Result<GitOutcome> {
    let commits = range_commits(repo, range)?;
    let mut candidates = Vec::new();
    let mut messages = Vec::new();
    for (i, &oid) in commits.iter().enumerate() {
        let commit = repo
            .find_commit(oid)
            .with_context(|| format!("commit {oid}: cannot read it"))?;
        candidates.extend(commit_changes(repo, &commit, i)?);
        messages.push(Job::Text {
            key: oid,
            text: commit.message_raw_bytes().to_vec(),
        });
    }
    let mut out = resolve(ctx, repo, &candidates, messages, &commits, Reach::Refs)?;
    out.stats.commits = commits.len() as u64;
    Ok(out)
}

/// Scans what the index adds to HEAD, asking the `git diff --cached` child `started` (if the
/// command started one already) what changed.
pub(in crate::scan::git) fn scan_staged(
    ctx: &Ctx<'_>,
    repo: &Repository,
    started: Option<StagedDiff>,
) -> anyhow::Result<GitOutcome> {
    let dir = repo.workdir().unwrap_or(repo.path());
    let changes = match StagedDiff::changes(started, ctx.opts, dir) {
        Some(changes) => changes,
        None => staged_by_libgit2(repo)?,
    };
    scan_index_changes(ctx, repo, changes)
}

/// Scans what the index `changes` against HEAD.
pub(super) fn scan_index_changes(
    ctx: &Ctx<'_>,
    repo: &dyn Lookup,
    changes: Vec<Change>,
) -> anyhow::Result<GitOutcome> {
    let candidates = changes
        .into_iter()
        .map(|(path, new, old)| Candidate {
            commit: None,
            path,
            new,
            olds: vec![old],
        })
        .collect::<Vec<_>>();
    resolve(ctx, repo, &candidates, Vec::new(), &[], Reach::Index)
}

/// A path a diff adds or changes: (new path, new blob, old blob or None).
pub(super) type Change = (String, Oid, Option<Oid>);

/// What the index changes, as `git diff --cached` says it: git reads the index's cache-tree, so
/// in a hook it answers in a few milliseconds where comparing whole trees takes several times
/// that, and its rename detection is the user's own. When git cannot be run, the caller asks
/// libgit2. The child is started (by `scan::git::start`) before the rules load, so that git
/// reads the index while the matcher is built: the two halves of a pre-commit hook, 1.5 ms and
/// 2 ms or so, side by side on two cores.
#[derive(Debug)]
pub struct StagedDiff(std::process::Child);

impl StagedDiff {
    /// Starts git on the repository `opts` names, whose work tree (or git directory when bare)
    /// is `workdir`: the environment (GIT_DIR, GIT_INDEX_FILE) is passed on as git gave it; git
    /// runs in `workdir` when the command line named the repository. None when git cannot be
    /// run.
    pub fn start(opts: &GitOptions, workdir: &Path) -> Option<StagedDiff> {
        let mut cmd = crate::scan::git::command::git();
        if opts.repo.is_some() {
            cmd.current_dir(workdir);
        }
        let child = cmd
            .args(["diff", "--cached", "--raw", "-z", "-M", "--no-abbrev"])
            .args(crate::scan::git::command::SAFE_DIFF)
            .args(["--ignore-submodules=all", "--no-color"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        Some(StagedDiff(child))
    }

    /// What git says the index changes, asking the child `started` (if the command started one
    /// already) or one started now in `workdir`; None when git cannot be run or failed.
    pub fn changes(
        started: Option<StagedDiff>,
        opts: &GitOptions,
        workdir: &Path,
    ) -> Option<Vec<Change>> {
        started
            .or_else(|| StagedDiff::start(opts, workdir))
            .and_then(StagedDiff::finish)
    }

    /// What git answered; None when it failed.
    fn finish(self) -> Option<Vec<Change>> {
        let out = self.0.wait_with_output().ok()?;
        if !out.status.success() {
            return None;
        }
        parse_raw_diff(&out.stdout)
    }
}

/// Parses `git diff --raw -z`: `:oldmode newmode old new STATUS\0path\0` (`\0new path\0` more
/// for renames and copies). None if the text is not that.
pub(super) fn parse_raw_diff(raw: &[u8]) -> Option<Vec<Change>> {
    let mut fields = raw.split(|b| *b == 0).filter(|f| !f.is_empty());
    let mut out = Vec::new();
    while let Some(head) = fields.next() {
        let head = std::str::from_utf8(head.strip_prefix(b":")?).ok()?;
        let parts: Vec<&str> = head.split(' ').collect();
        let [_, new_mode, old, new, status] = parts[..] else {
            return None;
        };
        let mut path = fields.next()?;
        if status.starts_with(['R', 'C']) {
            path = fields.next()?;
        }
        let (old, new) = (hex_oid(old.as_bytes())?, hex_oid(new.as_bytes())?);
        let kept = matches!(status.as_bytes()[0], b'A' | b'M' | b'R' | b'C' | b'T');
        if kept && !new.is_zero() && new_mode != "160000" {
            let old = Some(old).filter(|o| !o.is_zero() && !status.starts_with('A'));
            out.push((String::from_utf8_lossy(path).into_owned(), new, old));
        }
    }
    Some(out)
}

fn staged_by_libgit2(repo: &Repository) -> anyhow::Result<Vec<Change>> {
    let index = repo.index().context("cannot read the index")?;
    let head = match repo.head() {
        Ok(h) => Some(h.peel_to_tree().context("cannot read HEAD's tree")?),
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => None,
        Err(e) => return Err(anyhow!("cannot read HEAD: {}", e.message())),
    };
    let mut diff = repo
        .diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut diff_options()))
        .context("cannot compare the index with HEAD")?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
    Ok(changes(&diff))
}

/// The commits a range names, oldest first: `A..B` (B's commits not in A), and any number of
/// further `A..B`, `B` and `^A` tokens separated by spaces, as `git rev-list` takes them.
pub(super) fn range_commits(repo: &Repository, range: &str) -> anyhow::Result<Vec<Oid>> {
    let resolve = |side: &str| {
        let spec = if side.is_empty() { "HEAD" } else { side };
        repo.revparse_single(spec)
            .and_then(|o| o.peel_to_commit())
            .map(|c| c.id())
            .map_err(|e| {
                let hint = if repo.is_shallow() {
                    " This is a shallow clone: fetch the whole history (`git fetch --unshallow`; in CI, GitHub's actions/checkout with fetch-depth: 0 or GitLab's GIT_DEPTH: 0)."
                } else {
                    ""
                };
                anyhow!("--range {range}: {spec:?} is not a commit in this repository ({}).{hint}", e.message())
            })
    };
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE)?;
    for token in range.split_whitespace() {
        if let Some((a, b)) = token.split_once("..") {
            walk.hide(resolve(a)?)?;
            walk.push(resolve(b)?)?;
        } else if let Some(a) = token.strip_prefix('^') {
            walk.hide(resolve(a)?)?;
        } else {
            walk.push(resolve(token)?)?;
        }
    }
    walk.collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("--range {range}: cannot walk the commits: {}", e.message()))
}

/// The paths `commit` changed against every one of its parents (all of them for a root commit).
fn commit_changes(
    repo: &Repository,
    commit: &git2::Commit<'_>,
    index: usize,
) -> anyhow::Result<Vec<Candidate>> {
    let tree = commit.tree()?;
    let parents: Vec<Option<Tree<'_>>> = if commit.parent_count() == 0 {
        vec![None]
    } else {
        commit.parents().map(|p| p.tree().ok()).collect()
    };
    let mut per_parent = Vec::with_capacity(parents.len());
    for parent in &parents {
        let mut diff =
            repo.diff_tree_to_tree(parent.as_ref(), Some(&tree), Some(&mut diff_options()))?;
        diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
        per_parent.push(changes(&diff));
    }
    Ok(candidates(index, per_parent))
}

/// The candidates of commit number `index`, from what it changed against each parent (one list
/// for a root commit): a path unchanged against some parent is not new in the commit.
pub(super) fn candidates(index: usize, per_parent: Vec<Vec<Change>>) -> Vec<Candidate> {
    let mut by_path: HashMap<String, Candidate> = HashMap::new();
    for (j, changes) in per_parent.into_iter().enumerate() {
        for (path, new, old) in changes {
            if j == 0 {
                let olds = vec![old];
                by_path.insert(
                    path.clone(),
                    Candidate {
                        commit: Some(index),
                        path,
                        new,
                        olds,
                    },
                );
            } else if let Some(c) = by_path.get_mut(&path) {
                c.olds.push(old);
            }
        }
        // A path unchanged against this parent is not new in the commit.
        by_path.retain(|_, c| c.olds.len() == j + 1);
    }
    let mut out: Vec<Candidate> = by_path.into_values().collect();
    out.sort_by(|x, y| x.path.cmp(&y.path));
    out
}

fn diff_options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.ignore_submodules(true).include_typechange(true);
    opts
}

/// (new path, new blob, old blob or None) of every blob a diff adds or changes.
fn changes(diff: &git2::Diff<'_>) -> Vec<Change> {
    diff.deltas()
        .filter(|d| !d.new_file().id().is_zero() && d.new_file().mode() != FileMode::Commit)
        .filter_map(|d| {
            let old = match d.status() {
                Delta::Added => None,
                Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange => {
                    Some(d.old_file().id()).filter(|o| !o.is_zero())
                }
                _ => return None,
            };
            let path = d.new_file().path_bytes()?;
            Some((
                String::from_utf8_lossy(path).into_owned(),
                d.new_file().id(),
                old,
            ))
        })
        .collect()
}

/// Scans the candidates' blobs (then, for those with keys, their parents' blobs) and reports
/// each key that no parent had, once per key and path, at the first commit that added it.
pub(super) fn resolve(
    ctx: &Ctx<'_>,
    repo: &dyn Lookup,
    candidates: &[Candidate],
    messages: Vec<Job>,
    commits: &[Oid],
    reached_by: Reach,
) -> anyhow::Result<GitOutcome> {
    let mut queued = HashSet::new();
    let mut jobs: Vec<Job> = candidates
        .iter()
        .filter(|c| queued.insert(c.new))
        .map(|c| Job::Blob {
            oid: c.new,
            path: c.path.clone(),
        })
        .collect();
    jobs.extend(messages);
    let mut hits = Hits::default();
    scan_into(ctx, jobs, &mut hits)?;
    let olds: Vec<Job> = candidates
        .iter()
        .filter(|c| hits.blobs.contains_key(&c.new))
        .flat_map(|c| c.olds.iter().flatten().map(move |o| (*o, &c.path)))
        .filter(|(o, _)| queued.insert(*o))
        .map(|(oid, path)| Job::Blob {
            oid,
            path: path.clone(),
        })
        .collect();
    scan_into(ctx, olds, &mut hits)?;
    let had = |blob: &Oid, fp: &str| {
        hits.blobs
            .get(blob)
            .is_some_and(|l| l.iter().any(|f| f.fingerprint == fp))
    };
    let mut meta = MetaCache::default();
    let mut reported = HashSet::new();
    let mut findings = Vec::new();
    for c in candidates {
        let Some(list) = hits.blobs.get(&c.new) else {
            continue;
        };
        for f in first_per_key(list) {
            let new = c
                .olds
                .iter()
                .all(|o| o.is_none_or(|o| !had(&o, &f.fingerprint)));
            if new && reported.insert((f.fingerprint.clone(), c.path.clone())) {
                let commit = c.commit.map(|i| commits[i]);
                findings.push(changed(f, c, commit, reached_by, &mut meta, repo));
            }
        }
    }
    findings.extend(hits.message_findings(repo, &mut meta, &|_| reached_by, None));
    Ok(hits.into_outcome(findings))
}

fn scan_into(ctx: &Ctx<'_>, jobs: Vec<Job>, hits: &mut Hits) -> anyhow::Result<()> {
    for d in blobs::scan_all(ctx, jobs)? {
        d.outcome.skipped.iter().for_each(ctx.on_skip);
        hits.add(d);
    }
    Ok(())
}

/// The finding for a key that candidate `c` added.
fn changed(
    f: &Finding,
    c: &Candidate,
    commit: Option<Oid>,
    reached_by: Reach,
    meta: &mut MetaCache,
    repo: &dyn Lookup,
) -> Finding {
    let m = commit.map(|o| meta.get(repo, o)).unwrap_or_default();
    let mut f = f.clone();
    f.origin.path.clone_from(&c.path);
    f.git = Some(Box::new(GitInfo {
        object: GitObject::Blob,
        reached_by,
        commit: commit.map(|o| o.to_string()),
        author: m.author,
        date: m.date,
        blob: Some(c.new.to_string()),
        ..GitInfo::default()
    }));
    f
}

#[cfg(test)]
mod tests {
    use super::parse_raw_diff;

    #[test]
    fn raw_diffs_parse() {
        let (z, a, b) = ("0".repeat(40), "a".repeat(40), "b".repeat(40));
        let raw = format!(
            ":000000 100644 {z} {a} A\0new.txt\0:100644 100644 {a} {b} R090\0old name\0new name\0\
             :100644 000000 {a} {z} D\0gone\0:000000 160000 {z} {b} A\0sub\0"
        );
        let got = parse_raw_diff(raw.as_bytes()).expect("parses");
        let ids: Vec<(&str, String, Option<String>)> = got
            .iter()
            .map(|(p, n, o)| (p.as_str(), n.to_string(), o.map(|o| o.to_string())))
            .collect();
        assert_eq!(
            ids,
            [
                ("new.txt", a.clone(), None),
                ("new name", b.clone(), Some(a.clone()))
            ]
        );
        assert!(parse_raw_diff(b"garbage\0").is_none());
        assert_eq!(parse_raw_diff(b"").map(|v| v.len()), Some(0));
    }
}
