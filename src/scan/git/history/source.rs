//! What a history is read from: an object source hands over every blob and commit once (the
//! first pass, scanned as they come), then every tree into the graph (the second pass).

use super::graph::Graph;
use crate::scan::BlobOutcome;
use crate::scan::git::Ctx;
use crate::scan::git::blobs::Done;
use crate::scan::git::objects::Links;
use crate::scan::git::oidmap::{OidMap, OidSet};
use git2::{Oid, Repository};

/// A way to read every object of a repository: the pack files in-process, `git cat-file`, or
/// libgit2. Each pass returns None when this source cannot read the repository (another then
/// tries, and the libgit2 walk says what is missing).
pub(super) trait ObjectSource {
    /// Scans every blob and commit message; returns what they left and every commit's links.
    fn contents(&mut self, ctx: &Ctx<'_>, repo: &Repository) -> Option<anyhow::Result<Contents>>;

    /// Hands every tree to `graph`.
    fn trees(&mut self, ctx: &Ctx<'_>, repo: &Repository, graph: &mut Graph) -> Option<()>;

    /// About how many objects, and trees, the graph will hold (`(0, 0)`: unknown), given
    /// how many blobs and commits the first pass met.
    fn sizes(&self, _contents: usize) -> (usize, usize) {
        (0, 0)
    }
}

/// What the first pass leaves: the blobs and commits with findings or notes whole, the rest
/// as tallies, and every commit's links.
#[derive(Default)]
pub(super) struct Contents {
    pub noted: Vec<Done>,
    pub plain: Vec<Tally>,
    pub links: OidMap<Links>,
}

impl Contents {
    /// The commits' `links` and the blobs the workers scanned into `done`.
    pub fn gathered(links: OidMap<Links>, done: std::sync::Mutex<Vec<Done>>) -> Contents {
        let mut contents = Contents {
            links,
            ..Contents::default()
        };
        for d in done
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            contents.add(d);
        }
        contents
    }

    /// Keeps `d` whole if it has findings or notes, else as a tally; a commit's links, read by
    /// the worker, go with the others.
    pub fn add(&mut self, mut d: Done) {
        if let Some(links) = d.links.take() {
            self.links.insert(d.oid, links);
        }
        match Tally::of(&d) {
            Some(t) => self.plain.push(t),
            None => self.noted.push(d),
        }
    }

    /// How many blobs and commits were met.
    pub fn len(&self) -> usize {
        self.noted.len() + self.plain.len()
    }

    /// Every blob met.
    pub fn blobs(&self) -> OidSet {
        (self.noted.iter().filter(|d| d.is_blob).map(|d| d.oid))
            .chain(self.plain.iter().filter(|t| t.is_blob).map(|t| t.oid))
            .collect()
    }

    /// The blobs the graph must keep the paths of: blobs with findings, and blobs with notes,
    /// which need a path.
    pub fn wanted(&self) -> OidSet {
        (self.noted.iter())
            .filter(|d| {
                d.is_blob && !(d.outcome.findings.is_empty() && d.outcome.skipped.is_empty())
            })
            .map(|d| d.oid)
            .collect()
    }

    /// Every blob and commit as what scanning it produced.
    pub fn into_done(self) -> (Vec<Done>, OidMap<Links>) {
        let mut done = self.noted;
        done.extend(self.plain.into_iter().map(Tally::into_done));
        (done, self.links)
    }
}

/// What scanning a blob or commit message with no finding and no note leaves: its counts, in
/// 40 bytes instead of a whole outcome's 104, for the tens of thousands held until the end.
pub(super) struct Tally {
    oid: Oid,
    is_blob: bool,
    read: bool,
    placeholders: u32,
    bytes: u64,
    suppressed_inline: u32,
}

impl Tally {
    fn of(d: &Done) -> Option<Tally> {
        let o = &d.outcome;
        if !(o.findings.is_empty() && o.skipped.is_empty()) {
            return None;
        }
        Some(Tally {
            oid: d.oid,
            is_blob: d.is_blob,
            read: d.read,
            placeholders: u32::try_from(o.placeholders).ok()?,
            bytes: o.bytes,
            suppressed_inline: u32::try_from(o.suppressed_inline).ok()?,
        })
    }

    fn into_done(self) -> Done {
        let outcome = BlobOutcome {
            files: u64::from(self.is_blob && self.read),
            bytes: self.bytes,
            placeholders: self.placeholders.into(),
            suppressed_inline: self.suppressed_inline.into(),
            ..BlobOutcome::default()
        };
        Done {
            oid: self.oid,
            is_blob: self.is_blob,
            read: self.read,
            outcome,
            links: None,
        }
    }
}
