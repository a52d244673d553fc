//! Look-alikes and placeholders: each must give no finding and exit 0; the placeholders that look
//! like keys but for their body (`sk-proj-AAAA…`, runs of six) are counted in `stats.placeholders`.
//! They are OpenAI look-alikes, scanned with OpenAI's rules (`--provider openai`); where one is
//! another provider's well-formed key (Stripe's), a test says so.

use crate::util::*;

/// Scans `text` (as a file named `name`) and requires a clean scan with `placeholders` counted.
fn clean(name: &str, text: &str, placeholders: u64) -> Report {
    let dir = tree(&[(name, text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &["--provider", "openai"]);
    assert!(report.findings.is_empty(), "{:#?}\n{text}", report.findings);
    assert_eq!(code, 0);
    assert!(report.complete && report.skipped.is_empty());
    assert_eq!(report.stats.placeholders, placeholders, "{text}");
    report
}

/// Scans the decoy `fx` (as a file of its name, with its provider's rules or every provider's)
/// and requires a clean scan with its placeholders counted.
fn clean_fixture(fx: &Fixture, seed: u64) -> Report {
    let text = fx.render(seed, &[]);
    let dir = tree(&[(fx.name.as_str(), text.as_bytes())]);
    let args: Vec<&str> = fx
        .provider
        .iter()
        .flat_map(|p| ["--provider", p.as_str()])
        .collect();
    let (code, report) = scan_json(dir.path(), &args);
    let id = &fx.id;
    assert!(
        report.findings.is_empty(),
        "fixtures/{id}: {:#?}\n{text}",
        report.findings
    );
    assert_eq!(code, 0, "fixtures/{id}");
    assert!(
        report.complete && report.skipped.is_empty(),
        "fixtures/{id}"
    );
    assert_eq!(
        report.stats.placeholders, fx.placeholders,
        "fixtures/{id}:\n{text}"
    );
    report
}

/// Every decoy of `fixtures/decoys`: `sk-...`, `sk-xxxx…`, `sk-your-api-key`, redacted keys in
/// error messages, Stripe's keys, CSS classes, hashes, UUIDs, documented samples, tokens whose
/// checksum fails, placeholders.
#[test]
fn every_decoy_gives_no_finding_and_counts_its_placeholders() {
    for (seed, fx) in fixtures("decoys").iter().enumerate() {
        clean_fixture(fx, seed as u64);
    }
}

/// The OpenAI prefixes whose halves may be 20 to 80 characters.
const PREFIXES: &[&str] = &["sk-proj-", "sk-svcacct-", "sk-admin-", "sk-None-"];

#[test]
fn the_marker_off_centre() {
    let mut text = String::new();
    for (i, prefix) in PREFIXES.iter().enumerate() {
        for d in 1..=3usize {
            for (l, r) in [(74, 74 + d), (74, 74 - d), (20, 20 + d), (80 - d, 80)] {
                let seed = (i * 100 + d * 10 + l) as u64;
                text.push_str(&make(
                    &format!("{prefix}{{b64url:{l}}}T3BlbkFJ{{b64url:{r}}}\n"),
                    seed,
                ));
            }
        }
    }
    text.push_str(&make("sk-{alnum:21}T3BlbkFJ{alnum:20}\n", 1));
    text.push_str(&make("sk-{alnum:20}T3BlbkFJ{alnum:19}\n", 2));
    text.push_str(&make("sk-build-bot-{alnum:20}T3BlbkFJ{alnum:21}\n", 3));
    clean("offcentre.txt", &text, 0);
}

#[test]
fn truncated_keys() {
    let mut text = String::new();
    for (i, (_, template)) in KINDS.iter().enumerate() {
        let key = make(template, 900 + i as u64);
        for cut in 1..=12 {
            text.push_str(&format!("key = \"{}\"\n", &key[..key.len() - cut]));
        }
        // Cut inside the marker.
        let marker = key.find("T3BlbkFJ").unwrap();
        text.push_str(&format!("{}\n", &key[..marker + 5]));
    }
    clean("app.log", &text, 0);
}

#[test]
fn halves_shorter_than_20_or_longer_than_80() {
    let mut text = String::new();
    for prefix in PREFIXES {
        text.push_str(&make(
            &format!("{prefix}{{b64url:19}}T3BlbkFJ{{b64url:19}}\n"),
            1,
        ));
        text.push_str(&make(
            &format!("{prefix}{{b64url:81}}T3BlbkFJ{{b64url:81}}\n"),
            2,
        ));
    }
    clean("lengths.txt", &text, 0);
}

#[test]
fn runs_of_six_repeated_or_sequential_characters_are_counted_placeholders() {
    let mut text = String::new();
    let mut count = 0;
    for run in ["AAAAAA", "123456", "abcdef", "zyxwvu", "------"] {
        for prefix in PREFIXES {
            // In the first half, then in the second.
            text.push_str(&make(
                &format!("{prefix}{{b64url:30}}{run}{{b64url:38}}T3BlbkFJ{{b64url:74}}\n"),
                count,
            ));
            text.push_str(&make(
                &format!("{prefix}{{b64url:74}}T3BlbkFJ{{b64url:30}}{run}{{b64url:38}}\n"),
                count + 1,
            ));
            count += 2;
        }
    }
    text.push_str(&make("sk-{alnum:14}123456T3BlbkFJ{alnum:20}\n", 99));
    count += 1;
    clean("runs.txt", &text, count);
}

/// The limit is six: a run of five is still a key, so the decoy rule does not overreach.
#[test]
fn a_run_of_five_is_still_a_key() {
    let (left, right) = (0..)
        .map(|s| (make("{b64url:34}", s), make("{b64url:35}", s + 1000)))
        .find(|(l, r)| !l.ends_with(['A', 'B', '@']) && !r.starts_with(['A', 'B']))
        .unwrap();
    let key = format!(
        "sk-proj-{left}AAAAA{right}T3BlbkFJ{}",
        make("{b64url:74}", 7)
    );
    let dir = tree(&[("k.txt", format!("{key}\n").as_bytes())]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(secrets(&report), [key]);
}

/// Stripe-shaped strings, even with OpenAI's marker inside, are never OpenAI keys; well-formed,
/// they are Stripe's (test-mode keys at a low severity).
#[test]
fn stripe_keys() {
    let stripe = fixture("decoys/stripe.env");
    clean_fixture(&stripe, 5);
    let text = stripe.render(5, &[]);
    let dir = tree(&[("stripe.env", text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            "kh.stripe.secret-live",
            "kh.stripe.secret-test",
            "kh.stripe.restricted-live",
            "kh.stripe.secret-live"
        ]
    );
    assert!(report.findings.iter().all(|f| f.provider == "stripe"));
}

#[test]
fn sk_inside_a_word() {
    let mut text = String::new();
    for (i, word) in ["task", "risk", "disk", "ask", "mask", "xsk"]
        .iter()
        .enumerate()
    {
        for (j, (_, template)) in KINDS.iter().enumerate() {
            let key = make(template, (i * 10 + j) as u64);
            text.push_str(&format!("{}{} ", word, &key[2..]));
        }
        text.push('\n');
    }
    clean("words.txt", &text, 0);
}

/// A JWT whose payload mentions the marker: its base64 is decoded and holds no key.
#[test]
fn jwts() {
    let header = b64url(br#"{"alg":"RS256","typ":"JWT","kid":"a1b2"}"#);
    let payload = b64url(
        br#"{"iss":"https://auth.openai.com","aud":["https://api.openai.com/v1"],"sub":"user-T3BlbkFJ-note","exp":1900000000}"#,
    );
    let jwt = format!("{header}.{payload}.{}", make("{b64url:342}", 9));
    clean(
        "session.txt",
        &format!("Authorization: Bearer {jwt}\ncookie={jwt}; Path=/\n"),
        0,
    );
}

#[test]
fn an_all_a_placeholder_counts_one() {
    let all_a = fixture("decoys/all-a-placeholder.env");
    let report = clean_fixture(&all_a, 0);
    assert_eq!(all_a.placeholders, 1);
    let text = all_a.render(0, &[]);
    assert_eq!(report.stats.findings, 0);
    let dir = tree(&[(".env.example", text.as_bytes())]);
    let out = run_in(dir.path(), &["scan"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("0 findings; 1 placeholder ignored; keys looked for: "),
        "{stdout}"
    );
}

#[test]
fn placeholders_are_counted_once_each_across_files_and_encodings() {
    let a = make("sk-{repeat:x:20}T3BlbkFJ{repeat:x:20}", 0);
    let b = make("sk-svcacct-{repeat:A:74}T3BlbkFJ{repeat:B:74}", 0);
    let dir = tree(&[
        (".env.example", format!("OPENAI_API_KEY={a}\n").as_bytes()),
        ("README.md", format!("Like `{b}` or `{a}`.\n").as_bytes()),
        ("b64.txt", format!("v: {}\n", b64(b.as_bytes())).as_bytes()),
    ]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert!(report.findings.is_empty());
    assert_eq!(report.stats.placeholders, 4);
}

#[test]
fn coloured_human_output_keeps_the_columns_of_plain_output() {
    let key = project_key(9601);
    let dir = tree(&[("app.env", format!("OPENAI_API_KEY={key}\n").as_bytes())]);
    let human = |color: &str| {
        let out = kh()
            .current_dir(dir.path())
            .args(["scan", "--color", color, "."])
            .output()
            .expect("runs");
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let coloured = human("always");
    assert!(
        coloured.contains("\x1b["),
        "colour was asked for:\n{coloured}"
    );
    let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
        .expect("regex")
        .replace_all(&coloured, "");
    let plain = human("never");
    // The timing in the summary line differs between two runs.
    let body = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with("Scanned "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&stripped), body(&plain));
}
