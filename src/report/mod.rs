//! Reports: one `ScanReport` value, written as human text, JSON, JSON lines, SARIF or GitLab's
//! secret-detection report. Reports go to standard output or `--output`; diagnostics never mix
//! into them.

mod gitlab;
mod human;
pub mod json;
mod sarif;

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

    /// Writes the report in `format`. `jsonl` findings were streamed already; this writes its summary.
    pub fn write(&self, format: Format, out: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Human => human::write(self, out),
            Format::Json => json::write(self, out),
            Format::Jsonl => json::write_summary_line(self, out),
            Format::Sarif => sarif::write(self, out),
            Format::Gitlab => gitlab::write(self, out),
        }
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
