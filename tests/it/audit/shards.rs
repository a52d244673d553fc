//! Sharding and merge: `--shard`, `--list` and `--repos` partition the repositories; merged shards
//! equal the whole audit in every format; what `audit merge` rejects.

use super::*;

// ---- Sharding and merge

/// Five repositories: `web` (shard 1 of 3), `api` and `tools/cli` (2), `tools/infra` (3) and
/// `mirror/svc`, a clone whose origin is `https://example.com/org/svc.git`: by its path it would
/// be shard 1, by its remote (the shard key when there is one) it is shard 3. `shared` (key 0)
/// is in every shard; `pair` (1) in two repositories of shard 2; key 4 only on an allow-marked
/// line; key 7 on an allow-marked line in shard 3 (suppressed there) and on a plain line in
/// shard 1 (so reported once merged). The upstream of the clone lives in the second temporary
/// directory returned.
fn org(seed: u64) -> (Root, tempfile::TempDir, Vec<String>) {
    let root = Root::new();
    let keys: Vec<String> = (0..8).map(|i| project_key(seed + i)).collect();
    let (shared, pair) = (&keys[0], &keys[1]);
    let web = root.repo_at("web", 0);
    web.write("a.env", env_line(shared));
    web.write("b.env", env_line(&keys[7]));
    web.commit("web key");
    web.write("a.env", "# gone\n");
    web.commit("drop it");
    let api = root.repo_at("api", 10);
    api.write(
        "config/api.env",
        format!("{}{}", env_line(shared), env_line(pair)),
    );
    api.commit("api keys");
    api.write(".env.local", env_line(&keys[2]));
    api.write(".gitignore", ".env.local\n");
    api.commit("ignore the local env");
    let cli = root.repo_at("tools/cli", 20);
    cli.write("cli.env", env_line(pair));
    cli.commit(&format!("cli\n\nalso {}", keys[3]));
    let infra = root.repo_at("tools/infra", 30);
    infra.write("infra.env", env_line(shared));
    infra.write(
        "test.env",
        format!(
            "K={} # keyhound:allow\nK2={} # keyhound:allow\n",
            keys[4], keys[7]
        ),
    );
    infra.commit("infra");
    let upstream = tempfile::tempdir().expect("temp dir");
    let src = Repo::init(upstream.path().join("svc"), 40);
    src.write("svc.env", env_line(&keys[5]));
    src.commit("svc");
    src.git(&["checkout", "-q", "-b", "next"]);
    src.write("next.env", env_line(&keys[6]));
    src.commit("next");
    src.git(&["checkout", "-q", "main"]);
    std::fs::create_dir_all(root.path().join("mirror")).expect("mkdir");
    let mut clone = git_in(&root.path().join("mirror"));
    clone.args(["clone", "-q", src.path().to_str().unwrap(), "svc"]);
    ok(clone);
    let mut set_url = git_in(&root.path().join("mirror/svc"));
    set_url.args([
        "remote",
        "set-url",
        "origin",
        "https://example.com/org/svc.git",
    ]);
    ok(set_url);
    (root, upstream, keys)
}

/// The shard each repository of `org` falls in, of 3.
const ORG_SHARDS: [(&str, u64); 5] = [
    ("api", 2),
    ("mirror/svc", 3),
    ("tools/cli", 2),
    ("tools/infra", 3),
    ("web", 1),
];

#[test]
fn list_shards_partition_the_repositories_by_remote_else_path() {
    let (root, _upstream, _) = org(7200);
    let whole = list(root.path(), &["."]);
    let all: Vec<&str> = ORG_SHARDS.iter().map(|(r, _)| *r).collect();
    assert_eq!(whole, all);
    let mut union = Vec::new();
    for i in 1..=3u64 {
        let spec = format!("{i}/3");
        let part = list(root.path(), &["--shard", &spec, "."]);
        let want: Vec<&str> = ORG_SHARDS
            .iter()
            .filter(|(_, s)| *s == i)
            .map(|(r, _)| *r)
            .collect();
        assert_eq!(part, want, "shard {spec}");
        union.extend(part);
    }
    union.sort();
    let distinct: BTreeSet<&String> = union.iter().collect();
    assert_eq!(distinct.len(), union.len(), "no repository in two shards");
    assert_eq!(union, whole);
}

#[test]
fn list_repos_partitions_a_file_of_urls() {
    let root = Root::new();
    let file = root.path().join("repos.txt");
    let urls = [
        "https://example.com/org/svc.git",
        "git@example.com:org/web.git",
        "https://example.com/org/api",
        "ssh://git@example.com/org/cli.git",
        "https://example.com/org/infra.git",
        "https://example.com/org/docs.git",
        "file:///srv/git/mono.git",
    ];
    let text = format!(
        "# the organisation's repositories\n\n{}\n  # indented comment\n{}\n\n{}\n",
        urls[..3].join("\n"),
        urls[3..5].join("\n"),
        urls[5..].join("\n")
    );
    std::fs::write(&file, text).expect("write");
    let f = file.to_str().unwrap();
    assert_eq!(list(root.path(), &["--repos", f]), urls);
    let mut union = Vec::new();
    for i in 1..=3 {
        let spec = format!("{i}/3");
        let part = list(root.path(), &["--repos", f, "--shard", &spec]);
        assert!(
            part.iter().all(|u| urls.contains(&u.as_str())),
            "only URLs of the file: {part:?}"
        );
        let order: Vec<usize> = part
            .iter()
            .map(|u| urls.iter().position(|x| x == u).unwrap())
            .collect();
        assert!(order.is_sorted(), "in file order: {part:?}");
        union.extend(part);
    }
    assert_eq!(union.len(), urls.len(), "each URL in one shard: {union:?}");
    let distinct: BTreeSet<&str> = union.iter().map(String::as_str).collect();
    assert_eq!(distinct, urls.iter().copied().collect());
    // The clone in `org` has this remote, and is in shard 3.
    let third = list(root.path(), &["--repos", f, "--shard", "3/3"]);
    assert!(third.contains(&urls[0].to_string()), "{third:?}");
    // Every spelling of one remote is in one shard.
    std::fs::write(
        &file,
        "https://example.com/org/svc.git\ngit@example.com:org/svc\nssh://git@EXAMPLE.com:22/org/svc.git/\n",
    )
    .expect("write");
    let third = list(root.path(), &["--repos", f, "--shard", "3/3"]);
    assert_eq!(third.len(), 3, "{third:?}");
}

/// Runs each shard of `count` as JSON into `ROOT/shard-I.json` (with `args`); their paths.
fn run_shards(root: &Path, count: u64, args: &[&str]) -> Vec<PathBuf> {
    (1..=count)
        .map(|i| {
            let file = root.join(format!("shard-{i}.json"));
            let spec = format!("{i}/{count}");
            let mut all = vec![
                "--shard",
                &spec,
                "--format",
                "json",
                "-o",
                file.to_str().unwrap(),
            ];
            all.extend_from_slice(args);
            all.push(".");
            let out = audit_out(root, &all);
            assert!(
                [0, 1].contains(&code_of(&out)),
                "shard {spec}: {}",
                stderr(&out)
            );
            let text = std::fs::read_to_string(&file).expect("shard report");
            let part = decode(&text, &stderr(&out));
            check_totals(&part);
            assert_eq!(part.shard.as_deref(), Some(spec.as_str()));
            file
        })
        .collect()
}

fn strs(paths: &[PathBuf]) -> Vec<&str> {
    paths.iter().map(|p| p.to_str().unwrap()).collect()
}

#[test]
fn merged_shards_equal_the_whole_audit() {
    let (root, _upstream, keys) = org(7210);
    let r = root.path();
    let shards = run_shards(r, 3, &[]);
    for (i, file) in shards.iter().enumerate() {
        let part = decode(&std::fs::read_to_string(file).unwrap(), "");
        let repos: Vec<&str> = part.repositories.iter().map(|x| x.path.as_str()).collect();
        let want: Vec<&str> = ORG_SHARDS
            .iter()
            .filter(|(_, s)| *s == i as u64 + 1)
            .map(|(p, _)| *p)
            .collect();
        assert_eq!(repos, want, "shard {}", i + 1);
    }
    let whole_file = r.join("whole.json");
    let out = audit_out(
        r,
        &["--format", "json", "-o", whole_file.to_str().unwrap(), "."],
    );
    assert_eq!(code_of(&out), 1, "{}", stderr(&out));
    let whole = std::fs::read_to_string(&whole_file).expect("whole report");
    let whole_report = decode(&whole, "");
    assert_eq!(whole_report.summary.repositories, 5);
    assert_eq!(whole_report.keys.len(), keys.len() - 1);
    assert_eq!(secrets_of(&whole_report.suppressed).len(), 1);
    let third = decode(&std::fs::read_to_string(&shards[2]).unwrap(), "");
    assert_eq!(
        third.suppressed.len(),
        2,
        "keys 4 and 7 are allowed in shard 3"
    );
    let shared = whole_report
        .keys
        .iter()
        .find(|k| k.repositories.len() == 3)
        .expect("the shared key, in three repositories of three shards");
    let holders: Vec<&str> = shared
        .repositories
        .iter()
        .map(|x| x.path.as_str())
        .collect();
    assert_eq!(holders, ["api", "tools/infra", "web"]);
    // Merged in any order.
    let merged_file = r.join("merged.json");
    let mut args = vec!["--format", "json", "-o", merged_file.to_str().unwrap()];
    let given = strs(&shards);
    args.extend([given[2], given[0], given[1]]);
    let out = merge_out(r, &args);
    assert_eq!(code_of(&out), 1, "keys were found: {}", stderr(&out));
    let merged = std::fs::read_to_string(&merged_file).expect("merged report");
    check_totals(&decode(&merged, ""));
    assert_eq!(
        blank_times(&merged),
        blank_times(&whole),
        "merge of the shards vs the whole audit"
    );
}

#[test]
fn merged_markdown_equals_the_whole_audit_s_markdown() {
    let (root, _upstream, _) = org(7220);
    let r = root.path();
    let shards = run_shards(r, 3, &[]);
    let whole = audit_out(r, &["--format", "markdown", "."]);
    assert_eq!(code_of(&whole), 1, "{}", stderr(&whole));
    let mut args = vec!["--format", "markdown"];
    args.extend(strs(&shards));
    let merged = merge_out(r, &args);
    assert_eq!(code_of(&merged), 1, "{}", stderr(&merged));
    let (m, w) = (blank_times(&stdout(&merged)), blank_times(&stdout(&whole)));
    assert!(w.contains("keyhound "), "{w}");
    assert_eq!(m, w);
    // Human too.
    let whole = audit_out(r, &["--format", "human", "--color", "never", "."]);
    let mut args = vec!["--format", "human", "--color", "never"];
    args.extend(strs(&shards));
    let merged = merge_out(r, &args);
    assert_eq!(blank_human(&stdout(&merged)), blank_human(&stdout(&whole)));
}

/// The human report's first line, its date blanked.
fn blank_human(text: &str) -> String {
    let re = Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)").unwrap();
    re.replace(text, "[time])").into_owned()
}

#[test]
fn shards_with_whole_keys_merge_redacted_unless_asked() {
    let (root, _upstream, keys) = org(7230);
    let r = root.path();
    let shards = run_shards(r, 3, &["--show-secrets"]);
    let given = strs(&shards);
    // Without --show-secrets the merge redacts, as the whole audit does.
    let mut args = vec!["--format", "json"];
    args.extend(given.iter().copied());
    let merged = merge_out(r, &args);
    let whole = audit_out(r, &["--format", "json", "."]);
    assert_eq!(blank_times(&stdout(&merged)), blank_times(&stdout(&whole)));
    for key in &keys {
        assert!(!shows_part_of(&stdout(&merged), key), "{key}");
    }
    // With it, the whole keys.
    args.push("--show-secrets");
    let merged = merge_out(r, &args);
    let whole = audit_out(r, &["--format", "json", "--show-secrets", "."]);
    assert_eq!(blank_times(&stdout(&merged)), blank_times(&stdout(&whole)));
    let m = decode(&stdout(&merged), "");
    assert!(m.secrets_shown);
    // Redacted shards cannot give whole keys.
    let redacted = run_shards(r, 3, &[]);
    let mut args = vec!["--show-secrets"];
    args.extend(strs(&redacted));
    let out = merge_out(r, &args);
    assert_eq!(code_of(&out), 2, "{}", stderr(&out));
}

#[test]
fn verified_shards_merge_into_the_verified_whole() {
    let server = server::Server::start();
    let (root, _upstream, keys) = org(7270);
    server.script(&keys[0], vec![server::Reply::models()]);
    server.script(&keys[5], vec![server::Reply::models()]);
    let r = root.path();
    let base = server.base_url();
    let verify = ["--verify", "--no-verify-cache", "--openai-base-url", &base];
    let shards = run_shards(r, 3, &verify);
    let mut args = vec!["--format", "json"];
    args.extend(strs(&shards));
    let merged = merge_out(r, &args);
    assert_eq!(code_of(&merged), 1, "{}", stderr(&merged));
    let mut whole_args = vec!["--format", "json"];
    whole_args.extend(verify);
    whole_args.push(".");
    let whole = audit_out(r, &whole_args);
    assert_eq!(code_of(&whole), 1, "{}", stderr(&whole));
    assert_eq!(blank_times(&stdout(&merged)), blank_times(&stdout(&whole)));
    let m = decode(&stdout(&merged), "");
    assert!(m.verified);
    assert_eq!((m.summary.live, m.summary.not_checked), (2, 0));
    assert_eq!(m.keys[0].risk, "critical");
}

#[test]
fn many_more_shards_than_repositories_still_merge_into_the_whole() {
    let (root, _upstream, _) = org(7240);
    let r = root.path();
    let shards = run_shards(r, 12, &[]);
    let empty = shards
        .iter()
        .filter(|f| {
            decode(&std::fs::read_to_string(f).unwrap(), "")
                .repositories
                .is_empty()
        })
        .count();
    assert!(empty >= 7, "most of the 12 shards audit nothing");
    let mut args = vec!["--format", "json"];
    args.extend(strs(&shards));
    let merged = merge_out(r, &args);
    assert_eq!(code_of(&merged), 1, "{}", stderr(&merged));
    let whole = audit_out(r, &["--format", "json", "."]);
    assert_eq!(blank_times(&stdout(&merged)), blank_times(&stdout(&whole)));
}

#[test]
fn the_thread_count_does_not_change_the_report() {
    let (root, _upstream, _) = org(7260);
    let r = root.path();
    let one = audit_out(r, &["--format", "json", "-j", "1", "."]);
    let many = audit_out(r, &["--format", "json", "-j", "8", "."]);
    assert_eq!(code_of(&one), 1, "{}", stderr(&one));
    assert_eq!(blank_times(&stdout(&one)), blank_times(&stdout(&many)));
}

#[test]
fn an_audit_of_a_folder_without_repositories_says_so_and_exits_2() {
    let root = Root::new();
    std::fs::create_dir_all(root.path().join("plain/folder")).expect("mkdir");
    std::fs::write(root.path().join("plain/notes.txt"), "nothing\n").expect("write");
    for format in ["human", "json"] {
        let out = audit_out(root.path(), &["--format", format, "plain"]);
        assert_eq!(code_of(&out), 2, "{}", stderr(&out));
        assert!(
            stderr(&out).contains("no git repositories to audit in plain"),
            "{}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{}", stdout(&out));
    }
}

#[test]
fn a_clean_audit_says_which_providers_keys_it_looked_for() {
    let root = Root::new();
    let repo = root.repo("repo");
    repo.write("README.md", "nothing\n");
    repo.commit("clean");
    let path = repo.path().to_str().unwrap();
    let (code, report, err) = audit_json(root.path(), &[path]);
    assert_eq!(code, 0, "{err}");
    assert!(
        report.providers.contains(&"openai".to_string()),
        "{:?}",
        report.providers
    );
    let listed = report.providers.join(", ");
    for format in ["human", "markdown", "html"] {
        let text = stdout(&audit_out(root.path(), &["--format", format, path]));
        assert!(
            text.contains(&format!("Keys looked for: {listed} (no other provider")),
            "{format}:\n{text}"
        );
    }
}

#[test]
fn an_empty_folder_of_clones_is_an_empty_shard() {
    // The README's workflows clone only their shard's repositories into a folder made with
    // `mkdir -p` ("a shard may hold no repository") and audit that folder: a shard with nothing
    // to clone must still write its (empty) report, or the merge never runs.
    let root = Root::new();
    let clones = root.path().join("clones");
    std::fs::create_dir(&clones).expect("mkdir");
    let mut files = Vec::new();
    for i in 1..=3 {
        let file = root.path().join(format!("shard-{i}.json"));
        let spec = format!("{i}/3");
        let out = audit_out(
            root.path(),
            &[
                "--shard",
                &spec,
                "--format",
                "json",
                "-o",
                file.to_str().unwrap(),
                "clones",
            ],
        );
        assert_eq!(
            code_of(&out),
            0,
            "shard {spec} of an empty folder: {}",
            stderr(&out)
        );
        let part = decode(&std::fs::read_to_string(&file).expect("report"), "");
        assert_eq!(part.shard.as_deref(), Some(spec.as_str()));
        assert!(part.repositories.is_empty() && part.keys.is_empty());
        files.push(file);
    }
    let out = merge_out(root.path(), &strs(&files));
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("No keys found in 0 repositories."),
        "{}",
        stdout(&out)
    );
}

#[test]
fn merge_rejects_missing_duplicate_whole_and_mixed_reports() {
    let (root, _upstream, _) = org(7250);
    let r = root.path();
    let shards = run_shards(r, 3, &[]);
    let given = strs(&shards);
    let fails = |args: &[&str], says: &[&str]| {
        let out = merge_out(r, args);
        let err = stderr(&out);
        assert_eq!(code_of(&out), 2, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "no report: {}", stdout(&out));
        for s in says {
            assert!(err.contains(s), "{args:?}: {s:?} not in: {err}");
        }
    };
    // A missing shard.
    fails(&[given[0], given[1]], &["shard 3 of 3 is missing"]);
    fails(&[given[1]], &["shards 1, 3 of 3 are missing"]);
    // A duplicate shard (the same file twice, and a copy).
    let copy = r.join("copy-of-shard-2.json");
    std::fs::copy(&shards[1], &copy).expect("copy");
    fails(
        &[given[0], given[1], given[1], given[2]],
        &["both shard 2/3"],
    );
    fails(
        &[given[0], given[1], copy.to_str().unwrap(), given[2]],
        &["both shard 2/3", "copy-of-shard-2.json"],
    );
    // A whole audit.
    let whole = r.join("whole.json");
    let out = audit_out(r, &["--format", "json", "-o", whole.to_str().unwrap(), "."]);
    assert_eq!(code_of(&out), 1);
    fails(
        &[given[0], given[1], given[2], whole.to_str().unwrap()],
        &["whole.json", "not a shard"],
    );
    fails(&[whole.to_str().unwrap()], &["whole.json", "not a shard"]);
    // Mixed versions.
    let text = std::fs::read_to_string(&shards[1]).unwrap();
    let version = format!("\"keyhound\": \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&version), "{text}");
    let other = r.join("other-version.json");
    std::fs::write(
        &other,
        text.replace(&version, "\"keyhound\": \"0.0.0-test\""),
    )
    .unwrap();
    fails(
        &[given[0], other.to_str().unwrap(), given[2]],
        &["0.0.0-test", "other-version.json"],
    );
    // Not a report at all, and a file that is not there.
    let junk = r.join("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}\n").unwrap();
    fails(&[junk.to_str().unwrap()], &["junk.json"]);
    let gone = r.join("gone.json");
    fails(&[given[0], gone.to_str().unwrap()], &["gone.json"]);
}
