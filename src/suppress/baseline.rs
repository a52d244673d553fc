//! `--baseline FILE`: the fingerprints of a previous keyhound report (JSON or JSON lines, from
//! `scan`, `git` or `audit`). Only fingerprints are read, so a baseline survives moved lines,
//! rebases, squash-merges and renamed rules.

use anyhow::{Context as _, bail};
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

/// Reads every finding's fingerprint from the report at `path`.
pub fn load(path: &Path) -> anyhow::Result<HashSet<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--baseline {}: cannot read it", path.display()))?;
    parse(&text).with_context(|| {
        format!(
            "--baseline {}: not a keyhound JSON or JSON lines report (write one with --format json)",
            path.display()
        )
    })
}

/// The fingerprints in a JSON report (`findings[].fingerprint`) or JSON lines
/// (`{"type": "finding", "fingerprint": …}` lines).
pub fn parse(text: &str) -> anyhow::Result<HashSet<String>> {
    if let Ok(doc) = serde_json::from_str::<Value>(text) {
        let Some(findings) = doc.get("findings").and_then(Value::as_array) else {
            bail!("no `findings` array");
        };
        return Ok(findings.iter().filter_map(fingerprint).collect());
    }
    let mut out = HashSet::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line).with_context(|| format!("line {}", i + 1))?;
        if v.get("type").and_then(Value::as_str) == Some("finding") {
            out.extend(fingerprint(&v));
        }
    }
    Ok(out)
}

fn fingerprint(finding: &Value) -> Option<String> {
    let fp = finding.get("fingerprint")?.as_str()?;
    fp.starts_with("kh1:").then(|| fp.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn json_and_json_lines_reports_give_their_fingerprints() {
        let json =
            r#"{"version": 1, "findings": [{"fingerprint": "kh1:aa"}, {"fingerprint": "kh1:bb"}]}"#;
        assert_eq!(parse(json).unwrap().len(), 2);
        let lines =
            "{\"type\": \"finding\", \"fingerprint\": \"kh1:aa\"}\n\n{\"type\": \"summary\"}\n";
        assert_eq!(parse(lines).unwrap().len(), 1);
        assert!(parse("{\"version\": 1}").is_err());
        assert!(parse("not json").is_err());
    }
}
