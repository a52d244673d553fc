//! Issue 18: base64 of base64, as `base64 | base64` writes it into a Kubernetes Secret. Keys
//! whose keyword is 4 or 5 characters long (`xoxp-`, `npm_`, `ASIA`) are found as well as
//! longer ones, in every alignment of the key in both encodings; the inner base64 may be wrapped
//! at 76 columns anywhere, also inside the keyword's inner form; and base64 of base64 holding a
//! placeholder, or no key, is no finding.

use crate::split_nested::{secret, wrap};
use crate::util::{b64, make, project_key, scan_json, tree_owned};
use std::collections::BTreeMap;

/// Keys whose keyword is shorter than 6 characters, by rule.
const SHORT: &[(&str, &str)] = &[
    (
        "kh.slack.user",
        "xoxp-{digit:12}-{digit:12}-{digit:13}-{hex:32}",
    ),
    ("kh.slack.bot-legacy", "xoxb-{digit:11}-{alnum:24}"),
    ("kh.npm.access", "npm_{alnum:30}{crc32:30}"),
    ("kh.gitlab.feed", "glft-{b64url:20}"),
    ("kh.aws.session-key", "ASIA{upper:16}"),
    ("kh.perplexity.api", "pplx-{alnum:48}"),
    ("kh.github.oauth", "gho_{alnum:30}{crc32:30}"),
];

/// Each file's finding as (rule, secret, decodings).
fn found(files: &[(String, Vec<u8>)]) -> BTreeMap<String, Vec<(String, String, Vec<String>)>> {
    let dir = tree_owned(files);
    let (_, report) = scan_json(dir.path(), &[]);
    let mut out: BTreeMap<String, Vec<(String, String, Vec<String>)>> = BTreeMap::new();
    for f in report.findings {
        out.entry(f.path)
            .or_default()
            .push((f.rule, f.secret, f.decoded));
    }
    out
}

#[test]
fn short_keywords_are_found_in_base64_of_base64_in_every_alignment() {
    let mut files = Vec::new();
    let mut want = BTreeMap::new();
    for (i, (rule, template)) in SHORT.iter().enumerate() {
        // Names of 9 lengths: the key at each offset modulo 3 in the inner text, and its inner
        // form at each offset modulo 3 in the outer one.
        for pad in 0..9 {
            let key = make(template, 8000 + (9 * i + pad) as u64);
            let env = format!("{}_TOKEN={key}\n", "N".repeat(pad + 1));
            let name = format!("k{i}-{pad}.yaml");
            files.push((name.clone(), secret(&b64(env.as_bytes()))));
            want.insert(
                name,
                vec![(
                    rule.to_string(),
                    key,
                    vec!["base64".into(), "base64".into()],
                )],
            );
        }
    }
    assert_eq!(found(&files), want);
}

#[test]
fn placeholders_and_text_in_base64_of_base64_are_no_findings() {
    let mut files = Vec::new();
    for (i, value) in [
        "xoxb-your-token",
        "xoxp-000000000000-000000000000-0000000000000-00000000000000000000000000000000",
        "npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "glft-xxxxxxxxxxxxxxxxxxxx",
        "ASIAAAAAAAAAAAAAAAAA",
        "ASIA is a continent; xoxp- starts a Slack user token; npm_ an npm one",
    ]
    .iter()
    .enumerate()
    {
        let env = format!("TOKEN={value}\nREGION=eu-west-1\n");
        files.push((format!("d{i}.yaml"), secret(&b64(env.as_bytes()))));
        files.push((
            format!("w{i}.yaml"),
            secret(&wrap(&b64(env.as_bytes()), 76)),
        ));
    }
    assert_eq!(found(&files), BTreeMap::new());
}

#[test]
fn a_wrap_inside_the_inner_form_of_the_keyword_leaves_the_key_found() {
    let mut files = Vec::new();
    let mut want = BTreeMap::new();
    // Every offset of the wrap against the key's marker, modulo the 76 columns' quanta.
    for pad in 0..40 {
        let key = project_key(2100 + pad as u64);
        let env = format!("{}OPENAI_API_KEY={key}\n", "x".repeat(pad));
        let name = format!("k{pad:02}.yaml");
        files.push((name.clone(), secret(&wrap(&b64(env.as_bytes()), 76))));
        want.insert(
            name,
            vec![(
                "kh.openai.project".to_string(),
                key,
                vec!["base64".into(), "base64".into()],
            )],
        );
    }
    assert_eq!(found(&files), want);
}
