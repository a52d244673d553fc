//! Turns the built-in rule files (`rules/*.toml`) into JSON at build time, without their
//! `[[verify]]` tables (`src/verify` reads those from the TOML): parsing the 100 KB of TOML took
//! 10 M instructions of every run's start-up, a third of a pre-commit hook's, where serde_json
//! reads the same rules in a fifth of that. `src/rules` embeds the JSON (`BUILTIN_JSON`) and a
//! test checks that it loads the rules the TOML holds.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-changed=rules");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir("rules")
        .expect("the rules folder")
        .map(|e| e.expect("an entry of the rules folder").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut list = String::from("&[\n");
    for file in &files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a UTF-8 file name");
        let json = out.join(name).with_extension("json");
        std::fs::write(&json, rules_json(file)).expect("writing to OUT_DIR");
        writeln!(
            list,
            "    ({name:?}, include_str!({:?})),",
            json.display().to_string()
        )
        .expect("writing to a String");
    }
    list.push(']');
    std::fs::write(out.join("builtin_json.rs"), list).expect("writing to OUT_DIR");
}

/// The rule file at `path` as JSON, less its `[[verify]]` tables.
fn rules_json(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("a built-in rule file");
    let mut table: toml::Table = toml::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not a TOML rule file: {e}", path.display()));
    table.remove("verify");
    serde_json::to_string(&table).expect("TOML values are JSON values")
}
