//! `keyhound git`: history (every ref, each blob once, commit messages, one finding per key and
//! path with where it lived), `--all-objects`, `--range`, `--staged` (also as git's own
//! pre-commit hook), and what a repository makes it skip or refuse. Repositories are built at run
//! time with the `git` command line, every command a minute later than the one before.

use crate::repo::GitRepo;
use crate::util::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// Every commit's author, as reports name it (the committer is someone else).
const AUTHOR: &str = "Ada Author <ada@example.com>";

/// `git ARGS` in `dir`, asserting success.
fn git_at(dir: &Path, args: &[&str]) -> String {
    let mut cmd = git_in(dir);
    cmd.args(args);
    ok(cmd)
}

/// A repository at `ROOT/repo` of a temporary directory; ROOT also holds clones and logs.
struct Repo {
    tmp: tempfile::TempDir,
    repo: GitRepo,
}

impl Repo {
    /// `git init` with branch `main`.
    fn new() -> Repo {
        let tmp = tempfile::tempdir().expect("temp dir");
        let repo = GitRepo::init(tmp.path().join("repo"), 0);
        Repo { tmp, repo }
    }

    /// A path beside the repository, in the same temporary directory.
    fn beside(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

impl std::ops::Deref for Repo {
    type Target = GitRepo;

    fn deref(&self) -> &GitRepo {
        &self.repo
    }
}

/// `keyhound git ARGS` in `dir` with `envs` set, under a time limit: the whole output.
fn hound_out(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> Output {
    let mut cmd = kh();
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.current_dir(dir)
        .timeout(Duration::from_secs(120))
        .arg("git")
        .args(args)
        .output()
        .expect("keyhound runs")
}

/// The exit code, failing on a signal (a hang) or a panic.
fn code_of(out: &Output) -> i32 {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out.status
        .code()
        .unwrap_or_else(|| panic!("killed (a hang?); stderr: {stderr}"))
}

/// `keyhound git --format json --show-secrets ARGS` in `dir` with `envs`: (exit code, report,
/// stderr). The report must match the schema.
fn hound_env(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> (i32, Report, String) {
    let mut all = vec!["--format", "json", "--show-secrets"];
    all.extend_from_slice(args);
    let out = hound_out(dir, &all, envs);
    let code = code_of(&out);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}):\n{}\nstderr:\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    check_schema(&doc, None);
    let report = serde_json::from_value(doc).unwrap_or_else(|e| panic!("bad report ({e})"));
    (code, report, stderr)
}

/// `keyhound git --format json --show-secrets ARGS` in `dir`: (exit code, report, stderr).
fn hound(dir: &Path, args: &[&str]) -> (i32, Report, String) {
    hound_env(dir, args, &[])
}

/// The git part of a finding.
fn git_of(f: &Finding) -> &GitInfo {
    f.git
        .as_ref()
        .unwrap_or_else(|| panic!("no `git` object: {f:#?}"))
}

/// The only finding at `path`.
fn at<'a>(report: &'a Report, path: &str) -> &'a Finding {
    let hits: Vec<&Finding> = report.findings.iter().filter(|f| f.path == path).collect();
    assert_eq!(
        hits.len(),
        1,
        "one finding at {path}: {:#?}",
        report.findings
    );
    hits[0]
}

/// (path, secret) of every finding, sorted.
fn found(report: &Report) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.secret.clone()))
        .collect();
    v.sort();
    v
}

fn pair(path: &str, key: &str) -> (String, String) {
    (path.to_string(), key.to_string())
}

/// A `.env` line carrying `key`.
fn env_line(key: &str) -> String {
    format!("OPENAI_API_KEY={key}\n")
}

/// Asserts `f` is `key` at its line, column and offset in `text`, the blob it was found in.
fn assert_place(f: &Finding, text: &str, key: &str) {
    let offset = find_once(text.as_bytes(), key.as_bytes());
    let (line, column) = line_col(text.as_bytes(), offset);
    assert_eq!(f.secret, key);
    assert_eq!(
        (f.line, f.column, f.offset),
        (line, column, offset as u64),
        "{f:#?}"
    );
}

/// What history mode says of a key at `path` first committed in `intro`.
fn history(
    repo: &Repo,
    intro: &str,
    path: &str,
    last_seen: &str,
    commits: u64,
    at_head: bool,
) -> GitInfo {
    GitInfo {
        object: "blob".into(),
        reached_by: "refs".into(),
        commit: Some(intro.into()),
        author: Some(AUTHOR.into()),
        date: Some(repo.date(intro)),
        blob: Some(repo.rev(&format!("{intro}:{path}"))),
        last_seen: Some(last_seen.into()),
        commits: Some(commits),
        at_head: Some(at_head),
    }
}

/// Asserts what `--range` says of a key at `path` added by `commit` (`reached_by` unchecked).
fn assert_added(repo: &Repo, f: &Finding, commit: &str, path: &str) {
    let g = git_of(f);
    let want = GitInfo {
        object: "blob".into(),
        reached_by: g.reached_by.clone(),
        commit: Some(commit.into()),
        author: Some(AUTHOR.into()),
        date: Some(repo.date(commit)),
        blob: Some(repo.rev(&format!("{commit}:{path}"))),
        last_seen: None,
        commits: None,
        at_head: None,
    };
    assert_eq!(g, &want);
}

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
fn a_bare_repository_and_a_git_dir_are_accepted() {
    let repo = Repo::new();
    let key = project_key(9017);
    repo.write("a.env", env_line(&key));
    let c1 = repo.commit("key");
    let bare = repo.beside("bare.git");
    git_at(
        &repo.beside(""),
        &["clone", "-q", "--bare", "repo", bare.to_str().unwrap()],
    );
    let want = history(&repo, &c1, "a.env", &c1, 1, true);
    let abs = repo.path().to_str().unwrap().to_string();
    let runs: [(&Path, &[&str]); 5] = [
        (repo.path(), &[]),
        (repo.path(), &["."]),
        (repo.path(), &[".git"]),
        (&bare, &["."]),
        (bare.parent().unwrap(), &[abs.as_str()]),
    ];
    for (dir, args) in runs {
        let (code, report, stderr) = hound(dir, args);
        assert_eq!(code, 1, "{dir:?} {args:?}: {stderr}");
        assert_eq!(found(&report), [pair("a.env", &key)], "{dir:?} {args:?}");
        assert_eq!(git_of(&report.findings[0]), &want, "{dir:?} {args:?}");
    }
    let (code, report, _) = hound(bare.parent().unwrap(), &["bare.git"]);
    assert_eq!(code, 1);
    assert_eq!(git_of(&report.findings[0]), &want);
}

#[test]
fn an_empty_repository_is_clean() {
    let repo = Repo::new();
    let (code, report, stderr) = hound(repo.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(report.complete && report.findings.is_empty());
    assert_eq!(report.stats.commits, Some(0));
    assert_eq!(report.stats.blobs_scanned, Some(0));
    let (code, _, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "{stderr}");
    let bare = repo.beside("empty.git");
    git_at(&repo.beside(""), &["init", "-q", "--bare", "empty.git"]);
    let (code, report, stderr) = hound(&bare, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(report.findings.is_empty());
}

#[test]
fn a_shallow_clone_is_scanned_and_said_to_be_shallow() {
    let repo = Repo::new();
    let (old, new) = (project_key(9018), project_key(9019));
    repo.write("old.env", env_line(&old));
    repo.commit("old");
    std::fs::remove_file(repo.path().join("old.env")).expect("rm");
    repo.write("new.env", env_line(&new));
    let c2 = repo.commit("new");
    let url = format!("file://{}", repo.path().display());
    git_at(
        &repo.beside(""),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let (code, report, stderr) = hound(&repo.beside("shallow"), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("new.env", &new)]);
    assert_eq!(
        git_of(&report.findings[0]).commit.as_deref(),
        Some(c2.as_str())
    );
    let shallow: Vec<&Skipped> = report
        .skipped
        .iter()
        .filter(|s| s.reason.to_lowercase().contains("shallow"))
        .collect();
    assert_eq!(shallow.len(), 1, "{:#?}", report.skipped);
    assert!(!shallow[0].incomplete);

    // Nothing found in a shallow clone: clean, not incomplete.
    let clean = Repo::new();
    clean.write("README.md", "one\n");
    clean.commit("one");
    clean.write("README.md", "two\n");
    clean.commit("two");
    let url = format!("file://{}", clean.path().display());
    git_at(
        &clean.beside(""),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let (code, report, stderr) = hound(&clean.beside("shallow"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.reason.to_lowercase().contains("shallow")),
        "{:#?}",
        report.skipped
    );
}

#[test]
fn a_partial_clone_is_an_error() {
    let repo = Repo::new();
    repo.write("a.txt", "one\n");
    repo.commit("one");
    repo.write("a.txt", "two\n");
    repo.commit("two");
    repo.git(&["config", "uploadpack.allowFilter", "true"]);
    let url = format!("file://{}", repo.path().display());
    git_at(
        &repo.beside(""),
        &["clone", "-q", "--filter=blob:none", &url, "partial"],
    );
    let out = hound_out(&repo.beside("partial"), &[], &[]);
    assert_eq!(code_of(&out), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("partial clone"), "{stderr}");
}

#[test]
fn a_submodule_is_skipped_without_making_the_scan_incomplete() {
    let sub = Repo::new();
    sub.write("sub.env", env_line(&project_key(9020)));
    sub.commit("sub");
    let repo = Repo::new();
    repo.write("README.md", "main\n");
    repo.commit("main");
    let url = format!("file://{}", sub.path().display());
    repo.git(&["submodule", "add", "-q", &url, "libs/sub"]);
    repo.git(&["commit", "-q", "-m", "add the submodule"]);
    let (code, report, stderr) = hound(repo.path(), &[]);
    assert_eq!(code, 0, "{stderr}\n{:#?}", report.findings);
    let subs: Vec<&Skipped> = report
        .skipped
        .iter()
        .filter(|s| s.reason.to_lowercase().contains("submodule"))
        .collect();
    assert!(!subs.is_empty(), "{:#?}", report.skipped);
    assert!(
        subs.iter()
            .all(|s| !s.incomplete && s.path.contains("libs/sub"))
    );
    assert!(report.complete);
}

#[test]
fn a_git_lfs_pointer_is_skipped_and_named() {
    let repo = Repo::new();
    let oid = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";
    repo.write(
        "model.bin",
        format!("version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 12345\n"),
    );
    repo.write(
        ".gitattributes",
        "*.bin filter=lfs diff=lfs merge=lfs -text\n",
    );
    repo.commit("lfs");
    let (code, report, stderr) = hound(repo.path(), &[]);
    assert_ne!(code, 1, "{stderr}");
    assert!(report.findings.is_empty());
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.reason.contains("LFS") && s.path.contains("model.bin")),
        "{:#?}",
        report.skipped
    );
}

/// The loose object file of `id`.
fn loose_object(repo: &Repo, id: &str) -> PathBuf {
    repo.path()
        .join(".git/objects")
        .join(&id[..2])
        .join(&id[2..])
}

/// A one-commit repository whose blob `lost.txt` is gone from the object store, plus `key.env`
/// carrying `key` when given.
fn missing_blob_repo(key: Option<&str>) -> Repo {
    let repo = Repo::new();
    repo.write("lost.txt", "this blob goes missing\n");
    if let Some(key) = key {
        repo.write("key.env", env_line(key));
    }
    repo.commit("files");
    let lost = repo.rev("HEAD:lost.txt");
    std::fs::remove_file(loose_object(&repo, &lost)).expect("rm object");
    repo
}

#[test]
fn a_missing_blob_is_skipped_and_makes_the_scan_incomplete() {
    let key = project_key(9021);
    let repo = missing_blob_repo(Some(&key));
    let (code, report, stderr) = hound(repo.path(), &[]);
    assert_eq!(code, 1, "findings win over the missing blob: {stderr}");
    assert_eq!(found(&report), [pair("key.env", &key)]);
    assert!(!report.complete);
    assert!(
        report.skipped.iter().any(|s| s.incomplete),
        "{:#?}",
        report.skipped
    );
    assert_eq!(report.stats.blobs_skipped, Some(1));

    let repo = missing_blob_repo(None);
    let (code, report, stderr) = hound(repo.path(), &[]);
    assert_eq!(code, 2, "{stderr}\n{:#?}", report.findings);
    assert!(!report.complete);
    let (code, _, stderr) = hound(repo.path(), &["--allow-incomplete"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_corrupt_blob_is_skipped_and_makes_the_scan_incomplete() {
    let repo = Repo::new();
    repo.write("bad.txt", "this blob gets corrupted\n");
    repo.commit("one file");
    let bad = loose_object(&repo, &repo.rev("HEAD:bad.txt"));
    let mut perms = std::fs::metadata(&bad).expect("object").permissions();
    perms.set_mode(0o644);
    std::fs::set_permissions(&bad, perms).expect("chmod");
    std::fs::write(&bad, b"not zlib at all").expect("corrupt");
    let (code, report, stderr) = hound(repo.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!report.complete);
    assert!(
        report.skipped.iter().any(|s| s.incomplete),
        "{:#?}",
        report.skipped
    );
}

#[test]
fn a_damaged_pack_is_not_scanned_as_if_whole() {
    let repo = Repo::new();
    let text: String = (0..2000u64)
        .map(|i| format!("line {} of a blob damaged in its pack\n", i * i % 7919))
        .collect();
    repo.write("bad.txt", &text);
    repo.write("key.env", env_line(&project_key(9109)));
    repo.commit("two files");
    repo.git(&["repack", "-adq"]);
    let pack_dir = repo.path().join(".git/objects/pack");
    let idx = (std::fs::read_dir(&pack_dir).expect("packs").flatten())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("an index");
    let listing = git_at(
        repo.path(),
        &["verify-pack", "-v", idx.to_str().expect("UTF-8")],
    );
    let blob = repo.rev("HEAD:bad.txt");
    let entry: Vec<u64> = (listing.lines())
        .find(|l| l.starts_with(&blob))
        .expect("the blob is packed")
        .split_whitespace()
        .skip(3)
        .take(2)
        .map(|n| n.parse().expect("a number"))
        .collect();
    let pack = idx.with_extension("pack");
    let mut perms = std::fs::metadata(&pack).expect("pack").permissions();
    perms.set_mode(0o644);
    std::fs::set_permissions(&pack, perms).expect("chmod");
    let whole = std::fs::read(&pack).expect("pack");
    // Overwrite 4 bytes at several places of the blob's entry: at some, zlib still inflates
    // to the stated size, from wrong data, and only the index's CRC-32 tells.
    for tenth in 3..10 {
        let mut bytes = whole.clone();
        let at = (entry[1] + entry[0] * tenth / 10) as usize;
        bytes[at..at + 4].copy_from_slice(&[0xff; 4]);
        std::fs::write(&pack, bytes).expect("damage");
        let (code, report, stderr) = hound(repo.path(), &[]);
        assert_eq!(code, 1, "the key found wins over the damage: {stderr}");
        assert!(!report.complete, "damaged at {tenth}/10 of the entry");
        let noted = (report.skipped.iter()).any(|s| s.incomplete && s.path.contains("bad.txt"));
        assert!(noted, "{:#?}", report.skipped);
        assert_eq!(found(&report), [pair("key.env", &project_key(9109))]);
    }
}

/// A repository whose `big.txt` (4,800 bytes and a key) is committed; the key and the text.
fn big_blob_repo() -> (Repo, String, String) {
    let repo = Repo::new();
    let key = project_key(9022);
    let mut text = "filler line\n".repeat(400);
    text.push_str(&env_line(&key));
    repo.write("big.txt", &text);
    repo.commit("big");
    (repo, key, text)
}

#[test]
fn a_blob_over_max_blob_size_is_streamed_with_the_same_finding() {
    let (repo, key, text) = big_blob_repo();
    for packed in [false, true] {
        if packed {
            repo.git(&["gc", "-q"]);
        }
        let (code, whole, _) = hound(repo.path(), &[]);
        assert_eq!(code, 1, "default 64M, packed: {packed}");
        assert_eq!(found(&whole), [pair("big.txt", &key)]);
        assert_place(&whole.findings[0], &text, &key);
        let (code, streamed, stderr) = hound(repo.path(), &["--max-blob-size", "1K"]);
        assert_eq!(code, 1, "packed: {packed}: {stderr}");
        assert_eq!(found(&streamed), [pair("big.txt", &key)]);
        assert_place(&streamed.findings[0], &text, &key);
        assert_eq!(streamed.findings[0].git, whole.findings[0].git);
        assert!(streamed.complete && streamed.skipped.is_empty());
    }
    // Staged and in a range, too.
    let more = format!("{text}{}", env_line(&project_key(9034)));
    repo.write("big.txt", &more);
    repo.git(&["add", "big.txt"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged", "--max-blob-size", "1K"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("big.txt", &project_key(9034))]);
    repo.git(&["commit", "-q", "-m", "more"]);
    let (code, report, stderr) = hound(
        repo.path(),
        &["--range", "HEAD~1..HEAD", "--max-blob-size", "1K"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("big.txt", &project_key(9034))]);
}

#[test]
fn a_blob_over_max_blob_size_that_git_cannot_stream_is_skipped_and_incomplete() {
    let (repo, _, _) = big_blob_repo();
    let no_git: &[(&str, &Path)] = &[("PATH", Path::new("/nonexistent"))];
    // Loose, then packed: the pack reader does not inflate it either.
    for packed in [false, true] {
        if packed {
            repo.git(&["gc", "-q"]);
        }
        let (code, report, stderr) = hound_env(repo.path(), &["--max-blob-size", "1K"], no_git);
        assert_eq!(code, 2, "{stderr}");
        assert!(report.findings.is_empty());
        assert!(!report.complete);
        let skipped: Vec<&Skipped> = report
            .skipped
            .iter()
            .filter(|s| s.path.contains("big.txt"))
            .collect();
        assert_eq!(skipped.len(), 1, "packed: {packed}: {:#?}", report.skipped);
        assert!(skipped[0].incomplete);
        assert_eq!(report.stats.blobs_skipped, Some(1));
    }
    let (code, _, _) = hound_env(
        repo.path(),
        &["--max-blob-size", "1K", "--allow-incomplete"],
        no_git,
    );
    assert_eq!(code, 0);
    // Under the limit, git is not needed.
    let (code, _, stderr) = hound_env(repo.path(), &[], no_git);
    assert_eq!(code, 1, "{stderr}");
}

#[test]
fn a_directory_that_is_no_repository_is_an_error() {
    let dir = tree(&[("a.env", env_line(&project_key(9023)).as_bytes())]);
    for args in [&[][..], &["."][..], &["--staged"][..]] {
        let out = hound_out(dir.path(), args, &[]);
        assert_eq!(code_of(&out), 2, "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("not a git repository"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn secrets_are_redacted_unless_asked() {
    let repo = Repo::new();
    let (k1, k2) = (project_key(9024), project_key(9025));
    repo.write("a.env", env_line(&k1));
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", &format!("oops {k2}")]);
    for format in ["json", "jsonl", "sarif", "human"] {
        let out = hound_out(repo.path(), &["--format", format], &[]);
        assert_eq!(code_of(&out), 1, "{format}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !stdout.contains(&k1) && !stdout.contains(&k2),
            "{format}: {stdout}"
        );
    }
    let out = hound_out(repo.path(), &["--format", "json"], &[]);
    let report: Report = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report.findings.len(), 2);
    assert!(report.findings.iter().all(|f| f.redacted));
    let (_, shown, _) = hound(repo.path(), &[]);
    let mut secrets = secrets(&shown);
    secrets.sort();
    let mut want = vec![k1, k2];
    want.sort();
    assert_eq!(secrets, want);
}

#[test]
fn sarif_written_to_a_file_has_the_results() {
    let repo = Repo::new();
    repo.write("a.env", env_line(&project_key(9026)));
    repo.commit("key");
    let file = repo.beside("out.sarif");
    let out = hound_out(
        repo.path(),
        &["--format", "sarif", "-o", file.to_str().unwrap()],
        &[],
    );
    assert_eq!(code_of(&out), 1);
    let doc: Value =
        serde_json::from_slice(&std::fs::read(&file).expect("SARIF written")).expect("JSON");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{doc:#}");
}

#[test]
fn jsonl_lines_carry_the_git_object() {
    let repo = Repo::new();
    let key = project_key(9027);
    repo.write("a.env", env_line(&key));
    let c1 = repo.commit("key");
    let out = hound_out(repo.path(), &["--format", "jsonl", "--show-secrets"], &[]);
    assert_eq!(code_of(&out), 1);
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    for line in &lines {
        check_schema(line, Some("jsonlLine"));
    }
    let findings: Vec<&Value> = lines.iter().filter(|l| l["type"] == "finding").collect();
    assert_eq!(findings.len(), 1, "{lines:#?}");
    assert_eq!(findings[0]["secret"], key.as_str());
    assert_eq!(findings[0]["git"]["commit"], c1.as_str());
    assert_eq!(findings[0]["git"]["at_head"], true);
    let summary = lines.last().expect("summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["stats"]["commits"], 1);
}

#[test]
fn archive_and_decode_depths_apply_to_blobs() {
    let repo = Repo::new();
    let (zipped, encoded) = (project_key(9028), project_key(9029));
    let inner = env_line(&zipped);
    repo.write(
        "bundle.zip",
        zip_bytes(&[("conf/inner.env", inner.as_bytes(), false)]),
    );
    repo.write(
        "blob.b64",
        format!("{}\n", b64(env_line(&encoded).as_bytes())),
    );
    let c1 = repo.commit("bundle");
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        [pair("blob.b64", &encoded), pair("bundle.zip", &zipped)]
    );
    let f = at(&report, "bundle.zip");
    assert_eq!(f.archive_member.as_deref(), Some("conf/inner.env"));
    assert_eq!(git_of(f), &history(&repo, &c1, "bundle.zip", &c1, 1, true));
    assert_eq!(at(&report, "blob.b64").decoded, ["base64"]);
    let (_, report, _) = hound(repo.path(), &["--max-archive-depth", "0"]);
    assert_eq!(found(&report), [pair("blob.b64", &encoded)]);
    let (_, report, _) = hound(repo.path(), &["--max-decode-depth", "0"]);
    assert_eq!(found(&report), [pair("bundle.zip", &zipped)]);
}

#[test]
fn the_thread_count_does_not_change_the_report() {
    let repo = Repo::new();
    for i in 0..12u64 {
        repo.write(&format!("f{i}.env"), env_line(&project_key(9030 + i)));
        if i % 3 == 0 {
            repo.write("log.txt", format!("{i}\n"));
        }
        repo.commit(&format!("commit {i}"));
    }
    let key = |f: &Finding| (f.path.clone(), f.secret.clone(), f.line, f.git.clone());
    let sorted = |r: &Report| {
        let mut v: Vec<_> = r.findings.iter().map(key).collect();
        v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        v
    };
    let (_, one, _) = hound(repo.path(), &["-j", "1"]);
    let (_, four, _) = hound(repo.path(), &["-j", "4"]);
    assert_eq!(one.findings.len(), 12);
    assert_eq!(sorted(&one), sorted(&four));
    assert_eq!(one.stats.blobs_scanned, four.stats.blobs_scanned);
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

// ---- --staged

/// Installs a pre-commit hook running `keyhound git --staged` that appends each exit code to a
/// log beside the repository; returns the log's path.
fn install_hook(repo: &Repo) -> PathBuf {
    let log = repo.beside("hook.log");
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let script = format!(
        "#!/bin/sh\n'{}' git --staged >&2\ncode=$?\necho $code >> '{}'\nexit $code\n",
        bin.display(),
        log.display()
    );
    let hook = repo.path().join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().expect("hooks dir")).expect("mkdir");
    std::fs::write(&hook, script).expect("write hook");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    log
}

/// The exit codes the hook logged, oldest first.
fn hook_codes(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Asserts `git ARGS` fails (the hook refused) and HEAD is still `head`.
fn refused(repo: &Repo, args: &[&str], head: &str) {
    let out = repo.try_git(args);
    assert!(
        !out.status.success(),
        "git {args:?} should have been stopped by the hook"
    );
    assert_eq!(repo.head(), head, "git {args:?} made a commit");
}

/// The staged blob finding at `path`: reached by the index, no commit, the index's blob.
fn assert_staged(repo: &Repo, report: &Report, path: &str) {
    let g = git_of(at(report, path));
    assert_eq!(g.object, "blob");
    assert_eq!(g.reached_by, "index");
    assert_eq!(g.commit, None);
    assert_eq!(g.blob, Some(repo.rev(&format!(":{path}"))));
}

#[test]
fn a_staged_key_is_reported_with_the_index_blob() {
    let repo = Repo::new();
    let key = project_key(9050);
    repo.write("README.md", "base\n");
    repo.commit("base");
    let text = format!("# local\n{}", env_line(&key));
    repo.write("app.env", &text);
    repo.git(&["add", "app.env"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("app.env", &key)]);
    assert_place(&report.findings[0], &text, &key);
    assert_staged(&repo, &report, "app.env");
}

#[test]
fn the_pre_commit_hook_stops_commit_all() {
    let repo = Repo::new();
    let key = project_key(9051);
    repo.write("config.txt", "name = demo\n");
    repo.commit("base");
    let log = install_hook(&repo);
    repo.write("config.txt", "name = demo2\n");
    repo.git(&["commit", "-q", "-a", "-m", "clean change"]);
    let head = repo.head();
    assert_eq!(hook_codes(&log), ["0"]);
    repo.write("config.txt", format!("name = demo2\n{}", env_line(&key)));
    refused(&repo, &["commit", "-q", "-a", "-m", "leak"], &head);
    assert_eq!(hook_codes(&log), ["0", "1"]);
}

#[test]
fn the_pre_commit_hook_stops_a_commit_of_named_paths() {
    let repo = Repo::new();
    let key = project_key(9052);
    repo.write("config.txt", "name = demo\n");
    repo.write("other.txt", "x\n");
    repo.commit("base");
    let log = install_hook(&repo);
    repo.write("other.txt", "y\n");
    repo.git(&["commit", "-q", "other.txt", "-m", "clean change"]);
    let head = repo.head();
    repo.write("config.txt", format!("name = demo\n{}", env_line(&key)));
    refused(&repo, &["commit", "-q", "config.txt", "-m", "leak"], &head);
    repo.write("new.env", env_line(&key));
    repo.git(&["add", "-N", "new.env"]);
    refused(&repo, &["commit", "-q", "new.env", "-m", "leak"], &head);
    assert_eq!(hook_codes(&log), ["0", "1", "1"]);
}

#[test]
fn the_pre_commit_hook_checks_only_what_a_path_commit_commits() {
    let repo = Repo::new();
    let key = project_key(9064);
    repo.write("b.txt", "one\n");
    repo.commit("base");
    let log = install_hook(&repo);
    repo.write("keys.env", env_line(&key));
    repo.git(&["add", "keys.env"]);
    repo.write("b.txt", "two\n");
    // `git commit b.txt` commits b.txt alone: the key staged in .git/index is not in it.
    repo.git(&["commit", "-q", "b.txt", "-m", "only b.txt"]);
    let head = repo.head();
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"]),
        "b.txt"
    );
    assert_eq!(hook_codes(&log), ["0"]);
    refused(&repo, &["commit", "-q", "-m", "the rest"], &head);
    assert_eq!(hook_codes(&log), ["0", "1"]);
}

#[test]
fn the_pre_commit_hook_stops_a_plainly_staged_key() {
    let repo = Repo::new();
    let key = project_key(9053);
    repo.write("README.md", "base\n");
    let head = repo.commit("base");
    let log = install_hook(&repo);
    repo.write("keys.env", env_line(&key));
    repo.git(&["add", "keys.env"]);
    refused(&repo, &["commit", "-q", "-m", "leak"], &head);
    assert_eq!(hook_codes(&log), ["1"]);
}

#[test]
fn the_pre_commit_hook_stops_an_amend() {
    let repo = Repo::new();
    let key = project_key(9054);
    repo.write("config.txt", "name = demo\n");
    repo.commit("base");
    repo.write("config.txt", "name = demo2\n");
    let head = repo.commit("rename");
    let log = install_hook(&repo);
    repo.write("config.txt", format!("name = demo2\n{}", env_line(&key)));
    refused(
        &repo,
        &["commit", "-q", "--amend", "-a", "--no-edit"],
        &head,
    );
    repo.git(&["add", "config.txt"]);
    refused(&repo, &["commit", "-q", "--amend", "--no-edit"], &head);
    assert_eq!(hook_codes(&log), ["1", "1"]);
    repo.write("config.txt", "name = demo3\n");
    repo.git(&["commit", "-q", "--amend", "-a", "--no-edit"]);
    assert_ne!(repo.head(), head);
    assert_eq!(hook_codes(&log), ["1", "1", "0"]);
}

#[test]
fn the_pre_commit_hook_works_in_a_linked_worktree() {
    let repo = Repo::new();
    let key = project_key(9063);
    repo.write("config.txt", "name = demo\n");
    repo.commit("base");
    let log = install_hook(&repo);
    let wt = repo.beside("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap(), "-b", "wt"]);
    let in_wt = |args: &[&str]| {
        let mut cmd = git_in(&wt);
        cmd.args(args);
        cmd.output().expect("git runs")
    };
    let head = git_at(&wt, &["rev-parse", "HEAD"]);
    std::fs::write(
        wt.join("config.txt"),
        format!("name = demo\n{}", env_line(&key)),
    )
    .unwrap();
    assert!(
        !in_wt(&["commit", "-q", "-a", "-m", "leak"])
            .status
            .success()
    );
    assert!(
        !in_wt(&["commit", "-q", "config.txt", "-m", "leak"])
            .status
            .success()
    );
    assert_eq!(git_at(&wt, &["add", "config.txt"]), "");
    assert!(!in_wt(&["commit", "-q", "-m", "leak"]).status.success());
    assert_eq!(git_at(&wt, &["rev-parse", "HEAD"]), head);
    assert_eq!(hook_codes(&log), ["1", "1", "1"]);
    // The main work tree's index is not the linked one's.
    let (code, _, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, report, stderr) = hound(&wt, &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("config.txt", &key)]);
}

#[test]
fn a_staged_key_before_the_first_commit_is_reported() {
    let repo = Repo::new();
    let key = project_key(9055);
    repo.write("first.env", env_line(&key));
    repo.git(&["add", "first.env"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("first.env", &key)]);
    assert_staged(&repo, &report, "first.env");

    let log = install_hook(&repo);
    let out = repo.try_git(&["commit", "-q", "-m", "first"]);
    assert!(
        !out.status.success(),
        "the hook should stop the first commit"
    );
    assert!(
        !repo
            .try_git(&["rev-parse", "-q", "--verify", "HEAD"])
            .status
            .success()
    );
    repo.git(&["rm", "-q", "--cached", "first.env"]);
    repo.write("README.md", "clean\n");
    repo.git(&["add", "README.md"]);
    repo.git(&["commit", "-q", "-m", "first"]);
    assert_eq!(hook_codes(&log), ["1", "0"]);
}

#[test]
fn an_unstaged_edit_is_not_reported() {
    let repo = Repo::new();
    repo.write("config.txt", "name = demo\n");
    repo.commit("base");
    repo.write(
        "config.txt",
        format!("name = demo\n{}", env_line(&project_key(9056))),
    );
    repo.write("untracked.env", env_line(&project_key(9057)));
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "{stderr}\n{:#?}", report.findings);
}

#[test]
fn a_committed_key_is_not_reported_when_another_line_is_staged() {
    let repo = Repo::new();
    let key = project_key(9058);
    repo.write("config.txt", format!("name = demo\n{}", env_line(&key)));
    repo.commit("base");
    repo.write("config.txt", format!("name = demo2\n{}", env_line(&key)));
    repo.git(&["add", "config.txt"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "{stderr}\n{:#?}", report.findings);
    // Moved to another line of the same file: still not new.
    repo.write("config.txt", format!("{}name = demo3\n", env_line(&key)));
    repo.git(&["add", "config.txt"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "{stderr}\n{:#?}", report.findings);
}

#[test]
fn a_staged_key_is_reported_after_the_work_tree_drops_it() {
    let repo = Repo::new();
    let key = project_key(9059);
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.write("a.env", env_line(&key));
    repo.git(&["add", "a.env"]);
    repo.write("a.env", "OPENAI_API_KEY=\n");
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("a.env", &key)]);
    assert_staged(&repo, &report, "a.env");
}

#[test]
fn a_staged_rename_of_a_committed_key_is_not_reported() {
    let repo = Repo::new();
    let key = project_key(9060);
    let settings: String = (1..=20)
        .map(|i| format!("SETTING_{i}=value {i}\n"))
        .collect();
    let text = format!("{settings}{}", env_line(&key));
    repo.write("old.env", &text);
    repo.commit("base");
    repo.git(&["mv", "old.env", "new.env"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "{stderr}\n{:#?}", report.findings);
    // Renamed and edited: only the key the edit adds is new.
    let added = project_key(9062);
    repo.write("new.env", format!("{text}{}", env_line(&added)));
    repo.git(&["add", "new.env"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("new.env", &added)]);
}

#[test]
fn staged_honours_git_dir_and_git_index_file() {
    let repo = Repo::new();
    let key = project_key(9061);
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.write("k.env", env_line(&key));
    let alt = repo.beside("alt-index");
    for args in [&["read-tree", "HEAD"][..], &["add", "k.env"][..]] {
        let mut cmd = git_in(repo.path());
        cmd.env("GIT_INDEX_FILE", &alt).args(args);
        ok(cmd);
    }
    let (code, _, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "the default index has no key: {stderr}");
    let index: &[(&str, &Path)] = &[("GIT_INDEX_FILE", &alt)];
    let (code, report, stderr) = hound_env(repo.path(), &["--staged"], index);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("k.env", &key)]);
    let elsewhere = repo.beside("");
    let git_dir = repo.path().join(".git");
    let both: &[(&str, &Path)] = &[("GIT_DIR", &git_dir), ("GIT_INDEX_FILE", &alt)];
    let (code, report, stderr) = hound_env(&elsewhere, &["--staged"], both);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("k.env", &key)]);
    let dir_only: &[(&str, &Path)] = &[("GIT_DIR", &git_dir)];
    let (code, _, stderr) = hound_env(&elsewhere, &["--staged"], dir_only);
    assert_eq!(code, 0, "{stderr}");
}

// ---- --range

/// A repository with `main` checked out and `feature` forked at its first commit.
fn forked() -> Repo {
    let repo = Repo::new();
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.git(&["branch", "feature"]);
    repo
}

#[test]
fn a_range_covers_only_the_commits_it_names() {
    let repo = Repo::new();
    let (before, on_feature, on_main) = (project_key(9070), project_key(9071), project_key(9072));
    // A key committed before the fork is outside both ranges.
    repo.write("before.env", env_line(&before));
    repo.commit("base with a key");
    repo.checkout(&["-b", "feature"]);
    let text = format!("# feature\n{}", env_line(&on_feature));
    repo.write("feature.env", &text);
    let f1 = repo.commit("feature key");
    repo.write("notes.txt", "more\n");
    repo.commit("feature notes");
    repo.checkout(&["main"]);
    repo.write("main.env", env_line(&on_main));
    let m1 = repo.commit("main key");

    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("feature.env", &on_feature)]);
    let f = at(&report, "feature.env");
    assert_place(f, &text, &on_feature);
    assert_added(&repo, f, &f1, "feature.env");
    assert_eq!(report.stats.commits, Some(2));

    let (code, report, stderr) = hound(repo.path(), &["--range", "feature..main"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("main.env", &on_main)]);
    assert_added(&repo, at(&report, "main.env"), &m1, "main.env");
}

#[test]
fn a_key_added_then_removed_inside_the_range_is_found() {
    let repo = forked();
    let key = project_key(9073);
    repo.checkout(&["feature"]);
    repo.write("tmp.env", env_line(&key));
    let f1 = repo.commit("try a key");
    std::fs::remove_file(repo.path().join("tmp.env")).expect("rm");
    repo.commit("remove it again");
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("tmp.env", &key)]);
    assert_added(&repo, &report.findings[0], &f1, "tmp.env");
}

#[test]
fn merging_main_into_the_branch_does_not_report_mains_keys() {
    let repo = Repo::new();
    let (main_key, other_main_key, branch_key) =
        (project_key(9074), project_key(9075), project_key(9076));
    let lines: Vec<String> = (1..=10).map(|i| format!("line {i}\n")).collect();
    repo.write("shared.txt", lines.concat());
    repo.commit("base");
    repo.git(&["branch", "feature"]);
    // main: a key appended to the shared file, and a file of its own.
    repo.write(
        "shared.txt",
        format!("{}{}", lines.concat(), env_line(&main_key)),
    );
    repo.write("main.env", env_line(&other_main_key));
    repo.commit("main keys");
    // feature: another line of the shared file, then main merged in.
    repo.checkout(&["feature"]);
    repo.write("shared.txt", format!("line one\n{}", lines[1..].concat()));
    repo.commit("feature edit");
    repo.git(&["merge", "-q", "--no-ff", "main", "-m", "merge main"]);
    let merged = std::fs::read_to_string(repo.path().join("shared.txt")).expect("read");
    assert!(
        merged.starts_with("line one\n") && merged.contains(&main_key),
        "{merged}"
    );
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 0, "{stderr}\n{:#?}", report.findings);

    // A key the branch adds after the merge is still reported.
    repo.write("branch.env", env_line(&branch_key));
    let f3 = repo.commit("branch key");
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("branch.env", &branch_key)]);
    assert_added(&repo, &report.findings[0], &f3, "branch.env");
}

#[test]
fn an_evil_merge_in_the_range_is_reported_at_the_merge() {
    let repo = forked();
    let key = project_key(9077);
    repo.write("main.txt", "main\n");
    repo.commit("main work");
    repo.checkout(&["feature"]);
    repo.write("feature.txt", "feature\n");
    repo.commit("feature work");
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "main"]);
    repo.write("main.txt", format!("main\n{}", env_line(&key)));
    repo.git(&["add", "main.txt"]);
    repo.git(&["commit", "-q", "-m", "merge main"]);
    let merge = repo.head();
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("main.txt", &key)]);
    assert_added(&repo, &report.findings[0], &merge, "main.txt");
}

#[test]
fn a_key_moved_within_its_file_is_not_new_in_a_range() {
    let repo = Repo::new();
    let (old, new) = (project_key(9078), project_key(9079));
    repo.write(
        "config.txt",
        format!("a = 1\nb = 2\n{}c = 3\n", env_line(&old)),
    );
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let text = format!("{}a = 1\nb = 2\nc = 3\nnew = {new}\n", env_line(&old));
    repo.write("config.txt", &text);
    let f1 = repo.commit("reorder, and one new key");
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("config.txt", &new)]);
    assert_place(&report.findings[0], &text, &new);
    assert_added(&repo, &report.findings[0], &f1, "config.txt");
}

#[test]
fn a_renamed_file_is_not_new_in_a_range() {
    let repo = Repo::new();
    let (old, new) = (project_key(9080), project_key(9081));
    repo.write("old.env", env_line(&old));
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.git(&["mv", "old.env", "renamed.env"]);
    repo.write("added.env", env_line(&new));
    let f1 = repo.commit("rename, and a new key");
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("added.env", &new)]);
    assert_added(&repo, &report.findings[0], &f1, "added.env");
}

#[test]
fn a_range_with_an_unknown_end_is_an_error() {
    let repo = forked();
    let out = hound_out(repo.path(), &["--range", "main..no-such-branch"], &[]);
    assert_eq!(code_of(&out), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no-such-branch"), "{stderr}");
}

#[test]
fn a_range_reaching_a_root_commit_compares_it_with_the_empty_tree() {
    let repo = Repo::new();
    let key = project_key(9082);
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.checkout(&["--orphan", "fresh"]);
    repo.git(&["rm", "-rq", "--cached", "."]);
    std::fs::remove_file(repo.path().join("README.md")).expect("rm");
    repo.write("fresh.env", env_line(&key));
    let root = repo.commit("a new root");
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..fresh"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("fresh.env", &key)]);
    assert_added(&repo, &report.findings[0], &root, "fresh.env");
}

#[test]
fn a_commit_message_in_a_range_has_no_history_fields() {
    let repo = forked();
    let key = project_key(9083);
    repo.checkout(&["feature"]);
    repo.write("feature.txt", "work\n");
    let f1 = repo.commit(&format!("feature, tested with {key}"));
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair(&f1, &key)]);
    let g = git_of(&report.findings[0]);
    assert_eq!(g.object, "commit-message");
    assert_eq!(g.commit.as_deref(), Some(f1.as_str()));
    assert_eq!(
        (g.last_seen.as_deref(), g.commits, g.at_head),
        (None, None, None)
    );
}

// ---------------------------------------------------------------------------------------------
// Hooks and suppression in history

#[test]
fn commit_msg_scans_the_message_without_comments_or_the_verbose_diff() {
    let repo = Repo::new();
    let (key, diff_key) = (project_key(9101), project_key(9102));
    let msg = repo.beside("COMMIT_EDITMSG");
    std::fs::write(
        &msg,
        format!(
            "Add client\n\nkey: {key}\n# comment {diff_key}\n\
             # ------------------------ >8 ------------------------\n+K={diff_key}\n"
        ),
    )
    .unwrap();
    let msg_arg = msg.to_str().unwrap();
    let (code, report, _) = hound(repo.path(), &["--commit-msg", msg_arg]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair(msg_arg, &key)]);
    assert_eq!(report.findings[0].line, 3);
    assert_eq!(git_of(&report.findings[0]).object, "commit-message");
    std::fs::write(&msg, "Clean message\n").unwrap();
    assert_eq!(hound(repo.path(), &["--commit-msg", msg_arg]).0, 0);
}

#[test]
fn pre_push_scans_what_the_push_sends_from_stdin_or_pre_commit_env() {
    let repo = Repo::new();
    repo.write("a.txt", "clean\n");
    let base = repo.commit("base");
    let key = project_key(9103);
    repo.write("b.env", env_line(&key));
    let tip = repo.commit("add key");
    let stdin = |line: String| {
        let out = kh()
            .current_dir(repo.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("PRE_COMMIT_FROM_REF")
            .env_remove("PRE_COMMIT_TO_REF")
            .args(["git", "--pre-push", "--format", "json", "--show-secrets"])
            .write_stdin(line)
            .output()
            .unwrap();
        let report: Report = serde_json::from_slice(&out.stdout).expect("JSON");
        (out.status.code(), report)
    };
    let zero = "0".repeat(40);
    // An update of an existing remote branch: only base..tip.
    let (code, report) = stdin(format!("refs/heads/main {tip} refs/heads/main {base}\n"));
    assert_eq!(code, Some(1));
    assert_eq!(found(&report), [pair("b.env", &key)]);
    // Pushing what the remote has already: nothing new.
    let (code, _) = stdin(format!("refs/heads/main {tip} refs/heads/main {tip}\n"));
    assert_eq!(code, Some(0));
    // A deleted branch sends nothing.
    let (code, _) = stdin(format!("(delete) {zero} refs/heads/old {base}\n"));
    assert_eq!(code, Some(0));
    // A new branch with no remote-tracking refs: all its commits.
    let (code, report) = stdin(format!("refs/heads/main {tip} refs/heads/main {zero}\n"));
    assert_eq!(code, Some(1));
    assert_eq!(report.findings.len(), 1);
    // The pre-commit framework's variables.
    let out = kh()
        .current_dir(repo.path())
        .env("PRE_COMMIT_FROM_REF", &base)
        .env("PRE_COMMIT_TO_REF", &tip)
        .args(["git", "--pre-push"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn keyhoundignore_paths_and_fingerprints_suppress_history_findings() {
    let repo = Repo::new();
    let (fixture, allowed, real) = (project_key(9104), project_key(9105), project_key(9106));
    repo.write("tests/fixtures/keys.env", env_line(&fixture));
    repo.write(
        "app.env",
        format!("{}{}", env_line(&allowed), env_line(&real)),
    );
    repo.commit("keys");
    let (_, before, _) = hound(repo.path(), &[]);
    let fp = before
        .findings
        .iter()
        .find(|f| f.secret == allowed)
        .expect("found")
        .fingerprint
        .clone();
    repo.write(
        ".keyhoundignore",
        format!("# test data\ntests/fixtures/\n{fp}  # rotated 2024-05\n"),
    );
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair("app.env", &real)]);
    assert_eq!(report.stats.suppressed.path, 1);
    assert_eq!(report.stats.suppressed.fingerprint, 1);
}

#[test]
fn a_baseline_suppresses_known_keys_after_a_rebase_and_move() {
    let repo = Repo::new();
    let (old, new) = (project_key(9107), project_key(9108));
    repo.write("a.env", env_line(&old));
    repo.commit("old key");
    let baseline = repo.beside("baseline.json");
    let out = hound_out(
        repo.path(),
        &["--format", "json", "-o", baseline.to_str().unwrap()],
        &[],
    );
    assert_eq!(code_of(&out), 1);
    // The key moves to another file and line, and a new key arrives.
    repo.write("a.env", "");
    repo.write(
        "b/config.env",
        format!("\n\n{}{}", env_line(&old), env_line(&new)),
    );
    repo.commit("move");
    let (code, report, _) = hound(repo.path(), &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair("b/config.env", &new)]);
    assert_eq!(
        report.stats.suppressed.baseline, 2,
        "a.env and b/config.env"
    );
    let bad = repo.beside("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let out = hound_out(repo.path(), &["--baseline", bad.to_str().unwrap()], &[]);
    assert_eq!(code_of(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a keyhound JSON"));
}

#[test]
fn keyhound_toml_allows_paths_and_never_sets_the_endpoint() {
    let repo = Repo::new();
    let key = project_key(9109);
    repo.write("docs/example.md", env_line(&key));
    repo.write("keyhound.toml", "[allow]\npaths = [\"docs/**\"]\n");
    repo.commit("docs");
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(report.stats.suppressed.path, 1);
    repo.write(
        "keyhound.toml",
        "[verify]\nbase_url = \"https://collector.example\"\n",
    );
    let out = hound_out(repo.path(), &[], &[]);
    assert_eq!(code_of(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot choose where keys are sent"));
}

#[test]
fn staged_works_without_the_git_command_too() {
    // keyhound asks `git diff --cached` first (fast, with git's own rename detection) and
    // compares the index with HEAD itself when git cannot be run.
    let repo = Repo::new();
    let (kept, added) = (project_key(9110), project_key(9111));
    repo.write("old.env", env_line(&kept));
    repo.commit("base");
    repo.git(&["mv", "old.env", "renamed.env"]);
    repo.write("new.env", env_line(&added));
    repo.git(&["add", "-A"]);
    let with_git = hound(repo.path(), &["--staged"]);
    let empty = repo.beside("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let without = hound_env(repo.path(), &["--staged"], &[("PATH", &empty)]);
    for (code, report, stderr) in [with_git, without] {
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(found(&report), [pair("new.env", &added)]);
    }
}

#[test]
fn history_without_the_git_command_finds_the_same() {
    // With git, keyhound streams the object store through `git cat-file`; without it, libgit2
    // walks the trees. Both must report the same findings and counts.
    let repo = Repo::new();
    let (a, b) = (project_key(9120), project_key(9121));
    repo.write("a.env", env_line(&a));
    repo.commit("a");
    repo.write("a.env", "gone\n");
    repo.write("dir/b.env", env_line(&b));
    repo.commit("b");
    repo.git(&["commit", "-q", "--allow-empty", "-m", &format!("note {a}")]);
    let empty = repo.beside("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let (c1, with_git, _) = hound(repo.path(), &[]);
    let (c2, without, _) = hound_env(repo.path(), &[], &[("PATH", &empty)]);
    assert_eq!((c1, c2), (1, 1));
    let summary = |r: &Report| {
        let mut v: Vec<String> = r
            .findings
            .iter()
            .map(|f| format!("{} {} {:?}", f.path, f.secret, f.git))
            .collect();
        v.sort();
        v
    };
    assert_eq!(summary(&with_git), summary(&without));
    assert_eq!(with_git.findings.len(), 3);
    assert_eq!(with_git.stats.blobs_scanned, without.stats.blobs_scanned);
    assert_eq!(with_git.stats.commits, without.stats.commits);
}

/// The JSON report of a whole-history scan read by `reader` (`KEYHOUND_GIT_READER`), its
/// timing zeroed.
fn by_reader(dir: &Path, reader: &str) -> Value {
    let envs = [("KEYHOUND_GIT_READER", Path::new(reader))];
    let out = hound_out(dir, &["--format", "json", "--show-secrets"], &envs);
    assert_eq!(code_of(&out), 1, "{reader}");
    let mut doc: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    doc["stats"]["elapsed_ms"] = Value::from(0);
    doc
}

/// A history with keys where history hides them: removed later, in a deleted file, in two
/// files at once, on an unmerged branch, behind a tag only, in a commit message; plus a Git
/// LFS pointer (a note that needs its path) and a binary file.
fn hidden_keys_repo() -> Repo {
    let repo = Repo::new();
    repo.write("app/.env", env_line(&project_key(9101)));
    repo.write("old/creds.env", env_line(&project_key(9102)));
    repo.write("bin/logo.bin", [0u8, 159, 146, 150, 255, 0, 1]);
    repo.commit("start");
    repo.write("app/.env", "OPENAI_API_KEY=\n");
    repo.git(&["rm", "-q", "-r", "old"]);
    repo.write("a/copy.env", env_line(&project_key(9103)));
    repo.write("b/copy.env", env_line(&project_key(9103)));
    repo.commit(&format!("rotate\n\nthe new one is {}\n", project_key(9104)));
    repo.checkout(&["-b", "side"]);
    repo.write("side.env", env_line(&project_key(9105)));
    repo.commit("side");
    repo.checkout(&["--detach", "main"]);
    repo.write("tagged.env", env_line(&project_key(9106)));
    repo.commit("tagged only");
    repo.git(&["tag", "only-tag"]);
    repo.checkout(&["main"]);
    let lfs = "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n";
    repo.write("model.bin", lfs);
    repo.commit("lfs");
    repo
}

#[test]
fn packs_git_and_libgit2_read_the_same_history_loose_packed_or_both() {
    let repo = hidden_keys_repo();
    let check = |stage: &str| {
        let packs = by_reader(repo.path(), "packs");
        assert_eq!(packs, by_reader(repo.path(), "git"), "{stage}");
        let libgit2 = by_reader(repo.path(), "libgit2");
        assert_eq!(packs["findings"], libgit2["findings"], "{stage}");
        assert_eq!(packs["stats"], libgit2["stats"], "{stage}");
        let (blobs, _) = repo.reachable_blobs();
        assert_eq!(packs["stats"]["blobs_scanned"], blobs, "{stage}");
        packs
    };
    let loose = check("loose objects");
    assert_eq!(loose["findings"].as_array().map(Vec::len), Some(7));
    let lfs = (loose["skipped"].as_array().expect("skipped").iter()).any(|s| {
        s["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("model.bin"))
    });
    assert!(lfs, "{:#}", loose["skipped"]);
    repo.git(&["gc", "-q"]);
    assert_eq!(check("one pack"), loose);
    // A second pack (which repeats objects of the first), and loose objects besides.
    repo.write("later.env", env_line(&project_key(9107)));
    repo.commit("later");
    repo.git(&["repack", "-q"]);
    repo.write("last.env", env_line(&project_key(9108)));
    repo.commit("last");
    let packs = std::fs::read_dir(repo.path().join(".git/objects/pack")).expect("packs");
    let count = packs
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "idx"));
    assert_eq!(count.count(), 2);
    let both = check("two packs and loose objects");
    assert_eq!(both["findings"].as_array().map(Vec::len), Some(9));
    // A third pack holding every object again, beside the two it repeats.
    repo.git(&["repack", "-a", "-q"]);
    assert_eq!(check("three overlapping packs"), both);
    // A linked work tree: its objects are in the repository's own folder.
    let linked = repo.beside("linked");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        linked.to_str().expect("UTF-8"),
        "side",
    ]);
    let from_linked = by_reader(&linked, "packs");
    assert_eq!(from_linked["stats"], both["stats"], "the same history");
    assert!(
        from_linked == by_reader(&linked, "git"),
        "at_head is about `side` there"
    );
}
