//! One module per command, each a `run` from its resolved `Config` part to an `Exit`: they
//! gather findings through the `pipeline` (or an audit's own collection), and nothing below
//! them knows which command runs.

pub mod audit;
pub mod ci;
pub mod git;
pub mod hook;
pub mod merge;
pub mod rules;
pub mod scan;
pub mod verify;

use crate::exit::Exit;
use std::io::Write as _;

/// `keyhound completions` and `keyhound manpage`: `text` (made from the command line's
/// definitions by `cli`) on standard output.
pub fn print(text: &[u8]) -> anyhow::Result<Exit> {
    crate::output::ignore_broken_pipe(std::io::stdout().lock().write_all(text))?;
    Ok(Exit::Clean)
}
