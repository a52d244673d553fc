//! What a SHA-256 repository gets beside its whole history, `--range` and `--staged` (issue 14,
//! point 17): the modes libgit2 would have read, read through git instead, with the findings a
//! SHA-1 repository gets and every id in its 64 hex digits.

use super::formats::{assert_long_ids, sha256};
use super::*;

#[test]
fn a_shallow_sha256_clone_is_scanned_and_said_to_be_shallow() {
    let repo = sha256();
    let (old, new) = (project_key(9600), project_key(9601));
    repo.write("old.env", env_line(&old));
    repo.commit("old");
    repo.remove("old.env");
    let text = env_line(&new);
    repo.write("new.env", &text);
    let c2 = repo.commit("new");
    let url = format!("file://{}", repo.path().display());
    git_at(
        &repo.beside(""),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let (code, report, stderr) = hound(&repo.beside("shallow"), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("new.env", &new)]);
    let f = &report.findings[0];
    assert_place(f, &text, &new);
    let g = git_of(f);
    assert_eq!(
        (g.commit.as_deref(), g.last_seen.as_deref()),
        (Some(c2.as_str()), Some(c2.as_str()))
    );
    assert_eq!((g.commits, g.at_head), (Some(1), Some(true)));
    assert_eq!(g.author.as_deref(), Some(AUTHOR));
    assert_long_ids(&report);
    let shallow: Vec<&Skipped> = (report.skipped.iter())
        .filter(|s| s.reason.contains("shallow clone"))
        .collect();
    assert_eq!(shallow.len(), 1, "{:#?}", report.skipped);
    assert!(!shallow[0].incomplete);
    assert!(stderr.contains("shallow clone"), "{stderr}");
    assert!(report.complete);
    assert_eq!(report.stats.commits, Some(1));
}
