//! The end of the pipeline: gathered findings sorted, verified when asked, gated, turned into
//! one `ScanReport` and written, with the exit code.

use super::{Gathered, Pipeline};
use crate::exit::{self, Exit};
use crate::finding::Finding;
use crate::output::{self, Output};
use crate::report::{self, Hook, Reporter, ScanReport};
use crate::verify;
use std::io::{self, Write};

impl Pipeline {
    /// Sorts what a scan gathered, verifies it when asked, and says whether it fails the gate.
    /// The command's bar is cleared before the report is written.
    pub fn report(&self, mut g: Gathered) -> (ScanReport<'_>, bool) {
        g.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        g.skipped
            .sort_by(|a, b| (&a.path, &a.reason).cmp(&(&b.path, &b.reason)));
        let complete = !g.skipped.iter().any(|s| s.incomplete);
        let common = &self.common;
        let verified = common.verify.as_ref().map(|cfg| {
            self.progress.set_phase(&verifying(&g.findings));
            verify::verify_findings(&g.findings, &self.rules, cfg)
        });
        self.progress.finish();
        let gate_hit = exit::fails_gate(&g.findings, verified.as_ref(), common.gate.fail_on);
        let verified = verified.map(|v| exit::hide_dead(&mut g.findings, v, common.gate.only_live));
        let stats = g.final_stats(
            self.started.elapsed().as_millis() as u64,
            verified.as_ref().map(|v| v.stats.clone()),
            report::providers(&self.rules),
        );
        let report = ScanReport {
            rules: &self.rules,
            findings: g.findings,
            skipped: g.skipped,
            stats,
            complete,
            ignored_env: g.ignored_env,
            show_secrets: common.show_secrets,
            color: common.color && common.format == report::Format::Human,
            verdicts: verified.map(|v| v.verdicts),
            automation_id: None,
            hook: None,
            now: verify::clock::unix_now(),
        };
        (report, gate_hit)
    }

    /// Reports what a scan gathered to `out` (as the git hook `hook`, if any) and picks the exit
    /// code.
    pub fn finish(
        &self,
        gathered: Gathered,
        mut out: Output,
        hook: Option<Hook>,
    ) -> anyhow::Result<Exit> {
        let (mut report, gate_hit) = self.report(gathered);
        report.hook = hook;
        output::ignore_broken_pipe(self.write(&report, &mut out).and_then(|()| out.commit()))?;
        Ok(self.exit(gate_hit, &report))
    }

    /// The reporter of the command's format: the one place that knows whether the report
    /// streams findings as found.
    pub fn reporter(&self) -> Box<dyn Reporter> {
        let verified = self.common.verify.is_some();
        report::reporter(self.common.format, verified, self.common.show_secrets)
    }

    /// Writes the finished report.
    pub fn write(&self, report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        self.reporter().finish(report, out)?;
        out.flush()
    }

    /// The exit code of `report`, whose findings `gate_hit` or not.
    pub fn exit(&self, gate_hit: bool, report: &ScanReport<'_>) -> Exit {
        exit::exit_for(gate_hit, report.complete, self.common.allow_incomplete)
    }
}

/// What the bar says while the keys of `findings` are verified.
fn verifying(findings: &[Finding]) -> String {
    let keys: std::collections::HashSet<&str> =
        findings.iter().map(|f| f.fingerprint.as_str()).collect();
    match keys.len() {
        1 => "verifying 1 key".to_string(),
        n => format!("verifying {n} keys"),
    }
}
