//! Shell completions (clap_complete) and the man page (clap_mangen), generated from the clap
//! definitions in `cli` at run time, so they always match the binary.

use crate::cli::Cli;
use crate::exit::Exit;
use clap::CommandFactory;
use std::io::Write;

pub use clap_complete::Shell;

/// `keyhound completions SHELL`: the completion script on standard output.
pub fn completions(shell: Shell) -> anyhow::Result<Exit> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "keyhound", &mut out);
    crate::output::ignore_broken_pipe(std::io::stdout().lock().write_all(&out))?;
    Ok(Exit::Clean)
}

/// `keyhound manpage`: the man page (roff) on standard output; the release workflow ships it.
pub fn manpage() -> anyhow::Result<Exit> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    crate::output::ignore_broken_pipe(std::io::stdout().lock().write_all(&out))?;
    Ok(Exit::Clean)
}
