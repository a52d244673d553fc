//! Issue 14, the leftovers: a hook is written like every output (a symlink at its path is
//! replaced, never followed), a relative `-o` is not written through a symlinked directory,
//! `keyhound ci`'s `git fetch` runs no program the repository's configuration names, and the
//! walk's warnings redact the keys in the paths they show.

use crate::util::{CI_ENV, GIT_ENV, git_in, kh, ok, project_key};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::Path;
use std::process::Output;

/// `git ARGS` in `dir`, asserting success; its output, trimmed.
fn git(dir: &Path, args: &[&str]) -> String {
    let mut cmd = git_in(dir);
    cmd.args(args);
    ok(cmd)
}

/// A repository at `dir/ws` with one commit; that commit's id.
fn repository(dir: &Path) -> String {
    let ws = dir.join("ws");
    std::fs::create_dir(&ws).expect("mkdir");
    git(&ws, &["init", "-q"]);
    std::fs::write(ws.join("readme.txt"), "hello\n").expect("write");
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-q", "-m", "first"]);
    git(&ws, &["rev-parse", "HEAD"])
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn install_hook_replaces_a_symlink_holding_keyhound_s_mark_and_leaves_its_target() {
    let tmp = tempfile::tempdir().expect("temp dir");
    repository(tmp.path());
    let ws = tmp.path().join("ws");
    let target = tmp.path().join("precious");
    std::fs::write(&target, "# keyhound-hook v1\nprecious\n").expect("write");
    let hook = ws.join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().expect("dir")).expect("mkdir");
    symlink(&target, &hook).expect("symlink");
    let out = kh()
        .current_dir(&ws)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .arg("install-hook")
        .output()
        .expect("keyhound runs");
    assert!(out.status.success(), "{}", text(&out));
    let kept = std::fs::read_to_string(&target).expect("read");
    assert_eq!(
        kept, "# keyhound-hook v1\nprecious\n",
        "the link was followed"
    );
    let meta = std::fs::symlink_metadata(&hook).expect("written");
    assert!(meta.file_type().is_file(), "the hook is still a symlink");
    assert_eq!(meta.permissions().mode() & 0o111, 0o111, "executable");
    let script = std::fs::read_to_string(&hook).expect("read");
    assert!(script.contains("git --staged"), "{script}");
}

#[test]
fn a_relative_output_through_a_symlinked_directory_is_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).expect("mkdir");
    std::fs::create_dir(tmp.path().join("elsewhere")).expect("mkdir");
    std::fs::write(ws.join("readme.txt"), "hello\n").expect("write");
    symlink("../elsewhere", ws.join("out")).expect("symlink");
    let out = kh()
        .current_dir(&ws)
        .args(["scan", ".", "-o", "out/report.json"])
        .output()
        .expect("keyhound runs");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("symbolic link"), "{}", text(&out));
    let written = std::fs::read_dir(tmp.path().join("elsewhere")).expect("dir");
    assert_eq!(written.count(), 0, "a file was written through the link");
    // The real directory, or an absolute path, is the user's own choice.
    let real = tmp.path().join("elsewhere/report.json");
    let out = kh()
        .current_dir(&ws)
        .args(["scan", ".", "-o"])
        .arg(&real)
        .output()
        .expect("keyhound runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(real.is_file());
}

/// A local HTTP server that answers every request `401 Unauthorized`, as a private remote does
/// to a fetch without credentials; its address.
fn unauthorized_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    format!("http://{addr}/repo.git")
}

/// `keyhound ci` for a `pull_request_target` event in `dir/ws`, which fetches the pull
/// request from `origin` first.
fn ci_pull_request_target(dir: &Path, head: &str) -> Output {
    let event = dir.join("event.json");
    let json = format!(
        r#"{{"number": 1, "pull_request": {{"number": 1, "base": {{"sha": "{head}"}}, "head": {{"sha": "{head}"}}}}}}"#
    );
    std::fs::write(&event, json).expect("write");
    let mut cmd = kh();
    for var in GIT_ENV.iter().chain(CI_ENV) {
        cmd.env_remove(var);
    }
    for var in [
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_PROXY_COMMAND",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GITHUB_WORKSPACE", dir.join("ws"))
        .env("GITHUB_EVENT_NAME", "pull_request_target")
        .env("GITHUB_EVENT_PATH", &event)
        .current_dir(dir.join("ws"))
        .arg("ci")
        .output()
        .expect("keyhound runs")
}

#[test]
fn ci_fetch_runs_no_ssh_command_or_credential_helper_the_repository_names() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let head = repository(tmp.path());
    let ws = tmp.path().join("ws");
    let ssh_ran = tmp.path().join("ssh-ran");
    let helper_ran = tmp.path().join("helper-ran");
    let touch = |marker: &Path| format!("touch '{}'; false", marker.display());
    git(&ws, &["config", "core.sshCommand", &touch(&ssh_ran)]);
    git(
        &ws,
        &[
            "config",
            "credential.helper",
            &format!("!{}", touch(&helper_ran)),
        ],
    );
    // Port 9 (discard) on this machine: nothing answers, and nothing leaves it.
    git(
        &ws,
        &["remote", "add", "origin", "ssh://git@127.0.0.1:9/repo.git"],
    );
    let out = ci_pull_request_target(tmp.path(), &head);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("git fetch origin"), "{}", text(&out));
    assert!(!ssh_ran.exists(), "core.sshCommand ran:\n{}", text(&out));
    git(
        &ws,
        &["remote", "set-url", "origin", &unauthorized_server()],
    );
    let out = ci_pull_request_target(tmp.path(), &head);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        !helper_ran.exists(),
        "the credential helper ran:\n{}",
        text(&out)
    );
}

#[test]
fn walk_warnings_redact_a_key_in_a_link_s_name_and_the_name_is_scanned() {
    let key = project_key(14_201);
    let tmp = tempfile::tempdir().expect("temp dir");
    symlink("nowhere", tmp.path().join(format!("{key}.lnk"))).expect("symlink");
    let out = kh()
        .current_dir(tmp.path())
        .args(["scan", ".", "-L", "--format", "json"])
        .output()
        .expect("keyhound runs");
    let all = text(&out);
    assert!(all.contains("dangling symbolic link"), "{all}");
    assert!(!all.contains(&key), "the key is printed:\n{all}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the name's key is found:\n{all}"
    );
}
