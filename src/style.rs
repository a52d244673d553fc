//! How the human reports look: `Paint` puts ANSI colour on text, only when asked for, and every
//! text an input controls goes through `sanitize` first (`Paint::clean`), so the scan report and
//! the audit table colour and escape alike.

use crate::sanitize;

/// ANSI colour, or none.
#[derive(Debug, Clone, Copy)]
pub struct Paint(pub bool);

/// Colours by what they mark.
impl Paint {
    /// `text` in the SGR colour `code` (`1;31`); plain without colour or with an empty code.
    pub fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 && !code.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }

    /// A file's name heading its findings.
    pub fn path(&self, t: &str) -> String {
        self.wrap("1;35", t)
    }

    /// A key (redacted unless asked), and what is most urgent.
    pub fn key(&self, t: &str) -> String {
        self.wrap("1;31", t)
    }

    /// What is urgent, but less so.
    pub fn warn(&self, t: &str) -> String {
        self.wrap("31", t)
    }

    /// What is uncertain.
    pub fn caution(&self, t: &str) -> String {
        self.wrap("33", t)
    }

    pub fn dim(&self, t: &str) -> String {
        self.wrap("2", t)
    }

    /// A line and column.
    pub fn pos(&self, t: &str) -> String {
        self.wrap("32", t)
    }

    /// Text an input controls, made safe for a terminal (see `sanitize::terminal`).
    pub fn clean(text: &str) -> String {
        sanitize::terminal(text).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_when_asked() {
        assert_eq!(Paint(false).key("k"), "k");
        assert_eq!(Paint(true).key("k"), "\x1b[1;31mk\x1b[0m");
        assert_eq!(Paint(true).wrap("", "k"), "k");
        assert_eq!(Paint::clean("a\x1b[2J"), "a?[2J");
    }
}
