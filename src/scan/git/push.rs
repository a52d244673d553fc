//! The pre-push hook: which commits a push sends. The pre-commit framework says it in
//! `PRE_COMMIT_FROM_REF`/`PRE_COMMIT_TO_REF`; git itself gives the hook one line per ref on
//! standard input (`<local ref> <local sha> <remote ref> <remote sha>`). Commits the remote has
//! already (its old tip, or for a new branch every remote-tracking branch) are left out, so a
//! commit made with `--no-verify` is caught before it leaves the machine.

use git2::{Oid, Repository};
use std::io::BufRead;

/// The rev-list tokens for what is being pushed (`^old new …`); None when nothing is.
pub(super) fn range(repo: &Repository) -> anyhow::Result<Option<String>> {
    let from = std::env::var("PRE_COMMIT_FROM_REF")
        .ok()
        .filter(|s| !s.is_empty());
    let to = std::env::var("PRE_COMMIT_TO_REF")
        .ok()
        .filter(|s| !s.is_empty());
    if let (Some(from), Some(to)) = (from, to) {
        return Ok(Some(format!("{from}..{to}")));
    }
    let mut lines = Vec::new();
    for line in std::io::stdin().lock().lines() {
        lines.push(line?);
    }
    Ok(tokens(repo, &lines))
}

/// Tokens for the hook's input lines; ref deletions send nothing.
fn tokens(repo: &Repository, lines: &[String]) -> Option<String> {
    let mut out = Vec::new();
    let mut hide_remotes = false;
    for line in lines {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [_, local, _, remote] = parts[..] else {
            continue;
        };
        let Ok(local) = Oid::from_str(local) else {
            continue;
        };
        if local.is_zero() {
            continue;
        }
        out.push(local.to_string());
        match Oid::from_str(remote) {
            Ok(r) if !r.is_zero() && repo.find_commit(r).is_ok() => out.push(format!("^{r}")),
            _ => hide_remotes = true,
        }
    }
    if out.is_empty() {
        return None;
    }
    if hide_remotes {
        out.extend(remote_tips(repo).into_iter().map(|t| format!("^{t}")));
    }
    Some(out.join(" "))
}

/// The commits every remote-tracking branch points at.
fn remote_tips(repo: &Repository) -> Vec<Oid> {
    let Ok(refs) = repo.references_glob("refs/remotes/*") else {
        return Vec::new();
    };
    refs.flatten()
        .filter_map(|r| r.peel_to_commit().ok().map(|c| c.id()))
        .collect()
}
