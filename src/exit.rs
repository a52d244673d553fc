//! The process exit status and the gate that picks it: 0 clean, 1 findings, 2 error or
//! incomplete, the same for every command.

use crate::finding::Finding;
use crate::verify::{Verdicts, Verified};

/// The process exit status, the same for every subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing found, everything read.
    Clean = 0,
    /// Something was reported.
    Findings = 1,
    /// An error, or input that could not be fully scanned (unless `--allow-incomplete`).
    Error = 2,
}

/// What makes the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Any finding.
    Any,
    /// A key verified live, or one that could not be verified (only with verification).
    Live,
}

/// 1 when the gate was hit, else 2 when some input was not read in full (unless allowed), else 0.
pub fn exit_for(gate_hit: bool, complete: bool, allow_incomplete: bool) -> Exit {
    if gate_hit {
        Exit::Findings
    } else if !complete && !allow_incomplete {
        Exit::Error
    } else {
        Exit::Clean
    }
}

/// Whether the findings make the exit code 1: any finding, or with `--fail-on live` a key not
/// proven dead (a blocked network must not pass a gate).
pub fn fails_gate(findings: &[Finding], verified: Option<&Verified>, fail_on: FailOn) -> bool {
    match (fail_on, verified) {
        (FailOn::Live, Some(v)) => findings.iter().any(|f| {
            v.verdicts
                .get(&f.fingerprint)
                .is_none_or(|v| v.status.may_work())
        }),
        _ => !findings.is_empty(),
    }
}

/// With `--only-live`, drops the findings of keys proven dead and counts them.
pub fn hide_dead(findings: &mut Vec<Finding>, mut verified: Verified, only_live: bool) -> Verified {
    if only_live {
        let before = findings.len();
        let verdicts: &Verdicts = &verified.verdicts;
        findings.retain(|f| {
            verdicts
                .get(&f.fingerprint)
                .is_none_or(|v| v.status.may_work())
        });
        verified.stats.hidden = (before - findings.len()) as u64;
    }
    verified
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_comes_before_completeness() {
        assert_eq!(exit_for(true, false, false), Exit::Findings);
        assert_eq!(exit_for(false, false, false), Exit::Error);
        assert_eq!(exit_for(false, false, true), Exit::Clean);
        assert_eq!(exit_for(false, true, false), Exit::Clean);
    }
}
