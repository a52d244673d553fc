//! Reports: one `ScanReport` value, written by a `Reporter` per format (human text, JSON, JSON
//! lines, SARIF, GitLab's secret-detection report). Reports go to standard output or `--output`;
//! diagnostics never mix into them.

mod gitlab;
mod gitlab_model;
mod human;
pub mod json;
mod sarif;
mod sarif_model;

pub use sarif::Sarif;

use crate::finding::{Finding, Skipped};
use crate::rules::{Rule, RuleSet};
use crate::stats::Stats;
use crate::verify::{Verdicts, Verification};
use std::io::{self, Write};

/// The formats of a scan's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For a terminal, coloured when asked.
    Human,
    /// One JSON document.
    Json,
    /// One JSON object a line: findings as they are found, then the summary.
    Jsonl,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitLab's secret-detection report (schema 15.2.1), never with key text.
    Gitlab,
}

/// Everything a report shows about one scan.
#[derive(Debug)]
pub struct ScanReport<'a> {
    pub rules: &'a RuleSet,
    /// Sorted by `Finding::sort_key`.
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub stats: Stats,
    /// False when some input could not be fully scanned.
    pub complete: bool,
    /// Ignored `.env*` paths, named in the summary.
    pub ignored_env: Vec<String>,
    pub show_secrets: bool,
    pub color: bool,
    /// Verdicts by fingerprint, with `--verify` only.
    pub verdicts: Option<Verdicts>,
    /// SARIF `automationDetails.id`: the category code scanning keeps this upload's results under.
    pub automation_id: Option<String>,
    /// Which git hook the scan runs as, if any: the human report then says what it stopped and
    /// prints nothing when clean.
    pub hook: Option<Hook>,
    /// When the report is written, in seconds since the Unix epoch (verdicts' ages, GitLab's
    /// end time): the pipeline reads its clock once.
    pub now: i64,
}

/// One output format: told of findings as a scan makes them, then of the finished report.
pub trait Reporter: Sync {
    /// Whether `found` writes anything (a caller can then skip sorting what it would pass).
    fn streams(&self) -> bool {
        false
    }

    /// Findings (suppressions applied, not verified) and skipped inputs as a scan makes them.
    fn found(
        &self,
        _findings: &[Finding],
        _skipped: &[Skipped],
        _rules: &RuleSet,
        _out: &mut dyn Write,
    ) -> io::Result<()> {
        Ok(())
    }

    /// The finished report.
    fn finish(&self, report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()>;
}

/// The reporter of `format`; `verified` when the findings will be verified (JSON lines then
/// holds them back until their verdicts are known).
pub fn reporter(format: Format, verified: bool, show_secrets: bool) -> Box<dyn Reporter> {
    match format {
        Format::Human => Box::new(human::Human),
        Format::Json => Box::new(json::Json),
        Format::Jsonl => Box::new(json::JsonLines {
            verified,
            show_secrets,
        }),
        Format::Sarif => Box::new(sarif::Sarif),
        Format::Gitlab => Box::new(gitlab::Gitlab),
    }
}

/// A git hook keyhound runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// pre-commit or commit-msg: nothing is committed yet.
    Commit,
    /// pre-push: the commits exist, but have not left the machine.
    Push,
    /// pre-receive: a server refuses the commits a push brings.
    Receive,
}

impl ScanReport<'_> {
    pub fn rule(&self, f: &Finding) -> &Rule {
        &self.rules.rules[f.rule]
    }

    /// The verdict on the finding's key, with `--verify` only.
    pub fn verdict(&self, f: &Finding) -> Option<&Verification> {
        self.verdicts.as_ref()?.get(&f.fingerprint)
    }
}

/// The providers whose keys `rules` look for, sorted and each once: every report names them, so
/// a clean result is not read as "no secrets of any kind".
pub fn providers(rules: &RuleSet) -> Vec<String> {
    let mut ids: Vec<String> = rules
        .rules
        .iter()
        .map(|r| r.spec.provider.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// "1 file", "2 files".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
