//! Diagnostics on standard error: each skipped input as a warning, at most 20 per kind of
//! reason, then a count of the rest, so a tree of 10,000 unreadable files stays readable.

use crate::finding::Skipped;
use crate::progress::Progress;
use std::collections::BTreeMap;
use std::sync::Mutex;

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
            self.progress
                .suspend(|| eprintln!("keyhound: {label}: {}: {}", s.path, s.reason));
        }
    }

    /// Prints how many warnings of each kind were not shown.
    pub fn finish(&self) {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        self.progress.suspend(|| {
            for (kind, n) in counts.iter().filter(|(_, n)| **n > MAX_PER_REASON) {
                eprintln!(
                    "keyhound: … and {} more like \"{kind}\" not shown",
                    n - MAX_PER_REASON
                );
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
