//! Text that inputs control (file, archive member and author names, reasons a server or the
//! verification cache gives) made inert before it is shown: `terminal` for a terminal or a log,
//! `markdown` for Markdown and HTML. One place, so every report and diagnostic escapes alike.

use std::borrow::Cow;

/// Text safe for a terminal or a CI log: line breaks and tabs become spaces, other control
/// characters (escape sequences among them, C1 ones too) and the bidirectional overrides that
/// reorder what is shown become `?`.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() || is_bidi(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match c {
                '\n' | '\r' | '\t' => ' ',
                c if c.is_control() || is_bidi(c) => '?',
                c => c,
            })
            .collect(),
    )
}

/// The embeddings, overrides and isolates of Unicode's bidirectional algorithm, and its marks.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text made inert for Markdown and HTML: line breaks and other control characters become
/// spaces, and each character Markdown, GitHub's extensions or HTML act on is backslash-escaped
/// (`|` among them, so the text is safe in a table cell too). An `@` gets a zero-width space
/// after it, so an author named `@someone` does not notify that user when the report is posted.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '@' => out.push_str("@\u{200B}"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '|' | '~' | '&' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text as GitHub workflow-command data (a message): `%`, CR and LF escaped, so no text of an
/// input starts a workflow command (`keyhound ci` escapes every diagnostic so).
pub fn workflow_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_holds_no_escape_sequence_or_line_break() {
        assert_eq!(terminal("a\x1b[2Jb\r\nc\td\u{9b}e"), "a?[2Jb  c d?e");
        assert_eq!(terminal("evil\u{202E}txt.exe"), "evil?txt.exe");
        assert!(matches!(terminal("plain/ä.txt"), Cow::Borrowed(_)));
    }

    #[test]
    fn markdown_links_and_images_are_escaped() {
        assert_eq!(
            markdown("![t](x) [Click](https:/e.x/y)"),
            "\\!\\[t\\](x) \\[Click\\](https:/e.x/y)"
        );
        assert_eq!(markdown("a|b\nc<d>@e"), "a\\|b c\\<d\\>@\u{200B}e");
    }
}
