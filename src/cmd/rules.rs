//! `keyhound rules list` and `keyhound rules check`.

use crate::config::RuleSource;
use crate::exit::Exit;
use crate::output::ignore_broken_pipe;
use crate::pipeline::load_rules;
use std::io::{self, Write as _};

/// `keyhound rules list`: the active rules, by provider.
pub fn list(src: &RuleSource) -> anyhow::Result<Exit> {
    let set = load_rules(src)?;
    let mut out = io::stdout().lock();
    let listed = set.providers().into_iter().try_for_each(|provider| {
        let rules: Vec<_> = set
            .rules
            .iter()
            .filter(|r| r.spec.provider == provider)
            .collect();
        writeln!(out, "# {provider} ({})", plural(rules.len(), "rule"))?;
        rules.iter().try_for_each(|r| {
            writeln!(
                out,
                "{:<34} {:<16} {}  [{}]",
                r.spec.id, r.spec.kind, r.spec.description, r.origin
            )
        })
    });
    ignore_broken_pipe(listed)?;
    Ok(Exit::Clean)
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// `keyhound rules check`: every rule valid and every example behaving.
pub fn check(src: &RuleSource) -> anyhow::Result<Exit> {
    let report = crate::matcher::check_rules(load_rules(src)?);
    for (id, problem) in &report.failures {
        crate::diag::eprint(&format!("keyhound: rule {id}: {problem}"));
    }
    crate::diag::print(&format!(
        "{} rules, {} examples checked: {}",
        report.rules,
        report.examples,
        if report.ok() {
            "all pass".to_string()
        } else {
            format!("{} failures", report.failures.len())
        }
    ));
    Ok(if report.ok() {
        Exit::Clean
    } else {
        Exit::Error
    })
}
