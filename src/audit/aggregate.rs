//! From places to keys: observations of one repository become what that repository says of
//! each key (`RepoKey`), and those, from one machine or from every shard, become one entry per
//! key. The second step is the only one `merge` runs, so a merged audit equals a whole one.

use super::model::{
    AuditReport, KeyEntry, Location, RepoAudit, RepoKey, Risk, Sighting, Source, Summary, Verdict,
};
use super::remedy;
use crate::verify::Status;
use std::collections::{BTreeMap, HashMap};

/// What every place of a key agrees on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Core {
    pub fingerprint: String,
    pub kind: String,
    pub provider: String,
    pub rule: String,
    /// As the report shows it: whole or redacted.
    pub secret: String,
}

/// One place a key is in one repository, with what the history says of it there.
#[derive(Debug, Clone)]
pub struct Obs {
    pub core: Core,
    pub location: Location,
    /// The commit that introduced it at this place, and the last that had it (history only).
    pub first: Option<Sighting>,
    pub last: Option<Sighting>,
    pub at_head: bool,
    pub on_branches: Vec<String>,
    /// Distinct commits of the repository carrying the key anywhere.
    pub key_commits: u64,
}

/// A key gathered from observations or shard reports, before it becomes an entry.
#[derive(Debug, Clone)]
pub struct Gathered {
    pub core: Core,
    pub repos: Vec<RepoKey>,
    pub locations: Vec<Location>,
}

/// What repository `repo` says of each key it holds, from its observations.
pub fn per_repo(repo: &RepoAudit, obs: Vec<Obs>) -> Vec<Gathered> {
    let mut by_key: BTreeMap<String, Vec<Obs>> = BTreeMap::new();
    for o in obs {
        by_key
            .entry(o.core.fingerprint.clone())
            .or_default()
            .push(o);
    }
    by_key
        .into_values()
        .map(|list| {
            let core = list[0].core.clone();
            let key = repo_key(repo, &list);
            let locations = list.into_iter().map(|o| o.location).collect();
            Gathered {
                core,
                repos: vec![key],
                locations,
            }
        })
        .collect()
}

fn repo_key(repo: &RepoAudit, list: &[Obs]) -> RepoKey {
    let history = || {
        list.iter()
            .filter(|o| o.location.source != Source::Worktree)
    };
    let messages = history()
        .filter(|o| o.location.source == Source::CommitMessage)
        .count() as u64;
    let blob_commits = history()
        .filter(|o| o.location.source == Source::History)
        .map(|o| o.key_commits)
        .max()
        .unwrap_or(0);
    let mut branches: Vec<String> = history().flat_map(|o| o.on_branches.clone()).collect();
    branches.sort();
    branches.dedup();
    RepoKey {
        name: repo.name.clone(),
        path: repo.path.clone(),
        remote: repo.remote.clone(),
        introduced: history()
            .filter_map(|o| o.first.clone())
            .min_by(|a, b| (a.order, &a.path, a.line).cmp(&(b.order, &b.path, b.line))),
        last_seen: history()
            .filter_map(|o| o.last.clone())
            .max_by(|a, b| (a.order, &b.path, b.line).cmp(&(b.order, &a.path, a.line))),
        at_head: history().any(|o| o.at_head),
        default_branch: repo.default_branch.clone(),
        on_branches: branches,
        commits: blob_commits + messages,
        in_worktree: list.iter().any(|o| o.location.source == Source::Worktree),
    }
}

/// Joins gathered keys with the same fingerprint (the same key in several repositories).
pub fn join(parts: impl IntoIterator<Item = Gathered>) -> Vec<Gathered> {
    let mut by_key: BTreeMap<String, Gathered> = BTreeMap::new();
    for g in parts {
        match by_key.get_mut(&g.core.fingerprint) {
            Some(mine) => {
                mine.repos.extend(g.repos);
                mine.locations.extend(g.locations);
            }
            None => {
                by_key.insert(g.core.fingerprint.clone(), g);
            }
        }
    }
    by_key.into_values().collect()
}

/// The entry of a gathered key with its verdict.
pub fn entry(mut g: Gathered, verification: Verdict) -> KeyEntry {
    g.repos.sort_by(|a, b| a.path.cmp(&b.path));
    g.locations.sort_by(|a, b| {
        (&a.repository, &a.path, a.line, a.column, &a.source).cmp(&(
            &b.repository,
            &b.path,
            b.line,
            b.column,
            &b.source,
        ))
    });
    g.locations.dedup();
    let when = |s: &Sighting| (s.date.clone(), s.repository.clone(), s.order);
    let introduced = (g.repos.iter().filter_map(|r| r.introduced.clone())).min_by_key(when);
    let last_seen = (g.repos.iter().filter_map(|r| r.last_seen.clone())).max_by_key(when);
    let at_head = g.repos.iter().any(|r| r.at_head);
    let in_worktree = g.repos.iter().any(|r| r.in_worktree);
    let default_branch = default_branch(&g.repos, introduced.as_ref());
    let on_branches = on_branches(&g.repos);
    let risk = risk(verification.status, at_head || in_worktree);
    let mut e = KeyEntry {
        fingerprint: g.core.fingerprint,
        kind: g.core.kind,
        provider: g.core.provider,
        rule: g.core.rule,
        secret: g.core.secret,
        risk,
        introduced,
        last_seen,
        at_head,
        default_branch,
        on_branches,
        commits: g.repos.iter().map(|r| r.commits).sum(),
        repositories: g.repos,
        locations: g.locations,
        verification,
        remediation: Vec::new(),
    };
    e.remediation = remedy::steps(&e);
    e
}

/// The default branch of the first repository holding the key at HEAD, else of the one that
/// introduced it, else of the first.
fn default_branch(repos: &[RepoKey], introduced: Option<&Sighting>) -> Option<String> {
    let at_head = repos.iter().find(|r| r.at_head);
    let intro = introduced.and_then(|s| repos.iter().find(|r| r.path == s.repository));
    at_head
        .or(intro)
        .or(repos.first())
        .and_then(|r| r.default_branch.clone())
}

/// Branch names; `repo:branch` when several repositories hold the key.
fn on_branches(repos: &[RepoKey]) -> Vec<String> {
    if let [one] = repos {
        return one.on_branches.clone();
    }
    repos
        .iter()
        .flat_map(|r| r.on_branches.iter().map(move |b| format!("{}:{b}", r.path)))
        .collect()
}

/// See `KeyEntry::risk`.
fn risk(status: Status, exposed_now: bool) -> Risk {
    match (status, exposed_now) {
        (Status::Dead, _) => Risk::None,
        (Status::Live, true) => Risk::Critical,
        (Status::Live, false) => Risk::High,
        (_, true) => Risk::Medium,
        (_, false) => Risk::Low,
    }
}

/// The whole report: keys most at risk first, keys seen only on allow-marked lines apart, each
/// repository's key count, and the totals.
pub fn report(
    entries: Vec<KeyEntry>,
    mut repositories: Vec<RepoAudit>,
    head: ReportHead,
) -> AuditReport {
    let (mut suppressed, mut keys): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .partition(|e| e.locations.iter().all(|l| l.allowed));
    keys.sort_by(order);
    suppressed.sort_by(order);
    let mut per_repo: HashMap<&str, u64> = HashMap::new();
    for r in keys.iter().flat_map(|k| &k.repositories) {
        *per_repo.entry(r.path.as_str()).or_default() += 1;
    }
    repositories.sort_by(|a, b| a.path.cmp(&b.path));
    for r in &mut repositories {
        r.keys = per_repo.get(r.path.as_str()).copied().unwrap_or(0);
    }
    let summary = Summary::of(&keys, &suppressed, &repositories);
    AuditReport {
        keyhound: head.version,
        shard: head.shard,
        generated_at: head.generated_at,
        secrets_shown: head.secrets_shown,
        verified: head.verified,
        providers: head.providers,
        keys,
        suppressed,
        repositories,
        summary,
    }
}

/// The report's own fields.
#[derive(Debug, Clone)]
pub struct ReportHead {
    pub version: String,
    pub shard: Option<String>,
    pub generated_at: String,
    pub secrets_shown: bool,
    pub verified: bool,
    pub providers: Vec<String>,
}

/// Risk, then at HEAD, then most recently seen, then fingerprint.
fn order(a: &KeyEntry, b: &KeyEntry) -> std::cmp::Ordering {
    let seen = |e: &KeyEntry| e.last_seen.as_ref().and_then(|s| s.date.clone());
    (a.risk_rank(), !a.at_head)
        .cmp(&(b.risk_rank(), !b.at_head))
        .then_with(|| seen(b).cmp(&seen(a)))
        .then_with(|| a.fingerprint.cmp(&b.fingerprint))
}

/// The verdict an audit shows for a key no one checked.
pub fn not_checked() -> Verdict {
    Verdict {
        status: Status::NotChecked,
        reason: None,
        http_status: None,
        error_code: None,
        organization: None,
        checked_at: None,
        cached: false,
    }
}

/// The verdict as the audit shows it.
pub fn verdict(v: &crate::verify::Verification) -> Verdict {
    Verdict {
        status: v.status,
        reason: v.reason.clone(),
        http_status: v.http_status,
        error_code: v.error_code.clone(),
        organization: v.organization.clone(),
        checked_at: v.checked_at.map(crate::verify::clock::rfc3339),
        cached: v.cached,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sighting(repo: &str, order: u64, date: &str) -> Sighting {
        Sighting {
            repository: repo.into(),
            commit: format!("{order:040}"),
            author: Some("A <a@example.com>".into()),
            date: Some(date.into()),
            path: "a.env".into(),
            line: 1,
            order,
        }
    }

    fn repo_key(path: &str, first: Sighting, last: Sighting, at_head: bool) -> RepoKey {
        RepoKey {
            name: path.into(),
            path: path.into(),
            remote: None,
            introduced: Some(first),
            last_seen: Some(last),
            at_head,
            default_branch: Some("main".into()),
            on_branches: vec!["main".into()],
            commits: 2,
            in_worktree: false,
        }
    }

    fn core() -> Core {
        Core {
            fingerprint: "kh1:1".into(),
            kind: "project".into(),
            provider: "openai".into(),
            rule: "kh.openai.project".into(),
            secret: "sk-proj-…abcd".into(),
        }
    }

    #[test]
    fn across_repositories_the_earliest_and_latest_dates_win() {
        let a = repo_key(
            "a",
            sighting("a", 3, "2024-01-01T00:00:00Z"),
            sighting("a", 9, "2024-06-01T00:00:00Z"),
            false,
        );
        let b = repo_key(
            "b",
            sighting("b", 1, "2023-05-01T00:00:00Z"),
            sighting("b", 2, "2023-06-01T00:00:00Z"),
            true,
        );
        let g = Gathered {
            core: core(),
            repos: vec![a, b],
            locations: vec![],
        };
        let e = entry(g, not_checked());
        assert_eq!(e.introduced.unwrap().repository, "b");
        assert_eq!(e.last_seen.unwrap().repository, "a");
        assert_eq!(e.commits, 4);
        assert!(e.at_head);
        assert_eq!(e.on_branches, ["a:main", "b:main"]);
        assert_eq!(e.risk, Risk::Medium);
    }

    #[test]
    fn risk_puts_live_keys_at_head_first() {
        assert_eq!(risk(Status::Live, true), Risk::Critical);
        assert_eq!(risk(Status::Live, false), Risk::High);
        assert_eq!(risk(Status::Unknown, true), Risk::Medium);
        assert_eq!(risk(Status::NotChecked, false), Risk::Low);
        assert_eq!(risk(Status::Dead, true), Risk::None);
    }
}
