//! `action.yml`: inputs reach the scripts only through the environment, and it runs `keyhound ci`.

use super::*;

// ---- action.yml

/// The script of every `run:` key: a block scalar's lines, or the inline value.
fn run_blocks(yml: &str) -> Vec<String> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let lines: Vec<&str> = yml.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        let key = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        let Some(value) = key.strip_prefix("run:") else {
            i += 1;
            continue;
        };
        let value = value.trim();
        if value.starts_with('|') || value.starts_with('>') {
            let at = indent(lines[i]);
            let mut block = String::new();
            i += 1;
            while i < lines.len() && (lines[i].trim().is_empty() || indent(lines[i]) > at) {
                block.push_str(lines[i]);
                block.push('\n');
                i += 1;
            }
            blocks.push(block);
        } else {
            blocks.push(value.to_string());
            i += 1;
        }
    }
    blocks
}

#[test]
fn action_yml_passes_inputs_only_through_env_and_runs_keyhound_ci() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let yml = std::fs::read_to_string(path).expect("action.yml exists");
    assert!(yml.contains("using: composite"), "a composite action");
    let blocks = run_blocks(&yml);
    assert!(blocks.len() >= 2, "install and scan steps: {blocks:#?}");
    for b in &blocks {
        assert!(
            !b.contains("${{"),
            "an expression inside a script is evaluated into it before the shell runs; \
             pass it through env: instead:\n{b}"
        );
    }
    assert!(
        blocks
            .iter()
            .any(|b| b.contains("scripts/install-action.sh\" \\\n")
                && b.contains("https://github.com/keyhound/keyhound/releases/download")),
        "{blocks:#?}"
    );
    let runs_ci = |b: &String| {
        b.lines().any(|l| l.trim_start().starts_with("keyhound ci"))
            || (b.contains("args=(ci)")
                && b.lines()
                    .any(|l| l.trim_start().starts_with("keyhound \"${args[@]}\"")))
    };
    assert!(blocks.iter().any(runs_ci), "{blocks:#?}");
    // Every input reaches a script through a variable.
    for input in ["args", "sarif", "verify", "fail-on"] {
        assert!(
            yml.lines().any(|l| l.trim_start().starts_with("KEYHOUND_")
                && l.contains(&format!("${{{{ inputs.{input} }}}}"))),
            "{input}"
        );
    }
}
