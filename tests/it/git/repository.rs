//! What a repository makes `keyhound git` accept, skip or refuse: bare and empty repositories,
//! shallow and partial clones, submodules, Git LFS pointers, missing, corrupt and oversized blobs,
//! damaged packs, a folder that is no repository.

use super::*;

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
