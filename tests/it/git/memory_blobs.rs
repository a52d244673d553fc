//! Large blobs read without holding them (issue 14, point 10): a blob over 1 MiB stored whole
//! that no delta is based on, packed or loose, is inflated as it is scanned, whatever
//! `--max-blob-size` is, and what is decoded whole is decoded on as many threads as the blob
//! budget holds, so that `-j 64` holds what `-j 2` does, on any number of cores. Each case
//! runs under the three readers (`hound`), and each reports the key at its line and column.

use super::*;

const FILLER: &str = "lorem ipsum dolor sit amet, consectetur adipiscing elit sed do eiusmod\n";

/// A file of about `lines` × 72 bytes with `key` on a line near its end.
fn large_file(key: &str, lines: usize) -> String {
    format!(
        "{}OPENAI_API_KEY={key}\n{}",
        FILLER.repeat(lines),
        FILLER.repeat(100)
    )
}

/// Commits `text` as `path`; the new commit's id.
fn commit_file(repo: &Repo, path: &str, text: &str) -> String {
    repo.write(path, text);
    repo.git(&["add", "-A"]);
    repo.commit(&format!("add {path}"))
}

#[test]
fn large_blobs_packed_and_loose_are_found_at_their_places_whatever_the_max_blob_size() {
    // A 3 MB blob packed under a newer commit, another loose: each streamed, never decoded.
    let repo = Repo::new();
    let (k1, k2) = (project_key(9430), project_key(9431));
    let (t1, t2) = (large_file(&k1, 40_000), large_file(&k2, 41_000));
    let c1 = commit_file(&repo, "one.env", &t1);
    commit_file(&repo, "small.txt", "small\n");
    repo.git(&["repack", "-a", "-d", "-q"]);
    let c2 = commit_file(&repo, "two.env", &t2);
    let all = ["--all-objects", "--max-blob-size", "1G"];
    for extra in [
        &[][..],
        &["--max-blob-size", "1G"],
        &["--max-blob-size", "2M"],
        &all,
    ] {
        let (code, report, stderr) = hound(repo.path(), extra);
        assert_eq!(code, 1, "{extra:?}: {stderr}");
        assert_eq!(found(&report), [pair("one.env", &k1), pair("two.env", &k2)]);
        for (path, text, key, commit) in [("one.env", &t1, &k1, &c1), ("two.env", &t2, &k2, &c2)] {
            let f = at(&report, path);
            assert_place(f, text, key);
            assert_eq!(git_of(f).commit.as_deref(), Some(commit.as_str()));
        }
        assert!(report.complete);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    }
}

#[test]
fn a_large_blob_under_a_raised_max_blob_size_is_never_held_whole_at_j64_on_64_cores() {
    // A 64 MB blob under `--max-blob-size 1G`, packed beneath a newer commit, at `-j 64` as a
    // 64-core machine runs it: the pack reader used to decode it whole, and the walk of
    // `--all-objects` to read it whole (within the blob budget).
    let repo = Repo::new();
    let text = large_file(&project_key(9432), 900_000);
    let size_kb = (text.len() >> 10) as u64;
    commit_file(&repo, "big.env", &text);
    drop(text);
    commit_file(&repo, "small.txt", "small\n");
    repo.git(&["repack", "-a", "-d", "-q"]);
    let args = ["-q", "-j", "64", "--max-blob-size", "1G"];
    for all in [&[][..], &["--all-objects"]] {
        let args = [&args[..], all].concat();
        let peak = peak_kb(&repo, &args, &[("KEYHOUND_CORES", "64")]);
        assert!(
            peak < size_kb,
            "{all:?}: {peak} kB, for a blob of {size_kb} kB"
        );
    }
}

/// `n` bytes of lowercase letters, spaces and newlines, from `seed`: text that compresses, so
/// git stores it quickly, but that no other blob is a delta of.
fn random_text(seed: u64, n: usize) -> Vec<u8> {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz \n";
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            LETTERS[((x >> 33) % LETTERS.len() as u64) as usize]
        })
        .collect()
}

#[test]
fn blobs_just_under_the_streamed_size_cost_at_j64_on_64_cores_about_what_j2_does() {
    // 24 distinct blobs of 1,000,000 bytes (just under the 1 MiB past which a blob is streamed),
    // packed: each is held whole while it is scanned. Every pack thread or worker used to hold
    // one (and a chunk of it), and the `cat-file` reader's queue as many as it had room for:
    // the pack reader peaked at 97 MB at `-j 64` against 45 MB at `-j 2` (a debug build). The
    // objects held at once are bounded by bytes, whatever -j and the cores are: eight of them
    // still cost the pack reader 15 MB more at `-j 64` here (60 MB against 45 MB), the libgit2
    // reader 24 MB and `--all-objects` 15 MB (300 such blobs, a release build); four (two for
    // the libgit2 reader, which holds each twice: its buffer and the chunk scanned) cost 5 MB
    // here, and 4, 6 and none on 300 blobs.
    let repo = Repo::new();
    for i in 0..24u64 {
        repo.write(&format!("f{i:02}.txt"), random_text(i, 1_000_000));
    }
    repo.write("key.env", format!("OPENAI_API_KEY={}\n", project_key(9433)));
    repo.git(&["add", "-A"]);
    repo.commit("forty blobs of 1 MB");
    repo.git(&["repack", "-a", "-d", "-q", "--window=0"]);
    let many = [("KEYHOUND_CORES", "64")];
    for (reader, all) in [
        ("packs", &[][..]),
        ("git", &[]),
        ("libgit2", &[]),
        ("packs", &["--all-objects"]),
    ] {
        let env = [("KEYHOUND_GIT_READER", reader)];
        let env = [&many[..], &env].concat();
        let two = peak_kb(&repo, &[&["-q", "-j", "2"], all].concat(), &env);
        let sixty_four = peak_kb(&repo, &[&["-q", "-j", "64"], all].concat(), &env);
        assert!(
            sixty_four < two + two / 10 + 5_000,
            "{reader} {all:?}: {sixty_four} kB at -j 64, {two} kB at -j 2"
        );
    }
}
