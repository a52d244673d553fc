//! What a change adds, rather than the whole history: `--range A..B` and what a push sends or
//! receives (`diff`, `push`), the index (`--staged`, in `diff`), and a commit message before
//! its commit exists (`message`).

mod diff;
mod message;
mod push;

pub(super) use diff::{scan_range, scan_staged};
pub(super) use message::scan as commit_msg;
pub(super) use push::{range as push_range, received};
