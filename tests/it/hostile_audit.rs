//! Issue 14.16: an audit stays inside the folder it is given and says what it left out.

use crate::repo::GitRepo;
use crate::util::{GIT_ENV, kh, project_key};
use std::path::Path;

/// `keyhound audit --format json PATH` in `dir`: (exit code, stdout, stderr).
fn audit(dir: &Path, path: &Path) -> (i32, String, String) {
    let mut cmd = kh();
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("KEYHOUND_CACHE_DIR", dir.join(".no-cache-here"))
        .current_dir(dir)
        .args(["audit", "-q", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap(),
        text(&out.stdout),
        text(&out.stderr),
    )
}

#[test]
fn r14_a_bare_repository_s_core_worktree_is_not_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let key = project_key(1601);
    std::fs::write(elsewhere.join("secret.env"), format!("K={key}\n")).unwrap();
    let src = GitRepo::init(tmp.path().join("src"), 0);
    src.write("README", "hello\n");
    src.commit("first");
    let clones = tmp.path().join("clones");
    std::fs::create_dir(&clones).unwrap();
    let bare = clones.join("app.git");
    src.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()]);
    let config = bare.join("config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text = text.replace("bare = true", "bare = false");
    text.push_str(&format!("[core]\n\tworktree = {}\n", elsewhere.display()));
    std::fs::write(&config, text).unwrap();
    let (code, stdout, stderr) = audit(tmp.path(), &clones);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains(&key[key.len() - 4..]), "{stdout}");
    assert!(stdout.contains("outside the audited folder"), "{stdout}");
}

#[test]
fn r14_untracked_symlinks_in_a_work_tree_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let key = project_key(1602);
    std::fs::write(outside.join("id.env"), format!("K={key}\n")).unwrap();
    let repo = GitRepo::init(tmp.path().join("app"), 0);
    repo.write("README", "hello\n");
    repo.commit("first");
    std::os::unix::fs::symlink(outside.join("id.env"), repo.path().join("leak.env")).unwrap();
    std::os::unix::fs::symlink(&outside, repo.path().join("leakdir")).unwrap();
    let (code, stdout, stderr) = audit(tmp.path(), repo.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains(&key[key.len() - 4..]), "{stdout}");
    assert!(
        stdout.contains("symbolic link in the work tree: not followed"),
        "{stdout}"
    );
}

/// Issue 14.16: `--all-objects` does not give a repository the unreachable objects of the one it
/// borrows from (`git clone --shared`), and says it left them out.
#[test]
fn r14_all_objects_leaves_an_alternate_s_objects_to_their_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let shared = GitRepo::init(tmp.path().join("shared"), 0);
    shared.write("README", "hello\n");
    shared.commit("first");
    let key = project_key(1603);
    shared.write("old.env", format!("K={key}\n"));
    shared.commit("a key, soon dropped");
    shared.git(&["reset", "-q", "--hard", "HEAD~1"]);
    shared.git(&["reflog", "expire", "--expire=now", "--all"]);
    let clone = tmp.path().join("clone");
    shared.git(&["clone", "-q", "--shared", ".", clone.to_str().unwrap()]);
    let mut cmd = kh();
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .current_dir(&clone)
        .args(["git", "--all-objects", "--format", "json", "."])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains(&key[key.len() - 4..]), "{stdout}");
    assert!(stdout.contains("belong to another repository"), "{stdout}");
}
