//! Repositories libgit2 cannot open, read through git (issue 14, point 17): SHA-256 object ids
//! (reports show them in their 64 hex digits) and refs kept as reftable. The whole history,
//! `--range`, `--staged` and commit messages are scanned with the findings a SHA-1 repository
//! gets; what is not supported yet exits 2 naming the format, never reporting a clean scan.

use super::*;

/// A repository made with `git init ARGS` (its format), then used as `Repo::new`'s.
pub(super) fn repo_with(args: &[&str]) -> Repo {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("repo");
    let mut init = git_in(tmp.path());
    init.args(["init", "-q"]).args(args).arg(&dir);
    ok(init);
    // A second `git init` keeps the format and sets the clock of the commands that follow.
    let repo = GitRepo::init(dir, 0);
    Repo { tmp, repo }
}

pub(super) fn sha256() -> Repo {
    repo_with(&["--object-format=sha256"])
}

pub(super) fn sorted<const N: usize>(mut pairs: [(String, String); N]) -> Vec<(String, String)> {
    pairs.sort();
    pairs.to_vec()
}

/// Every commit and blob id of `report` is 64 hex digits long.
pub(super) fn assert_long_ids(report: &Report) {
    for f in &report.findings {
        let g = git_of(f);
        for id in [&g.commit, &g.blob, &g.last_seen].into_iter().flatten() {
            assert_eq!(id.len(), 64, "{f:#?}");
        }
    }
}

/// What `leaky_history` committed.
struct Leaky {
    /// The key in config.toml, the file's text, the commit adding it, the last holding it.
    key: String,
    text: String,
    c1: String,
    c2: String,
    /// The key in a later commit's message, and that commit.
    in_msg: String,
    c4: String,
}

/// A key committed, kept two commits, then removed; another in a later commit's message.
fn leaky_history(repo: &Repo, seed: u64) -> Leaky {
    let (key, in_msg) = (project_key(seed), project_key(seed + 1));
    repo.write("README.md", "hello\n");
    repo.commit("readme");
    let text = format!("name = \"demo\"\napi_key = \"{key}\"\n");
    repo.write("config.toml", &text);
    let c1 = repo.commit("add config");
    repo.write("README.md", "hello again\n");
    let c2 = repo.commit("readme again");
    repo.write("config.toml", "name = \"demo\"\n");
    repo.commit("drop the key");
    repo.write("app.py", "run()\n");
    let msg = format!("Configure the client\n\nTemporary key: {in_msg}\n");
    let c4 = repo.commit(&msg);
    Leaky {
        key,
        text,
        c1,
        c2,
        in_msg,
        c4,
    }
}

/// Scans `leaky`'s whole history in `repo`: both keys found, the file's where it was added,
/// with the commits that held it. Returns the report.
fn assert_leaky_history(repo: &Repo, leaky: &Leaky) -> Report {
    let (code, report, stderr) = hound(repo.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        found(&report),
        sorted([
            pair(&leaky.c4, &leaky.in_msg),
            pair("config.toml", &leaky.key)
        ])
    );
    let f = at(&report, "config.toml");
    assert_place(f, &leaky.text, &leaky.key);
    let want = history(repo, &leaky.c1, "config.toml", &leaky.c2, 2, false);
    assert_eq!(git_of(f), &want);
    assert!(report.complete);
    report
}

#[test]
fn a_sha256_history_is_scanned_with_its_long_ids() {
    let repo = sha256();
    let leaky = leaky_history(&repo, 9500);
    assert_eq!(leaky.c1.len(), 64, "a SHA-256 repository");
    let report = assert_leaky_history(&repo, &leaky);
    let c4 = &leaky.c4;
    let g = git_of(at(&report, c4));
    assert_eq!(g.object, "commit-message");
    assert_eq!(g.commit.as_deref(), Some(c4.as_str()));
    assert_eq!(g.author.as_deref(), Some(AUTHOR));
    assert_eq!(g.date, Some(repo.date(c4)));
    assert_long_ids(&report);
    assert_eq!(report.stats.commits, Some(5));
}

#[test]
fn a_sha256_range_reports_what_its_commits_added() {
    let repo = sha256();
    repo.write("README.md", "base\n");
    let base = repo.commit("base");
    let (key, in_msg) = (project_key(9510), project_key(9511));
    repo.write("deploy/.env", env_line(&key));
    let c1 = repo.commit("deploy settings");
    repo.write("README.md", "more\n");
    let c2 = repo.commit(&format!("note, with {in_msg}"));
    let range = format!("{base}..HEAD");
    let (code, report, stderr) = hound(repo.path(), &["--range", &range]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        found(&report),
        sorted([pair(&c2, &in_msg), pair("deploy/.env", &key)])
    );
    assert_added(&repo, at(&report, "deploy/.env"), &c1, "deploy/.env");
    let g = git_of(at(&report, &c2));
    assert_eq!(
        (g.object.as_str(), g.commit.as_deref()),
        ("commit-message", Some(c2.as_str()))
    );
    assert_long_ids(&report);
    assert_eq!(report.stats.commits, Some(2));
    // A key the range's first commit did not add is not reported again.
    let (code, report, _) = hound(repo.path(), &["--range", &format!("{c1}..HEAD")]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair(&c2, &in_msg)]);
}

#[test]
fn a_sha256_index_is_scanned_with_staged() {
    let repo = sha256();
    let report = super::staged::assert_staged_key_found(&repo, 9520);
    assert_long_ids(&report);
}

#[test]
fn a_sha256_commit_message_file_is_scanned() {
    let repo = sha256();
    let key = project_key(9530);
    let file = repo.beside("COMMIT_EDITMSG");
    std::fs::write(
        &file,
        format!("subject\n\n{key}\n# {}\n", project_key(9531)),
    )
    .expect("write");
    let (code, report, stderr) = hound(repo.path(), &["--commit-msg", &file.display().to_string()]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        report.findings.len(),
        1,
        "the comment line is not the message"
    );
    assert_eq!(
        (report.findings[0].secret.as_str(), report.findings[0].line),
        (key.as_str(), 3)
    );
}

#[test]
fn all_objects_of_a_sha256_repository_borrowing_objects_exits_2_naming_the_format() {
    let lender = sha256();
    lender.write("a.env", env_line(&project_key(9540)));
    lender.commit("first");
    let from = lender.path().display().to_string();
    git_at(
        &lender.beside(""),
        &["clone", "-q", "--shared", &from, "borrower"],
    );
    for args in [
        &["--all-objects"][..],
        &["--format", "json", "--all-objects"],
    ] {
        let out = hound_out(&lender.beside("borrower"), args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code_of(&out), 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("a SHA-256 repository") && stderr.contains("alternates"),
            "{args:?}: {stderr}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("\"complete\": true"));
    }
}

#[test]
fn a_reftable_repository_is_read_through_git() {
    let repo = repo_with(&["--ref-format=reftable"]);
    let leaky = leaky_history(&repo, 9550);
    repo.git(&["tag", "v1", &leaky.c1]);
    assert_leaky_history(&repo, &leaky);
    let range = format!("{}..HEAD", leaky.c1);
    let (code, report, _) = hound(repo.path(), &["--range", &range]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair(&leaky.c4, &leaky.in_msg)]);
}
