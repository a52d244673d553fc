//! `KEYHOUND_GIT_READER`: an unknown value is an error naming the valid ones, never a silent
//! fall back to the default reader.

use crate::util::kh;

#[test]
fn an_unknown_git_reader_is_an_error_naming_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in [&["git", "."][..], &["audit", "."], &["ci"]] {
        let out = kh()
            .args(cmd)
            .current_dir(dir.path())
            .env("KEYHOUND_GIT_READER", "pack")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("KEYHOUND_GIT_READER=pack: not a reader; use packs, git or libgit2"),
            "{cmd:?}: {stderr}"
        );
    }
}

#[test]
fn an_empty_git_reader_is_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = kh()
        .args(["scan", "."])
        .current_dir(dir.path())
        .env("KEYHOUND_GIT_READER", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}
