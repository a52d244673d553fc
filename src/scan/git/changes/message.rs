//! `--commit-msg FILE`, the commit-msg hook: the message being committed, without the lines git
//! strips from it (comments, and everything below the scissors line `git commit -v` adds, whose
//! diff would repeat what the pre-commit hook already checked).

use crate::finding::Origin;
use crate::finding::{GitInfo, GitObject, Reach};
use crate::scan::BlobOutcome;
use crate::scan::git::{Ctx, GitOutcome};
use crate::stats::GitStats;
use anyhow::Context as _;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The line `git commit -v` puts above the diff; it and all below it are not the message.
const SCISSORS: &str = " ------------------------ >8 ------------------------";

pub(in crate::scan::git) fn scan(
    ctx: &Ctx<'_>,
    file: &Path,
    comment: char,
) -> anyhow::Result<GitOutcome> {
    let opened = std::fs::File::open(file)
        .with_context(|| format!("{}: cannot read the commit message", file.display()))?;
    let mut kept = Message::new(BufReader::with_capacity(64 << 10, opened), comment);
    let mut out = BlobOutcome::default();
    let origin = Origin::file(file.display().to_string());
    ctx.scanner.scan_reader(&mut kept, &origin, 0, &mut out);
    for f in &mut out.findings {
        f.git = Some(Box::new(GitInfo {
            object: GitObject::CommitMessage,
            reached_by: Reach::Index,
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

/// The start of a line, enough of it to tell the scissors line.
const LINE_HEAD: u64 = 128;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    LineStart,
    Copy,
    Skip,
    Done,
}

/// The message as git will store it, line for line, streamed (a message can be hundreds of
/// megabytes): comment lines become empty (so line numbers still match the file) and the
/// scissors line ends it.
struct Message<R> {
    input: R,
    comment: Vec<u8>,
    scissors: Vec<u8>,
    pending: Vec<u8>,
    at: usize,
    mode: Mode,
}

impl<R: BufRead> Message<R> {
    fn new(input: R, comment: char) -> Self {
        let comment = comment.to_string().into_bytes();
        let scissors = [&comment[..], SCISSORS.as_bytes()].concat();
        Message {
            input,
            comment,
            scissors,
            pending: Vec::new(),
            at: 0,
            mode: Mode::LineStart,
        }
    }

    /// Reads the head of a line and decides what becomes of it.
    fn start_line(&mut self) -> std::io::Result<()> {
        let mut head = Vec::new();
        (&mut self.input)
            .take(LINE_HEAD)
            .read_until(b'\n', &mut head)?;
        let newline = head.ends_with(b"\n");
        let whole = newline || (head.len() as u64) < LINE_HEAD;
        if head.is_empty() {
            self.mode = Mode::Done;
        } else if !head.starts_with(&self.comment) {
            self.mode = if newline {
                Mode::LineStart
            } else if whole {
                Mode::Done
            } else {
                Mode::Copy
            };
            self.pending = head;
        } else if whole && head.trim_ascii_end() == &self.scissors[..] {
            self.mode = Mode::Done;
        } else if newline {
            self.pending.push(b'\n');
        } else {
            self.mode = if whole { Mode::Done } else { Mode::Skip };
        }
        Ok(())
    }

    /// Passes on (or drops) the rest of a long line, a buffer at a time.
    fn rest_of_line(&mut self, keep: bool) -> std::io::Result<()> {
        let chunk = self.input.fill_buf()?;
        if chunk.is_empty() {
            self.mode = Mode::Done;
            return Ok(());
        }
        let end = memchr::memchr(b'\n', chunk);
        let n = end.map_or(chunk.len(), |i| i + 1);
        if keep {
            self.pending.extend_from_slice(&chunk[..n]);
        } else if end.is_some() {
            self.pending.push(b'\n');
        }
        self.input.consume(n);
        if end.is_some() {
            self.mode = Mode::LineStart;
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Message<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.at < self.pending.len() {
                let n = buf.len().min(self.pending.len() - self.at);
                buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            self.pending.clear();
            self.at = 0;
            match self.mode {
                Mode::Done => return Ok(0),
                Mode::LineStart => self.start_line()?,
                Mode::Copy => self.rest_of_line(true)?,
                Mode::Skip => self.rest_of_line(false)?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Message;
    use std::io::Read as _;

    fn message_lines(text: &str, comment: char) -> String {
        let mut out = String::new();
        Message::new(text.as_bytes(), comment)
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn comments_and_the_verbose_diff_are_not_the_message() {
        let text = "fix it\n\n# Please enter the commit message\nbody\n\
                    # ------------------------ >8 ------------------------\n+KEY\n";
        assert_eq!(message_lines(text, '#'), "fix it\n\n\nbody\n");
        assert_eq!(message_lines("; c\nx\n", ';'), "\nx\n");
    }

    #[test]
    fn long_lines_stream_through_or_are_dropped_whole() {
        let long = "k".repeat(100_000);
        let text = format!("{long}\n#{long}\nend");
        assert_eq!(message_lines(&text, '#'), format!("{long}\n\nend"));
        assert_eq!(message_lines(&format!("#{long}"), '#'), "");
    }
}
