//! Issue 18: a line wrap inside a nested encoding. Text wrapped at 76 columns (a URL-encoded
//! query, base64 as `base64` writes it), then base64-encoded again on one line: the wraps are
//! inside the outer encoding, and the key, cut by one, is put back together from the decoded
//! lines.

use crate::util::{b64, project_key, scan_json, tree_owned};

/// `text` wrapped at `width` columns with `\n`, ending in a line break.
pub fn wrap(text: &str, width: usize) -> String {
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(width)
        .map(|c| std::str::from_utf8(c).expect("ASCII"))
        .collect();
    format!("{}\n", lines.join("\n"))
}

/// `OPENAI_API_KEY=<key>&scope=all` as a query string escapes it.
fn url_encoded(pad: usize, key: &str) -> String {
    let key = key.replace('-', "%2D").replace('_', "%5F");
    format!("{}OPENAI_API_KEY%3D{key}%26scope%3Dall", "x".repeat(pad))
}

/// A Kubernetes Secret whose value is `inner` in base64, on one line.
pub fn secret(inner: &str) -> Vec<u8> {
    format!(
        "apiVersion: v1\nkind: Secret\ndata:\n  query: {}\n",
        b64(inner.as_bytes())
    )
    .into_bytes()
}

#[test]
fn base64_of_a_wrapped_url_encoded_key_is_put_back_together() {
    let mut files = Vec::new();
    let mut keys = std::collections::BTreeMap::new();
    for pad in 0..40 {
        let key = project_key(1900 + pad as u64);
        let inner = wrap(&url_encoded(pad, &key), 76);
        // A wrap inside the keyword leaves nothing to find the outer encoding by.
        if !inner.contains("T3BlbkFJ") {
            continue;
        }
        let name = format!("k{pad:02}.yaml");
        files.push((name.clone(), secret(&inner)));
        keys.insert(name, key);
    }
    assert!(keys.len() > 30);
    let dir = tree_owned(&files);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{:?}", report.skipped);
    let got: std::collections::BTreeMap<String, String> = report
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.secret.clone()))
        .collect();
    assert_eq!(got, keys);
    assert_eq!(report.findings.len(), keys.len());
    for f in &report.findings {
        // The key's escapes are decoded before or after the lines are joined, as they fall.
        let mut decoded = f.decoded.clone();
        decoded.sort();
        assert_eq!(decoded, ["base64", "line-join", "url"], "{}", f.path);
        assert_eq!(f.decoded[0], "base64", "{}", f.path);
        assert!(
            matches!(f.pieces, Some(2..=4)),
            "{}: {:?}",
            f.path,
            f.pieces
        );
        assert_eq!(f.line, 4, "{}", f.path);
    }
}

#[test]
fn base64_of_base64_wrapped_at_76_columns_is_found() {
    let key = project_key(1950);
    let env = format!("# app\nOPENAI_API_KEY={key}\nREGION=eu-west-1\n");
    let inner = wrap(&b64(env.as_bytes()), 76);
    let dir = tree_owned(&[("s.yaml".to_string(), secret(&inner))]);
    let (_, report) = scan_json(dir.path(), &[]);
    let found: Vec<(&str, Vec<String>)> = report
        .findings
        .iter()
        .map(|f| (f.secret.as_str(), f.decoded.clone()))
        .collect();
    assert_eq!(
        found,
        [(key.as_str(), vec!["base64".into(), "base64".into()])]
    );
}

#[test]
fn wrapped_decoys_and_lines_of_one_width_stay_apart() {
    let key = project_key(1960);
    let mid = key.find("T3BlbkFJ").expect("marker");
    // Off centre: the second half is cut short, so the marker is not in the middle.
    let off = format!("{}{}", &key[..mid + 8], &key[mid + 8..key.len() - 12]);
    let placeholder = format!("sk-proj-{}T3BlbkFJ{}", "x".repeat(74), "x".repeat(74));
    // Two lines of one width, a whole key on each: found whole, once each, never joined.
    let (k1, k2) = (project_key(1961), project_key(1962));
    let env = format!("A_KEY={k1}\nB_KEY={k2}\n");
    let files = vec![
        (
            "off.yaml".to_string(),
            secret(&wrap(&url_encoded(3, &off), 76)),
        ),
        (
            "ph.yaml".to_string(),
            secret(&wrap(&url_encoded(3, &placeholder), 76)),
        ),
        ("two.yaml".to_string(), secret(&env)),
    ];
    let dir = tree_owned(&files);
    let (_, report) = scan_json(dir.path(), &[]);
    let found: Vec<(&str, &str, Option<u64>)> = report
        .findings
        .iter()
        .map(|f| (f.path.as_str(), f.secret.as_str(), f.pieces))
        .collect();
    assert_eq!(
        found,
        [
            ("two.yaml", k1.as_str(), None),
            ("two.yaml", k2.as_str(), None)
        ]
    );
}
