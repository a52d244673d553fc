//! The parts of `keyhound audit` (run by `cmd::audit`): the history and work trees of one or many
//! repositories, reduced to one entry per leaked key — since when, where, still at HEAD, still
//! live, what to do. `discover` finds repositories, `collect` scans one, `aggregate` joins them
//! per key, `render` writes the formats, `shard` splits an organisation's audit over machines and
//! `merge` joins the parts.

pub mod aggregate;
pub mod collect;
pub mod discover;
pub mod merge;
pub mod model;
pub(crate) mod remedy;
pub mod render;
pub mod shard;

use crate::finding::Finding;
use std::collections::HashMap;

/// The formats of an audit report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    /// A table for a terminal.
    Human,
    /// `model::AuditReport` as JSON.
    Json,
    /// For an issue or a pull-request comment.
    Markdown,
    /// One self-contained page.
    Html,
}

/// Whether the keys `fps` were seen in files (blobs or work trees) and in commit messages.
pub fn places(collected: &[collect::Collected], fps: &[String]) -> (bool, bool) {
    let obs = collected.iter().flat_map(|c| &c.obs);
    let wanted = obs.filter(|o| fps.contains(&o.core.fingerprint));
    wanted.fold((false, false), |(files, messages), o| {
        let message = o.location.source == model::Source::CommitMessage;
        (files || !message, messages || message)
    })
}

/// A path as one shell word: quoted unless it is plain.
pub fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// One finding per distinct key, from the first repository that has it.
pub fn representatives(collected: &[collect::Collected]) -> Vec<Finding> {
    let mut seen = HashMap::new();
    for c in collected {
        for k in &c.keys {
            seen.entry(k.fingerprint.clone())
                .or_insert_with(|| k.clone());
        }
    }
    let mut keys: Vec<Finding> = seen.into_values().collect();
    keys.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    keys
}
