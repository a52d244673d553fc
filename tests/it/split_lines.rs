//! Keys wrapped over lines (issue 18): `fixtures/lines/` holds one snippet per language and form
//! (YAML folded, literal and plain scalars, heredocs, triple-quoted strings, template literals,
//! text blocks, raw and verbatim strings, `\`-continued strings) whose `@KEY@`, `@KEY2@`, …
//! slots stand on lines of their own. Each must give the key once, at its first line, with
//! `decoded: ["line-join"]`; the same shapes filled with decoys must not.

use crate::split_concat::{
    assert_decoys_give_nothing, assert_every_template_found_once, assert_no_join_finds_nothing,
};
use crate::util::*;

#[test]
fn wrapped_keys_are_found_once_at_their_first_line_in_every_language() {
    assert_every_template_found_once("lines", "line-join", 300);
}

#[test]
fn the_same_shapes_with_decoys_give_nothing() {
    assert_decoys_give_nothing("lines");
}

#[test]
fn no_join_finds_no_wrapped_key() {
    assert_no_join_finds_nothing("lines");
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
