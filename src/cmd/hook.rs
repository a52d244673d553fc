//! `keyhound install-hook`: the git hooks that run keyhound, installed (see `hooks`).

use crate::exit::Exit;
use crate::hooks::{self, Installed};
use anyhow::Context as _;
use std::path::Path;

/// Runs `keyhound install-hook [REPO]`.
pub fn run(repo: Option<&Path>) -> anyhow::Result<Exit> {
    let exe = std::env::current_exe().context("cannot tell where keyhound is installed")?;
    for done in hooks::install(repo, &exe)? {
        let said = match done {
            Installed::New(p) => format!("installed {}", p.display()),
            Installed::Updated(p) => format!("updated {}", p.display()),
            Installed::Chained(p, old) => format!(
                "installed {}; the hook that was there runs after it, from {}",
                p.display(),
                old.display()
            ),
        };
        crate::diag::print(&said);
    }
    Ok(Exit::Clean)
}
