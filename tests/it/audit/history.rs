//! An audit's history: the commit that introduced a key and the last that had it, unmerged
//! branches, one key in two repositories, commit messages, purge advice, detached heads and clones,
//! the default path, repositories named twice.

use super::*;

// ---- History

#[test]
fn a_key_at_head_is_medium_with_the_commit_that_introduced_it() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7100);
    repo.write("README.md", "hello\n");
    let c0 = repo.commit("readme");
    let text = format!("# settings\nOPENAI_API_KEY={key}\n");
    repo.write("config.env", &text);
    let c1 = repo.commit("add config");
    repo.write("README.md", "hello again\n");
    let c2 = repo.commit("readme again");
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(report.keys.len(), 1, "{:#?}", report.keys);
    assert!(report.suppressed.is_empty());
    let k = entry(&report, &key);
    // init is the command at EPOCH, then add and commit each take a minute: c1 is the fifth.
    assert_eq!(repo.date(&c1), "2024-01-02T03:08:05Z");
    let introduced = repo.sighting("repo", &c1, "config.env", 2, 1);
    let last_seen = repo.sighting("repo", &c2, "config.env", 2, 2);
    assert_eq!(k.introduced.as_ref(), Some(&introduced));
    assert_eq!(k.last_seen.as_ref(), Some(&last_seen));
    assert_eq!(k.risk, "medium");
    assert!(k.at_head);
    assert_eq!(k.default_branch.as_deref(), Some("main"));
    assert_eq!(k.on_branches, ["main"]);
    assert_eq!(k.commits, 2);
    assert_eq!(
        (k.kind.as_str(), k.provider.as_str(), k.rule.as_str()),
        ("project", "openai", "kh.openai.project")
    );
    assert!(k.fingerprint.starts_with("kh1:"), "{}", k.fingerprint);
    assert_eq!(k.verification, not_checked());
    let (line, column) = place(&text, &key);
    assert_eq!(
        k.locations,
        [Location {
            repository: "repo".into(),
            source: "history".into(),
            path: "config.env".into(),
            line,
            column,
            commit: Some(c1.clone()),
            commits: Some(2),
            at_head: Some(true),
            allowed: false,
        }]
    );
    assert_eq!(
        k.repositories,
        [RepoKey {
            name: "repo".into(),
            path: "repo".into(),
            remote: None,
            introduced: Some(introduced),
            last_seen: Some(last_seen),
            at_head: true,
            default_branch: Some("main".into()),
            on_branches: vec!["main".into()],
            commits: 2,
            in_worktree: false,
        }]
    );
    assert_eq!(
        report.repositories,
        [RepoAudit {
            name: "repo".into(),
            path: "repo".into(),
            remote: None,
            default_branch: Some("main".into()),
            head: Some(c2.clone()),
            commits: 3,
            blobs_scanned: 3,
            bytes_scanned: report.repositories[0].bytes_scanned,
            worktree_files: 0,
            keys: 1,
            complete: true,
            notes: vec![],
        }]
    );
    assert!(report.repositories[0].bytes_scanned > 0);
    assert_ne!(c0, c1);
    assert_eq!(report.shard, None);
    assert!(report.secrets_shown);
    assert!(!report.verified);
    assert_eq!(report.keyhound, env!("CARGO_PKG_VERSION"));
    let rfc3339 = Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").unwrap();
    assert!(
        rfc3339.is_match(&report.generated_at),
        "{}",
        report.generated_at
    );
}

#[test]
fn a_removed_key_was_last_seen_in_the_last_commit_that_had_it() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7101);
    repo.write("README.md", "hello\n");
    repo.commit("readme");
    let first = env_line(&key);
    repo.write("app.env", &first);
    let c1 = repo.commit("add the key");
    // Two lines above it: the key moves to line 3.
    let moved = format!("# app\nDEBUG=1\n{}", env_line(&key));
    repo.write("app.env", &moved);
    repo.commit("document it");
    repo.write("README.md", "hello again\n");
    let c3 = repo.commit("readme again");
    repo.write("app.env", "# app\nDEBUG=1\n");
    let c4 = repo.commit("drop the key");
    repo.write("README.md", "bye\n");
    let c5 = repo.commit("later");
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let k = entry(&report, &key);
    assert_eq!(
        k.introduced.as_ref(),
        Some(&repo.sighting("repo", &c1, "app.env", 1, 1))
    );
    assert_eq!(
        k.last_seen.as_ref(),
        Some(&repo.sighting("repo", &c3, "app.env", 3, 3)),
        "last seen in {c3} (not in the removing commit {c4}), at its line there"
    );
    assert!(!k.at_head);
    assert_eq!(k.risk, "low");
    assert_eq!(k.on_branches, Vec::<String>::new());
    assert_eq!(k.default_branch.as_deref(), Some("main"));
    assert_eq!(k.commits, 3);
    assert_eq!(k.locations.len(), 1, "{:#?}", k.locations);
    let l = &k.locations[0];
    assert_eq!(
        (l.source.as_str(), l.path.as_str(), l.line, l.column),
        ("history", "app.env", 1, 16)
    );
    assert_eq!(
        (l.commit.as_deref(), l.commits, l.at_head),
        (Some(c1.as_str()), Some(3), Some(false))
    );
    assert_eq!(report.repositories[0].head.as_deref(), Some(c5.as_str()));
    assert_eq!(report.repositories[0].commits, 6);
}

#[test]
fn a_key_only_on_an_unmerged_branch_names_the_branch() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7102);
    repo.write("README.md", "hello\n");
    repo.commit("readme");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.env", env_line(&key));
    let c1 = repo.commit("try a key");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "hello again\n");
    repo.commit("main moves on");
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let k = entry(&report, &key);
    assert!(!k.at_head);
    assert_eq!(k.risk, "low");
    assert_eq!(k.on_branches, ["feature"]);
    assert_eq!(k.default_branch.as_deref(), Some("main"));
    let intro = k.introduced.as_ref().expect("introduced");
    assert_eq!(
        (intro.commit.as_str(), intro.path.as_str(), intro.line),
        (c1.as_str(), "feature.env", 1)
    );
    assert_eq!(k.last_seen.as_ref().map(|s| &s.commit), Some(&c1));
    assert_eq!(k.commits, 1);
    assert_eq!(k.locations[0].at_head, Some(false));
}

#[test]
fn one_key_in_two_repositories_is_one_entry() {
    let root = Root::new();
    let key = project_key(7103);
    // beta's commits are a day older than alpha's: beta introduced the key.
    let alpha = root.repo_at("alpha", 24 * 60);
    let beta = root.repo_at("team/beta", 0);
    alpha.write("a.env", env_line(&key));
    let a1 = alpha.commit("alpha key");
    alpha.write("README.md", "alpha\n");
    let a2 = alpha.commit("alpha readme");
    beta.write("config/b.env", format!("# beta\n{}", env_line(&key)));
    let b1 = beta.commit("beta key");
    let (code, report, err) = audit_shown(root.path(), &[root.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(report.keys.len(), 1, "{:#?}", report.keys);
    let k = entry(&report, &key);
    assert_eq!(
        k.introduced.as_ref(),
        Some(&beta.sighting("team/beta", &b1, "config/b.env", 2, 0)),
        "the earliest commit across repositories"
    );
    assert_eq!(
        k.last_seen.as_ref(),
        Some(&alpha.sighting("alpha", &a2, "a.env", 1, 1)),
        "the latest commit across repositories"
    );
    let repos: Vec<(&str, &str, Option<&str>, u64, bool)> = k
        .repositories
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.path.as_str(),
                r.remote.as_deref(),
                r.commits,
                r.at_head,
            )
        })
        .collect();
    assert_eq!(
        repos,
        [
            ("alpha", "alpha", None, 2, true),
            ("beta", "team/beta", None, 1, true)
        ]
    );
    assert_eq!(k.on_branches, ["alpha:main", "team/beta:main"]);
    assert_eq!(k.commits, 3);
    assert!(k.at_head);
    assert_eq!(k.default_branch.as_deref(), Some("main"));
    let places: Vec<(&str, &str, u64)> = k
        .locations
        .iter()
        .map(|l| (l.repository.as_str(), l.path.as_str(), l.line))
        .collect();
    assert_eq!(
        places,
        [("alpha", "a.env", 1), ("team/beta", "config/b.env", 2)]
    );
    assert_eq!(k.locations[0].commit.as_deref(), Some(a1.as_str()));
    assert_eq!(report.summary.repositories, 2);
    assert_eq!(report.summary.repositories_with_keys, 2);
    assert_eq!(report.summary.keys, 1);
    let audited: Vec<(&str, &str, u64)> = report
        .repositories
        .iter()
        .map(|r| (r.name.as_str(), r.path.as_str(), r.keys))
        .collect();
    assert_eq!(audited, [("alpha", "alpha", 1), ("beta", "team/beta", 1)]);
}

#[test]
fn a_key_in_a_commit_message_is_found_at_its_commit() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7104);
    repo.write("README.md", "hello\n");
    repo.commit("readme");
    repo.write("README.md", "hello again\n");
    let msg = format!("rotate the key\n\nthe old one was {key}");
    let c1 = repo.commit(&msg);
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let k = entry(&report, &key);
    let message_place = place(&msg, &key);
    assert_eq!(
        k.locations,
        [Location {
            repository: "repo".into(),
            source: "commit-message".into(),
            path: c1.clone(),
            line: message_place.0,
            column: message_place.1,
            commit: Some(c1.clone()),
            commits: Some(1),
            at_head: None,
            allowed: false,
        }]
    );
    assert_eq!(
        k.introduced.as_ref(),
        Some(&repo.sighting("repo", &c1, "(commit message)", 3, 1))
    );
    assert_eq!(k.commits, 1);
    assert!(!k.at_head);
    assert_eq!(k.risk, "low");
}

#[test]
fn purge_advice_names_the_filter_repo_option_that_removes_the_key_where_it_is() {
    let root = Root::new();
    let repo = root.repo("repo");
    let (in_message, in_file) = (project_key(7140), project_key(7141));
    repo.write("README.md", "hello\n");
    repo.commit(&format!("rotate the key\n\nthe old one was {in_message}"));
    repo.write("a.env", env_line(&in_file));
    repo.commit("a key in a file");
    let path = repo.path().to_str().unwrap();
    let (_, report, _) = audit_shown(root.path(), &[path]);
    let purge = |key: &str| {
        let k = entry(&report, key);
        (k.remediation.iter().find(|s| s.starts_with("Purge")))
            .expect("a purge step")
            .clone()
    };
    let message = purge(&in_message);
    assert!(
        message.contains("`git filter-repo --replace-message replacements.txt`"),
        "{message}"
    );
    let file = purge(&in_file);
    assert!(
        file.contains("`git filter-repo --replace-text replacements.txt`"),
        "{file}"
    );
    // --emit-replacements says the command for the keys it wrote.
    let fp = entry(&report, &in_message).fingerprint.clone();
    let out = audit_out(root.path(), &[path, "--emit-replacements", &fp]);
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("git filter-repo --replace-message FILE"),
        "{}",
        stderr(&out)
    );
    let both = format!("{fp},{}", entry(&report, &in_file).fingerprint);
    let file = root.path().join("my replacements.txt");
    let out = audit_out(
        root.path(),
        &[
            path,
            "--emit-replacements",
            &both,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    let quoted = format!("'{}'", file.display());
    let want = format!("git filter-repo --replace-text {quoted} --replace-message {quoted}");
    assert!(stderr(&out).contains(&want), "{}", stderr(&out));
}

#[test]
fn a_detached_head_is_the_default_branch_and_decides_at_head() {
    let root = Root::new();
    let repo = root.repo("repo");
    let old = project_key(7105);
    let new = project_key(7106);
    repo.write("a.env", env_line(&old));
    let c1 = repo.commit("old key");
    repo.remove("a.env");
    repo.write("b.env", env_line(&new));
    let c2 = repo.commit("new key");
    repo.git(&["checkout", "-q", "--detach", &c1]);
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let r = &report.repositories[0];
    assert_eq!(r.default_branch.as_deref(), Some("HEAD (detached)"));
    assert_eq!(r.head.as_deref(), Some(c1.as_str()));
    let o = entry(&report, &old);
    assert!(o.at_head, "the detached HEAD's tree has it: {o:#?}");
    assert_eq!(o.risk, "medium");
    assert_eq!(o.default_branch.as_deref(), Some("HEAD (detached)"));
    assert_eq!(o.on_branches, Vec::<String>::new(), "no branch tip has it");
    let n = entry(&report, &new);
    assert!(!n.at_head, "not in the detached HEAD's tree: {n:#?}");
    assert_eq!(n.risk, "low");
    assert_eq!(n.on_branches, ["main"]);
    assert_eq!(n.introduced.as_ref().map(|s| &s.commit), Some(&c2));
    assert_eq!(secrets_of(&report.keys), [old, new]);
}

#[test]
fn a_clone_has_origin_main_its_remote_and_remote_branches() {
    let root = Root::new();
    let upstream_dir = tempfile::tempdir().expect("temp dir");
    let src = Repo::init(upstream_dir.path().join("src"), 0);
    let main_key = project_key(7107);
    let branch_key = project_key(7108);
    src.write("a.env", env_line(&main_key));
    src.commit("main key");
    src.git(&["checkout", "-q", "-b", "feature"]);
    src.write("f.env", env_line(&branch_key));
    src.commit("branch key");
    src.git(&["checkout", "-q", "main"]);
    let url = src.path().to_str().unwrap().to_string();
    let mut clone = git_in(root.path());
    clone.args(["clone", "-q", &url, "clone"]);
    ok(clone);
    let dir = root.path().join("clone");
    let (code, report, err) = audit_shown(root.path(), &[dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let r = &report.repositories[0];
    assert_eq!(r.default_branch.as_deref(), Some("origin/main"));
    assert_eq!(r.remote.as_deref(), Some(url.as_str()));
    assert_eq!((r.name.as_str(), r.path.as_str()), ("clone", "clone"));
    let m = entry(&report, &main_key);
    assert!(m.at_head);
    assert_eq!(m.default_branch.as_deref(), Some("origin/main"));
    // The feature branch was cut from main: its tip has main's key too.
    assert_eq!(m.on_branches, ["main", "origin/feature", "origin/main"]);
    assert_eq!(m.repositories[0].remote.as_deref(), Some(url.as_str()));
    let b = entry(&report, &branch_key);
    assert!(!b.at_head);
    assert_eq!(b.on_branches, ["origin/feature"]);
}

#[test]
fn the_default_path_is_the_current_repository() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7109);
    repo.write("a.env", env_line(&key));
    repo.commit("a key");
    let (code, report, err) = audit_shown(repo.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(report.repositories[0].path, "repo");
    assert_eq!(entry(&report, &key).locations[0].repository, "repo");
}

#[test]
fn same_named_clones_in_two_folders_stay_two_repositories() {
    let root = Root::new();
    let (shared, own) = (project_key(7125), project_key(7126));
    let a = root.repo("a/api");
    a.write("a.env", env_line(&shared));
    a.commit("a");
    let b = root.repo("b/api");
    b.write("b.env", format!("{}{}", env_line(&shared), env_line(&own)));
    b.commit("b");
    for args in [["a", "b"], ["a/api", "b/api"]] {
        let (code, report, err) = audit_unchecked(root.path(), &args);
        assert_eq!(code, 1, "{err}");
        let paths: BTreeSet<&str> = report
            .repositories
            .iter()
            .map(|r| r.path.as_str())
            .collect();
        assert_eq!(
            paths.len(),
            2,
            "{args:?}: two repositories, two paths (else their keys and counts are mixed up): {:#?}",
            report.repositories
        );
        let s = entry(&report, &shared);
        assert_eq!(s.repositories.len(), 2);
        assert_ne!(s.repositories[0].path, s.repositories[1].path);
        let mut counts: Vec<u64> = report.repositories.iter().map(|r| r.keys).collect();
        counts.sort_unstable();
        assert_eq!(counts, [1, 2], "{args:?}");
        check_totals(&report);
    }
}

#[test]
fn a_repository_given_twice_is_audited_once() {
    let root = Root::new();
    let repo = root.repo("api");
    let key = project_key(7127);
    repo.write("a.env", env_line(&key));
    repo.commit("a key");
    let dir = root.path().to_str().unwrap();
    let (code, report, err) = audit_unchecked(root.path(), &[dir, repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        report.repositories.len(),
        1,
        "the folder and the repository in it name one repository: {:#?}",
        report.repositories
    );
    assert_eq!(report.summary.commits_scanned, 1);
    let k = entry(&report, &key);
    assert_eq!((k.repositories.len(), k.commits), (1, 1));
    assert_eq!(k.on_branches, ["main"]);
    check_totals(&report);
}
