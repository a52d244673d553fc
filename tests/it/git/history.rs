//! History: every ref, each blob once, commit messages, `--all-objects`, one finding per key and
//! path with where it lived, and the order that decides which commit introduced a key.

use super::*;

// ---- History

#[test]
fn a_removed_key_is_found_with_where_it_lived() {
    let repo = Repo::new();
    let key = project_key(9000);
    repo.write("README.md", "hello\n");
    repo.commit("readme");
    let text = format!("name = \"demo\"\napi_key = \"{key}\"\n");
    repo.write("config.toml", &text);
    let c1 = repo.commit("add config");
    repo.write(
        "config.toml",
        format!("name = \"demo2\"\napi_key = \"{key}\"\n"),
    );
    repo.commit("rename the demo");
    repo.write("README.md", "hello again\n");
    let c3 = repo.commit("readme again");
    repo.write("config.toml", "name = \"demo2\"\n");
    repo.commit("drop the key");
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let f = at(&report, "config.toml");
    assert_place(f, &text, &key);
    assert_eq!(f.archive_member, None);
    assert_eq!(
        git_of(f),
        &history(&repo, &c1, "config.toml", &c3, 3, false)
    );
    assert_eq!(report.stats.commits, Some(5));
    assert!(report.complete);
}

#[test]
fn a_key_in_a_file_deleted_later_is_found() {
    let repo = Repo::new();
    let key = project_key(9001);
    repo.write("deploy/.env.production", env_line(&key));
    repo.write("app.py", "print('hi')\n");
    let c1 = repo.commit("deploy settings");
    repo.write("app.py", "print('hello')\n");
    let c2 = repo.commit("greet");
    repo.git(&["rm", "-q", "deploy/.env.production"]);
    repo.git(&["commit", "-q", "-m", "forget the env file"]);
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair("deploy/.env.production", &key)]);
    let f = at(&report, "deploy/.env.production");
    assert_eq!(
        git_of(f),
        &history(&repo, &c1, "deploy/.env.production", &c2, 2, false)
    );
}

#[test]
fn a_key_from_a_merged_branch_keeps_the_branch_commit() {
    let repo = Repo::new();
    let key = project_key(9002);
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.checkout(&["-b", "feature"]);
    repo.write("feature.env", env_line(&key));
    let f1 = repo.commit("feature work");
    repo.checkout(&["main"]);
    repo.write("main.txt", "main work\n");
    repo.commit("main work");
    repo.git(&["merge", "-q", "--no-ff", "feature", "-m", "merge feature"]);
    let merge = repo.head();
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair("feature.env", &key)]);
    let f = at(&report, "feature.env");
    assert_eq!(
        git_of(f),
        &history(&repo, &f1, "feature.env", &merge, 2, true)
    );
}

#[test]
fn an_evil_merge_is_the_commit_that_introduced_its_key() {
    let repo = Repo::new();
    let key = project_key(9003);
    repo.write("app.cfg", "debug = false\n");
    repo.commit("base");
    repo.checkout(&["-b", "feature"]);
    repo.write("b.txt", "feature\n");
    repo.commit("feature work");
    repo.checkout(&["main"]);
    repo.write("c.txt", "main\n");
    repo.commit("main work");
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "feature"]);
    let text = format!("debug = false\nkey = {key}\n");
    repo.write("app.cfg", &text);
    repo.git(&["add", "app.cfg"]);
    repo.git(&["commit", "-q", "-m", "merge feature"]);
    let merge = repo.head();
    assert_eq!(
        repo.git(&["rev-list", "--parents", "-n1", "HEAD"])
            .split(' ')
            .count(),
        3
    );
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair("app.cfg", &key)]);
    let f = at(&report, "app.cfg");
    assert_place(f, &text, &key);
    assert_eq!(
        git_of(f),
        &history(&repo, &merge, "app.cfg", &merge, 1, true)
    );
}

#[test]
fn an_unmerged_branch_is_scanned() {
    let repo = Repo::new();
    let key = project_key(9004);
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.checkout(&["-b", "wip"]);
    repo.write(
        "scratch/try.py",
        format!("client = OpenAI(api_key=\"{key}\")\n"),
    );
    let w1 = repo.commit("try the client");
    repo.checkout(&["main"]);
    repo.write("README.md", "base 2\n");
    repo.commit("more docs");
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair("scratch/try.py", &key)]);
    let f = at(&report, "scratch/try.py");
    assert_eq!(
        git_of(f),
        &history(&repo, &w1, "scratch/try.py", &w1, 1, false)
    );
}

#[test]
fn commits_reachable_only_from_tags_are_scanned() {
    let repo = Repo::new();
    let (k1, k2) = (project_key(9005), project_key(9006));
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.checkout(&["-b", "release"]);
    repo.write("release.env", env_line(&k1));
    let r1 = repo.commit("release settings");
    repo.git(&["tag", "-a", "v1.0", "-m", "version 1.0"]);
    repo.write("hotfix.env", env_line(&k2));
    let r2 = repo.commit("hotfix settings");
    repo.git(&["tag", "hotfix"]);
    repo.checkout(&["main"]);
    repo.git(&["branch", "-q", "-D", "release"]);
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        [pair("hotfix.env", &k2), pair("release.env", &k1)]
    );
    assert_eq!(
        git_of(at(&report, "release.env")),
        &history(&repo, &r1, "release.env", &r2, 2, false)
    );
    assert_eq!(
        git_of(at(&report, "hotfix.env")),
        &history(&repo, &r2, "hotfix.env", &r2, 1, false)
    );
}

#[test]
fn other_refs_remote_branches_and_a_detached_head_are_scanned() {
    let repo = Repo::new();
    let (k1, k2, k3) = (project_key(9007), project_key(9008), project_key(9009));
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.checkout(&["-b", "pr"]);
    repo.write("pr.env", env_line(&k1));
    let p1 = repo.commit("pull request");
    repo.checkout(&["-b", "gone", "main"]);
    repo.write("remote.env", env_line(&k2));
    let g1 = repo.commit("remote work");
    repo.checkout(&["main"]);
    repo.git(&["update-ref", "refs/pull/1/head", &p1]);
    repo.git(&["update-ref", "refs/remotes/origin/gone", &g1]);
    repo.git(&["branch", "-q", "-D", "pr", "gone"]);
    repo.checkout(&["--detach"]);
    repo.write("detached.env", env_line(&k3));
    let d1 = repo.commit("detached work");
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        [
            pair("detached.env", &k3),
            pair("pr.env", &k1),
            pair("remote.env", &k2)
        ]
    );
    assert_eq!(
        git_of(at(&report, "pr.env")),
        &history(&repo, &p1, "pr.env", &p1, 1, false)
    );
    assert_eq!(
        git_of(at(&report, "remote.env")),
        &history(&repo, &g1, "remote.env", &g1, 1, false)
    );
    assert_eq!(
        git_of(at(&report, "detached.env")),
        &history(&repo, &d1, "detached.env", &d1, 1, true)
    );
}

#[test]
fn a_key_in_a_commit_message_is_found_at_the_commit() {
    let repo = Repo::new();
    let key = project_key(9010);
    repo.write("client.py", "import openai\n");
    repo.git(&["add", "-A"]);
    let msg = format!("Configure the client\n\nTemporary key: {key}\n");
    repo.git(&["commit", "-q", "-m", &msg]);
    let c1 = repo.head();
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair(&c1, &key)]);
    let g = git_of(at(&report, &c1));
    assert_eq!(g.object, "commit-message");
    assert_eq!(g.reached_by, "refs");
    assert_eq!(g.commit.as_deref(), Some(c1.as_str()));
    assert_eq!(g.author.as_deref(), Some(AUTHOR));
    assert_eq!(g.date, Some(repo.date(&c1)));
}

#[test]
fn an_amended_away_commit_is_found_only_with_all_objects() {
    let repo = Repo::new();
    let (key, in_msg, kept) = (project_key(9011), project_key(9031), project_key(9032));
    repo.write("kept.env", env_line(&kept));
    let base = repo.commit("base");
    repo.write("leak.env", env_line(&key));
    repo.write("app.py", "run()\n");
    let c1 = repo.commit(&format!("app, run with {in_msg}"));
    std::fs::remove_file(repo.path().join("leak.env")).expect("rm");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--amend", "-m", "app, without the key"]);
    assert_ne!(repo.head(), c1);
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair("kept.env", &kept)]);
    let (code, report, _) = hound(repo.path(), &["--all-objects"]);
    assert_eq!(code, 1);
    let mut want = vec![
        pair(&c1, &in_msg),
        pair("kept.env", &kept),
        pair("leak.env", &key),
    ];
    want.sort();
    assert_eq!(found(&report), want);
    let g = git_of(at(&report, "leak.env"));
    assert_eq!(g.reached_by, "reflog");
    assert_eq!(g.commit.as_deref(), Some(c1.as_str()));
    assert_eq!(g.blob, Some(repo.rev(&format!("{c1}:leak.env"))));
    let g = git_of(at(&report, &c1));
    assert_eq!(
        (g.object.as_str(), g.reached_by.as_str()),
        ("commit-message", "reflog")
    );
    let g = git_of(at(&report, "kept.env"));
    assert_eq!(
        g.reached_by, "refs",
        "reachable from a ref, whatever else reaches it"
    );
    assert_eq!(g.commit.as_deref(), Some(base.as_str()));
}

#[test]
fn a_dangling_commit_is_found_only_with_all_objects() {
    let repo = Repo::new();
    let key = project_key(9012);
    repo.write("README.md", "base\n");
    let base = repo.commit("base");
    repo.write("dangle.env", env_line(&key));
    repo.git(&["add", "dangle.env"]);
    let tree = repo.git(&["write-tree"]);
    let dangling = repo.git(&["commit-tree", &tree, "-p", &base, "-m", "never referenced"]);
    repo.git(&["reset", "-q", "--hard"]);
    assert!(!repo.path().join("dangle.env").exists());
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 0, "{:#?}", report.findings);
    let (code, report, _) = hound(repo.path(), &["--all-objects"]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair("dangle.env", &key)]);
    let g = git_of(at(&report, "dangle.env"));
    assert_eq!(g.reached_by, "unreachable");
    assert_eq!(g.commit.as_deref(), Some(dangling.as_str()));
}

#[test]
fn a_dangling_blob_is_found_only_with_all_objects() {
    let repo = Repo::new();
    let key = project_key(9033);
    repo.write("README.md", "base\n");
    repo.commit("base");
    let loose = repo.beside("loose.env");
    std::fs::write(&loose, env_line(&key)).expect("write");
    let blob = repo.git(&["hash-object", "-w", loose.to_str().expect("UTF-8 path")]);
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 0, "{:#?}", report.findings);
    let (code, report, _) = hound(repo.path(), &["--all-objects"]);
    assert_eq!(code, 1);
    assert_eq!(secrets(&report), [key]);
    let g = git_of(&report.findings[0]);
    assert_eq!(g.reached_by, "unreachable");
    assert_eq!(g.object, "blob");
    assert_eq!(g.blob.as_deref(), Some(blob.as_str()));
    assert_eq!(g.commit, None);
}

#[test]
fn a_stashed_key_is_found_with_all_objects() {
    let repo = Repo::new();
    let key = project_key(9013);
    repo.write("notes.txt", "todo\n");
    repo.commit("notes");
    repo.write("notes.txt", format!("todo\n{}", env_line(&key)));
    repo.git(&["stash", "-q"]);
    assert_eq!(
        std::fs::read_to_string(repo.path().join("notes.txt")).unwrap(),
        "todo\n"
    );
    let (code, _, _) = hound(repo.path(), &[]);
    assert_eq!(code, 0, "a stash is scanned with --all-objects only");
    let (code, report, _) = hound(repo.path(), &["--all-objects"]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair("notes.txt", &key)]);
    // Reached only with --all-objects, through the stash, and labelled so.
    let g = git_of(&report.findings[0]);
    assert_eq!(g.reached_by, "stash", "{g:#?}");
}

#[test]
fn an_identical_blob_is_scanned_once_and_reported_once_per_path() {
    let repo = Repo::new();
    let key = project_key(9014);
    let text = env_line(&key);
    repo.write("a.env", &text);
    repo.write("other.txt", "0\n");
    let c1 = repo.commit("one");
    repo.write("b/a.env", &text);
    repo.write("other.txt", "1\n");
    let c2 = repo.commit("two");
    repo.write("c.env", &text);
    repo.write("other.txt", "2\n");
    let c3 = repo.commit("three");
    for i in 3..6 {
        repo.write("other.txt", format!("{i}\n"));
        repo.commit(&format!("commit {i}"));
    }
    let head = repo.head();
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        [
            pair("a.env", &key),
            pair("b/a.env", &key),
            pair("c.env", &key)
        ]
    );
    assert_eq!(
        git_of(at(&report, "a.env")),
        &history(&repo, &c1, "a.env", &head, 6, true)
    );
    assert_eq!(
        git_of(at(&report, "b/a.env")),
        &history(&repo, &c2, "b/a.env", &head, 5, true)
    );
    assert_eq!(
        git_of(at(&report, "c.env")),
        &history(&repo, &c3, "c.env", &head, 4, true)
    );
    let prints: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    assert!(prints.iter().all(|p| *p == prints[0]), "{prints:?}");
    // The key file and six versions of other.txt.
    assert_eq!(repo.reachable_blobs().0, 7);
    assert_eq!(report.stats.blobs_scanned, Some(7));
    assert_eq!(report.stats.commits, Some(6));
}

#[test]
fn a_key_kept_through_many_edits_is_one_finding_still_at_head() {
    let repo = Repo::new();
    let key = project_key(9015);
    let mut text = format!("# settings\nkey = {key}\n");
    repo.write("settings.conf", &text);
    let first = repo.commit("settings");
    let first_text = text.clone();
    for i in 1..30 {
        text = format!("# revision {i}\n{text}");
        repo.write("settings.conf", &text);
        repo.commit(&format!("revision {i}"));
    }
    let head = repo.head();
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let f = at(&report, "settings.conf");
    assert_place(f, &first_text, &key);
    assert_eq!(
        git_of(f),
        &history(&repo, &first, "settings.conf", &head, 30, true)
    );
    assert_eq!(report.stats.blobs_scanned, Some(30));
    assert_eq!(report.stats.commits, Some(30));
}

#[test]
fn a_renamed_file_is_a_new_path_in_history() {
    let repo = Repo::new();
    let key = project_key(9016);
    repo.write("old.env", env_line(&key));
    let c1 = repo.commit("old");
    repo.git(&["mv", "old.env", "new.env"]);
    repo.git(&["commit", "-q", "-m", "rename"]);
    let c2 = repo.head();
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        [pair("new.env", &key), pair("old.env", &key)]
    );
    assert_eq!(
        git_of(at(&report, "old.env")),
        &history(&repo, &c1, "old.env", &c1, 1, false)
    );
    assert_eq!(
        git_of(at(&report, "new.env")),
        &history(&repo, &c2, "new.env", &c2, 1, true)
    );
    assert_eq!(report.stats.blobs_scanned, Some(1));
}

#[test]
fn blobs_scanned_counts_every_distinct_reachable_blob() {
    let repo = Repo::new();
    repo.write("src/main.rs", "fn main() {}\n");
    repo.write("src/lib.rs", "pub fn f() {}\n");
    repo.write("docs/a.md", "same\n");
    repo.write("docs/b.md", "same\n");
    repo.write("logo.bin", [0u8, 159, 146, 150, 255, 0, 1]);
    repo.commit("start");
    repo.git(&["mv", "src/lib.rs", "src/core.rs"]);
    repo.write("src/main.rs", "fn main() { core::f() }\n");
    repo.commit("rename");
    repo.checkout(&["-b", "side"]);
    repo.write("side.txt", "side\n");
    repo.commit("side");
    repo.git(&["tag", "-a", "side-1", "-m", "side"]);
    repo.checkout(&["main"]);
    repo.git(&["rm", "-q", "docs/b.md"]);
    repo.commit("drop b");
    // Objects outside every ref: an amended-away commit and a loose blob.
    repo.write("gone.txt", "amended away\n");
    repo.commit("to amend");
    std::fs::remove_file(repo.path().join("gone.txt")).expect("rm");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--amend", "--allow-empty", "-m", "amended"]);
    std::fs::write(repo.beside("loose.txt"), "loose\n").expect("write");
    let loose = repo.beside("loose.txt");
    repo.git(&["hash-object", "-w", loose.to_str().expect("UTF-8 path")]);
    let (blobs, bytes) = repo.reachable_blobs();
    let commits: u64 = repo
        .git(&["rev-list", "--all", "--count"])
        .parse()
        .expect("count");
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 0, "{:#?}", report.findings);
    assert_eq!(report.stats.blobs_scanned, Some(blobs));
    assert_eq!(report.stats.commits, Some(commits));
    let scanned = report.stats.bytes_scanned.expect("bytes_scanned");
    assert!(scanned >= bytes, "{scanned} < {bytes}");
    assert_eq!(report.stats.blobs_skipped, Some(0));
}

#[test]
fn topological_order_wins_over_dates() {
    let repo = Repo::new();
    let key = project_key(9035);
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.write("a.env", env_line(&key));
    // The introducing commit claims a later date than its child.
    let intro = repo.commit_at("key", EPOCH + 1_000_000);
    repo.write("b.txt", "child\n");
    let child = repo.commit_at("child", EPOCH + 500);
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        git_of(at(&report, "a.env")),
        &history(&repo, &intro, "a.env", &child, 2, true)
    );
}

#[test]
fn the_same_key_added_on_two_branches_is_introduced_by_the_older_commit() {
    let repo = Repo::new();
    let key = project_key(9036);
    repo.write("README.md", "base\n");
    repo.commit("base");
    // `zeta` sorts last by name but commits first.
    repo.checkout(&["-b", "zeta"]);
    repo.write("x.env", env_line(&key));
    let older = repo.commit("zeta");
    repo.checkout(&["-b", "alpha", "main"]);
    repo.write("x.env", format!("# alpha\n{}", env_line(&key)));
    let newer = repo.commit("alpha");
    repo.checkout(&["main"]);
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let g = git_of(at(&report, "x.env"));
    assert_eq!(g.commit.as_deref(), Some(older.as_str()));
    assert_eq!(g.last_seen.as_deref(), Some(newer.as_str()));
    assert_eq!((g.commits, g.at_head), (Some(2), Some(false)));
}

#[test]
fn a_key_removed_and_added_back_is_one_finding_from_its_first_commit() {
    let repo = Repo::new();
    let key = project_key(9037);
    // Twice in the file: still one finding, at the first place.
    let text = format!("a = 1\n{}b = 2\nagain = {key}\n", env_line(&key));
    repo.write("k.env", &text);
    let c1 = repo.commit("key");
    repo.write("k.env", "a = 1\n");
    repo.commit("removed");
    repo.write("other.txt", "x\n");
    repo.commit("unrelated");
    repo.write("k.env", format!("a = 1\nb = 2\n{}", env_line(&key)));
    let c4 = repo.commit("added back");
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let f = at(&report, "k.env");
    assert_eq!((f.line, f.column), (2, 16));
    assert_eq!(git_of(f), &history(&repo, &c1, "k.env", &c4, 2, true));
}

#[test]
fn paths_are_reported_as_the_repository_names_them() {
    let repo = Repo::new();
    let (k1, k2) = (project_key(9038), project_key(9039));
    repo.write("dir with space/ünïcode \"q\".env", env_line(&k1));
    repo.write("a/b/c/d/tab\tname.env", env_line(&k2));
    repo.commit("odd names");
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        [
            pair("a/b/c/d/tab\tname.env", &k2),
            pair("dir with space/ünïcode \"q\".env", &k1)
        ]
    );
}
