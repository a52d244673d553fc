//! `Secret`: a found key that redacts itself wherever it is printed, unless the caller asks; for
//! formats whose key comes in two parts (an AWS access key id and its secret access key), the
//! second part found next to it, redacted the same way.

use std::fmt;

/// A secret value. `Debug` and `Display` show only the redacted form; `expose` reads the value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret {
    value: String,
    prefix_len: usize,
    /// The second part of a two-part key found next to this one (never part of the fingerprint).
    paired: Option<Box<Secret>>,
    /// What verification needs from around the key (`[[rule.hint]]`: a host, an account
    /// email, a session token), nearest first; never shown, never part of the fingerprint.
    hints: Vec<(String, String)>,
}

impl Secret {
    /// `prefix_len` is how many leading bytes are the public kind prefix (`sk-proj-`), kept when redacted.
    pub fn new(value: String, prefix_len: usize) -> Self {
        let prefix_len = floor_char_boundary(&value, prefix_len.min(value.len()));
        Secret {
            value,
            prefix_len,
            paired: None,
            hints: Vec::new(),
        }
    }

    /// This key with `paired`, the second part of a two-part key (AWS's secret access key).
    pub fn with_paired(mut self, paired: Option<Secret>) -> Self {
        self.paired = paired.map(Box::new);
        self
    }

    /// This key with the values verification needs from around it.
    pub fn with_hints(mut self, hints: Vec<(String, String)>) -> Self {
        self.hints = hints;
        self
    }

    /// The values of the hint `name` found around the key, nearest first.
    pub fn hints<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.hints
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// How many hint values were found around the key.
    pub fn hint_count(&self) -> usize {
        self.hints.len()
    }

    /// The second part of a two-part key, when one was found next to it.
    pub fn paired(&self) -> Option<&Secret> {
        self.paired.as_deref()
    }

    /// The full secret. Call only where the user asked to see it or where it must be hashed.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// The kind prefix plus `…` plus the last 4 characters, as the provider's key pages show it.
    pub fn redacted(&self) -> String {
        let tail_start = self.value.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
        let tail_start = tail_start.max(self.prefix_len);
        format!(
            "{}…{}",
            &self.value[..self.prefix_len],
            &self.value[tail_start..]
        )
    }

    /// The form to print: whole when `show` is set, redacted otherwise.
    pub fn display(&self, show: bool) -> String {
        if show {
            self.value.clone()
        } else {
            self.redacted()
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_to_prefix_and_last_four() {
        let s = Secret::new(format!("sk-proj-{}MxYA", "q".repeat(30)), 8);
        assert_eq!(s.redacted(), "sk-proj-…MxYA");
        assert_eq!(format!("{s}"), "sk-proj-…MxYA");
        assert_eq!(format!("{s:?}"), "Secret(sk-proj-…MxYA)");
        assert!(s.display(true).starts_with("sk-proj-qqq"));
    }

    #[test]
    fn short_values_never_show_more_than_they_have() {
        let s = Secret::new("abc".into(), 10);
        assert_eq!(s.redacted(), "abc…");
    }
}
