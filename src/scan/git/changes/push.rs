//! The pre-push hook: which commits a push sends. Every commit a pushed ref reaches is scanned
//! unless the remote has it already: its old tip for that ref, or any of the remote's tracking
//! branches (`refs/remotes/<remote>/*`). So the first push to an empty remote, a new branch, a
//! force-push and `git push --all` are all scanned, and a commit made with `--no-verify` is
//! caught before it leaves the machine.
//!
//! git gives its own hook one line per ref on standard input (`<local ref> <local sha> <remote
//! ref> <remote sha>`); `keyhound install-hook`'s hook passes the remote's name (git's `$1`) in
//! `KEYHOUND_PUSH_REMOTE`. The pre-commit framework reads those lines itself and tells its hooks
//! about the first ref only (`PRE_COMMIT_FROM_REF`/`PRE_COMMIT_TO_REF`, or for a push holding a
//! root commit only `PRE_COMMIT_LOCAL_BRANCH`), so under it every local branch is scanned too:
//! a push of several refs is then covered whichever it names.

use git2::{Oid, Repository};
use std::io::BufRead;

/// The rev-list tokens for what is being pushed (`new … ^old …`); None when nothing is.
pub(in crate::scan::git) fn range(repo: &Repository) -> anyhow::Result<Option<String>> {
    let var = |name: &str| std::env::var(name).ok().filter(|s| !s.is_empty());
    let told = var("PRE_COMMIT_TO_REF").or_else(|| var("PRE_COMMIT_LOCAL_BRANCH"));
    if let Some(told) = told {
        let remote = var("PRE_COMMIT_REMOTE_NAME");
        return Ok(framework(repo, &told, var("PRE_COMMIT_FROM_REF"), remote));
    }
    let mut lines = Vec::new();
    for line in std::io::stdin().lock().lines() {
        lines.push(line?);
    }
    Ok(tokens(repo, &lines, var("KEYHOUND_PUSH_REMOTE")))
}

/// Tokens for the hook's input lines; ref deletions send nothing.
fn tokens(repo: &Repository, lines: &[String], remote: Option<String>) -> Option<String> {
    let mut push = Vec::new();
    let mut hide = Vec::new();
    for line in lines {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [_, local, _, old] = parts[..] else {
            continue;
        };
        match Oid::from_str(local) {
            Ok(local) if !local.is_zero() => push.push(local),
            _ => continue,
        }
        hide.extend(Oid::from_str(old).ok().filter(|o| known(repo, *o)));
    }
    join(repo, push, hide, remote.as_deref())
}

/// Tokens for the pre-commit framework's hook: the ref it names and every local branch, less
/// what the remote has.
fn framework(
    repo: &Repository,
    told: &str,
    from: Option<String>,
    remote: Option<String>,
) -> Option<String> {
    let commit = |spec: &str| repo.revparse_single(spec).ok()?.peel_to_commit().ok();
    let mut push: Vec<Oid> = commit(told).map(|c| c.id()).into_iter().collect();
    push.extend(tips(repo, "refs/heads/*"));
    let hide = from.and_then(|f| commit(&f)).map(|c| c.id());
    join(repo, push, hide.into_iter().collect(), remote.as_deref())
}

/// `push … ^hide …`, hiding too every tracking branch of `remote` (of every remote when it is
/// not known); None when nothing is pushed.
fn join(
    repo: &Repository,
    push: Vec<Oid>,
    mut hide: Vec<Oid>,
    remote: Option<&str>,
) -> Option<String> {
    if push.is_empty() {
        return None;
    }
    hide.extend(tips(
        repo,
        &format!("refs/remotes/{}/*", remote.unwrap_or("*")),
    ));
    let push = push.iter().map(Oid::to_string);
    Some(
        push.chain(hide.iter().map(|h| format!("^{h}")))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn known(repo: &Repository, oid: Oid) -> bool {
    !oid.is_zero() && repo.find_commit(oid).is_ok()
}

/// The commits the references matching `glob` point at.
fn tips(repo: &Repository, glob: &str) -> Vec<Oid> {
    let Ok(refs) = repo.references_glob(glob) else {
        return Vec::new();
    };
    refs.flatten()
        .filter_map(|r| r.peel_to_commit().ok().map(|c| c.id()))
        .collect()
}

/// The pre-receive hook: the rev-list tokens for the commits a push brings (`new … ^tip …`,
/// hiding every commit an existing ref reaches, branches and tags alike); None when the push
/// only deletes refs. git gives one `<old> <new> <ref>` line per updated ref on standard input
/// and the pushed objects in its quarantine (GIT_OBJECT_DIRECTORY, with the repository's own
/// objects as an alternate), which the repository is opened from.
pub(in crate::scan::git) fn received(repo: &Repository) -> anyhow::Result<Option<String>> {
    let mut lines = Vec::new();
    for line in std::io::stdin().lock().lines() {
        lines.push(line?);
    }
    Ok(received_tokens(repo, &lines))
}

fn received_tokens(repo: &Repository, lines: &[String]) -> Option<String> {
    let commit = |oid: Oid| repo.find_object(oid, None).ok()?.peel_to_commit().ok();
    let new: Vec<Oid> = lines
        .iter()
        .filter_map(|line| {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [_, new, _] = parts[..] else {
                return None;
            };
            let oid = Oid::from_str(new).ok().filter(|o| !o.is_zero())?;
            commit(oid).map(|c| c.id())
        })
        .collect();
    if new.is_empty() {
        return None;
    }
    let mut hide = tips(repo, "refs/*");
    hide.sort();
    hide.dedup();
    let tokens = new.iter().map(Oid::to_string);
    Some(
        tokens
            .chain(hide.iter().map(|h| format!("^{h}")))
            .collect::<Vec<_>>()
            .join(" "),
    )
}
