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
//! a push of several refs is then covered whichever it names. Refs and commits are asked of
//! libgit2, or of git for a repository only git reads (`PushRefs`), in ids of 40 or 64 digits.

use crate::scan::git::by_git::GitDir;
use crate::scan::git::objects::{SHA1_HEX, SHA256_HEX};
use git2::Repository;
use std::io::BufRead;

/// What the hooks ask of the repository: libgit2's, or git's for a repository only git reads
/// (SHA-256 ids, reftable refs). Ids are full hex ids, as the repository writes them.
pub(in crate::scan::git) trait PushRefs {
    /// The commit `spec` names (peeled through tags); None when there is none.
    fn commit_of(&self, spec: &str) -> Option<String>;

    /// The commits the references matching `glob` point at.
    fn tips(&self, glob: &str) -> Vec<String>;
}

impl PushRefs for Repository {
    fn commit_of(&self, spec: &str) -> Option<String> {
        let commit = self.revparse_single(spec).ok()?.peel_to_commit().ok()?;
        Some(commit.id().to_string())
    }

    fn tips(&self, glob: &str) -> Vec<String> {
        let Ok(refs) = self.references_glob(glob) else {
            return Vec::new();
        };
        refs.flatten()
            .filter_map(|r| r.peel_to_commit().ok().map(|c| c.id().to_string()))
            .collect()
    }
}

impl PushRefs for GitDir {
    fn commit_of(&self, spec: &str) -> Option<String> {
        let answer = self.objects(&[format!("{spec}^{{commit}}")])?;
        answer.into_iter().next()?.map(|(id, _)| id)
    }

    fn tips(&self, glob: &str) -> Vec<String> {
        self.commits_of_refs(glob)
    }
}

/// The rev-list tokens for what is being pushed (`new … ^old …`); None when nothing is.
pub(in crate::scan::git) fn range(repo: &dyn PushRefs) -> anyhow::Result<Option<String>> {
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

/// `text` as an object id (40 or 64 hex digits, lowercased), None for anything else and for
/// the all-zero id git gives a ref that is created or deleted.
fn object_id(text: &str) -> Option<String> {
    let hex =
        [SHA1_HEX, SHA256_HEX].contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit());
    (hex && text.bytes().any(|b| b != b'0')).then(|| text.to_ascii_lowercase())
}

/// Tokens for the hook's input lines; ref deletions send nothing.
fn tokens(repo: &dyn PushRefs, lines: &[String], remote: Option<String>) -> Option<String> {
    let mut push = Vec::new();
    let mut hide = Vec::new();
    for line in lines {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [_, local, _, old] = parts[..] else {
            continue;
        };
        let Some(local) = object_id(local) else {
            continue;
        };
        push.push(local);
        hide.extend(object_id(old).filter(|o| repo.commit_of(o).is_some()));
    }
    join(repo, push, hide, remote.as_deref())
}

/// Tokens for the pre-commit framework's hook: the ref it names and every local branch, less
/// what the remote has.
fn framework(
    repo: &dyn PushRefs,
    told: &str,
    from: Option<String>,
    remote: Option<String>,
) -> Option<String> {
    let mut push: Vec<String> = repo.commit_of(told).into_iter().collect();
    push.extend(repo.tips("refs/heads/*"));
    let hide = from.and_then(|f| repo.commit_of(&f));
    join(repo, push, hide.into_iter().collect(), remote.as_deref())
}

/// `push … ^hide …`, hiding too every tracking branch of `remote` (of every remote when it is
/// not known); None when nothing is pushed.
fn join(
    repo: &dyn PushRefs,
    push: Vec<String>,
    mut hide: Vec<String>,
    remote: Option<&str>,
) -> Option<String> {
    if push.is_empty() {
        return None;
    }
    hide.extend(repo.tips(&format!("refs/remotes/{}/*", remote.unwrap_or("*"))));
    Some(
        push.into_iter()
            .chain(hide.iter().map(|h| format!("^{h}")))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The pre-receive hook: the rev-list tokens for the commits a push brings (`new … ^tip …`,
/// hiding every commit an existing ref reaches, branches and tags alike); None when the push
/// only deletes refs. git gives one `<old> <new> <ref>` line per updated ref on standard input
/// and the pushed objects in its quarantine (GIT_OBJECT_DIRECTORY, with the repository's own
/// objects as an alternate), which the repository is opened from.
pub(in crate::scan::git) fn received(repo: &dyn PushRefs) -> anyhow::Result<Option<String>> {
    let mut lines = Vec::new();
    for line in std::io::stdin().lock().lines() {
        lines.push(line?);
    }
    Ok(received_tokens(repo, &lines))
}

fn received_tokens(repo: &dyn PushRefs, lines: &[String]) -> Option<String> {
    let new: Vec<String> = lines
        .iter()
        .filter_map(|line| {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [_, new, _] = parts[..] else {
                return None;
            };
            repo.commit_of(&object_id(new)?)
        })
        .collect();
    if new.is_empty() {
        return None;
    }
    let mut hide = repo.tips("refs/*");
    hide.sort();
    hide.dedup();
    Some(
        new.into_iter()
            .chain(hide.iter().map(|h| format!("^{h}")))
            .collect::<Vec<_>>()
            .join(" "),
    )
}
