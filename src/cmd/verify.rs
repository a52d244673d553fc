//! `keyhound verify`: the keys on standard input, one a line, found by the rules and verified.

use crate::config::Common;
use crate::exit::Exit;
use crate::finding::{Finding, Origin};
use crate::output;
use crate::pipeline::{Gathered, Pipeline};
use crate::progress::Progress;
use crate::scan::BlobOutcome;
use crate::stats::Suppressed;
use crate::stdin_lines::LineTally;
use std::io::{self, IsTerminal as _};

/// Runs `keyhound verify`.
pub fn run(common: &Common) -> anyhow::Result<Exit> {
    let pipe = Pipeline::new(common, Progress::new(common.progress))?;
    if io::stdin().is_terminal() {
        crate::diag::eprint("keyhound: reading keys from standard input, one a line (Ctrl-D ends)");
    }
    // Streamed: only the runs of non-blank line numbers are kept, for the warnings below.
    let mut input = LineTally::new(io::stdin().lock());
    let scanner = pipe.scanner();
    let mut outcome = BlobOutcome::default();
    scanner.scan_reader(&mut input, &Origin::file("-"), 0, &mut outcome);
    let non_blank = input.non_blank();
    (pipe.progress).suspend(|| warn_keyless_lines(&non_blank, &outcome.findings));
    let mut gathered = Gathered::default();
    gathered.add(outcome, &Suppressed::default());
    // Standard input is one file, whatever the scanner counted.
    gathered.stats.files = 1;
    pipe.finish(
        gathered,
        output::report(pipe.common.output.as_deref())?,
        None,
    )
}

/// Warns about each non-blank input line of `keyhound verify` (runs of line numbers) that
/// holds no key: it is not checked.
fn warn_keyless_lines(non_blank: &[(u64, u64)], findings: &[Finding]) {
    let with_keys: std::collections::HashSet<u64> = findings.iter().map(|f| f.line).collect();
    let mut keyless = non_blank
        .iter()
        .flat_map(|&(a, b)| a..=b)
        .filter(|n| !with_keys.contains(n));
    for n in keyless.by_ref().take(crate::diag::MAX_PER_REASON) {
        crate::diag::eprint(&format!(
            "keyhound: warning: line {n} of standard input holds no key keyhound knows: not checked"
        ));
    }
    let more = keyless.count();
    if more > 0 {
        crate::diag::eprint(&format!("keyhound: … and {more} more lines without a key"));
    }
}
