//! The progress bar: drawn only on a terminal, so a captured standard error carries none of it,
//! and `-q/--quiet` is taken by every scanning command.

use crate::util::{git_in, kh, ok, project_key, tree_owned};
use std::path::Path;
use std::process::Output;

/// A tree big enough that a bar drawn by mistake would have had time to show.
fn sizeable_tree() -> tempfile::TempDir {
    let mut files: Vec<(String, Vec<u8>)> = (0..400)
        .map(|i| {
            let line = format!("let value_{i} = \"{}\";\n", "x".repeat(60));
            (
                format!("src/m{}/f{i}.rs", i % 20),
                line.repeat(64).into_bytes(),
            )
        })
        .collect();
    files.push((
        "config.py".into(),
        format!("OPENAI_API_KEY = \"{}\"\n", project_key(7)).into(),
    ));
    tree_owned(&files)
}

fn run(dir: &Path, args: &[&str]) -> Output {
    kh().current_dir(dir)
        .env("TERM", "xterm-256color")
        .args(args)
        .output()
        .expect("keyhound runs")
}

/// Nothing of a bar: no escape sequence, no carriage return, no spinner, no rate.
fn assert_no_bar(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let bar = stderr.contains(['\x1b', '\r', '·'])
        || stderr
            .chars()
            .any(|c| ('\u{2800}'..='\u{28ff}').contains(&c))
        || stderr.contains("B/s");
    assert!(
        !bar,
        "progress output on a captured standard error: {stderr:?}"
    );
}

#[test]
fn scan_draws_no_bar_off_a_terminal() {
    let dir = sizeable_tree();
    let quiet = run(dir.path(), &["scan", "-q", "."]);
    let plain = run(dir.path(), &["scan", "."]);
    for out in [&plain, &quiet] {
        assert_eq!(out.status.code(), Some(1), "the key is found");
        assert_no_bar(out);
    }
    assert_eq!(
        plain.stderr, quiet.stderr,
        "off a terminal --quiet changes nothing"
    );
    let long = run(dir.path(), &["scan", "--quiet", "--format", "json", "."]);
    assert_eq!(long.status.code(), Some(1));
    assert_no_bar(&long);
}

#[test]
fn git_takes_quiet_and_draws_no_bar_off_a_terminal() {
    let dir = sizeable_tree();
    ok({
        let mut c = git_in(dir.path());
        c.args(["init", "-q"]);
        c
    });
    ok({
        let mut c = git_in(dir.path());
        c.args(["add", "-A"]);
        c
    });
    ok({
        let mut c = git_in(dir.path());
        c.args(["commit", "-q", "-m", "all of it"]);
        c
    });
    for args in [
        &["git", "-q", "."][..],
        &["git", "."],
        &["git", "--quiet", "--staged", "."],
    ] {
        let out = run(dir.path(), args);
        let expected = i32::from(!args.contains(&"--staged"));
        assert_eq!(
            out.status.code(),
            Some(expected),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_bar(&out);
    }
}
