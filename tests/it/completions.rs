//! `keyhound completions SHELL` and the hidden `keyhound manpage`: generated from the clap
//! definitions, so every subcommand and flag is in them.

use crate::util::kh;

#[test]
fn completions_for_every_shell_name_the_subcommands_and_flags() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = kh().args(["completions", shell]).output().expect("runs");
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        for word in ["keyhound", "scan", "completions", "pre-receive"] {
            assert!(text.contains(word), "{shell} completions lack {word}");
        }
    }
    let out = kh().args(["completions", "tcsh"]).output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn the_man_page_is_roff_with_every_subcommand() {
    let out = kh().arg("manpage").output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        text.starts_with(".ie") || text.contains(".TH keyhound"),
        "{text}"
    );
    for word in ["scan", "git", "ci", "audit", "completions"] {
        assert!(text.contains(word), "the man page lacks {word}");
    }
}
