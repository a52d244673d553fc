//! What a change adds, rather than the whole history: `--range A..B` and what a push sends or
//! receives (`diff`, `push`), the index (`--staged`, in `diff`), and a commit message before
//! its commit exists (`message`).

mod by_git;
mod diff;
mod message;
mod push;

pub(super) use by_git::{scan_range as scan_range_by_git, scan_staged as scan_staged_by_git};
pub(super) use diff::{StagedDiff, scan_range, scan_staged};
pub(super) use message::scan as commit_msg;
pub(super) use push::{range as push_range, received};
