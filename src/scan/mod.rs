//! Scanning blobs: a `Scanner` reads any byte stream in chunks with an overlap, opens archives
//! found by their magic bytes, and turns matches into findings with lines, columns and context.
//! `walk` feeds it files and directories in parallel.

mod archive;
pub(crate) mod budget;
pub mod chunks;
mod codecs;
mod context;
pub(crate) mod crew;
pub mod git;
mod handoff;
mod inflate;
mod names;
mod stream;
mod tarball;
pub mod walk;
mod ziplayout;

use crate::finding::{Finding, Skipped};
use crate::matcher::Matcher;
use crate::progress::Progress;
pub(crate) use stream::Held;

/// Bounds on what one blob may cost.
#[derive(Debug, Clone)]
pub struct Limits {
    /// How many archive levels to open (a zip in a zip is 2).
    pub max_archive_depth: usize,
    /// Most bytes one archive member may decompress to.
    pub max_member_bytes: u64,
    /// Most decompressed bytes per compressed byte, checked once a member passes 1 MiB.
    pub max_ratio: u64,
    /// Bytes read per chunk; the chunk overlap is added to it. The default, 1 MiB, scans as
    /// fast as larger chunks (the overlap rescanned is under 1%) and keeps a worker's buffer
    /// small enough to be reused for every file.
    pub chunk_size: usize,
    /// Most bytes the archives in one blob may inflate to, all members and levels together.
    pub max_archive_bytes: u64,
    /// Where chunk buffers are borrowed from: [`chunks::POOL`], shared by the whole process.
    pub chunks: &'static chunks::Pool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_archive_depth: 2,
            max_member_bytes: 256 << 20,
            max_ratio: 100,
            chunk_size: 1 << 20,
            max_archive_bytes: 1 << 30,
            chunks: &chunks::POOL,
        }
    }
}

/// Scans blobs with one shared `Matcher`.
#[derive(Debug)]
pub struct Scanner<'m> {
    pub matcher: &'m Matcher,
    pub limits: Limits,
    /// Honour `keyhound:allow` (and peers' markers) on a key's line.
    pub inline_allow: bool,
    /// Counts every blob and byte scanned (`Progress::hidden()` counts nothing).
    pub progress: Progress,
}

/// What scanning one blob produced.
#[derive(Debug, Default)]
pub struct BlobOutcome {
    /// Files read: 1 for a scanned file, 0 for one skipped or scanned already.
    pub files: u64,
    pub findings: Vec<Finding>,
    pub bytes: u64,
    pub placeholders: u64,
    /// Weak-format key shapes with no provider named next to them.
    pub unattributed: u64,
    /// Keys not reported because their line carries an allow marker.
    pub suppressed_inline: u64,
    pub skipped: Vec<Skipped>,
}

impl BlobOutcome {
    fn skip(&mut self, path: String, reason: impl Into<String>, incomplete: bool) {
        self.skipped.push(Skipped {
            path,
            reason: reason.into(),
            incomplete,
        });
    }
}
