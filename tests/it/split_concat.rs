//! Keys split over string literals (issue 18): `fixtures/concat/` holds one snippet per language
//! and form (`+`, `.`, `..`, `||`, `&` with VB's `_`, adjacency, `concat!`, `String.Concat`,
//! `[…].join("")`, CloudFormation's `!Join`, a notebook's escaped quotes) whose `@KEY@`,
//! `@KEY2@`, … slots take a key's pieces. Each must give the key once, at its first piece, with
//! `decoded: ["concatenation"]` and `pieces`; the same shapes filled with an off-centre key, a
//! placeholder, a bad checksum, two whole keys or a key's start and unrelated text must not.

use crate::util::*;
use std::collections::BTreeMap;

/// The key kinds the snippets are filled with: a marker-centred key and a checksummed one.
pub const TEMPLATES: &[&str] = &[
    "sk-proj-{b64url:74}T3BlbkFJ{b64url:74}",
    "ghp_{alnum:30}{crc32:30}",
];

/// `key` cut into `n` pieces of about equal length.
pub fn cut(key: &str, n: usize) -> Vec<String> {
    let len = key.len();
    (0..n)
        .map(|i| key[i * len / n..(i + 1) * len / n].to_string())
        .collect()
}

/// Every snippet of `fixtures/DIR/`, each filled by `fill(n, seed)` (its `n` slots' pieces), in
/// one tree; returns the tree and, per file name, the fixture, the text and the pieces.
pub fn tree_of(dir: &str, fill: &Fill<'_>) -> (tempfile::TempDir, Files) {
    let mut files = Files::new();
    for (i, f) in fixtures(dir).iter().enumerate() {
        let n = f.key_slots();
        let pieces = fill(n, 9200 + i as u64);
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        let text = f.render(9300 + i as u64, &refs);
        files.insert(f.name.clone(), (f.id.clone(), text, pieces));
    }
    let owned: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(name, (_, text, _))| (name.clone(), text.clone().into_bytes()))
        .collect();
    (tree_owned(&owned), files)
}

/// The pieces for `n` slots, from a seed.
pub type Fill<'a> = dyn Fn(usize, u64) -> Vec<String> + 'a;

pub type Files = BTreeMap<String, (String, String, Vec<String>)>;

pub fn by_path(report: &Report) -> BTreeMap<String, Vec<Finding>> {
    let mut out: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for f in &report.findings {
        out.entry(f.path.clone()).or_default().push(f.clone());
    }
    out
}

/// Asserts that each file of `files` gave its key once, at its first piece, as `layer` with its
/// number of pieces, and that nothing else was found.
pub fn assert_each_found_once(files: &Files, report: &Report, layer: &str, what: &str) {
    let found = by_path(report);
    for (name, (id, text, pieces)) in files {
        let got = found.get(name).map_or(&[][..], Vec::as_slice);
        assert_eq!(got.len(), 1, "fixtures/{id} with {what}:\n{text}\n{got:#?}");
        let f = &got[0];
        assert_eq!(f.secret, pieces.concat(), "fixtures/{id}");
        // A notebook's key is also behind its JSON string's escapes (`json-escape`).
        assert!(
            f.decoded.iter().any(|d| d == layer),
            "fixtures/{id}: {:?}",
            f.decoded
        );
        let n = pieces.iter().filter(|p| !p.is_empty()).count();
        assert_eq!(f.pieces, Some(n as u64), "fixtures/{id}");
        let at = find_once(text.as_bytes(), pieces[0].as_bytes());
        assert_eq!(
            (f.line, f.column),
            line_col(text.as_bytes(), at),
            "fixtures/{id}"
        );
        assert_eq!(f.offset, at as u64, "fixtures/{id}");
    }
    assert_eq!(found.len(), files.len(), "{:#?}", found.keys());
}

/// Fills every snippet of `fixtures/DIR/` with the pieces of a key of each of [`TEMPLATES`]
/// (seeds `seed + step * t` for template `t`): each file gives its key once, as `layer`.
pub fn assert_every_template_found_once(dir: &str, layer: &str, step: u64) {
    for (t, template) in TEMPLATES.iter().enumerate() {
        let key_of = |seed: u64| make(template, seed + step * t as u64);
        let (tree, files) = tree_of(dir, &|n, seed| cut(&key_of(seed), n));
        let (code, report) = scan_json(tree.path(), &[]);
        assert_eq!(code, 1, "{template}");
        assert_each_found_once(&files, &report, layer, template);
    }
}

/// With `--no-join`, the snippets of `fixtures/DIR/` filled with a key's pieces give nothing.
pub fn assert_no_join_finds_nothing(dir: &str) {
    let (tree, _) = tree_of(dir, &|n, seed| cut(&project_key(seed), n));
    let (code, report) = scan_json(tree.path(), &["--no-join"]);
    assert_eq!(
        (code, report.findings.len()),
        (0, 0),
        "{dir}: {:#?}",
        report.findings
    );
}

#[test]
fn split_keys_are_found_once_at_their_first_piece_in_every_language() {
    assert_every_template_found_once("concat", "concatenation", 100);
}

#[test]
fn no_join_finds_only_whole_keys() {
    assert_no_join_finds_nothing("concat");
}

/// Fills every snippet of `fixtures/DIR/` with decoys of a split key's shape: an off-centre
/// key, a placeholder, a bad checksum, a key's start and unrelated text, the halves of two keys.
pub fn assert_decoys_give_nothing(dir: &str) {
    let decoys: &[(&str, &Fill)] = &[
        ("off-centre", &|n, seed| {
            cut(&make("sk-proj-{b64url:74}T3BlbkFJ{b64url:70}", seed), n)
        }),
        ("placeholder", &|n, seed| {
            cut(&make("sk-proj-{repeat:A:74}T3BlbkFJ{repeat:B:74}", seed), n)
        }),
        ("bad checksum", &|n, seed| {
            cut(&make("ghp_{alnum:36}", seed), n)
        }),
        ("start and unrelated text", &|n, seed| {
            let key = project_key(seed);
            let mut pieces = cut(&key[..key.len() - 30], n - 1);
            pieces.push(make("{alnum:12}", seed));
            pieces
        }),
        ("two different halves", &|n, seed| {
            let (a, b) = (
                project_key(seed),
                make("sk-proj-{b64url:70}T3BlbkFJ{b64url:70}", seed),
            );
            let mut pieces = cut(&a[..a.len() / 2], n - 1);
            pieces.push(b[b.len() / 2..].to_string());
            pieces
        }),
    ];
    for (what, fill) in decoys {
        let (tree, files) = tree_of(dir, fill);
        let (code, report) = scan_json(tree.path(), &[]);
        assert_eq!(
            (code, report.findings.len()),
            (0, 0),
            "{dir}, {what}: {:#?}\n{:#?}",
            report.findings,
            files.values().map(|f| &f.1).collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_same_shapes_with_decoys_give_nothing() {
    assert_decoys_give_nothing("concat");
}

#[test]
fn two_whole_keys_side_by_side_are_two_literal_findings() {
    let (dir, files) = tree_of("concat", &|n, seed| {
        let mut pieces = vec![project_key(seed), project_key(seed + 50)];
        pieces.resize(n.max(2), String::new());
        pieces.truncate(n);
        pieces
    });
    let (_, report) = scan_json(dir.path(), &[]);
    for (name, got) in by_path(&report) {
        let (id, _, pieces) = &files[&name];
        let want: Vec<&String> = pieces.iter().filter(|p| !p.is_empty()).collect();
        let secrets: Vec<&String> = got.iter().map(|f| &f.secret).collect();
        assert_eq!(secrets, want, "fixtures/{id}");
        assert!(
            got.iter()
                .all(|f| f.decoded.is_empty() && f.pieces.is_none()),
            "fixtures/{id}"
        );
    }
}

/// Runs `keyhound ARGS --format json --show-secrets` in `dir` with `stdin`; the report.
fn report_of(dir: &std::path::Path, args: &[&str], stdin: &str) -> Report {
    let out = kh()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json", "--show-secrets"])
        .write_stdin(stdin)
        .output()
        .expect("keyhound runs");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: bad JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn split_keys_are_found_on_stdin_staged_in_ranges_and_in_history() {
    let key = project_key(9400);
    let pieces = cut(&key, 2);
    let text = format!(
        "# app\nKEY = \"{}\" + \\\n    \"{}\"\n",
        pieces[0], pieces[1]
    );
    let dir = committed_repo(&[("README.md", b"base\n")], "base");
    let git = |args: &[&str]| git_run(dir.path(), args);
    let base = git(&["rev-parse", "HEAD"]);
    std::fs::write(dir.path().join("app.py"), &text).expect("write");
    git(&["add", "app.py"]);
    let check = |what: &str, report: &Report| {
        assert_eq!(report.findings.len(), 1, "{what}: {:#?}", report.findings);
        let f = &report.findings[0];
        assert_eq!(
            (
                f.secret.as_str(),
                f.decoded.as_slice(),
                f.pieces,
                f.line,
                f.column
            ),
            (
                key.as_str(),
                &["concatenation".to_string()][..],
                Some(2),
                2,
                8
            ),
            "{what}"
        );
    };
    check("stdin", &report_of(dir.path(), &["scan", "-"], &text));
    check("staged", &report_of(dir.path(), &["git", "--staged"], ""));
    git(&["commit", "-qm", "add app"]);
    let range = format!("{base}..HEAD");
    check(
        "range",
        &report_of(dir.path(), &["git", "--range", &range], ""),
    );
    std::fs::remove_file(dir.path().join("app.py")).expect("rm");
    git(&["commit", "-qam", "remove app"]);
    check("history", &report_of(dir.path(), &["git"], ""));
}

/// The syntaxes the property tests split keys in: each joins `pieces` into one statement.
/// Joins pieces into a statement of one syntax.
type Syntax = fn(&[&str]) -> String;

const SYNTAXES: &[(&str, Syntax)] = &[
    ("py", |p| format!("KEY = \"{}\"\n", p.join("\" + \""))),
    ("php", |p| {
        format!("<?php\n$key = '{}';\n", p.join("' .\n    '"))
    }),
    ("sh", |p| format!("export KEY=\"{}\"\n", p.join("\"\""))),
    ("js", |p| {
        format!("const k = [`{}`].join('');\n", p.join("`, `"))
    }),
    ("c", |p| {
        format!("#define KEY \"{}\"\n", p.join("\" \\\n    \""))
    }),
];

/// The syntax `i` with `pieces` joined, and the line and column of the first piece.
fn split_text(i: usize, pieces: &[&str]) -> (String, (u64, u64)) {
    let text = SYNTAXES[i].1(pieces);
    // The first piece follows the statement's first quote.
    let at = text.find(['"', '\'', '`']).expect("a quote") + 1;
    let place = line_col(text.as_bytes(), at);
    (text, place)
}

#[test]
fn a_key_cut_in_two_at_every_offset_is_found_once() {
    for (t, template) in TEMPLATES.iter().enumerate() {
        let key = make(template, 9600 + t as u64);
        let mut files = Vec::new();
        let mut want = BTreeMap::new();
        for (s, (ext, _)) in SYNTAXES.iter().enumerate() {
            for cut in 1..key.len() {
                let (text, at) = split_text(s, &[&key[..cut], &key[cut..]]);
                let name = format!("cut{cut:03}.{ext}");
                want.insert(name.clone(), at);
                files.push((name, text.into_bytes()));
            }
        }
        let dir = tree_owned(&files);
        let (_, report) = scan_json(dir.path(), &[]);
        let mut got = BTreeMap::new();
        for f in &report.findings {
            assert_eq!(
                (f.secret.as_str(), f.pieces),
                (key.as_str(), Some(2)),
                "{}",
                f.path
            );
            assert!(
                got.insert(f.path.clone(), (f.line, f.column)).is_none(),
                "{} twice",
                f.path
            );
        }
        let wrong: Vec<_> = want
            .iter()
            .filter(|(name, at)| got.get(*name) != Some(at))
            .map(|(name, at)| (name, at, got.get(name)))
            .collect();
        assert!(wrong.is_empty(), "{template}: {wrong:?}");
        assert_eq!(got.len(), want.len(), "{template}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// A key cut at 2 or 3 sampled offsets (3 or 4 pieces), in any syntax, is found once.
    #[test]
    fn a_key_cut_into_three_or_four_pieces_is_found_once(
        seed in 0u64..1_000_000,
        t in 0..TEMPLATES.len(),
        s in 0..SYNTAXES.len(),
        cuts in proptest::collection::btree_set(1usize..40, 2..=3),
    ) {
        let key = make(TEMPLATES[t], seed);
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c * key.len() / 40).collect();
        bounds.dedup();
        bounds.retain(|&c| c > 0 && c < key.len());
        let mut pieces = Vec::new();
        let mut from = 0;
        for &c in bounds.iter().chain([key.len()].iter()) {
            pieces.push(&key[from..c]);
            from = c;
        }
        let (text, at) = split_text(s, &pieces);
        let out = kh()
            .args(["scan", "-", "--format", "json", "--show-secrets"])
            .write_stdin(text.clone())
            .output()
            .expect("keyhound runs");
        let report: Report = serde_json::from_slice(&out.stdout).expect("JSON");
        let got: Vec<_> = report
            .findings
            .iter()
            .map(|f| (f.secret.clone(), f.pieces, (f.line, f.column)))
            .collect();
        proptest::prop_assert_eq!(got, vec![(key.clone(), Some(pieces.len() as u64), at)], "{}", text);
    }
}
