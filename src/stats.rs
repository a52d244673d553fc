//! What a scan counts: `Stats` (files, bytes, findings, suppressions, history and verification
//! counters), as every report's summary shows them.

use crate::verify::VerifyStats;
use serde::{Deserialize, Serialize};

/// Serialisable summary counters of a scan.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    pub files: u64,
    pub bytes: u64,
    pub findings: u64,
    pub placeholders: u64,
    /// Weak-format key shapes (`sk-` + 32 hex) with no provider named within 5 lines: never
    /// reported, never attributed by guess.
    #[serde(default)]
    pub unattributed: u64,
    /// Keys found and not reported, by reason.
    pub suppressed: Suppressed,
    pub skipped: u64,
    pub ignored: u64,
    pub symlinks_not_followed: u64,
    pub elapsed_ms: u64,
    /// The providers whose keys the loaded rules look for, sorted: keys of any other provider
    /// are not looked for, so a clean report says nothing of them.
    #[serde(default)]
    pub providers: Vec<String>,
    /// Present in `keyhound git` reports only.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitStats>,
    /// Present with `--verify` (and in `keyhound verify`) only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerifyStats>,
}

/// Keys found but kept out of the report, counted by what kept them out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Suppressed {
    /// On a line with `keyhound:allow`, `gitleaks:allow` or `pragma: allowlist secret`.
    pub inline: u64,
    /// At a path `.keyhoundignore` or `keyhound.toml` allows (history scans; a directory scan
    /// does not read such paths at all and counts them under `ignored`).
    pub path: u64,
    /// Keys whose fingerprint `.keyhoundignore` lists.
    pub fingerprint: u64,
    /// Keys in the `--baseline` report.
    pub baseline: u64,
}

impl Suppressed {
    pub fn add(&mut self, other: &Suppressed) {
        self.inline += other.inline;
        self.path += other.path;
        self.fingerprint += other.fingerprint;
        self.baseline += other.baseline;
    }
}

/// Counters of a history scan.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GitStats {
    pub commits: u64,
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    pub blobs_skipped: u64,
}
