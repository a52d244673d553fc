//! Every `git` child keyhound starts is built here, so that a repository's own configuration
//! (`.git/config`, or a file it includes) cannot make git run a program: no fsmonitor daemon,
//! no pager, no hooks, no automatic gc or maintenance, and no external diff or textconv driver.

use std::process::Command;

/// Settings given as `-c` to every git child; they override any configuration file.
const SAFE_CONFIG: [&str; 3] = [
    "core.fsmonitor=false",
    "gc.auto=0",
    "maintenance.auto=false",
];

/// Hooks are never run: `core.hooksPath` points where no hook can be.
const NO_HOOKS: &str = "core.hooksPath=/dev/null";

/// Options every `git diff` keyhound runs is given, after the subcommand.
pub(crate) const SAFE_DIFF: [&str; 2] = ["--no-ext-diff", "--no-textconv"];

/// A `git` command that runs no program a repository's configuration names.
pub(crate) fn git() -> Command {
    let mut cmd = git_keeping_hooks_path();
    cmd.args(["-c", NO_HOOKS]);
    cmd
}

/// Settings given as `-c` to a fetch: the repository's configuration cannot name the credential
/// helper git runs (an empty value empties the list), nor the program serving the remote's
/// objects, nor reach a remote through `ext::` commands.
const SAFE_FETCH: [&str; 3] = [
    "credential.helper=",
    "remote.origin.uploadpack=git-upload-pack",
    "protocol.ext.allow=never",
];

/// `git()` for `git fetch`: no program the repository's configuration names runs to reach the
/// remote or find credentials (`core.sshCommand`, `core.gitProxy`, credential helpers), and git
/// never waits on a prompt. `GIT_SSH_COMMAND`, `GIT_SSH` and `GIT_PROXY_COMMAND` set by the
/// user still apply; the remote's URL and `http.extraHeader` (how CI checkouts authenticate)
/// are kept.
pub(crate) fn git_fetch() -> Command {
    let mut cmd = git();
    for setting in SAFE_FETCH {
        cmd.args(["-c", setting]);
    }
    let set = |var: &str| std::env::var_os(var).is_some();
    if !set("GIT_SSH_COMMAND") && !set("GIT_SSH") {
        cmd.args(["-c", "core.sshCommand=ssh"]);
    }
    if !set("GIT_PROXY_COMMAND") {
        // Set, even empty, it overrides every `core.gitProxy`.
        cmd.env("GIT_PROXY_COMMAND", "");
    }
    cmd.env("GIT_TERMINAL_PROMPT", "0");
    cmd
}

/// `git()` that leaves `core.hooksPath` as the repository sets it: only for asking git where
/// its hooks are (`keyhound install-hook`), which runs none.
pub(crate) fn git_keeping_hooks_path() -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("--no-pager");
    for setting in SAFE_CONFIG {
        cmd.args(["-c", setting]);
    }
    cmd
}

#[cfg(test)]
mod tests {
    /// Every `git` child is built by this module: no other source file names the program.
    #[test]
    fn no_other_module_starts_git() {
        let needle = concat!("Command::new(", "\"git\")");
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("scan/git/command.rs")
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    assert!(
                        !text.contains(needle),
                        "{} starts git itself",
                        path.display()
                    );
                }
            }
        }
    }
}
