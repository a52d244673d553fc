//! Which real commit a pull request's SARIF names. On `pull_request` the checkout is GitHub's
//! temporary merge commit (`refs/pull/N/merge`), which no one can open once the pull request
//! moves on: a key the head's tree has is named at the pull request's head, any other at its
//! base. A repository libgit2 cannot open (SHA-256 ids, reftable refs) is asked through git.

use crate::finding::Finding;
use crate::scan::git::{ByGit, CommitMeta, commit_meta};
use git2::{Oid, Repository, Tree};
use std::path::Path;

/// Names `head` or `base` instead of the checked-out commit in every finding of `findings`.
pub fn to_pull_request(findings: &mut [Finding], workspace: &Path, base: &str, head: &str) {
    let Ok(repo) = Repository::open(workspace) else {
        if let Some(repo) = ByGit::open(workspace) {
            to_pull_request_by_git(findings, &repo, base, head);
        }
        return;
    };
    let tree = |rev: &str| {
        let oid = Oid::from_str(rev).ok()?;
        Some((oid, repo.find_commit(oid).ok()?.tree().ok()?))
    };
    let (Some((head_id, head_tree)), Some((base_id, _))) = (tree(head), tree(base)) else {
        return;
    };
    for f in findings {
        let in_head = in_tree(&repo, &head_tree, f);
        let Some(g) = f.git.as_mut() else { continue };
        let commit = if in_head { head_id } else { base_id };
        name_at(g, &commit.to_string(), commit_meta(&repo, commit));
    }
}

/// `to_pull_request` in a repository only git reads.
fn to_pull_request_by_git(findings: &mut [Finding], repo: &ByGit, base: &str, head: &str) {
    let (Some(head_id), Some(base_id)) = (repo.commit_id(head), repo.commit_id(base)) else {
        return;
    };
    for f in findings {
        let in_head = repo
            .blob_at(&head_id, &f.origin.path)
            .is_some_and(|(id, data)| {
                let secret = f.secret.expose().as_bytes();
                f.git.as_ref().and_then(|g| g.blob.as_deref()) == Some(id.as_str())
                    || data.windows(secret.len()).any(|w| w == secret)
            });
        let Some(g) = f.git.as_mut() else { continue };
        let commit = if in_head { &head_id } else { &base_id };
        name_at(g, commit, repo.commit_meta(commit));
    }
}

/// Names `commit` (with its author and date) as where `g`'s key was seen.
fn name_at(g: &mut crate::finding::GitInfo, commit: &str, meta: CommitMeta) {
    g.commit = Some(commit.to_string());
    g.author = meta.author;
    g.date = meta.date;
    if g.last_seen.is_some() {
        g.last_seen = Some(commit.to_string());
    }
}

/// Whether `tree` holds `f`'s key at its path: the same blob, or a blob holding the key's text.
fn in_tree(repo: &Repository, tree: &Tree<'_>, f: &Finding) -> bool {
    let Ok(entry) = tree.get_path(Path::new(&f.origin.path)) else {
        return false;
    };
    let blob = f.git.as_ref().and_then(|g| g.blob.as_deref());
    if blob == Some(entry.id().to_string().as_str()) {
        return true;
    }
    let secret = f.secret.expose().as_bytes();
    repo.find_blob(entry.id())
        .is_ok_and(|b| b.content().windows(secret.len()).any(|w| w == secret))
}
