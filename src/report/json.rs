//! The JSON report and JSON lines. The wire types here are the contract that `schema/` describes
//! and the README documents; field names never change within a `version`.

use super::{Reporter, ScanReport};
use crate::finding::{Decoding, GitInfo};
use crate::finding::{Finding, Skipped};
use crate::rules::{Rule, RuleSet};
use crate::stats::Stats;
use crate::verify::{Verdicts, Verification};
use serde::Serialize;
use std::io::{self, Write};

/// Version of the JSON report format.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    tool: Tool,
    complete: bool,
    stats: &'a Stats,
    ignored_env_files: &'a [String],
    skipped: &'a [Skipped],
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

const TOOL: Tool = Tool {
    name: "keyhound",
    version: env!("CARGO_PKG_VERSION"),
};

/// One finding on the wire.
#[derive(Serialize)]
pub struct JsonFinding<'a> {
    rule: &'a str,
    provider: &'a str,
    kind: &'a str,
    path: &'a str,
    archive_member: Option<&'a str>,
    decoded: &'a [Decoding],
    /// How many literals or lines the key was put together from, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pieces: Option<u8>,
    line: u64,
    /// 1-based, in bytes.
    column: u64,
    offset: u64,
    secret: String,
    /// AWS: the secret access key found next to the key id in `secret`, redacted like it.
    #[serde(skip_serializing_if = "Option::is_none")]
    paired_secret: Option<String>,
    redacted: bool,
    fingerprint: &'a str,
    context: &'a str,
    severity: f32,
    remediation: &'a str,
    revoke_url: Option<&'a str>,
    /// Where in history, for `keyhound git` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    git: Option<&'a GitInfo>,
    /// The verdict on the key, with `--verify` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<&'a Verification>,
}

impl<'a> JsonFinding<'a> {
    pub fn new(
        f: &'a Finding,
        rule: &'a Rule,
        show_secrets: bool,
        verification: Option<&'a Verification>,
    ) -> Self {
        JsonFinding {
            rule: &rule.spec.id,
            provider: &rule.spec.provider,
            kind: &rule.spec.kind,
            path: &f.origin.path,
            archive_member: f.origin.member.as_deref(),
            decoded: &f.decoded,
            pieces: f.pieces,
            line: f.line,
            column: f.column,
            offset: f.offset,
            secret: f.secret.display(show_secrets),
            paired_secret: f.secret.paired().map(|p| p.display(show_secrets)),
            redacted: !show_secrets,
            fingerprint: &f.fingerprint,
            context: &f.context,
            severity: rule.severity_of(&f.secret),
            remediation: rule.spec.remediation.trim(),
            revoke_url: rule.spec.revoke_url.as_deref(),
            git: f.git.as_deref(),
            verification,
        }
    }
}

/// The JSON report: one document.
pub struct Json;

impl Reporter for Json {
    fn finish(&self, report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        write(report, out)
    }
}

/// JSON lines: each finding as it is made (or, when verified, once its verdict is known), each
/// skipped input, then the summary.
pub struct JsonLines {
    pub verified: bool,
    pub show_secrets: bool,
}

impl Reporter for JsonLines {
    fn streams(&self) -> bool {
        !self.verified
    }

    fn found(
        &self,
        findings: &[Finding],
        skipped: &[Skipped],
        rules: &RuleSet,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if !self.streams() {
            return Ok(());
        }
        write_lines(findings, skipped, rules, self.show_secrets, None, out)
    }

    fn finish(&self, report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        if self.verified {
            write_lines(
                &report.findings,
                &report.skipped,
                report.rules,
                self.show_secrets,
                report.verdicts.as_ref(),
                out,
            )?;
        }
        write_summary_line(report, out)
    }
}

fn write(report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let doc = JsonReport {
        version: FORMAT_VERSION,
        tool: TOOL,
        complete: report.complete,
        stats: &report.stats,
        ignored_env_files: &report.ignored_env,
        skipped: &report.skipped,
        findings: report
            .findings
            .iter()
            .map(|f| JsonFinding::new(f, report.rule(f), report.show_secrets, report.verdict(f)))
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line<'a> {
    Finding(JsonFinding<'a>),
    Skipped(&'a Skipped),
    Summary {
        version: u32,
        tool: Tool,
        complete: bool,
        stats: &'a Stats,
        ignored_env_files: &'a [String],
    },
}

/// One `{"type": "finding", …}` line, written as soon as the finding is made.
pub fn write_finding_line(
    f: &Finding,
    rule: &Rule,
    show_secrets: bool,
    verification: Option<&Verification>,
    out: &mut dyn Write,
) -> io::Result<()> {
    serde_json::to_writer(
        &mut *out,
        &Line::Finding(JsonFinding::new(f, rule, show_secrets, verification)),
    )?;
    writeln!(out)
}

/// A `finding` line for each finding (with its verdict, if verified), then a `skipped` line
/// for each skipped input.
pub fn write_lines(
    findings: &[Finding],
    skipped: &[Skipped],
    rules: &RuleSet,
    show_secrets: bool,
    verdicts: Option<&Verdicts>,
    out: &mut dyn Write,
) -> io::Result<()> {
    for f in findings {
        let verdict = verdicts.and_then(|v| v.get(&f.fingerprint));
        write_finding_line(f, &rules.rules[f.rule], show_secrets, verdict, out)?;
    }
    skipped.iter().try_for_each(|s| write_skipped_line(s, out))
}

/// One `{"type": "skipped", …}` line.
pub fn write_skipped_line(s: &Skipped, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &Line::Skipped(s))?;
    writeln!(out)
}

/// The closing `{"type": "summary", …}` line of a JSON lines report.
pub fn write_summary_line(report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let line = Line::Summary {
        version: FORMAT_VERSION,
        tool: TOOL,
        complete: report.complete,
        stats: &report.stats,
        ignored_env_files: &report.ignored_env,
    };
    serde_json::to_writer(&mut *out, &line)?;
    writeln!(out)
}
