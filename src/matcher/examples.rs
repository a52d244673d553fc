//! `keyhound rules check`: every rule validated, every example run through the real matcher.
//! Positive examples must be found by their rule; negative examples by no rule of the same
//! provider (a string one provider must not claim may well be another's key).

use super::Matcher;
use crate::rules::RuleSet;
use crate::rules::template::{Rng, expand};
use std::sync::Arc;

/// Seeds each example template is expanded with.
const SEEDS: std::ops::Range<u64> = 1..5;

/// The outcome of checking every rule.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// `(rule id, problem)` for each failure.
    pub failures: Vec<(String, String)>,
    pub rules: usize,
    pub examples: usize,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Validates every rule of `rules` and runs its examples.
pub fn check_rules(rules: Arc<RuleSet>) -> CheckReport {
    let matcher = Matcher::new(rules.clone(), 1);
    let mut report = CheckReport {
        rules: rules.rules.len(),
        ..Default::default()
    };
    for (ri, rule) in rules.rules.iter().enumerate() {
        let id = &rule.spec.id;
        let mut fail = |msg: String| report.failures.push((id.clone(), msg));
        if let Err(e) = rule.validate() {
            fail(e);
            continue;
        }
        if id.contains(char::is_whitespace) {
            fail("the id contains white space".into());
        }
        if !is_pascal_case(&rule.spec.name) {
            fail(format!("name {:?} is not PascalCase", rule.spec.name));
        }
        if rule.spec.examples.is_empty() && !rule.spec.placeholder {
            fail("no examples: a rule is tested by its examples".into());
        }
        let mut count = 0;
        for (template, positive) in examples(&rule.spec.examples, &rule.spec.negative_examples) {
            for seed in SEEDS {
                count += 1;
                let text = match expand(template, &mut Rng::new(seed)) {
                    Ok(t) => t,
                    Err(e) => {
                        fail(format!("example {template:?}: {e}"));
                        break;
                    }
                };
                let found = matcher.find(text.as_bytes()).keys;
                let own = found
                    .iter()
                    .find(|m| rules.rules[m.rule].spec.provider == rule.spec.provider);
                if positive && !found.iter().any(|m| m.rule == ri) {
                    fail(format!("example {template:?} (seed {seed}) is not found"));
                } else if let Some(m) = own.filter(|_| !positive) {
                    let by = &rules.rules[m.rule].spec.id;
                    fail(format!(
                        "negative example {template:?} (seed {seed}) is found by {by}"
                    ));
                }
            }
        }
        report.examples += count;
    }
    report
}

fn examples<'a>(pos: &'a [String], neg: &'a [String]) -> impl Iterator<Item = (&'a str, bool)> {
    pos.iter()
        .map(|t| (t.as_str(), true))
        .chain(neg.iter().map(|t| (t.as_str(), false)))
}

fn is_pascal_case(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_example_behaves() {
        let report = check_rules(Arc::new(RuleSet::builtin().unwrap()));
        assert!(report.ok(), "{:#?}", report.failures);
        assert!(report.examples > 50);
    }
}
