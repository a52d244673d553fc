//! The tips a history scan reports presence at: HEAD's tree for `keyhound git`; for audits the
//! default branch's (`refs/remotes/origin/HEAD`, else `HEAD`) and every branch's.

use super::objects::peeled_commit;
use git2::{Oid, Reference, Repository};

/// Which tips a history scan reports presence at: the caller asks, the options do not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Presence {
    /// HEAD's tree (`keyhound git`, `ci`).
    #[default]
    Head,
    /// The default branch's (`refs/remotes/origin/HEAD`, else `HEAD`) and every branch's
    /// (audits).
    Branches,
}

/// Trees to check findings against, with the names reports give them.
#[derive(Debug, Default)]
pub(super) struct Tips {
    /// The tree `at_head` is about.
    pub head: Option<Oid>,
    /// The branch it is (`main`, `origin/main`), or `HEAD (detached)`.
    pub head_name: Option<String>,
    /// Its commit.
    pub head_commit: Option<Oid>,
    /// Audits only: each local and remote-tracking branch and its tip's tree.
    pub branches: Vec<(String, Oid)>,
}

/// The tips `presence` asks for: HEAD's, or the default branch's and every branch's.
pub(super) fn tips(repo: &Repository, presence: Presence) -> Tips {
    let head = match presence {
        Presence::Head => repo.head().ok(),
        Presence::Branches => repo
            .find_reference("refs/remotes/origin/HEAD")
            .ok()
            .and_then(|r| r.resolve().ok())
            .or_else(|| repo.head().ok()),
    };
    let mut tips = Tips::default();
    if let Some(r) = head
        && let Some((commit, tree)) = peeled_commit(repo, &r)
    {
        tips.head_name = Some(branch_name(&r).unwrap_or_else(|| "HEAD (detached)".into()));
        tips.head_commit = Some(commit);
        tips.head = Some(tree);
    }
    if presence == Presence::Branches {
        tips.branches = branches(repo);
    }
    tips
}

/// `main` for `refs/heads/main`, `origin/main` for `refs/remotes/origin/main`.
fn branch_name(r: &Reference<'_>) -> Option<String> {
    let name = r.name().ok()?;
    name.strip_prefix("refs/heads/")
        .or_else(|| name.strip_prefix("refs/remotes/"))
        .map(str::to_string)
}

/// Every local and remote-tracking branch (not `origin/HEAD`), sorted, with its tip's tree.
fn branches(repo: &Repository) -> Vec<(String, Oid)> {
    let Ok(refs) = repo.references() else {
        return Vec::new();
    };
    let mut out: Vec<(String, Oid)> = refs
        .flatten()
        .filter(|r| r.kind() == Some(git2::ReferenceType::Direct))
        .filter_map(|r| {
            let name = branch_name(&r)?;
            let (_, tree) = peeled_commit(repo, &r)?;
            Some((name, tree))
        })
        .collect();
    out.sort();
    out
}
