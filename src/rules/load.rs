//! Loading rule files: the embedded built-ins, then a user's `--rules` files, each validated on load.

use super::{BUILTIN, Rule, RuleFile, RuleSet};
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
    let mut set = RuleSet::default();
    for (name, text) in BUILTIN {
        add_file(&mut set, &format!("builtin:{name}"), text, false)?;
    }
    for path in user {
        for file in toml_files(path)? {
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

fn add_file(
    set: &mut RuleSet,
    origin: &str,
    text: &str,
    compile_now: bool,
) -> Result<(), RuleError> {
    let invalid = |message: String| RuleError::Invalid {
        path: origin.to_string(),
        message,
    };
    let file: RuleFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
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
    fn disabling_an_unknown_rule_is_an_error() {
        let err = load_rule_files(&[], &["nope".into()]).unwrap_err();
        assert!(matches!(err, RuleError::UnknownRule(_)));
    }
}
