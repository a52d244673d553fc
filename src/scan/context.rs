//! Positions and context for a match: line and column from a running newline count, and the
//! line's text around the key with every key in it redacted and control bytes escaped.

use crate::finding::Decoding;
use crate::matcher::RawMatch;
use crate::secret::Secret;

/// Bytes of context shown on each side of a key.
pub const CONTEXT_BYTES: usize = 40;

/// Newline bookkeeping for the data before the current buffer.
#[derive(Debug, Default, Clone)]
pub struct LineState {
    /// Absolute offset of the buffer's first byte.
    pub base: u64,
    /// Newlines before the buffer.
    pub lines_before: u64,
    /// Absolute offset of the last newline before the buffer.
    pub last_newline: Option<u64>,
    /// The blob starts with a UTF-16 byte-order mark: its characters start at even offsets.
    pub utf16_bom: bool,
}

impl LineState {
    /// Moves the buffer start past `dropped`, the bytes leaving the buffer.
    pub fn advance(&mut self, dropped: &[u8]) {
        self.lines_before += bytecount::count(dropped, b'\n') as u64;
        if let Some(i) = memchr::memrchr(b'\n', dropped) {
            self.last_newline = Some(self.base + i as u64);
        }
        self.base += dropped.len() as u64;
    }

    /// Parity, within the buffer, of the offsets where UTF-16 characters start, if a
    /// byte-order mark says.
    pub fn utf16_parity(&self) -> Option<usize> {
        self.utf16_bom.then_some((self.base % 2) as usize)
    }

    /// 1-based line, byte column and character column of offset `at` in `buf`, given the
    /// newline count of `buf[..counted_to]` (a cursor the caller moves forward).
    pub fn position(&self, buf: &[u8], at: usize, cursor: &mut (usize, u64)) -> (u64, u64, u64) {
        let (counted_to, count) = cursor;
        *count += bytecount::count(&buf[*counted_to..at], b'\n') as u64;
        *counted_to = at;
        let line = self.lines_before + *count + 1;
        if let Some(nl) = memchr::memrchr(b'\n', &buf[..at]) {
            let prefix = &buf[nl + 1..at];
            let chars = prefix.iter().filter(|&&b| (b as i8) >= -0x40).count();
            (line, (at - nl) as u64, chars as u64 + 1)
        } else {
            let abs = self.base + at as u64;
            let col = abs - self.last_newline.map_or(0, |n| n + 1) + 1;
            (line, col, col)
        }
    }
}

/// The context line for `keys[index]`: up to [`CONTEXT_BYTES`] each side, within the line,
/// every key in it redacted. `keys` is sorted by start. For UTF-16 text the zero bytes are dropped.
pub fn context(buf: &[u8], keys: &[(RawMatch, Secret)], index: usize) -> String {
    let key = &keys[index].0;
    let line_start = memchr::memrchr2(b'\n', b'\r', &buf[..key.start]).map_or(0, |i| i + 1);
    let line_end =
        memchr::memchr2(b'\n', b'\r', &buf[key.end..]).map_or(buf.len(), |i| key.end + i);
    let wide = key.decoded.contains(&Decoding::Utf16);
    let reach = if wide {
        2 * CONTEXT_BYTES
    } else {
        CONTEXT_BYTES
    };
    let start = key.start.saturating_sub(reach).max(line_start);
    let end = (key.end + reach).min(line_end);
    // Keys never overlap, so those touching start..end are a run around `index`.
    let first = keys[..index].partition_point(|(k, _)| k.end <= start);
    let last = index + keys[index..].partition_point(|(k, _)| k.start < end);
    let mut spans: Vec<(usize, usize, String)> = keys[first..last]
        .iter()
        .map(|(k, secret)| (k.start, k.end, secret.redacted()))
        .collect();
    spans.extend(paired_spans(keys, start, end));
    spans.sort_by_key(|s| (s.0, s.1));
    let mut out = String::new();
    let mut at = start;
    for (s, e, redacted) in spans {
        if s > at {
            escape_into(&mut out, &buf[at..s], wide);
        }
        if e > at {
            out.push_str(&redacted);
        }
        at = at.max(e);
    }
    if at < end {
        escape_into(&mut out, &buf[at..end], wide);
    }
    out
}

/// The second parts of two-part keys (AWS secrets) touching `start..end`, redacted: they may
/// stand on another key's line, or be cut by the context's edge.
fn paired_spans(
    keys: &[(RawMatch, Secret)],
    start: usize,
    end: usize,
) -> impl Iterator<Item = (usize, usize, String)> + '_ {
    keys.iter().filter_map(move |(k, secret)| {
        let p = k.paired.as_ref()?;
        let shown = secret.paired()?.redacted();
        (p.start < end && p.end > start).then(|| (p.start.max(start), p.end.min(end), shown))
    })
}

/// Appends `bytes` as text: invalid UTF-8 as U+FFFD, control characters escaped; with `wide`
/// (UTF-16 text), zero bytes and byte-order marks are left out.
fn escape_into(out: &mut String, bytes: &[u8], wide: bool) {
    let narrow: Vec<u8>;
    let bytes = if wide {
        narrow = bytes
            .iter()
            .copied()
            .filter(|&b| b != 0 && b != 0xFE && b != 0xFF)
            .collect();
        &narrow[..]
    } else {
        bytes
    };
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_bidi(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
}

/// Bidirectional controls that can make a terminal show text other than what is there.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(start: usize, end: usize) -> RawMatch {
        RawMatch {
            rule: 0,
            start,
            end,
            secret: String::new(),
            prefix_len: 3,
            decoded: vec![],
            paired: None,
            hints: Vec::new(),
            pieces: 0,
        }
    }

    #[test]
    fn positions_count_lines_and_columns() {
        let buf = "ab\ncd\u{e9}fg\nhij".as_bytes();
        let st = LineState::default();
        let mut cur = (0, 0);
        assert_eq!(st.position(buf, 1, &mut cur), (1, 2, 2));
        assert_eq!(st.position(buf, 8, &mut cur), (2, 6, 5));
        assert_eq!(st.position(buf, 12, &mut cur), (3, 3, 3));
    }

    #[test]
    fn positions_continue_across_buffers() {
        let mut st = LineState::default();
        st.advance(b"a\nbc");
        assert_eq!(st.position(b"de\nf", 1, &mut (0, 0)), (2, 4, 4));
        assert_eq!(st.position(b"de\nf", 3, &mut (0, 0)), (3, 1, 1));
    }

    #[test]
    fn context_redacts_every_key_and_escapes_controls() {
        let buf = b"x\ta=sk-111111 b=sk-222222\x1b end\nnext";
        let keys = vec![
            (raw(4, 13), Secret::new("sk-111111".into(), 3)),
            (raw(16, 25), Secret::new("sk-222222".into(), 3)),
        ];
        for i in 0..2 {
            assert_eq!(
                context(buf, &keys, i),
                "x\\ta=sk-…1111 b=sk-…2222\\u{1b} end"
            );
        }
    }
}
