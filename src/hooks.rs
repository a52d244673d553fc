//! `keyhound install-hook`: plain git hooks (pre-commit, commit-msg, pre-push) for people
//! without the pre-commit framework. They go where `git rev-parse --git-path hooks` says (so
//! `core.hooksPath`, husky, lefthook, worktrees and submodules work); a hook already there keeps
//! running, after keyhound, and installing again changes nothing.

use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};

/// The line that marks a hook as keyhound's.
const MARK: &str = "# keyhound-hook v1";

/// Where a hook that was there before keyhound's is kept, beside it.
const CHAINED: &str = ".keyhound-chained";

/// Each hook and the keyhound command it runs.
const HOOKS: [(&str, &str); 3] = [
    ("pre-commit", "\"$keyhound\" git --staged || exit $?"),
    (
        "commit-msg",
        "\"$keyhound\" git --commit-msg \"$1\" || exit $?",
    ),
    (
        "pre-push",
        "input=$(cat)\nprintf '%s\\n' \"$input\" | KEYHOUND_PUSH_REMOTE=\"$1\" \"$keyhound\" git --pre-push || exit $?",
    ),
];

/// What happened to one hook.
#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    New(PathBuf),
    Updated(PathBuf),
    /// Installed; the hook that was there now runs after it, from the path given.
    Chained(PathBuf, PathBuf),
}

/// Installs the hooks for the repository at `repo` (the current directory when None).
pub fn install(repo: Option<&Path>, keyhound: &Path) -> anyhow::Result<Vec<Installed>> {
    let dir = hooks_dir(repo.unwrap_or(Path::new(".")))?;
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("{}: cannot create the hooks directory", dir.display()))?;
    HOOKS
        .iter()
        .map(|(name, command)| install_one(&dir, name, command, keyhound))
        .collect()
}

/// The hooks directory git uses for the repository at `repo`.
fn hooks_dir(repo: &Path) -> anyhow::Result<PathBuf> {
    let out = crate::scan::git::command::git_keeping_hooks_path()
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .output()
        .context("cannot run git to find the hooks directory; is git installed?")?;
    if !out.status.success() {
        bail!(
            "{}: not a git repository ({})",
            repo.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8(out.stdout).context("git printed a path that is not UTF-8")?;
    Ok(PathBuf::from(text.trim_end_matches(['\n', '\r'])))
}

fn install_one(
    dir: &Path,
    name: &str,
    command: &str,
    keyhound: &Path,
) -> anyhow::Result<Installed> {
    let path = dir.join(name);
    let chained = dir.join(format!("{name}{CHAINED}"));
    let existing = std::fs::read_to_string(&path).ok();
    let result = match &existing {
        Some(text) if text.contains(MARK) => Installed::Updated(path.clone()),
        Some(_) if chained.exists() => bail!(
            "{}: another hook replaced keyhound's, and {} is kept already; merge them by hand",
            path.display(),
            chained.display()
        ),
        Some(_) => {
            std::fs::rename(&path, &chained)
                .with_context(|| format!("{}: cannot move it aside", path.display()))?;
            Installed::Chained(path.clone(), chained)
        }
        None if path.exists() => bail!("{}: exists but cannot be read", path.display()),
        None => Installed::New(path.clone()),
    };
    write_hook(&path, &script(name, command, keyhound))?;
    Ok(result)
}

/// Writes the hook as every output is written (a new file renamed into place), so a symlink
/// at its path, even one whose target holds keyhound's mark, is replaced and never followed.
fn write_hook(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = crate::output::open(Some(path), "the hook", crate::output::Access::Shared)?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.commit())
        .with_context(|| format!("{}: cannot write the hook", path.display()))?;
    make_executable(path)
}

/// The hook script: keyhound from PATH (or where it was installed from), then any hook that
/// was there before, with the same arguments and input.
fn script(name: &str, command: &str, keyhound: &Path) -> String {
    let fallback = keyhound.display().to_string().replace('\'', r"'\''");
    let chain = if name == "pre-push" {
        "  printf '%s\\n' \"$input\" | \"$chained\" \"$@\"\n  exit $?"
    } else {
        "  exec \"$chained\" \"$@\""
    };
    format!(
        "#!/bin/sh\n{MARK}: installed by `keyhound install-hook`; run it again to update.\n\
         # To uninstall, delete this file (and rename {name}{CHAINED}, if any, back to {name}).\n\
         keyhound=keyhound\n\
         command -v keyhound >/dev/null 2>&1 || keyhound='{fallback}'\n\
         {command}\n\
         chained=\"$0{CHAINED}\"\n\
         if [ -x \"$chained\" ]; then\n{chain}\nfi\n"
    )
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("{}: cannot make it executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_quote_the_fallback_path_and_chain() {
        let s = script("pre-commit", HOOKS[0].1, Path::new("/opt/it's/keyhound"));
        assert!(s.starts_with("#!/bin/sh\n# keyhound-hook v1"));
        assert!(s.contains(r"keyhound='/opt/it'\''s/keyhound'"));
        assert!(s.contains("exec \"$chained\" \"$@\""));
        let push = script("pre-push", HOOKS[2].1, Path::new("/k"));
        assert!(push.contains("| \"$chained\" \"$@\""));
    }
}
