//! The audit of a SHA-256 repository (issue 14, point 17), which libgit2 cannot open: its
//! history and its work tree read through git, with what a SHA-1 repository's audit reports.

use super::*;

/// A repository at `ROOT/rel` made with `git init ARGS` (its format), then used as `Root::repo`'s.
fn repo_with(root: &Root, rel: &str, args: &[&str]) -> Repo {
    let mut init = crate::util::git_in(root.path());
    init.args(["init", "-q"]).args(args).arg(rel);
    crate::util::ok(init);
    root.repo(rel)
}

/// A committed key, then an ignored file, an untracked one, a modified one and an ignored folder
/// holding keys in the work tree; returns (committed key, the work tree's keys).
fn dirty_worktree(repo: &Repo) -> (String, [String; 4]) {
    let committed = project_key(7150);
    let keys = [7151, 7152, 7153, 7154].map(project_key);
    repo.write(".gitignore", ".env.local\nsecrets/\n");
    repo.write("settings.env", env_line(&committed));
    repo.write("app.py", "print('hi')\n");
    repo.commit("settings");
    repo.write("README.md", "later\n");
    repo.commit("a later commit still holding the key");
    repo.write(".env.local", format!("# local\n{}", env_line(&keys[0])));
    repo.write("notes.txt", format!("key: {}\n", keys[1]));
    repo.write("app.py", format!("print('hi')\nKEY = \"{}\"\n", keys[2]));
    repo.write("secrets/prod.env", env_line(&keys[3]));
    (committed, keys)
}

#[test]
fn a_sha256_repositorys_work_tree_is_audited_as_a_sha1_ones_is() {
    let mut seen = Vec::new();
    for args in [&[][..], &["--object-format=sha256"]] {
        let root = Root::new();
        let repo = repo_with(&root, "repo", args);
        let (committed, keys) = dirty_worktree(&repo);
        let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
        assert_eq!(code, 1, "{args:?}: {err}");
        let r = &report.repositories[0];
        assert!(r.complete, "{args:?}: {:#?}", r.notes);
        assert_eq!(r.worktree_files, 4, "{args:?}");
        let c = entry(&report, &committed);
        let (first, last) = (c.introduced.clone().unwrap(), c.last_seen.clone().unwrap());
        assert_eq!(last.commit, repo.head(), "{args:?}");
        assert_eq!(first.commit, repo.rev("HEAD~1"), "{args:?}");
        let sightings = [first, last].map(|s| (s.author, s.date, s.path, s.line, s.order));
        let locations: Vec<Vec<Location>> = keys
            .iter()
            .map(|k| entry(&report, k).locations.clone())
            .collect();
        assert!(
            locations.iter().flatten().all(|l| l.source == "worktree"),
            "{args:?}: {locations:#?}"
        );
        seen.push((locations, sightings, report.keys.len(), r.notes.clone()));
    }
    assert_eq!(seen[0], seen[1], "SHA-1 (left) and SHA-256 (right) differ");
}
