//! Diagnostics: each skipped input as a warning on standard error, at most 20 per kind of
//! reason, then a count of the rest, so a tree of 10,000 unreadable files stays readable; and
//! the one way every diagnostic line is written (`eprint`, `print`): made safe for a terminal,
//! escaped for the runner under `keyhound ci`, and never a panic when the stream is closed.

use crate::finding::Skipped;
use crate::progress::Progress;
use crate::sanitize::terminal;
use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// Set by `keyhound ci`: a GitHub runner reads every line the process prints for workflow
/// commands, so each diagnostic is then escaped as workflow-command data (one line each).
static FOR_RUNNER: AtomicBool = AtomicBool::new(false);

/// From now on, diagnostics are escaped for a GitHub runner (`keyhound ci`).
pub fn for_runner() {
    FOR_RUNNER.store(true, Relaxed);
}

/// Writes `message` to standard error (see `shown`). A closed or failing standard error is
/// ignored: a diagnostic never ends the run, nor changes its exit code.
pub fn eprint(message: &str) {
    let _ = writeln!(io::stderr().lock(), "{}", shown(message));
}

/// Writes `message` to standard output as `eprint` writes to standard error.
pub fn print(message: &str) {
    let _ = writeln!(io::stdout().lock(), "{}", shown(message));
}

/// `message` as printed: each of its lines safe for a terminal and, under `keyhound ci`, the
/// whole escaped for the runner, so no text of an input can start a workflow command.
fn shown(message: &str) -> String {
    let lines: Vec<_> = message.split('\n').map(terminal).collect();
    let text = lines.join("\n");
    if FOR_RUNNER.load(Relaxed) {
        crate::sanitize::workflow_data(&text)
    } else {
        text
    }
}

/// Warnings shown per kind of reason before they are only counted.
pub const MAX_PER_REASON: usize = 20;

#[derive(Debug, Default)]
pub struct Diagnostics {
    counts: Mutex<BTreeMap<String, usize>>,
    /// The bar the warnings are written around.
    progress: Progress,
}

impl Diagnostics {
    /// Diagnostics written around the progress bar `progress`.
    pub fn new(progress: Progress) -> Diagnostics {
        Diagnostics {
            progress,
            ..Diagnostics::default()
        }
    }

    /// Prints the warning for `s`, unless 20 of its kind were shown already.
    pub fn skipped(&self, s: &Skipped) {
        let kind = reason_kind(&s.reason);
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(kind).or_default();
        *n += 1;
        if *n <= MAX_PER_REASON {
            let label = if s.incomplete { "error" } else { "warning" };
            let (path, reason) = (terminal(&s.path), terminal(&s.reason));
            self.progress
                .suspend(|| eprint(&format!("keyhound: {label}: {path}: {reason}")));
        }
    }

    /// Prints how many warnings of each kind were not shown.
    pub fn finish(&self) {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        self.progress.suspend(|| {
            for (kind, n) in counts.iter().filter(|(_, n)| **n > MAX_PER_REASON) {
                eprint(&format!(
                    "keyhound: … and {} more like \"{}\" not shown",
                    n - MAX_PER_REASON,
                    terminal(kind)
                ));
            }
        });
    }
}

/// The kind of a reason: its text before the first `:` or `(`, without numbers.
fn reason_kind(reason: &str) -> String {
    let head = reason.split([':', '(']).next().unwrap_or(reason);
    head.chars()
        .filter(|c| !c.is_ascii_digit())
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_of_a_diagnostic_cannot_hold_an_escape_sequence() {
        assert_eq!(shown("a\x1b[31m\rb\nc"), "a?[31m b\nc");
    }

    #[test]
    fn reasons_group_by_their_head() {
        assert_eq!(
            reason_kind("cannot open: Permission denied (os error 13)"),
            "cannot open"
        );
        assert_eq!(
            reason_kind("123 bytes, over --max-filesize 10"),
            "bytes, over --max-filesize"
        );
    }
}
