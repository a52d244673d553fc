//! Keys hidden by an encoding: base64 (three alignments, URL-safe, wrapped at 64 or 76 columns as
//! Kubernetes secrets and `base64` print them) and UTF-16 in both byte orders. Each finding must
//! name its decoding and point (line, column, offset) at the encoded text in the outer file.

use crate::util::*;

/// The only finding of `report`, after checking the exit code says "found".
fn only(code: i32, report: &Report) -> &Finding {
    assert_eq!(code, 1, "{report:#?}");
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    &report.findings[0]
}

#[test]
fn a_base64_encoded_key_in_a_dotenv_value_is_found_at_the_encoded_text() {
    let key = project_key(100);
    let enc = b64(key.as_bytes());
    let text = format!("# production\nOPENAI_API_KEY_B64={enc}\nDEBUG=false\n");
    let dir = tree(&[(".env", text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &[]);
    let f = only(code, &report);
    assert_eq!(f.secret, key);
    assert_eq!(f.rule, "kh.openai.project");
    assert_eq!(f.decoded, ["base64"]);
    assert_eq!(
        (f.path.as_str(), f.archive_member.as_deref()),
        (".env", None)
    );
    assert_eq!((f.line, f.column), (2, 20));
    assert_eq!(f.offset, 13 + 19);
    assert!(report.complete);
}

/// `echo "$KEY" | base64` encodes the trailing newline too: 165 bytes, so no `=` padding ends the
/// run, and the next line of the file starts with base64 characters.
#[test]
fn base64_without_padding_followed_by_another_variable_is_found() {
    let key = project_key(101);
    let plain = format!("{key}\n");
    let enc = b64(plain.as_bytes());
    assert!(
        !enc.ends_with('=') && enc.len().is_multiple_of(4),
        "the run must not end in padding"
    );
    let text = format!("OPENAI_KEY_B64={enc}\nNEXT_SETTING=enabled\n");
    let dir = tree(&[("app.env", text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &[]);
    let f = only(code, &report);
    assert_eq!((f.secret.as_str(), f.line, f.column), (key.as_str(), 1, 16));
    assert_eq!(f.decoded, ["base64"]);
}

/// A legacy key is 51 bytes, so its base64 has no `=` padding and fills a line of 68, a multiple
/// of 4: the next line, which starts with base64 characters, must not be read as its continuation.
#[test]
fn unpadded_base64_of_a_legacy_key_followed_by_another_variable_is_found() {
    let key = make("sk-{alnum:20}T3BlbkFJ{alnum:20}", 104);
    let enc = b64(key.as_bytes());
    assert_eq!(enc.len(), 68);
    let text = format!("OPENAI_KEY_B64={enc}\nNEXT_SETTING=enabled\n");
    let dir = tree(&[("app.env", text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &[]);
    let f = only(code, &report);
    assert_eq!((f.secret.as_str(), f.line, f.column), (key.as_str(), 1, 16));
    assert_eq!(f.decoded, ["base64"]);
}

/// The same, one line per value, as `kubectl get secret -o yaml` prints a Secret.
#[test]
fn unpadded_base64_of_a_legacy_key_in_a_kubernetes_secret_is_found() {
    let key = make("sk-{alnum:20}T3BlbkFJ{alnum:20}", 105);
    let text = k8s_secret(&format!(
        "  OPENAI_API_KEY: {}\n  OPENAI_ORG: b3JnLWFiYw==\n",
        b64(key.as_bytes())
    ));
    let dir = tree(&[("secret.yaml", text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &[]);
    let f = only(code, &report);
    assert_eq!((f.secret.as_str(), f.line, f.column), (key.as_str(), 8, 19));
}

/// GNU `base64` wraps at 76 columns; with the key's newline the last line is 68 characters, a
/// multiple of 4, and a YAML key follows on the next line.
#[test]
fn wrapped_base64_whose_last_line_is_a_multiple_of_four_is_found() {
    let key = project_key(102);
    let enc = b64(format!("{key}\n").as_bytes());
    let lines: Vec<&str> = enc
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    assert_eq!(lines.last().unwrap().len(), 68);
    let text = format!(
        "data:\n  key: |\n    {}\n  other: 1\n",
        lines.join("\n    ")
    );
    let dir = tree(&[("s.yaml", text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &[]);
    let f = only(code, &report);
    assert_eq!((f.secret.as_str(), f.line, f.column), (key.as_str(), 3, 5));
}

fn k8s_secret(entries: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: openai\n  namespace: prod\ntype: Opaque\ndata:\n{entries}"
    )
}

#[test]
fn a_kubernetes_secret_with_the_key_base64_encoded_on_one_line() {
    let key = make("sk-svcacct-{b64url:74}T3BlbkFJ{b64url:74}", 103);
    let org = b64(b"org-Qm7pXr2LkV9sTt4Wz8Hn");
    let text = k8s_secret(&format!(
        "  OPENAI_API_KEY: {}\n  OPENAI_ORG: {org}\n",
        b64(key.as_bytes())
    ));
    let dir = tree(&[("k8s/secret.yaml", text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &[]);
    let f = only(code, &report);
    assert_eq!(f.secret, key);
    assert_eq!(f.rule, "kh.openai.service-account");
    assert_eq!(f.decoded, ["base64"]);
    assert_eq!(
        (f.path.as_str(), f.line, f.column),
        ("k8s/secret.yaml", 8, 19)
    );
}

/// The key as the value of a Secret, its base64 wrapped at `width` columns under `data:` with
/// `eol` line ends, preceded inside the encoded text by `p` bytes of an env file; returns the
/// YAML and the expected (line, column) of the key.
fn wrapped_secret(key: &str, p: usize, width: usize, eol: &str) -> (String, (u64, u64)) {
    let env = "# production settings, rotated monthly\nexport OPENAI_API_KEY=";
    let plain = format!("{}{key}\nexport OPENAI_LOG=info\n", &env[env.len() - p..]);
    let enc = b64(plain.as_bytes());
    let lines: Vec<&str> = enc
        .as_bytes()
        .chunks(width)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let yaml = k8s_secret(&format!(
        "  \"env-file\": |\n    {}\n  \"region\": dXMtZWFzdC0x\n",
        lines.join("\n    ")
    ))
    .replace('\n', eol);
    let c = b64_char_of_byte(p);
    // The block's first line is line 9 of the YAML; 4 spaces of indentation.
    (yaml, (9 + (c / width) as u64, 5 + (c % width) as u64))
}

fn check_wrapped(width: usize, eol: &str, prefixes: &[usize]) {
    let mut files = Vec::new();
    let mut expected = Vec::new();
    for &p in prefixes {
        let key = project_key(200 + p as u64);
        let (yaml, (line, col)) = wrapped_secret(&key, p, width, eol);
        let path = format!("p{p:02}.yaml");
        expected.push((path.clone(), line, col, key));
        files.push((path, yaml.into_bytes()));
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    let dir = tree(&refs);
    let (code, report) = scan_json(dir.path(), &[]);
    let got: Vec<(String, u64, u64, String)> = report
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.line, f.column, f.secret.clone()))
        .collect();
    let missing: Vec<&String> = expected
        .iter()
        .filter(|e| !got.iter().any(|g| g.0 == e.0))
        .map(|e| &e.0)
        .collect();
    assert!(
        missing.is_empty(),
        "width {width}: not found in {missing:?}"
    );
    assert_eq!(got, expected, "width {width}");
    assert!(report.findings.iter().all(|f| f.decoded == ["base64"]));
    assert_eq!(code, 1);
}

/// Whether the base64 text of the marker (decoded bytes `p + 82 .. p + 90` of a project key
/// after `p` bytes) is cut by a line wrap at `width`.
fn marker_wrapped(p: usize, width: usize) -> bool {
    let first = b64_char_of_byte(p + 82);
    let last = b64_char_of_byte(p + 89) + 1;
    first / width != last / width
}

fn prefixes(width: usize, cut: bool) -> Vec<usize> {
    (0..48)
        .filter(|&p| marker_wrapped(p, width) == cut)
        .collect()
}

/// Prefixes of 0 to 47 bytes move the key through the lines; here the marker's own text stays
/// within a line while the key's text is wrapped three times.
#[test]
fn a_kubernetes_secret_wrapped_at_64_columns() {
    check_wrapped(64, "\n", &prefixes(64, false));
}

#[test]
fn a_kubernetes_secret_wrapped_at_76_columns() {
    check_wrapped(76, "\n", &prefixes(76, false));
}

#[test]
fn a_kubernetes_secret_wrapped_at_76_columns_with_crlf() {
    check_wrapped(76, "\r\n", &prefixes(76, false));
}

/// The remaining prefixes: the wrap cuts the marker's base64 text in two.
#[test]
fn wrapped_base64_is_found_when_the_wrap_cuts_the_encoded_marker() {
    assert_eq!(prefixes(64, true).len(), 7);
    check_wrapped(64, "\n", &prefixes(64, true));
    check_wrapped(76, "\n", &prefixes(76, true));
    check_wrapped(76, "\r\n", &prefixes(76, true));
}

/// The key alone, wrapped: its last characters sit on the short last line, which ends in `=` or
/// `==` padding (or none), with another YAML entry after it.
#[test]
fn a_wrapped_key_ending_on_a_padded_last_line() {
    let mut files = Vec::new();
    let mut want = Vec::new();
    for width in [64, 76] {
        for (i, plain_len) in [164usize, 165, 166].into_iter().enumerate() {
            let key = project_key(320 + i as u64 + width as u64);
            let plain = format!("{key}{}", &"\n\n"[..plain_len - 164]);
            let enc = b64(plain.as_bytes());
            let lines: Vec<&str> = enc
                .as_bytes()
                .chunks(width)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            let yaml = format!(
                "data:\n  key: |\n    {}\n  other: dXMtZWFzdC0x\n",
                lines.join("\n    ")
            );
            let path = format!("w{width}-{plain_len}.yaml");
            want.push((path.clone(), 3, 5, key));
            files.push((path, yaml.into_bytes()));
        }
    }
    let dir = tree_owned(&files);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let got: Vec<(String, u64, u64, String)> = report
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.line, f.column, f.secret.clone()))
        .collect();
    assert_eq!(got, want);
}

/// A key deep inside a long base64 run: only a window around the marker is decoded, aligned on
/// the marker's own quantum rather than on the start of the run.
#[test]
fn a_key_deep_inside_a_long_base64_run() {
    let mut files = Vec::new();
    let mut want = Vec::new();
    for (i, before) in [1000usize, 2001, 3002].into_iter().enumerate() {
        let key = project_key(310 + i as u64);
        let plain = format!(
            "{}\nOPENAI_API_KEY={key}\n{}",
            "# padding line\n".repeat(before / 15),
            "# more\n".repeat(300)
        );
        let p = plain.find(&key).unwrap();
        let text = format!("blob: {}\n", b64(plain.as_bytes()));
        want.push((
            format!("big{i}.yaml"),
            1,
            7 + b64_char_of_byte(p) as u64,
            key,
        ));
        files.push((format!("big{i}.yaml"), text.into_bytes()));
    }
    let dir = tree_owned(&files);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let got: Vec<(String, u64, u64, String)> = report
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.line, f.column, f.secret.clone()))
        .collect();
    assert_eq!(got, want);
}

/// An e-mail with the key in a base64 attachment, MIME-wrapped at 76 columns with CRLF.
#[test]
fn a_key_in_a_mime_attachment() {
    let key = project_key(313);
    // Enough lines before the key that the window cannot start at the run's start, and a count
    // that keeps the marker's text within one line (the cut case has its own test above).
    let plain = (150..)
        .map(|n| {
            format!(
                "{}OPENAI_API_KEY={key}\n{}",
                "x=1\n".repeat(n),
                "y=2\n".repeat(150)
            )
        })
        .find(|plain| !marker_wrapped(plain.find(&key).unwrap(), 76))
        .unwrap();
    let p = plain.find(&key).unwrap();
    let enc = b64(plain.as_bytes());
    let lines: Vec<&str> = enc
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let head = "From: a@example.test\r\nSubject: config\r\nContent-Type: text/plain\r\n\
                Content-Transfer-Encoding: base64\r\n\r\n";
    let text = format!("{head}{}\r\n\r\n-- \r\nbye\r\n", lines.join("\r\n"));
    let c = b64_char_of_byte(p);
    let dir = tree(&[("mail.eml", text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &[]);
    let f = only(code, &report);
    assert_eq!(f.secret, key);
    assert_eq!(
        (f.line, f.column),
        (6 + (c / 76) as u64, 1 + (c % 76) as u64)
    );
}

/// The key preceded by 0, 1 and 2 bytes before encoding: all three base64 alignments.
#[test]
fn base64_in_all_three_alignments() {
    let prefixes = ["", "=", "Y="];
    let mut files = Vec::new();
    for (p, prefix) in prefixes.iter().enumerate() {
        let key = make(KINDS[p * 2].1, 300 + p as u64);
        let enc = b64(format!("{prefix}{key}").as_bytes());
        files.push((
            format!("a{p}.txt"),
            format!("first line\nvalue: \"{enc}\"\n"),
            key,
        ));
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, d, _)| (p.as_str(), d.as_bytes()))
        .collect();
    let dir = tree(&refs);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let got: Vec<(&str, u64, u64, &str, &str)> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.path.as_str(),
                f.line,
                f.column,
                f.secret.as_str(),
                f.rule.as_str(),
            )
        })
        .collect();
    let want: Vec<(&str, u64, u64, &str, &str)> = files
        .iter()
        .enumerate()
        .map(|(p, (path, _, key))| {
            (
                path.as_str(),
                2,
                9 + b64_char_of_byte(p) as u64,
                key.as_str(),
                KINDS[p * 2].0,
            )
        })
        .collect();
    assert_eq!(got, want);
    let offsets: Vec<u64> = report.findings.iter().map(|f| f.offset).collect();
    assert_eq!(offsets, [19, 20, 21]);
}

#[test]
fn url_safe_base64_is_decoded() {
    // Only some bytes (`~`, `?`, most non-ASCII) encode to `-` or `_`; one of three paddings puts
    // `~~~???` on a 3-byte boundary, and then the standard alphabet cannot decode the text.
    let key = make("sk-admin-{b64url:58}T3BlbkFJ{b64url:58}", 400);
    let (prefix, enc) = (0..3)
        .map(|pad| {
            let prefix = format!("{{\"dir\":\"{}~~~???\",\"api_key\":\"", " ".repeat(pad));
            let enc = b64url(format!("{prefix}{key}\"}}").as_bytes());
            (prefix, enc)
        })
        .find(|(_, enc)| enc.contains('-') && enc.contains('_'))
        .expect("one padding aligns");
    let text = format!("https://example.test/callback?state={enc}&next=%2F\n");
    let dir = tree(&[("log.txt", text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &[]);
    let f = only(code, &report);
    assert_eq!(f.secret, key);
    assert_eq!(f.rule, "kh.openai.admin");
    assert_eq!(f.decoded, ["base64"]);
    assert_eq!(
        (f.line, f.column),
        (1, 37 + b64_char_of_byte(prefix.len()) as u64)
    );
}

/// A UTF-16 file: a key on line 2 and another at the very end, with no newline after it.
fn utf16_file(le: bool) -> (Vec<u8>, String, String) {
    let (a, b) = (
        project_key(500),
        make("sk-None-{b64url:74}T3BlbkFJ{b64url:74}", 501),
    );
    let text = format!("# settings\r\nOPENAI_API_KEY={a}\r\nBACKUP_KEY={b}");
    (utf16(&text, le, true), a, b)
}

fn check_utf16(le: bool) {
    let (data, a, b) = utf16_file(le);
    let dir = tree(&[("settings.ini", &data)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(secrets(&report), [a.clone(), b.clone()]);
    assert!(
        report.findings.iter().all(|f| f.decoded == ["utf-16"]),
        "{report:#?}"
    );
    // Offsets count bytes: the BOM (2 bytes), then 2 bytes per character.
    let a_off = 2 + 2 * "# settings\r\nOPENAI_API_KEY=".len();
    let b_off = data.len() - 2 * b.len();
    let offsets: Vec<u64> = report.findings.iter().map(|f| f.offset).collect();
    assert_eq!(offsets, [a_off as u64, b_off as u64]);
    // Columns in UTF-16 text count characters, as an editor shows them, in both byte orders.
    let pos: Vec<(u64, u64)> = report.findings.iter().map(|f| (f.line, f.column)).collect();
    let order = if le { "LE" } else { "BE" };
    assert_eq!(pos, [(2, 15 + 1), (3, 11 + 1)], "{order}");
}

#[test]
fn utf16_le_with_bom_including_a_key_at_the_very_end() {
    check_utf16(true);
}

#[test]
fn utf16_be_with_bom_including_a_key_at_the_very_end() {
    check_utf16(false);
}

#[test]
fn utf16_without_a_bom_is_found_on_the_first_line() {
    for le in [true, false] {
        let key = make(KINDS[0].1, 503);
        let data = utf16(&format!("key={key}\r\n"), le, false);
        let dir = tree(&[("k.txt", &data)]);
        let (code, report) = scan_json(dir.path(), &[]);
        let f = only(code, &report);
        assert_eq!(
            (f.secret.as_str(), f.rule.as_str()),
            (key.as_str(), "kh.openai.user")
        );
        assert_eq!((f.line, f.column, f.offset), (1, 5, 8), "le={le}");
        assert_eq!(f.decoded, ["utf-16"]);
    }
}

/// An editor does not show the byte-order mark: the key after `key=` is in column 5.
#[test]
fn utf16_columns_on_the_first_line_do_not_count_the_bom() {
    for le in [true, false] {
        let key = make(KINDS[0].1, 502);
        let data = utf16(&format!("key={key}\r\n"), le, true);
        let dir = tree(&[("k.txt", &data)]);
        let (code, report) = scan_json(dir.path(), &[]);
        let f = only(code, &report);
        assert_eq!(f.secret, key);
        assert_eq!((f.line, f.column, f.offset), (1, 5, 10), "le={le}");
    }
}

/// Appending a line with a UTF-8 tool (`echo >> file`) leaves a UTF-16 file of odd length; the
/// byte-order mark still says how to read it, and the key's offset must not move.
#[test]
fn utf16_with_a_stray_trailing_byte_keeps_exact_offsets() {
    for le in [true, false] {
        let key = project_key(504);
        let mut data = utf16(&format!("# s\r\nk={key}\r\n"), le, true);
        data.push(b'\n');
        let dir = tree(&[("odd.txt", &data)]);
        let (code, report) = scan_json(dir.path(), &[]);
        let f = only(code, &report);
        assert_eq!(f.secret, key);
        assert_eq!((f.line, f.column, f.offset), (2, 3, 2 + 2 * 7), "le={le}");
    }
}

#[test]
fn decode_depth_zero_turns_base64_and_utf16_off() {
    let key = project_key(600);
    let b64_text = format!("K={}\n", b64(key.as_bytes()));
    let dir = tree(&[
        ("b.env", b64_text.as_bytes()),
        ("u.txt", &utf16(&format!("k={key}\n"), true, true)),
    ]);
    let (code, report) = scan_json(dir.path(), &["--max-decode-depth", "0"]);
    assert_eq!(code, 0, "{report:#?}");
    assert!(report.findings.is_empty() && report.complete);
    assert_eq!(report.stats.files, 2);
    // The same files with decoding on: both found, so depth 0 is what hid them.
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(secrets(&report), [key.clone(), key]);
}

#[test]
fn a_plain_key_is_still_found_with_decoding_off() {
    let key = project_key(601);
    let dir = tree(&[("a.txt", format!("x {key}\n").as_bytes())]);
    let (code, report) = scan_json(dir.path(), &["--max-decode-depth", "0"]);
    let f = only(code, &report);
    assert_eq!((f.secret.as_str(), f.column), (key.as_str(), 3));
    assert!(f.decoded.is_empty());
}

/// `powershell -EncodedCommand` takes base64 of UTF-16LE text: two encodings deep.
#[test]
fn base64_of_utf16_is_found_with_decode_depth_two() {
    let key = project_key(602);
    let script = utf16(
        &format!("$env:OPENAI_API_KEY=\"{key}\"; python app.py"),
        true,
        false,
    );
    let text = format!("powershell -NoProfile -EncodedCommand {}\n", b64(&script));
    let dir = tree(&[("run.cmd", text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &["--max-decode-depth", "1"]);
    assert_eq!(
        (code, report.findings.len()),
        (0, 0),
        "depth 1 decodes one layer only"
    );
    let (code, report) = scan_json(dir.path(), &["--max-decode-depth", "2"]);
    let f = only(code, &report);
    assert_eq!(f.secret, key);
    assert_eq!(f.decoded, ["base64", "utf-16"]);
    assert_eq!(f.line, 1);
}

#[test]
fn utf16_text_holding_base64_is_found_with_decode_depth_two() {
    let key = project_key(603);
    let data = utf16(&format!("token: {}\r\n", b64(key.as_bytes())), true, true);
    let dir = tree(&[("t.txt", &data)]);
    let (code, report) = scan_json(dir.path(), &["--max-decode-depth", "1"]);
    assert_eq!(
        (code, report.findings.len()),
        (0, 0),
        "depth 1 decodes one layer only"
    );
    let (code, report) = scan_json(dir.path(), &["--max-decode-depth", "2"]);
    let f = only(code, &report);
    assert_eq!(f.secret, key);
    assert_eq!(f.decoded, ["utf-16", "base64"]);
    assert_eq!((f.line, f.column), (1, 8));
}
