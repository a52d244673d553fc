//! `keyhound verify`'s standard input, streamed: a reader that passes the bytes on as they
//! come and remembers only which lines were not blank, as runs of line numbers, so that a
//! large input is never held in memory to say afterwards which lines held no key.

use std::io::Read;

/// Wraps `inner`, tallying its non-blank lines (1-based) as runs.
pub struct LineTally<R> {
    inner: R,
    line: u64,
    line_has_text: bool,
    runs: Vec<(u64, u64)>,
}

impl<R: Read> LineTally<R> {
    pub fn new(inner: R) -> Self {
        LineTally {
            inner,
            line: 1,
            line_has_text: false,
            runs: Vec::new(),
        }
    }

    /// The non-blank lines read, as inclusive runs in order (the last line counts unended).
    pub fn non_blank(mut self) -> Vec<(u64, u64)> {
        self.end_line();
        self.runs
    }

    fn end_line(&mut self) {
        if self.line_has_text {
            match self.runs.last_mut() {
                Some((_, end)) if *end + 1 == self.line => *end = self.line,
                _ => self.runs.push((self.line, self.line)),
            }
        }
        self.line_has_text = false;
    }

    fn tally(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.end_line();
                self.line += 1;
            } else if !b.is_ascii_whitespace() {
                self.line_has_text = true;
            }
        }
    }
}

impl<R: Read> Read for LineTally<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.tally(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_blank_lines_are_runs_across_reads() {
        let text = b"a\nb\n \n\nc\nd\ne";
        let mut t = LineTally::new(&text[..]);
        let mut buf = [0u8; 3];
        while t.read(&mut buf).unwrap() > 0 {}
        assert_eq!(t.non_blank(), [(1, 2), (5, 7)]);
    }
}
