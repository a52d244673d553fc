//! Nested archives in bounded memory (issue 14, point 10): a zip inside an archive is read
//! where it lies, in memory only within a budget for the whole process, else from a temporary
//! file, so that `-j 64` holds what `-j 2` does.

use crate::util::*;

/// Four zips, each storing a nested zip of 12 MiB whose one large member is stored, and a key
/// in the last one: the nested zips are read at once, one per worker.
fn four_zips_of_nested_zips(key: &str) -> tempfile::TempDir {
    let filler = vec![0u8; 12 << 20];
    let files: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| {
            let env = format!("OPENAI_API_KEY={key}\n");
            let text: &[u8] = if i == 3 { env.as_bytes() } else { b"nothing\n" };
            let inner = zip_bytes(&[("filler.bin", &filler, true), ("app.env", text, false)]);
            let outer = zip_bytes(&[("inner.zip", &inner, true)]);
            (format!("bundle{i}.zip"), outer)
        })
        .collect();
    tree_owned(&files)
}

/// `keyhound scan -q -j JOBS` of `dir`, which must find the key: its peak memory in kB.
fn peak_kb(dir: &std::path::Path, jobs: &str) -> u64 {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyhound"));
    cmd.args(["scan", "-q", "-j", jobs, "."]).current_dir(dir);
    let (code, peak) = peak_kb_of(cmd);
    assert_eq!(code, Some(1), "the key is found");
    peak
}

#[test]
fn r14_nested_zips_read_at_once_cost_at_j64_about_what_j2_does() {
    // Each worker read its nested zip into memory (up to 16 MiB, past which it is copied to a
    // temporary file): 4 workers held 48 MiB where 2 held 24 (release build: 84 MB at -j 64,
    // 49 MB at -j 2). Now a nested zip is held in memory up to 4 MiB, two at a time for the
    // whole process; the others are copied (20 MB and 18 MB).
    let dir = four_zips_of_nested_zips(&project_key(9441));
    let two = peak_kb(dir.path(), "2");
    let sixty_four = peak_kb(dir.path(), "64");
    assert!(
        sixty_four < two + 12_000,
        "{sixty_four} kB at -j 64, {two} kB at -j 2"
    );
    assert!(sixty_four < 60_000, "{sixty_four} kB at -j 64");
}

/// `keyhound scan -q -j JOBS .` in `dir` as a 64-core machine runs it (`KEYHOUND_CORES`), with
/// exit code `want`: its peak memory in kB.
fn peak_kb_on_64_cores(dir: &std::path::Path, jobs: &str, want: i32) -> u64 {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyhound"));
    cmd.args(["scan", "-q", "-j", jobs, "."])
        .current_dir(dir)
        .env("KEYHOUND_CORES", "64");
    let (code, peak) = peak_kb_of(cmd);
    assert_eq!(code, Some(want));
    peak
}

#[test]
fn r14_a_folder_of_large_files_costs_at_j64_what_j2_does() {
    // Each of -j 64's workers held a chunk buffer and cost its stack and caches besides: on 300
    // files of 1 MB (release build) 13.3 MB at -j 2, 17.3-22.7 MB at -j 64. Now chunk buffers
    // come from one pool and threads start only while it has room: 13.3 and 13.4 MB.
    let text = b"lorem ipsum dolor sit amet, consectetur adipiscing elit\n".repeat(18_000);
    let files: Vec<(String, Vec<u8>)> = (0..64)
        .map(|i| (format!("f{i:02}.txt"), text.clone()))
        .collect();
    let dir = tree_owned(&files);
    let two = peak_kb_on_64_cores(dir.path(), "2", 0);
    let sixty_four = peak_kb_on_64_cores(dir.path(), "64", 0);
    assert!(
        sixty_four <= two + two / 10,
        "{sixty_four} kB at -j 64, {two} kB at -j 2"
    );
}
