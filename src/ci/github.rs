//! What a GitHub Actions step shows: `::error` annotations (at most 10, escaped so a file name
//! cannot inject workflow commands), the Markdown job summary (under 1 MiB) and step outputs.

use crate::finding::Finding;
use crate::report::ScanReport;
use std::fmt::Write as _;
use std::hash::BuildHasher as _;
use std::io::{self, Write};
use std::path::Path;

/// GitHub shows at most 10 error annotations per step; the rest are in the summary.
pub const MAX_ANNOTATIONS: usize = 10;

/// The job summary's limit is 1 MiB; keep well below it.
const MAX_SUMMARY: usize = 1000 * 1024;

/// Workflow commands turned off (`::stop-commands::TOKEN`) until `resume` prints `::TOKEN::`.
/// The token is unguessable, so text printed meanwhile cannot turn them back on.
pub struct Paused {
    /// None when commands were not stopped (a JSON report on standard output stays pure JSON,
    /// and its strings are escaped so no line of it can start a command).
    token: Option<String>,
}

impl Paused {
    /// Stops commands when `stop`. Standard output closed, nothing reaches the runner: a
    /// failed write is ignored, as every diagnostic's is.
    pub fn start(stop: bool) -> Paused {
        if !stop {
            return Paused { token: None };
        }
        // RandomState is keyed from the operating system's random source.
        let random = || std::collections::hash_map::RandomState::new().hash_one(std::process::id());
        let token = format!("{:016x}{:016x}", random(), random());
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "::stop-commands::keyhound-{token}").and_then(|()| out.flush());
        Paused { token: Some(token) }
    }

    pub fn resume(self) {
        if let Some(token) = self.token {
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "::keyhound-{token}::").and_then(|()| out.flush());
        }
    }
}

/// Prints `text` as a `::warning` workflow command (escaped; a closed standard output ignored).
pub fn warning(text: &str) {
    let data = escape_data(&crate::sanitize::terminal(text));
    let _ = writeln!(io::stdout().lock(), "::warning title=keyhound::{data}");
}

pub use crate::sanitize::workflow_data as escape_data;

/// Escapes a workflow-command property (`file=`, `title=`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One `::error file=…,line=…,col=…,title=…::message` line per finding, at most 10.
pub fn annotations(report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    for f in report.findings.iter().take(MAX_ANNOTATIONS) {
        let rule = report.rule(f);
        let message = format!(
            "{} {} in {}. Revoke it at {}, then remove it from the code and load it from a secret.",
            rule.spec.description,
            f.secret.redacted(),
            place(f),
            rule.spec.revoke_url.as_deref().unwrap_or("the provider"),
        );
        let is_message = f.git.as_ref().is_some_and(|g| g.in_message());
        let location = if is_message {
            String::new()
        } else {
            format!(
                "file={},line={},col={},",
                escape_property(&f.origin.path),
                f.line,
                f.column
            )
        };
        writeln!(
            out,
            "::error {location}title={}::{}",
            escape_property(&format!("Leaked key: {}", rule.spec.id)),
            escape_data(&message)
        )?;
    }
    Ok(())
}

/// "commit 1a2b3c4d5e" or "the message of commit …".
fn place(f: &Finding) -> String {
    let commit = f
        .git
        .as_ref()
        .and_then(|g| g.commit.as_deref().map(|c| (g.in_message(), c)));
    match commit {
        Some((true, c)) => format!("the message of commit {}", &c[..c.len().min(10)]),
        Some((_, c)) => format!("commit {}", &c[..c.len().min(10)]),
        None => "the scanned changes".into(),
    }
}

/// The Markdown job summary: what was scanned, a table of findings, what to do, and the allow
/// entries the pull request adds (not applied to its own check).
pub fn summary(report: &ScanReport<'_>, scope: &str, added_allows: &[String]) -> String {
    let mut md = String::new();
    let n = report.findings.len();
    let _ = writeln!(md, "## keyhound: {}\n", headline(n));
    let _ = writeln!(md, "Scanned {scope}.\n");
    if n > 0 {
        table(report, &mut md);
        let _ = writeln!(
            md,
            "\n**What to do**, for each key: revoke it at the provider (the link in the annotation), \
             replace it with one loaded from a secret store, and purge it from the branch's history. \
             A test fixture that is not a real key can be marked with a `keyhound:allow` comment."
        );
    }
    if !added_allows.is_empty() {
        let _ = writeln!(
            md,
            "\n### Allow entries this pull request adds\nThey apply once merged, not to this pull request's own check:\n"
        );
        for a in added_allows {
            let _ = writeln!(md, "- `{}`", a.replace('`', "'"));
        }
    }
    md
}

fn headline(n: usize) -> String {
    match n {
        0 => "no leaked keys".into(),
        1 => "1 leaked key".into(),
        n => format!("{n} leaked keys"),
    }
}

fn table(report: &ScanReport<'_>, md: &mut String) {
    md.push_str("| Key | Rule | Where | Commit |\n|---|---|---|---|\n");
    for (i, f) in report.findings.iter().enumerate() {
        let commit = f
            .git
            .as_ref()
            .and_then(|g| g.commit.as_deref())
            .map_or(String::new(), |c| format!("`{}`", &c[..c.len().min(10)]));
        let row = format!(
            "| `{}` | {} | {}:{} | {} |\n",
            f.secret.redacted(),
            report.rule(f).spec.id,
            cell(&f.origin.path),
            f.line,
            commit
        );
        if md.len() + row.len() > MAX_SUMMARY {
            let _ = writeln!(
                md,
                "\n… and {} more (see the JSON or SARIF report).",
                report.findings.len() - i
            );
            return;
        }
        md.push_str(&row);
    }
}

/// Text safe inside a Markdown table cell: escaped as the audit's Markdown is, so a file name
/// cannot become a link, an image or HTML, nor end the row.
fn cell(s: &str) -> String {
    crate::sanitize::markdown(s)
}

/// Appends `text` to the file GitHub names (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT).
pub fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("{}: cannot write to it", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("{}: cannot write to it", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_cannot_be_injected() {
        assert_eq!(escape_data("a%b\r\n::x"), "a%25b%0D%0A::x");
        assert_eq!(
            escape_property("dir/we:ird,name%\n"),
            "dir/we%3Aird%2Cname%25%0A"
        );
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(cell("![t](x)"), "\\!\\[t\\](x)");
    }
}
