//! `--range` and `--staged` in a repository only git can read (`by_git`): the commits from
//! `git rev-list`, what each changed from `git diff-tree` (against each parent, renames
//! followed), the index's changes from `git diff --cached`; then the same resolution as
//! libgit2's repositories get (`diff`).

use super::diff::{Change, StagedDiff, candidates, parse_raw_diff, resolve, scan_index_changes};
use crate::finding::Reach;
use crate::scan::git::blobs::Job;
use crate::scan::git::by_git::GitDir;
use crate::scan::git::command::SAFE_DIFF;
use crate::scan::git::objects::{Links, hex_oid, message};
use crate::scan::git::{Ctx, GitOutcome};
use anyhow::{Context as _, anyhow, bail};
use git2::Oid;

pub(in crate::scan::git) fn scan_range(
    ctx: &Ctx<'_>,
    dir: &GitDir,
    range: &str,
) -> anyhow::Result<GitOutcome> {
    let commits = range_commits(dir, range)?;
    let mut found = Vec::new();
    let mut messages = Vec::new();
    for (i, &oid) in commits.iter().enumerate() {
        let raw = dir
            .output(&["cat-file", "commit", &oid.to_string()])
            .with_context(|| format!("commit {oid}: cannot read it"))?;
        let links = Links::parse(&raw).with_context(|| format!("commit {oid}: cannot parse it"))?;
        let mut per_parent = Vec::new();
        if links.parents.is_empty() {
            per_parent.push(diff_tree(dir, None, oid)?);
        }
        for p in &links.parents {
            per_parent.push(diff_tree(dir, Some(*p), oid)?);
        }
        found.extend(candidates(i, per_parent));
        messages.push(Job::Text {
            key: oid,
            text: message(&raw).to_vec(),
        });
    }
    let mut out = resolve(ctx, dir, &found, messages, &commits, Reach::Refs)?;
    out.stats.commits = commits.len() as u64;
    Ok(out)
}

pub(in crate::scan::git) fn scan_staged(
    ctx: &Ctx<'_>,
    dir: &GitDir,
    started: Option<StagedDiff>,
) -> anyhow::Result<GitOutcome> {
    let workdir = dir.workdir().unwrap_or(dir.git_dir());
    let changes = StagedDiff::changes(started, ctx.opts, workdir)
        .ok_or_else(|| anyhow!("{}: `git diff --cached` failed", workdir.display()))?;
    scan_index_changes(ctx, dir, changes)
}

/// What `commit` changed against `parent` (against nothing for a root commit).
fn diff_tree(dir: &GitDir, parent: Option<Oid>, commit: Oid) -> anyhow::Result<Vec<Change>> {
    let mut args = vec![
        "diff-tree",
        "-r",
        "-z",
        "-M",
        "--raw",
        "--no-abbrev",
        "--no-commit-id",
    ];
    args.extend(SAFE_DIFF);
    args.extend(["--ignore-submodules=all", "--no-color"]);
    let (parent, commit) = (parent.map(|p| p.to_string()), commit.to_string());
    match &parent {
        Some(p) => args.push(p),
        None => args.push("--root"),
    }
    args.push(&commit);
    let out = dir
        .output(&args)
        .with_context(|| format!("commit {commit}: `git diff-tree` failed"))?;
    parse_raw_diff(&out)
        .with_context(|| format!("commit {commit}: unexpected `git diff-tree` output"))
}

/// The commits a range names, oldest first, as `diff::range_commits` reads them.
fn range_commits(dir: &GitDir, range: &str) -> anyhow::Result<Vec<Oid>> {
    let resolve = |side: &str| -> anyhow::Result<String> {
        let spec = if side.is_empty() { "HEAD" } else { side };
        let answer = dir.objects(&[format!("{spec}^{{commit}}")]);
        if let Some((id, _)) = answer.and_then(|mut a| a.pop().flatten()) {
            return Ok(id);
        }
        let hint = if dir.git_dir().join("shallow").exists() {
            " This is a shallow clone: fetch the whole history (`git fetch --unshallow`)."
        } else {
            ""
        };
        bail!("--range {range}: {spec:?} is not a commit in this repository.{hint}")
    };
    let mut args = vec![
        "rev-list".to_string(),
        "--date-order".into(),
        "--reverse".into(),
    ];
    for token in range.split_whitespace() {
        if let Some((a, b)) = token.split_once("..") {
            args.push(format!("^{}", resolve(a)?));
            args.push(resolve(b)?);
        } else if let Some(a) = token.strip_prefix('^') {
            args.push(format!("^{}", resolve(a)?));
        } else {
            args.push(resolve(token)?);
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = dir.output(&args).ok_or_else(|| {
        anyhow!("--range {range}: cannot walk the commits (`git rev-list` failed)")
    })?;
    String::from_utf8_lossy(&out)
        .lines()
        .map(|l| {
            hex_oid(l.as_bytes())
                .ok_or_else(|| anyhow!("--range {range}: unexpected `git rev-list` output"))
        })
        .collect()
}
