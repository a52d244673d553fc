//! `keyhound audit`: the history and work trees of one or many repositories, reduced to one
//! entry per leaked key — since when, where, still at HEAD, still live, what to do. `discover`
//! finds repositories, `collect` scans one, `aggregate` joins them per key, `render` writes the
//! formats, `shard` splits an organisation's audit over machines and `merge` joins the parts.

pub mod model;
pub mod render;
pub mod shard;

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
