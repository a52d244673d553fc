//! The layering ARCHITECTURE.md states, checked on the sources: no top-level module imports one
//! of a layer above it, no import circle between top-level modules, and clap (and the `cli`
//! module) named only by `cli` and `config`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first; a module may import its own layer and those below it.
const LAYERS: &[&[&str]] = &[
    &["secret", "sanitize", "style", "output", "threads"],
    &["finding", "progress", "diag"],
    &[
        "rules",
        "matcher",
        "scan",
        "suppress",
        "verify",
        "stats",
        "report",
        "audit",
        "hooks",
        "stdin_lines",
        "exit",
    ],
    &["cli", "config"],
    &["pipeline"],
    &["ci", "cmd"],
];

/// Imports that go up a layer today, each with the issue point that removes it.
const KNOWN_UP: &[(&str, &str)] = &[];

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("src/{module}: add the new module to a layer in tests/it/layers.rs and ARCHITECTURE.md"))
}

/// Source without comments (doc comments name modules freely).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules `code` names through `crate::`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::{c, d}}`: the names at the group's first level.
            let (mut depth, mut start) = (0, true);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        out.insert(ident(&group[j..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

/// Each top-level module (`src/x.rs`, `src/x/…`) of the library, with the modules it imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if Path::new(&rel).extension().is_none_or(|e| e != "rs") || rel == "main.rs" {
                continue;
            }
            let top = rel.split('/').next().unwrap().trim_end_matches(".rs");
            let text = code(&std::fs::read_to_string(&path).unwrap());
            let mut found = imports(&text);
            found.remove(top);
            assert!(
                !text.contains("clap") || ["cli", "config"].contains(&top),
                "src/{rel} names clap: only cli and config may (ARCHITECTURE.md)"
            );
            g.entry(top.to_string()).or_default().extend(found);
        }
    }
    g
}

#[test]
fn no_module_imports_a_layer_above_it() {
    let g = graph();
    let mut wrong = Vec::new();
    for (from, tos) in &g {
        if from == "lib" {
            continue;
        }
        for to in tos {
            let up = !g.contains_key(to) || layer(to) > layer(from);
            if up && !KNOWN_UP.contains(&(from.as_str(), to.as_str())) {
                wrong.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports of a higher layer (or of lib.rs's own items): {wrong:?}"
    );
}

#[test]
fn only_config_names_the_cli_module() {
    let g = graph();
    let users: Vec<_> = (g.iter())
        .filter(|(m, tos)| tos.contains("cli") && m.as_str() != "config")
        .map(|(m, _)| m.clone())
        .collect();
    assert!(users.is_empty(), "modules naming cli: {users:?}");
}

#[test]
fn no_import_circle() {
    let g = graph();
    // Every module that reaches `m` and is reached from it shares a circle with it.
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            for to in g.get(&m).into_iter().flatten() {
                if seen.insert(to.clone()) {
                    todo.push(to.clone());
                }
            }
        }
        seen
    };
    let mut circled = Vec::new();
    for m in g.keys() {
        if reach(m).contains(m) {
            circled.push(m.clone());
        }
    }
    assert!(
        circled.is_empty(),
        "modules in an import circle: {circled:?}"
    );
}

#[test]
fn the_checker_reads_grouped_imports() {
    let found = imports("use crate::{a::{b, c}, d, e::f};\nlet x = crate::g::h();");
    assert_eq!(found, ["a", "d", "e", "g"].map(String::from).into());
}
