//! `Gathered`: what a scan's workers found, skipped and counted, before sorting and reporting;
//! the one place a report's counts are added up.

use crate::finding::{Finding, Skipped};
use crate::scan::BlobOutcome;
use crate::scan::git::GitOutcome;
use crate::stats::{Stats, Suppressed};

/// What a scan gathered.
#[derive(Debug, Default)]
pub struct Gathered {
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    /// The counts of what was read; the report adds findings, skips, time, verification and
    /// providers.
    pub stats: Stats,
    /// Ignored `.env*` paths, named in the summary.
    pub ignored_env: Vec<String>,
}

impl Gathered {
    /// Adds what scanning one blob produced; `suppressed` counts its keys the allow-lists and
    /// the baseline kept out.
    pub fn add(&mut self, outcome: BlobOutcome, suppressed: &Suppressed) {
        let s = &mut self.stats;
        s.files += outcome.files;
        s.bytes += outcome.bytes;
        s.placeholders += outcome.placeholders;
        s.unattributed += outcome.unattributed;
        s.suppressed.inline += outcome.suppressed_inline;
        s.suppressed.add(suppressed);
        self.findings.extend(outcome.findings);
        self.skipped.extend(outcome.skipped);
    }

    /// What a repository scan produced; `suppressed` counts the keys kept out after it.
    pub fn of_git(outcome: GitOutcome, suppressed: Suppressed) -> Gathered {
        let stats = Stats {
            files: outcome.stats.blobs_scanned,
            bytes: outcome.bytes,
            placeholders: outcome.placeholders,
            suppressed,
            git: Some(outcome.stats),
            ..Stats::default()
        };
        Gathered {
            findings: outcome.findings,
            skipped: outcome.skipped,
            stats,
            ignored_env: Vec::new(),
        }
    }

    /// The report's counts: these, with what only the finished report knows.
    pub(super) fn final_stats(
        &mut self,
        elapsed_ms: u64,
        verification: Option<crate::verify::VerifyStats>,
        providers: Vec<String>,
    ) -> Stats {
        Stats {
            findings: self.findings.len() as u64,
            skipped: self.skipped.len() as u64,
            elapsed_ms,
            verification,
            providers,
            ..std::mem::take(&mut self.stats)
        }
    }
}
