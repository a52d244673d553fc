//! Loading rule files: the embedded built-ins, then a user's `--rules` files, each validated on load.

use super::{BUILTIN, BUILTIN_JSON, Rule, RuleFile, RuleSet};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// A rule file that cannot be used, named by path and with what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: cannot read rules: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("--disable-rule {0}: no such rule (`keyhound rules list` shows the ids)")]
    UnknownRule(String),
    #[error("unknown provider {0:?}; the provider ids are: {1}")]
    UnknownProvider(String, String),
}

/// Loads the built-in rules, then every `*.toml` in `user` (a file or a directory), minus `disabled`.
pub fn load_rule_files(user: &[PathBuf], disabled: &[String]) -> Result<RuleSet, RuleError> {
    load_rule_files_with(&[], user, disabled)
}

/// `load_rule_files`, after the rule files or folders a repository's keyhound.toml names
/// (`repo`): those are read without following a symbolic link, and a file must be `*.toml`.
pub fn load_rule_files_with(
    repo: &[PathBuf],
    user: &[PathBuf],
    disabled: &[String],
) -> Result<RuleSet, RuleError> {
    let mut set = RuleSet::default();
    for (name, text) in BUILTIN {
        add_builtin(&mut set, name, text)?;
    }
    let repo_files = repo.iter().map(|p| repo_toml_files(p));
    let user_files = user.iter().map(|p| toml_files(p));
    for files in repo_files.chain(user_files) {
        for file in files? {
            let text = std::fs::read_to_string(&file).map_err(|source| RuleError::Io {
                path: file.display().to_string(),
                source,
            })?;
            add_file(&mut set, &file.display().to_string(), &text, true)?;
        }
    }
    for id in disabled {
        let before = set.rules.len();
        set.rules.retain(|r| &r.spec.id != id);
        if set.rules.len() == before {
            return Err(RuleError::UnknownRule(id.clone()));
        }
    }
    Ok(set)
}

fn toml_files(path: &Path) -> Result<Vec<PathBuf>, RuleError> {
    let io = |source| RuleError::Io {
        path: path.display().to_string(),
        source,
    };
    if !path.is_dir() {
        std::fs::metadata(path).map_err(io)?;
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io)? {
        let p = entry.map_err(io)?.path();
        if p.extension().is_some_and(|e| e == "toml") {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// A repository's rule path: a regular `*.toml` file, or a directory whose `*.toml` entries are
/// regular files; a symbolic link (or a device, a FIFO) anywhere is refused, never followed.
fn repo_toml_files(path: &Path) -> Result<Vec<PathBuf>, RuleError> {
    let io = |source| RuleError::Io {
        path: path.display().to_string(),
        source,
    };
    let kind = std::fs::symlink_metadata(path).map_err(io)?.file_type();
    if !kind.is_dir() {
        return Ok(vec![repo_rule_file(path, kind)?]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io)? {
        let entry = entry.map_err(io)?;
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "toml") {
            files.push(repo_rule_file(&p, entry.file_type().map_err(io)?)?);
        }
    }
    files.sort();
    Ok(files)
}

fn repo_rule_file(path: &Path, kind: std::fs::FileType) -> Result<PathBuf, RuleError> {
    let refuse = |why: &str| RuleError::Invalid {
        path: path.display().to_string(),
        message: format!(
            "{why}: a repository's keyhound.toml may only name regular *.toml rule files \
             or folders inside the repository"
        ),
    };
    if kind.is_symlink() {
        return Err(refuse("a symbolic link, not followed"));
    }
    if !kind.is_file() {
        return Err(refuse("not a regular file"));
    }
    if path.extension().is_none_or(|e| e != "toml") {
        return Err(refuse("not a .toml file"));
    }
    Ok(path.to_path_buf())
}

/// A TOML error as a message that quotes none of the file: where (line and column of `text`,
/// when the error has a place in it) and what, with anything key-shaped in the message
/// redacted (serde's messages quote values and unknown keys).
pub fn toml_error(e: &toml::de::Error, text: &str) -> String {
    let what = redact_key_shaped(e.message());
    match e.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = memchr::memchr_iter(b'\n', before).count() + 1;
            let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            format!("line {line}, column {column}: {what}")
        }
        None => what,
    }
}

/// Bytes that may make up a key-shaped token.
fn in_token(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-+/=.:~%".contains(c)
}

/// `text` with each key-shaped token (16 or more token characters mixing letters and digits,
/// or 32 or more of any) cut to its first 3 characters and `…`.
pub fn redact_key_shaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(in_token) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c| !in_token(c)).unwrap_or(rest.len());
        let token = &rest[..end];
        let mixed = token.contains(|c: char| c.is_ascii_digit())
            && token.contains(|c: char| c.is_ascii_alphabetic());
        if token.len() >= 32 || (token.len() >= 16 && mixed) {
            out.push_str(&token[..3]);
            out.push('…');
        } else {
            out.push_str(token);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Adds the built-in rule file `name` from its JSON (see `build.rs`), or its TOML `text`.
fn add_builtin(set: &mut RuleSet, name: &str, text: &str) -> Result<(), RuleError> {
    let origin = format!("builtin:{name}");
    let Some((_, json)) = BUILTIN_JSON.iter().find(|(n, _)| *n == name) else {
        return add_file(set, &origin, text, false);
    };
    let file: RuleFile = serde_json::from_str(json).map_err(|e| RuleError::Invalid {
        path: origin.clone(),
        message: e.to_string(),
    })?;
    add_rules(set, &origin, file, false)
}

fn add_file(
    set: &mut RuleSet,
    origin: &str,
    text: &str,
    compile_now: bool,
) -> Result<(), RuleError> {
    let file: RuleFile = toml::from_str(text).map_err(|e| RuleError::Invalid {
        path: origin.to_string(),
        message: toml_error(&e, text),
    })?;
    add_rules(set, origin, file, compile_now)
}

/// Adds the rules of `file`, read from `origin`; with `compile_now` (every file but the
/// built-in ones), each rule's patterns are compiled to validate them.
fn add_rules(
    set: &mut RuleSet,
    origin: &str,
    file: RuleFile,
    compile_now: bool,
) -> Result<(), RuleError> {
    let invalid = |message: String| RuleError::Invalid {
        path: origin.to_string(),
        message,
    };
    if !file.verify.is_empty() && compile_now {
        return Err(invalid(
            "[[verify]] tables are built into keyhound: a rule file may not say where keys are \
             sent; remove them"
                .into(),
        ));
    }
    let mut ids: HashSet<String> = set.rules.iter().map(|r| r.spec.id.clone()).collect();
    for mut spec in file.rule {
        spec.deny_sha256.extend(file.deny_sha256.iter().cloned());
        let id = spec.id.clone();
        if !ids.insert(id.clone()) {
            return Err(invalid(format!("rule {id}: the id is already taken")));
        }
        let rule =
            Rule::new(spec, origin.to_string()).map_err(|m| invalid(format!("rule {id}: {m}")))?;
        if compile_now {
            rule.validate()
                .map_err(|m| invalid(format!("rule {id}: {m}")))?;
        }
        set.rules.push(rule);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[[rule]]
id = "x.demo"
name = "DemoKey"
provider = "demo"
kind = "demo"
description = "demo"
severity = 5.0
keywords = ["demo_"]
pattern = 'demo_(?P<body>[a-z]{8})'
remediation = "remove it"
"#;

    #[test]
    fn user_rules_are_added_and_validated() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), MINIMAL).unwrap();
        let set = load_rule_files(&[dir.path().to_path_buf()], &[]).unwrap();
        assert!(set.get("x.demo").is_some());
    }

    #[test]
    fn a_rule_without_keywords_is_rejected_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let bad = MINIMAL.replace(r#"keywords = ["demo_"]"#, "keywords = []");
        std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
        let err = load_rule_files(&[dir.path().to_path_buf()], &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.toml") && err.contains("no keywords"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_pattern_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let bad = MINIMAL.replace("{8})'", "{8}'");
        std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
        let err = load_rule_files(&[dir.path().to_path_buf()], &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("rule x.demo: pattern"), "{err}");
    }

    #[test]
    fn key_shaped_tokens_are_redacted() {
        let text =
            "unknown field `sk-proj-abcdefghij0123456789`, expected `paths` at /proc/self/environ";
        assert_eq!(
            redact_key_shaped(text),
            "unknown field `sk-…`, expected `paths` at /proc/self/environ"
        );
        let long = "x".repeat(40);
        assert_eq!(redact_key_shaped(&format!("a {long} b")), "a xxx… b");
    }

    #[test]
    fn the_builtin_json_holds_the_rules_the_toml_does() {
        assert_eq!(BUILTIN_JSON.len(), BUILTIN.len());
        for (name, text) in BUILTIN {
            let toml: RuleFile = toml::from_str(text).unwrap();
            let json = BUILTIN_JSON.iter().find(|(n, _)| n == name).unwrap().1;
            let json: RuleFile = serde_json::from_str(json).unwrap();
            assert_eq!(
                format!("{:?}", json.rule),
                format!("{:?}", toml.rule),
                "{name}"
            );
            assert_eq!(json.deny_sha256, toml.deny_sha256, "{name}");
            assert!(json.verify.is_empty(), "{name}");
        }
    }

    #[test]
    fn disabling_an_unknown_rule_is_an_error() {
        let err = load_rule_files(&[], &["nope".into()]).unwrap_err();
        assert!(matches!(err, RuleError::UnknownRule(_)));
    }
}
