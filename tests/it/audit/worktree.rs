//! The work tree: ignored, untracked and modified files, and keys on allow-marked lines kept apart.

use super::*;

// ---- The work tree

#[test]
fn ignored_untracked_and_modified_files_of_the_work_tree_are_audited() {
    let root = Root::new();
    let repo = root.repo("repo");
    let committed = project_key(7110);
    let ignored = project_key(7111);
    let untracked = project_key(7112);
    let modified = project_key(7113);
    let in_ignored_dir = project_key(7114);
    repo.write(".gitignore", ".env.local\nsecrets/\n");
    repo.write("settings.env", env_line(&committed));
    repo.write("app.py", "print('hi')\n");
    let c1 = repo.commit("settings");
    let ignored_text = format!("# local\n{}", env_line(&ignored));
    repo.write(".env.local", &ignored_text);
    repo.write("notes.txt", format!("key: {untracked}\n"));
    repo.write("app.py", format!("print('hi')\nKEY = \"{modified}\"\n"));
    repo.write("secrets/prod.env", env_line(&in_ignored_dir));
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let c = entry(&report, &committed);
    assert_eq!(
        c.locations.iter().map(|l| &l.source).collect::<Vec<_>>(),
        ["history"],
        "a committed, unchanged file is not reported again from the work tree"
    );
    assert!(!c.repositories[0].in_worktree);
    assert_eq!(c.introduced.as_ref().map(|s| &s.commit), Some(&c1));
    let (line, column) = place(&ignored_text, &ignored);
    let worktree = |path: &str, line: u64, column: u64| Location {
        repository: "repo".into(),
        source: "worktree".into(),
        path: path.into(),
        line,
        column,
        commit: None,
        commits: None,
        at_head: None,
        allowed: false,
    };
    for (key, want) in [
        (&ignored, worktree(".env.local", line, column)),
        (&untracked, worktree("notes.txt", 1, 6)),
        (&modified, worktree("app.py", 2, 8)),
        (&in_ignored_dir, worktree("secrets/prod.env", 1, 16)),
    ] {
        let k = entry(&report, key);
        assert_eq!(k.locations, [want], "{key}");
        assert_eq!(k.risk, "medium", "a key on disk now is exposed now");
        assert!(!k.at_head);
        assert_eq!((&k.introduced, &k.last_seen), (&None, &None));
        assert_eq!(k.commits, 0);
        assert!(k.repositories[0].in_worktree);
        assert_eq!(k.repositories[0].on_branches, Vec::<String>::new());
    }
    assert_eq!(report.keys.len(), 5, "{:#?}", secrets_of(&report.keys));
    assert_eq!(report.repositories[0].worktree_files, 4);
}

#[test]
fn a_key_only_on_allow_marked_lines_is_listed_apart_and_exits_0() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7115);
    let text = format!("OPENAI_API_KEY={key} # keyhound:allow\n");
    repo.write("test.env", &text);
    repo.commit("a test key");
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(
        code, 0,
        "an allowed key alone does not fail the audit: {err}"
    );
    assert!(report.keys.is_empty(), "{:#?}", report.keys);
    assert_eq!(secrets_of(&report.suppressed), std::slice::from_ref(&key));
    let s = &report.suppressed[0];
    assert_eq!(s.locations.len(), 1);
    assert!(s.locations[0].allowed);
    assert_eq!(
        (s.locations[0].path.as_str(), s.locations[0].line),
        ("test.env", 1)
    );
    assert_eq!(report.summary.suppressed, 1);
    assert_eq!(report.summary.keys, 0);
    assert_eq!(report.repositories[0].keys, 0);
}

#[test]
fn a_key_also_on_an_unmarked_line_is_reported_with_both_places() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7116);
    repo.write("a.env", format!("OPENAI_API_KEY={key} # keyhound:allow\n"));
    repo.write("b.env", env_line(&key));
    repo.commit("two copies");
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(report.suppressed.is_empty());
    let k = entry(&report, &key);
    let marks: Vec<(&str, bool)> = k
        .locations
        .iter()
        .map(|l| (l.path.as_str(), l.allowed))
        .collect();
    assert_eq!(marks, [("a.env", true), ("b.env", false)]);
}
