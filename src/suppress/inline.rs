//! Inline allow comments: a key on a line that says `keyhound:allow` (or the markers of gitleaks
//! and detect-secrets, `gitleaks:allow` and `pragma: allowlist secret`) is not reported.

use memchr::memmem;

/// The markers that allow the keys on their line.
pub const MARKERS: [&str; 3] = [
    "keyhound:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
];

/// How far along a line to look for a marker, each side of the key: a minified file's line can
/// be megabytes long, and a marker that far from its key is not about it.
const REACH: usize = 4096;

/// True when the line holding `buf[start..end]` carries an allow marker.
pub fn allowed(buf: &[u8], start: usize, end: usize) -> bool {
    let from = start.saturating_sub(REACH);
    let line_start = memchr::memrchr(b'\n', &buf[from..start]).map_or(from, |i| from + i + 1);
    let to = end.saturating_add(REACH).min(buf.len());
    let line_end = memchr::memchr(b'\n', &buf[end..to]).map_or(to, |i| end + i);
    let line = &buf[line_start..line_end];
    MARKERS
        .iter()
        .any(|m| memmem::find(line, m.as_bytes()).is_some())
}

#[cfg(test)]
mod tests {
    use super::allowed;

    fn check(text: &str, key: &str) -> bool {
        let start = text.find(key).expect("key in text");
        allowed(text.as_bytes(), start, start + key.len())
    }

    #[test]
    fn markers_allow_their_own_line_only() {
        assert!(check("a\nk = KEY # keyhound:allow\nb", "KEY"));
        assert!(check("// gitleaks:allow\nx KEY gitleaks:allow", "KEY"));
        assert!(check("KEY  # pragma: allowlist secret", "KEY"));
        assert!(!check("# keyhound:allow\nk = KEY\n", "KEY"));
        assert!(!check("k = KEY\n# keyhound:allow", "KEY"));
        assert!(!check("k = KEY # keyhound: allow", "KEY"));
    }
}
