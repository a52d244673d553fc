//! `--commit-msg FILE`, the commit-msg hook: the message being committed, without the lines git
//! strips from it (comments, and everything below the scissors line `git commit -v` adds, whose
//! diff would repeat what the pre-commit hook already checked).

use super::{Ctx, GitOutcome};
use crate::finding::Origin;
use crate::finding::{GitInfo, GitStats};
use crate::scan::BlobOutcome;
use anyhow::Context as _;
use std::path::Path;

/// The line `git commit -v` puts above the diff; it and all below it are not the message.
const SCISSORS: &str = " ------------------------ >8 ------------------------";

pub(super) fn scan(ctx: &Ctx<'_>, file: &Path, comment: char) -> anyhow::Result<GitOutcome> {
    let raw = std::fs::read(file)
        .with_context(|| format!("{}: cannot read the commit message", file.display()))?;
    let text = String::from_utf8_lossy(&raw);
    let kept = message_lines(&text, comment);
    let mut out = BlobOutcome::default();
    let origin = Origin::file(file.display().to_string());
    ctx.scanner
        .scan_reader(&mut kept.as_bytes(), &origin, 0, &mut out);
    for f in &mut out.findings {
        f.git = Some(Box::new(GitInfo {
            object: "commit-message",
            reached_by: "index",
            ..GitInfo::default()
        }));
    }
    out.skipped.iter().for_each(ctx.on_skip);
    Ok(GitOutcome {
        findings: out.findings,
        skipped: out.skipped,
        stats: GitStats::default(),
        placeholders: out.placeholders,
        bytes: out.bytes,
        suppressed_inline: out.suppressed_inline,
        ..GitOutcome::default()
    })
}

/// The message as git will store it, line for line: comment lines become empty (so line
/// numbers still match the file) and the scissors line ends it.
fn message_lines(text: &str, comment: char) -> String {
    let scissors = format!("{comment}{SCISSORS}");
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.trim_end() == scissors {
            break;
        }
        if !line.starts_with(comment) {
            out.push_str(line);
        } else if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::message_lines;

    #[test]
    fn comments_and_the_verbose_diff_are_not_the_message() {
        let text = "fix it\n\n# Please enter the commit message\nbody\n\
                    # ------------------------ >8 ------------------------\n+KEY\n";
        assert_eq!(message_lines(text, '#'), "fix it\n\n\nbody\n");
        assert_eq!(message_lines("; c\nx\n", ';'), "\nx\n");
    }
}
