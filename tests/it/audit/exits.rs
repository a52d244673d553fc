//! Exit codes and errors: clean and found in every format, paths that are no repository, repositories
//! not read in full, bare clones, how deep folders are searched.

use super::*;

// ---- Exit codes and errors

#[test]
fn a_clean_repository_exits_0_and_says_no_keys() {
    let root = Root::new();
    let repo = root.repo("repo");
    repo.write("README.md", "nothing to see\n");
    repo.commit("readme");
    let out = audit_out(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("No keys found in 1 repository."), "{text}");
    let (code, report, _) = audit_json(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(report.keys.is_empty() && report.suppressed.is_empty());
    assert_eq!(report.summary.repositories, 1);
}

#[test]
fn keys_exit_1_in_every_format() {
    let root = Root::new();
    let repo = root.repo("repo");
    repo.write("a.env", env_line(&project_key(7117)));
    repo.commit("a key");
    for format in ["human", "json", "markdown", "html"] {
        let out = audit_out(
            root.path(),
            &["--format", format, repo.path().to_str().unwrap()],
        );
        assert_eq!(code_of(&out), 1, "{format}: {}", stderr(&out));
    }
}

#[test]
fn a_path_that_is_neither_a_repository_nor_a_folder_exits_2_naming_it() {
    let root = Root::new();
    let missing = root.path().join("no-such-repo");
    let file = root.path().join("plain.txt");
    std::fs::write(&file, "text\n").expect("write");
    for path in [&missing, &file] {
        let shown = path.to_str().unwrap();
        let out = audit_out(root.path(), &[shown]);
        assert_eq!(code_of(&out), 2, "{shown}: {}", stderr(&out));
        assert!(stderr(&out).contains(shown), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "no report: {}", stdout(&out));
    }
}

#[test]
fn a_bad_path_beside_a_good_repository_is_still_an_error() {
    let root = Root::new();
    let repo = root.repo("repo");
    repo.write("README.md", "nothing to see\n");
    repo.commit("readme");
    let missing = root.path().join("no-such-repo");
    let shown = missing.to_str().unwrap();
    let out = audit_out(root.path(), &[repo.path().to_str().unwrap(), shown]);
    assert!(stderr(&out).contains(shown), "{}", stderr(&out));
    assert_eq!(
        code_of(&out),
        2,
        "a PATH that was not audited (a typo) must not let the audit pass: {}",
        stderr(&out)
    );
}

#[test]
fn a_repository_not_read_in_full_exits_2_unless_allowed() {
    let root = Root::new();
    let repo = root.repo("repo");
    repo.write("a.txt", "hello\n");
    repo.write("b.txt", "world\n");
    repo.commit("two files");
    let blob = repo.rev("HEAD:b.txt");
    std::fs::remove_file(
        repo.path()
            .join(".git/objects")
            .join(&blob[..2])
            .join(&blob[2..]),
    )
    .expect("the blob is a loose object");
    let path = repo.path().to_str().unwrap();
    let (code, report, _) = audit_json(root.path(), &[path]);
    assert_eq!(code, 2);
    let r = &report.repositories[0];
    assert!(!r.complete);
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    assert!(
        r.notes[0].contains("b.txt") && r.notes[0].contains(&blob),
        "{:?}",
        r.notes
    );
    assert_eq!(report.summary.incomplete, 1);
    let (code, _, _) = audit_json(root.path(), &["--allow-incomplete", path]);
    assert_eq!(code, 0);
    for format in ["human", "markdown", "html"] {
        let text = stdout(&audit_out(root.path(), &["--format", format, path]));
        assert!(
            text.contains(&blob),
            "{format} names what was not read:\n{text}"
        );
    }
    // A key found still exits 1.
    repo.write("c.env", env_line(&project_key(7119)));
    repo.commit("a key");
    let (code, _, _) = audit_json(root.path(), &[path]);
    assert_eq!(code, 1);
}

#[test]
fn a_bare_clone_is_named_without_git() {
    let root = Root::new();
    let upstream = tempfile::tempdir().expect("temp dir");
    let src = Repo::init(upstream.path().join("src"), 0);
    let key = project_key(7124);
    src.write("a.env", env_line(&key));
    let c1 = src.commit("a key");
    let url = src.path().to_str().unwrap().to_string();
    let mut clone = git_in(root.path());
    clone.args(["clone", "-q", "--bare", &url, "svc.git"]);
    ok(clone);
    let (code, report, err) = audit_shown(root.path(), &[root.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let r = &report.repositories[0];
    assert_eq!(
        (r.name.as_str(), r.path.as_str(), r.remote.as_deref()),
        ("svc", "svc.git", Some(url.as_str()))
    );
    assert_eq!(r.default_branch.as_deref(), Some("main"));
    assert_eq!(r.head.as_deref(), Some(c1.as_str()));
    assert_eq!(r.worktree_files, 0);
    let k = entry(&report, &key);
    assert!(k.at_head);
    assert_eq!(k.locations[0].repository, "svc.git");
}

#[test]
fn folders_are_searched_four_levels_deep_without_entering_repositories() {
    let root = Root::new();
    for rel in [
        "a",
        "a/vendor/inner",
        "org/team/sub/deep",
        "x/y/z/w/too-deep",
        "plain/b",
    ] {
        root.repo(rel);
    }
    std::fs::create_dir_all(root.path().join("empty/folder")).expect("mkdir");
    assert_eq!(
        list(root.path(), &["."]),
        ["a", "org/team/sub/deep", "plain/b"]
    );
}

#[test]
fn emit_replacements_with_an_unknown_fingerprint_exits_2() {
    let root = Root::new();
    let repo = root.repo("repo");
    repo.write("a.env", env_line(&project_key(7118)));
    repo.commit("a key");
    let unknown = "kh1:00000000000000000000000000000000";
    let path = repo.path().to_str().unwrap();
    let out = audit_out(root.path(), &[path, "--emit-replacements", unknown]);
    assert_eq!(code_of(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains(unknown), "{}", stderr(&out));
    assert!(!stderr(&out).contains(path), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
}
