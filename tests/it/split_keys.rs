//! Keys people split or disguise (issue 18): escaped and doubly encoded keys, concatenated string
//! literals, keys across lines. Each form has a positive and a decoy of the same shape; keys are
//! made at test time from templates, never committed.

use crate::util::*;

/// Scans one file holding `text` and returns the exit code and report.
fn scan_text(name: &str, text: &str, args: &[&str]) -> (i32, Report) {
    let dir = tree(&[(name, text.as_bytes())]);
    scan_json(dir.path(), args)
}

/// The only finding's secret, decodings and (line, column).
fn only(name: &str, text: &str) -> (String, Vec<String>, (u64, u64)) {
    let (code, report) = scan_text(name, text, &[]);
    assert_eq!(code, 1, "{name}:\n{text}\n{report:#?}");
    assert_eq!(report.findings.len(), 1, "{name}:\n{text}\n{report:#?}");
    let f = &report.findings[0];
    (f.secret.clone(), f.decoded.clone(), (f.line, f.column))
}

fn nothing(name: &str, text: &str) {
    let (code, report) = scan_text(name, text, &[]);
    assert!(
        report.findings.is_empty() && code == 0,
        "{name}:\n{text}\n{report:#?}"
    );
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn each(s: &str, f: impl Fn(u8) -> String) -> String {
    s.bytes().map(f).collect()
}

/// A project key with `-` and `_` in its body, which some URL and JSON encoders escape.
fn slashed_key(seed: u64) -> String {
    let k = project_key(seed);
    format!("{}-_{}", &k[..20], &k[22..])
}

/// `key` with its body's `-` and `_` escaped by `f`.
fn escape_body(key: &str, f: impl Fn(char) -> Option<&'static str>) -> String {
    let body: String = key[8..]
        .chars()
        .map(|c| f(c).map_or(c.to_string(), str::to_string))
        .collect();
    format!("{}{body}", &key[..8])
}

fn url_body(key: &str) -> String {
    escape_body(key, |c| match c {
        '-' => Some("%2D"),
        '_' => Some("%5F"),
        _ => None,
    })
}

fn json_body(key: &str) -> String {
    escape_body(key, |c| (c == '_').then_some("\\u005f"))
}

#[test]
fn hex_and_escaped_keys_are_found_with_their_decoding() {
    let key = project_key(1801);
    let cases = [
        ("k.txt", format!("KEY={}\n", hex(&key)), "hex"),
        (
            "k.py",
            format!("KEY = \"{}\"\n", each(&key, |b| format!("\\x{b:02x}"))),
            "hex",
        ),
        (
            "k.json",
            format!("{{\"k\": \"{}\"}}\n", each(&key, |b| format!("\\u{b:04x}"))),
            "json-escape",
        ),
        (
            "k.html",
            format!("<p>{}</p>\n", each(&key, |b| format!("&#{b};"))),
            "html-entity",
        ),
        (
            "k.html",
            format!("<p>{}</p>\n", each(&key, |b| format!("&#x{b:x};"))),
            "html-entity",
        ),
        (
            "k.log",
            format!("GET /?k={}\n", each(&key, |b| format!("%{b:02X}"))),
            "url",
        ),
    ];
    for (name, text, layer) in cases {
        let (secret, decoded, _) = only(name, &text);
        assert_eq!(
            (secret.as_str(), decoded),
            (key.as_str(), vec![layer.to_string()]),
            "{text}"
        );
    }
}

/// Escapes written in the other case: `\X73`, `&#X73;`, and `%6e` (a key whose first byte's
/// escape holds a letter, so that the lower-case opening differs from the upper-case one).
#[test]
fn escapes_in_either_case_are_found() {
    let key = project_key(1803);
    let npm = make("npm_{alnum:30}{crc32:30}", 1803);
    let cases = [
        (
            &key,
            format!("KEY = \"{}\"\n", each(&key, |b| format!("\\X{b:02X}"))),
            "hex",
        ),
        (
            &key,
            format!("<p>{}</p>\n", each(&key, |b| format!("&#X{b:X};"))),
            "html-entity",
        ),
        (
            &npm,
            format!("GET /?t={}\n", each(&npm, |b| format!("%{b:02x}"))),
            "url",
        ),
    ];
    for (want, text, layer) in cases {
        let (secret, decoded, _) = only("k.txt", &text);
        assert_eq!(
            (secret.as_str(), decoded),
            (want.as_str(), vec![layer.to_string()]),
            "{text}"
        );
    }
}

#[test]
fn escaped_decoys_stay_quiet() {
    let decoy = format!("sk-proj-{}T3BlbkFJ{}", "A".repeat(74), "B".repeat(74));
    let off_centre = {
        let k = project_key(1802);
        format!("{}{}", &k[..80], &k[84..])
    };
    for d in [decoy, off_centre] {
        nothing("h.txt", &format!("KEY={}\n", hex(&d)));
        nothing(
            "j.json",
            &format!("{{\"k\": \"{}\"}}\n", each(&d, |b| format!("\\u{b:04x}"))),
        );
        nothing(
            "u.log",
            &format!("?k={}\n", each(&d, |b| format!("%{b:02X}"))),
        );
    }
}

#[test]
fn a_key_split_by_inline_escapes_is_found() {
    let key = slashed_key(1803);
    let url = url_body(&key);
    let (secret, decoded, pos) = only("q.log", &format!("GET /v1?key={url}&x=1\n"));
    assert_eq!(
        (secret, decoded, pos),
        (key.clone(), vec!["url".to_string()], (1, 13))
    );
    let json = json_body(&key);
    let (secret, decoded, _) = only("c.json", &format!("{{\"key\": \"{json}\"}}\n"));
    assert_eq!((secret, decoded), (key, vec!["json-escape".to_string()]));
}

#[test]
fn nested_encodings_are_found_to_depth_two_and_no_deeper_than_asked() {
    let key = slashed_key(1804);
    let url = url_body(&key);
    let b64_url = b64(format!("token={url}&scope=all").as_bytes());
    let (secret, decoded, _) = only("s.yaml", &format!("data:\n  auth: {b64_url}\n"));
    assert_eq!(
        (secret, decoded),
        (key.clone(), vec!["base64".into(), "url".into()])
    );

    let inner = format!("{{\"key\": \"{}\"}}", json_body(&key));
    let outer = serde_json::to_string(&serde_json::json!({ "config": inner })).unwrap();
    let (secret, decoded, _) = only("d.json", &outer);
    assert_eq!(
        (secret, decoded),
        (
            key.clone(),
            vec!["json-escape".into(), "json-escape".into()]
        )
    );

    let double = b64(b64(format!("OPENAI_API_KEY={key}\n").as_bytes()).as_bytes());
    let text = format!("blob: {double}\n");
    let (secret, decoded, _) = only("b.yaml", &text);
    assert_eq!(
        (secret, decoded),
        (key, vec!["base64".into(), "base64".into()])
    );
    let (code, report) = scan_text("b.yaml", &text, &["--max-decode-depth", "1"]);
    assert_eq!((code, report.findings.len()), (0, 0));
}

#[test]
fn a_decode_depth_over_four_is_a_usage_error() {
    let dir = tree(&[("a.txt", b"x")]);
    let out = run_in(dir.path(), &["scan", "--max-decode-depth", "5", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("more than 4"));
    let out = run_in(dir.path(), &["scan", "--max-decode-depth", "4", "."]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn weak_keys_right_after_a_url_escape_are_found() {
    let mistral = make("{alnum:30}42", 1806);
    let cohere = make("{alnum:38}42", 1807);
    for (provider, key) in [("mistral", &mistral), ("cohere", &cohere)] {
        let text = format!("GET https://proxy.example/{provider}?q=a&api_key%3D{key}%26next=1\n");
        let (code, report) = scan_text("access.log", &text, &[]);
        assert_eq!(code, 1, "{text}\n{report:#?}");
        assert_eq!(secrets(&report), vec![key.clone()], "{text}");
    }
}
