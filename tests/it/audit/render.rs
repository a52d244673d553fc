//! Markdown and HTML: the Markdown snapshot, repository text escaped, no control characters reaching
//! the terminal, forge links, a self-contained HTML page that agrees with the JSON.

use super::*;

// ---- Markdown

#[test]
fn markdown_snapshot() {
    let root = Root::new();
    let repo = root.repo("shop");
    let (live, old, allowed) = (project_key(7150), project_key(7151), project_key(7152));
    repo.write("README.md", "# shop\n");
    repo.commit("readme");
    repo.write("deploy/.env", format!("# deploy\n{}", env_line(&live)));
    repo.write("old.env", env_line(&old));
    repo.commit("deploy settings");
    repo.remove("old.env");
    repo.commit("drop old.env");
    repo.write(
        "tests/fixture.env",
        format!("OPENAI_API_KEY={allowed} # keyhound:allow\n"),
    );
    repo.commit("test fixture");
    let out = audit_out(
        root.path(),
        &["--format", "markdown", repo.path().to_str().unwrap()],
    );
    assert_eq!(code_of(&out), 1, "{}", stderr(&out));
    let text = blank_times(&stdout(&out)).replace(env!("CARGO_PKG_VERSION"), "[version]");
    assert!(text.contains("keyhound [version], [time]"), "{text}");
    insta::assert_snapshot!("markdown", text);
}

/// Whether `text` has `needle` not preceded by a backslash (Markdown would act on it).
fn unescaped(text: &str, needle: &str) -> bool {
    text.match_indices(needle)
        .any(|(i, _)| !text[..i].ends_with('\\'))
}

/// Counts the `|` of a Markdown table row that are not backslash-escaped.
fn table_pipes(line: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in line.chars() {
        match (c, escaped) {
            ('\\', false) => escaped = true,
            ('|', false) => n += 1,
            _ => escaped = false,
        }
    }
    n
}

// ---- Escaping

#[test]
fn repository_text_is_escaped_in_markdown_and_html() {
    let root = Root::new();
    let repo = root.repo("repo");
    let keys: Vec<String> = (0..4).map(|i| project_key(7160 + i)).collect();
    repo.write("conf|ig.env", env_line(&keys[0]));
    // A directory `<script>alert(1)<` holding `script>.txt`: git's path is the whole of it.
    repo.write("<script>alert(1)</script>.txt", env_line(&keys[1]));
    repo.commit("odd names");
    let branch = "feat/<x>";
    let made = repo
        .cmd(&["checkout", "-q", "-b", branch])
        .output()
        .unwrap();
    let branch_ok = made.status.success();
    if branch_ok {
        repo.write("x|<b>.env", env_line(&keys[2]));
        repo.commit("branch key");
        repo.git(&["checkout", "-q", "main"]);
    }
    repo.write("<img src=x onerror=alert(1)>|.env", env_line(&keys[3]));
    let path = repo.path().to_str().unwrap();
    let (_, report, _) = audit_json(root.path(), &[path]);
    let places: BTreeSet<&str> = report
        .keys
        .iter()
        .flat_map(|k| k.locations.iter().map(|l| l.path.as_str()))
        .collect();
    assert!(places.contains("conf|ig.env"), "{places:?}");
    assert!(
        places.contains("<script>alert(1)</script>.txt"),
        "{places:?}"
    );
    if branch_ok {
        let on: Vec<&String> = report.keys.iter().flat_map(|k| &k.on_branches).collect();
        assert!(on.iter().any(|b| *b == branch), "{on:?}");
    }

    let md = stdout(&audit_out(root.path(), &["--format", "markdown", path]));
    for tag in ["<script", "</script", "<img", "<b>"] {
        assert!(!unescaped(&md, tag), "raw {tag} in Markdown:\n{md}");
    }
    // Every row of a table has the columns of its header.
    let mut columns: Option<usize> = None;
    let mut rows = 0;
    for line in md.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let n = table_pipes(line);
        match columns {
            None => columns = Some(n),
            Some(want) => {
                rows += 1;
                assert_eq!(n, want, "a row with other columns than its table:\n{line}");
            }
        }
    }
    assert!(rows > report.keys.len(), "tables were checked:\n{md}");
    for key in &report.keys {
        assert!(md.contains(&key.fingerprint), "{md}");
    }

    let html = stdout(&audit_out(root.path(), &["--format", "html", path]));
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "<script in HTML:\n{html}"
    );
    assert!(!html.contains("<img"), "raw <img> in HTML:\n{html}");
    assert!(!html.contains("<b>"), "raw <b> in HTML:\n{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.txt"),
        "the path is shown, escaped:\n{html}"
    );
    if branch_ok {
        assert!(html.contains("feat/&lt;x&gt;"), "{html}");
    }
}

#[test]
fn control_characters_from_a_repository_never_reach_the_terminal() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7165);
    // A file name with an escape sequence and a line break, a commit message with a title-setting
    // OSC sequence.
    repo.write("ev\x1b[31mil\n.env", env_line(&key));
    repo.commit("x\x1b]0;pwned\x07 y");
    let path = repo.path().to_str().unwrap();
    for format in ["human", "markdown"] {
        let out = audit_out(root.path(), &["--format", format, "--color", "never", path]);
        assert_eq!(code_of(&out), 1, "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            !text.contains(['\x1b', '\x07', '\r']),
            "{format}: control characters from the repository:\n{text:?}"
        );
        assert!(text.contains("31mil"), "{format}: the path is still shown");
    }
}

// ---- HTML

/// The number in the element with id `id`.
fn number_in(html: &str, id: &str) -> u64 {
    let re = Regex::new(&format!(r#"id="{id}"[^>]*>\s*([0-9]+)\s*<"#)).unwrap();
    let caps = re
        .captures(html)
        .unwrap_or_else(|| panic!("no element with id {id} holding a number:\n{html}"));
    caps[1].parse().expect("a number")
}

#[test]
fn html_links_commits_and_files_on_a_known_forge_from_the_remote_url_alone() {
    let root = Root::new();
    let repo = root.repo("shop");
    repo.write("conf/app settings.env", env_line(&project_key(7150)));
    let commit = repo.commit("a key");
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://ada:s3cret@github.com/org/shop.git?token=abc",
    ]);
    let other = root.repo("elsewhere");
    other.write("a.env", env_line(&project_key(7151)));
    other.write("README.md", "see https://github.com/evil/x\n");
    other.commit("a key");
    other.git(&[
        "remote",
        "add",
        "origin",
        "https://git.example.com/org/elsewhere.git",
    ]);
    let html = stdout(&audit_out(root.path(), &["--format", "html", "."]));
    let file = format!("https://github.com/org/shop/blob/{commit}/conf/app%20settings.env#L1");
    assert!(html.contains(&format!("<a href=\"{file}\"")), "{html}");
    let page = format!("https://github.com/org/shop/commit/{commit}");
    assert!(html.contains(&format!("<a href=\"{page}\"")), "{html}");
    assert!(html.contains("<th>Location</th>"), "{html}");
    assert!(html.contains("shop:conf/app settings.env:1"), "{html}");
    // No credentials or query in any link; no link for an unknown host or from file content.
    assert!(!html.contains("s3cret"), "{html}");
    let hrefs: Vec<&str> = html.split("href=\"").skip(1).collect();
    assert!(
        hrefs.iter().all(|h| h.starts_with('#')
            || (h.starts_with("https://github.com/org/shop/")
                && !h.split('"').next().unwrap_or("").contains('?'))),
        "{hrefs:?}"
    );
}

#[test]
fn html_is_self_contained_and_agrees_with_the_json() {
    let root = Root::new();
    every_place(&root, "one", 7170);
    every_place(&root, "team/two", 7170);
    let dir = root.path().to_str().unwrap();
    let (_, report, _) = audit_json(root.path(), &[dir]);
    let out = audit_out(root.path(), &["--format", "html", dir]);
    assert_eq!(code_of(&out), 1, "{}", stderr(&out));
    let html = stdout(&out);
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{html}");
    for external in [
        "src=\"http",
        "src=\"//",
        "href=\"http",
        "href=\"//",
        "@import",
        "url(http",
        "url(//",
    ] {
        assert!(!lower.contains(external), "{external} in:\n{html}");
    }
    assert!(html.contains("<style>"), "{html}");
    assert!(lower.starts_with("<!doctype html>"), "{html}");
    let s = &report.summary;
    for (id, want) in [
        ("summary-keys", s.keys),
        ("summary-repositories", s.repositories),
        ("summary-at-head", s.at_head),
        ("summary-suppressed", s.suppressed),
        ("summary-not-checked", s.not_checked),
    ] {
        assert_eq!(number_in(&html, id), want, "{id}");
    }
    assert_eq!((s.keys, s.repositories, s.suppressed), (5, 2, 1));
    assert_eq!(html.matches("<tr class=\"key\"").count(), report.keys.len());
    for key in &report.keys {
        assert!(html.contains(&key.fingerprint), "{}", key.fingerprint);
    }
}
