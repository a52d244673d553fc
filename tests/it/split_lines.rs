//! Keys wrapped over lines (issue 18): `fixtures/lines/` holds one snippet per language and form
//! (YAML folded, literal and plain scalars, heredocs, triple-quoted strings, template literals,
//! text blocks, raw and verbatim strings, `\`-continued strings) whose `@KEY@`, `@KEY2@`, …
//! slots stand on lines of their own. Each must give the key once, at its first line, with
//! `decoded: ["line-join"]`; the same shapes filled with decoys must not.

use crate::split_concat::{
    TEMPLATES, assert_decoys_give_nothing, assert_each_found_once, cut, tree_of,
};
use crate::util::*;

#[test]
fn wrapped_keys_are_found_once_at_their_first_line_in_every_language() {
    for (t, template) in TEMPLATES.iter().enumerate() {
        let key_of = |seed: u64| make(template, seed + 300 * t as u64);
        let (dir, files) = tree_of("lines", &|n, seed| cut(&key_of(seed), n));
        let (code, report) = scan_json(dir.path(), &[]);
        assert_eq!(code, 1, "{template}");
        assert_each_found_once(&files, &report, "line-join", template);
    }
}

#[test]
fn the_same_shapes_with_decoys_give_nothing() {
    assert_decoys_give_nothing("lines");
}

#[test]
fn no_join_finds_no_wrapped_key() {
    let (dir, _) = tree_of("lines", &|n, seed| cut(&project_key(seed), n));
    let (code, report) = scan_json(dir.path(), &["--no-join"]);
    assert_eq!(
        (code, report.findings.len()),
        (0, 0),
        "{:#?}",
        report.findings
    );
}

#[test]
fn a_wrapped_key_on_stdin_is_found() {
    let key = project_key(9500);
    let (a, b) = key.split_at(70);
    let text = format!("data:\n  key: >-\n    {a}\n    {b}\n");
    let out = kh()
        .args(["scan", "-", "--format", "json", "--show-secrets"])
        .write_stdin(text)
        .output()
        .expect("keyhound runs");
    let report: Report = serde_json::from_slice(&out.stdout).expect("JSON");
    let got: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.secret.as_str(), f.decoded.clone(), f.line, f.column))
        .collect();
    assert_eq!(got, [(key.as_str(), vec!["line-join".to_string()], 3, 5)]);
}
