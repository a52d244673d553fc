//! The readers agree: staged and history scans without the `git` command, and the pack reader, `git
//! cat-file` and libgit2 reading the same history loose, packed or both.

use super::*;

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

/// The offset in `pack` of the first object `git verify-pack` lists as a blob.
fn first_blob_offset(repo: &Repo, pack: &Path) -> usize {
    let listing = repo.git(&["verify-pack", "-v", pack.to_str().expect("UTF-8")]);
    let line = (listing.lines())
        .find(|l| l.split_whitespace().nth(1) == Some("blob"))
        .expect("the pack holds a blob");
    let offset = line.split_whitespace().nth(4).expect("an offset");
    offset.parse().expect("a number")
}

#[test]
fn a_packed_object_of_no_known_type_is_an_error_under_every_reader() {
    // A pack entry's header holds a type of three bits; 0 and 5 name none. libgit2 reads such
    // a header without complaint, and git2 unwrapped its type: the libgit2 reader panicked
    // (found by the pack fuzzer). Now the blob is reported unreadable and the scan incomplete
    // (exit 2: no finding comes first).
    let repo = Repo::new();
    repo.write("a.txt", "hello\n");
    repo.write("b.txt", "world\n");
    repo.commit("two files");
    repo.git(&["gc", "-q"]);
    let pack = std::fs::read_dir(repo.path().join(".git/objects/pack"))
        .expect("packs")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .expect("git gc wrote a pack");
    let at = first_blob_offset(&repo, &pack);
    let intact = std::fs::read(&pack).expect("the pack");
    std::fs::set_permissions(&pack, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");
    for kind in [0u8, 5] {
        let mut bytes = intact.clone();
        bytes[at] = (bytes[at] & 0x8f) | (kind << 4);
        std::fs::write(&pack, bytes).expect("write the pack");
        for reader in ["packs", "git", "libgit2"] {
            let envs = [("KEYHOUND_GIT_READER", Path::new(reader))];
            let (code, report, stderr) = hound_env(repo.path(), &[], &envs);
            let context = format!("type {kind}, {reader}: {stderr}");
            assert_eq!(code, 2, "{context}");
            assert!(!report.complete, "{context}");
            let noted = (report.skipped.iter()).any(|s| s.incomplete && s.path.contains(".txt"));
            assert!(noted, "{context}\n{:?}", report.skipped);
            assert!(stderr.contains("corrupt object"), "{context}");
        }
    }
}

#[test]
fn an_unreadable_object_no_ref_reaches_makes_all_objects_incomplete() {
    // `--all-objects` lists every object and reads each one's header to learn its type; one it
    // could not read was left out without a word, and the scan said it was complete.
    let repo = Repo::new();
    repo.write("a.txt", "hello\n");
    repo.commit("one file");
    let raw = b"bogus 3\0abc";
    let oid = "21997bb21629963475cc13358440877c8319e300"; // its SHA-1, as git names loose objects
    let dir = repo.path().join(".git/objects").join(&oid[..2]);
    std::fs::create_dir_all(&dir).expect("the object folder");
    std::fs::write(dir.join(&oid[2..]), zlib(raw)).expect("the loose object");
    let (code, report, stderr) = hound(repo.path(), &["--all-objects"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!report.complete);
    let noted = (report.skipped.iter()).any(|s| s.incomplete && s.path.contains(oid));
    assert!(noted, "{:?}", report.skipped);
    // The history alone never meets it.
    assert_eq!(hound(repo.path(), &[]).0, 0);
}

/// `data` compressed as git compresses a loose object.
fn zlib(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).expect("compress");
    z.finish().expect("compress")
}
