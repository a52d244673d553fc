//! Large commit messages read without holding them (issue 14, point 10): a commit over 1 MiB is
//! inflated inside keyhound from its loose file or pack entry as it is scanned, so that no `git
//! cat-file` child holds it whole; one a pack stores as a delta is still read (through git),
//! with the same findings. Every case runs under the three readers (`hound` runs each and
//! compares their outputs), and each reports the key at its line, column and commit.

use super::*;

const FILLER: &str = "lorem ipsum dolor sit amet, consectetur adipiscing elit sed do eiusmod\n";

/// A message of about 3 MB (over the 1 MiB past which a commit is streamed) with `key` on a
/// line deep inside it; `salt` makes two messages differ by one line.
fn large_message(key: &str, salt: &str) -> String {
    format!(
        "Configure the client {salt}\n\n{}Temporary key: {key}\n{}",
        FILLER.repeat(30_000),
        FILLER.repeat(12_000)
    )
}

/// Commits `msg` in `repo`, touching one file; the new commit's id.
fn commit_message(repo: &Repo, file: &str, msg: &str) -> String {
    repo.write(file, format!("{file}\n"));
    repo.git(&["add", "-A"]);
    let path = repo.beside("message.txt");
    std::fs::write(&path, msg).expect("write the message");
    repo.git(&["commit", "-q", "-F", &path.display().to_string()]);
    repo.head()
}

/// The scan finds `keys` (commit, key, message) at their places, and nothing else.
fn assert_found(repo: &Repo, keys: &[(&str, &str, &str)]) {
    let (code, report, stderr) = hound(repo.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    let mut want: Vec<_> = keys.iter().map(|(c, k, _)| pair(c, k)).collect();
    want.sort();
    assert_eq!(found(&report), want);
    for (commit, key, msg) in keys {
        let f = at(&report, commit);
        assert_place(f, msg, key);
        let g = git_of(f);
        assert_eq!(g.object, "commit-message");
        assert_eq!(g.commit.as_deref(), Some(*commit));
        assert_eq!(g.author.as_deref(), Some(AUTHOR));
        assert_eq!(g.date, Some(repo.date(commit)));
    }
    assert!(report.complete);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
}

/// `git verify-pack -v` of the repository's one pack: the commits stored as deltas.
fn delta_commits(repo: &Repo) -> Vec<String> {
    let pack = std::fs::read_dir(repo.path().join(".git/objects/pack"))
        .expect("a pack folder")
        .map(|e| e.expect("an entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .expect("one pack");
    let listing = repo.git(&["verify-pack", "-v", &pack.display().to_string()]);
    // `<id> commit <size> <size in pack> <offset> <depth> <base>` for a delta.
    (listing.lines())
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.len() == 7 && w[1] == "commit")
        .map(|w| w[0].to_string())
        .collect()
}

/// Two large commits (keys from `seed` and `seed + 1`) whose messages differ in two lines,
/// repacked so that the pack stores one as a delta of the other: (commit, key, message) each.
fn two_large_commits_one_a_delta(repo: &Repo, seed: u64) -> [(String, String, String); 2] {
    let commits = [(seed, "a"), (seed + 1, "b")].map(|(seed, salt)| {
        let key = project_key(seed);
        let msg = large_message(&key, salt);
        (commit_message(repo, &format!("{salt}.txt"), &msg), key, msg)
    });
    repo.git(&[
        "repack",
        "-a",
        "-d",
        "-f",
        "-q",
        "--window=10",
        "--depth=10",
    ]);
    assert_eq!(delta_commits(repo).len(), 1, "one commit stored as a delta");
    commits
}

#[test]
fn a_large_loose_commit_is_streamed_with_its_key_at_its_place() {
    let repo = Repo::new();
    let key = project_key(9410);
    let msg = large_message(&key, "a");
    let c1 = commit_message(&repo, "a.txt", &msg);
    assert_found(&repo, &[(&c1, &key, &msg)]);
}

#[test]
fn a_large_commit_stored_whole_in_a_pack_is_streamed_with_its_key_at_its_place() {
    let repo = Repo::new();
    let key = project_key(9411);
    let msg = large_message(&key, "a");
    let c1 = commit_message(&repo, "a.txt", &msg);
    repo.git(&["repack", "-a", "-d", "-q"]);
    assert!(delta_commits(&repo).is_empty());
    assert_found(&repo, &[(&c1, &key, &msg)]);
}

#[test]
fn a_large_commit_stored_as_a_delta_is_read_and_found_too() {
    let repo = Repo::new();
    let [(c1, k1, m1), (c2, k2, m2)] = two_large_commits_one_a_delta(&repo, 9412);
    assert_found(&repo, &[(&c1, &k1, &m1), (&c2, &k2, &m2)]);
}

#[test]
fn a_large_commit_split_between_loose_and_packed_is_found_once_each() {
    let repo = Repo::new();
    let (k1, k2) = (project_key(9414), project_key(9415));
    let (m1, m2) = (large_message(&k1, "a"), large_message(&k2, "b"));
    let c1 = commit_message(&repo, "a.txt", &m1);
    repo.git(&["repack", "-a", "-d", "-q"]);
    let c2 = commit_message(&repo, "b.txt", &m2);
    assert_found(&repo, &[(&c1, &k1, &m1), (&c2, &k2, &m2)]);
}

#[test]
fn large_commits_are_found_by_the_walk_of_every_object_too() {
    // `--all-objects` reads through libgit2's walk, whose workers read each commit themselves
    // (a large one inflated as it is scanned, a delta read whole), rather than copying each
    // message out of the walker; a ref at a large commit is peeled by its header alone.
    let repo = Repo::new();
    let [(c1, k1, m1), (c2, k2, m2)] = two_large_commits_one_a_delta(&repo, 9416);
    let k3 = project_key(9418);
    let m3 = large_message(&k3, "c");
    let c3 = commit_message(&repo, "c.txt", &m3);
    repo.git(&["tag", "big", &c3]);
    let (code, report, stderr) = hound(repo.path(), &["--all-objects"]);
    assert_eq!(code, 1, "{stderr}");
    let mut want = vec![pair(&c1, &k1), pair(&c2, &k2), pair(&c3, &k3)];
    want.sort();
    assert_eq!(found(&report), want);
    for (commit, key, msg) in [(&c1, &k1, &m1), (&c2, &k2, &m2), (&c3, &k3, &m3)] {
        assert_place(at(&report, commit), msg, key);
    }
    assert!(report.complete);
}

#[test]
fn with_a_raised_max_blob_size_large_commits_are_still_streamed_and_found() {
    // Above a commit's size, the pack reader used to decode it whole; now a large commit stored
    // whole that no delta is based on is left out of the decoding and inflated as it is
    // scanned, packed (under a newer commit, so not the pack's first entry) or loose.
    let repo = Repo::new();
    let (k1, k2) = (project_key(9419), project_key(9420));
    let m1 = large_message(&k1, "a");
    let c1 = commit_message(&repo, "a.txt", &m1);
    repo.git(&["commit", "-q", "--allow-empty", "-m", "small on top"]);
    repo.git(&["repack", "-a", "-d", "-q"]);
    let m2 = large_message(&k2, "b");
    let c2 = commit_message(&repo, "b.txt", &m2);
    let (code, report, stderr) = hound(repo.path(), &["--max-blob-size", "1G"]);
    assert_eq!(code, 1, "{stderr}");
    let mut want = vec![pair(&c1, &k1), pair(&c2, &k2)];
    want.sort();
    assert_eq!(found(&report), want);
    for (commit, key, msg) in [(&c1, &k1, &m1), (&c2, &k2, &m2)] {
        let f = at(&report, commit);
        assert_place(f, msg, key);
        assert_eq!(git_of(f).date, Some(repo.date(commit)));
    }
    assert!(report.complete);
}

#[test]
fn a_large_commit_under_a_raised_max_blob_size_is_never_held_whole() {
    // A 64 MB message under `--max-blob-size 1G`, loose then packed beneath a newer commit:
    // the pack reader used to read it whole (libgit2 for the loose file, gix for the entry).
    let repo = Repo::new();
    let text = FILLER.repeat(900_000);
    let msg = format!(
        "Configure the client\n\n{text}Temporary key: {}\n",
        project_key(9421)
    );
    let size_kb = (msg.len() >> 10) as u64;
    commit_message(&repo, "a.txt", &msg);
    drop((text, msg));
    repo.git(&["commit", "-q", "--allow-empty", "-m", "small on top"]);
    let args = ["-q", "--max-blob-size", "1G"];
    let loose = peak_kb(&repo, &args, &[]);
    repo.git(&["repack", "-a", "-d", "-q"]);
    let packed = peak_kb(&repo, &args, &[]);
    for (how, peak) in [("loose", loose), ("packed", packed)] {
        assert!(
            peak < size_kb,
            "{how}: {peak} kB, for a message of {size_kb} kB"
        );
    }
}

#[test]
fn the_walk_of_every_object_costs_a_large_commit_no_more_than_the_readers_do() {
    // `--all-objects` walks the history with libgit2's revwalk, which read every commit it
    // passed whole: a message cost twice its size more than the pack reader's scan of it,
    // loose or packed. The revwalk now reads a large commit's header alone.
    let repo = Repo::new();
    let key = project_key(9434);
    let msg = format!(
        "Configure the client\n\n{}Temporary key: {key}\n",
        FILLER.repeat(200_000)
    );
    let size_kb = (msg.len() >> 10) as u64;
    let commit = commit_message(&repo, "a.txt", &msg);
    repo.git(&["commit", "-q", "--allow-empty", "-m", "small on top"]);
    for how in ["loose", "packed"] {
        if how == "packed" {
            repo.git(&["repack", "-a", "-d", "-q"]);
        }
        let read = peak_kb(&repo, &["-q"], &[]);
        let walked = peak_kb(&repo, &["-q", "--all-objects"], &[]);
        assert!(
            walked < read + size_kb / 2,
            "{how}: {walked} kB with --all-objects, {read} kB without, for {size_kb} kB"
        );
    }
    let (code, report, stderr) = hound(repo.path(), &["--all-objects"]);
    assert_eq!(code, 1, "{stderr}");
    assert_place(at(&report, &commit), &msg, &key);
}
