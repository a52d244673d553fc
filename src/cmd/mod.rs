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
