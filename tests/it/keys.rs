//! Every key kind, in every context real files put keys in, found exactly once and exactly where.

use crate::util::*;

#[test]
fn every_kind_is_found_with_its_rule_line_and_column() {
    for (seed, (rule, template)) in KINDS.iter().enumerate() {
        let key = make(template, seed as u64);
        let dir = tree(&[(
            "conf/app.env",
            format!("# config\nOPENAI_API_KEY={key}\n").as_bytes(),
        )]);
        let (code, report) = scan_json(dir.path(), &[]);
        assert_eq!(code, 1, "{template}");
        assert_eq!(report.findings.len(), 1, "{template}");
        let f = &report.findings[0];
        assert_eq!(
            (f.rule.as_str(), f.path.as_str(), f.line, f.column),
            (*rule, "conf/app.env", 2, 16)
        );
        assert_eq!(f.secret, key);
        assert!(f.fingerprint.starts_with("kh1:") && f.fingerprint.len() == 36);
    }
}

/// Every context of `fixtures/contexts`, alone in a file of its name: the key is found at each
/// `@KEY@` of the template, on its line, and nowhere else.
#[test]
fn keys_are_found_in_every_context() {
    let key = project_key(11);
    for fx in fixtures("contexts") {
        let text = fx.render(11, &[&key]);
        let dir = tree(&[(fx.name.as_str(), text.as_bytes())]);
        let (code, report) = scan_json(dir.path(), &[]);
        assert_eq!(
            report.findings.len(),
            fx.slots(),
            "fixtures/{}:\n{text}",
            fx.id
        );
        assert_eq!(code, 1, "fixtures/{}", fx.id);
        assert!(
            secrets(&report).iter().all(|s| s == &key),
            "fixtures/{}",
            fx.id
        );
        let lines: Vec<u64> = report.findings.iter().map(|f| f.line).collect();
        assert_eq!(lines, lines_of(&text, &key), "fixtures/{}", fx.id);
    }
}

#[test]
fn a_thousand_keys_one_per_line_are_a_thousand_findings() {
    let text: String = (0..1000)
        .map(|i| format!("{}\n", make(KINDS[i % KINDS.len()].1, i as u64)))
        .collect();
    let dir = tree(&[("keys.txt", text.as_bytes())]);
    let (_, report) = scan_json(dir.path(), &[]);
    assert_eq!(report.findings.len(), 1000);
    let lines: Vec<u64> = report.findings.iter().map(|f| f.line).collect();
    assert_eq!(lines, (1..=1000).collect::<Vec<u64>>());
}

#[test]
fn a_key_at_the_end_of_a_200kb_minified_line_is_found() {
    let key = project_key(12);
    let text = format!("var a=\"{}\";var k=\"{key}\"", "x;".repeat(100_000));
    let dir = tree(&[("bundle.min.js", text.as_bytes())]);
    let (_, report) = scan_json(dir.path(), &[]);
    assert_eq!(secrets(&report), vec![key]);
    assert_eq!(report.findings[0].line, 1);
    assert_eq!(report.findings[0].column, 200_000 + 17);
}

#[test]
fn keys_in_notebook_source_and_output_cells() {
    let (a, b) = (project_key(13), make(KINDS[0].1, 14));
    let nb = fixture("notebooks/two-keys.ipynb");
    let dir = tree(&[(nb.name.as_str(), nb.render(13, &[&a, &b]).as_bytes())]);
    let (_, report) = scan_json(dir.path(), &[]);
    assert_eq!(secrets(&report), vec![a, b]);
}

#[test]
fn redacted_by_default_everywhere() {
    let key = project_key(15);
    let dir = tree(&[("a.py", format!("k = '{key}'\n").as_bytes())]);
    let tail = &key[key.len() - 4..];
    for format in ["human", "json", "jsonl", "sarif"] {
        let out = kh()
            .current_dir(dir.path())
            .args(["scan", "--format", format])
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(!stdout.contains(&key[8..40]), "{format} leaks the key");
        assert!(
            stdout.contains(&format!("sk-proj-…{tail}")),
            "{format}: {stdout}"
        );
    }
}

#[test]
fn the_same_key_in_five_files_is_five_findings_with_one_fingerprint() {
    let key = project_key(16);
    let text = format!("k={key}\n");
    let files: Vec<(String, Vec<u8>)> = (0..5)
        .map(|i| (format!("f{i}.txt"), text.clone().into_bytes()))
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    let dir = tree(&refs);
    let (_, report) = scan_json(dir.path(), &[]);
    assert_eq!(report.findings.len(), 5);
    let paths: Vec<&str> = report.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"]);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.fingerprint == report.findings[0].fingerprint)
    );
}
