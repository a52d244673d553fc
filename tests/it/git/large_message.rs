//! A commit message of megabytes: scanned from the stream in bounded pieces (as a large blob
//! is), its key still found at its line and column, and its commit's author read without the
//! message (issue 14, point 10).

use super::*;

#[test]
fn a_key_deep_in_a_large_commit_message_is_found_at_its_place() {
    let repo = Repo::new();
    let key = project_key(9400);
    repo.write("client.py", "import openai\n");
    repo.git(&["add", "-A"]);
    let filler = "lorem ipsum dolor sit amet, consectetur adipiscing elit sed do eiusmod\n";
    // About 3 MB: over the 1 MiB past which a commit is streamed, not read whole.
    let msg = format!(
        "Configure the client\n\n{}Temporary key: {key}\n{}",
        filler.repeat(30_000),
        filler.repeat(12_000)
    );
    let file = repo.beside("message.txt");
    std::fs::write(&file, &msg).expect("write the message");
    repo.git(&["commit", "-q", "-F", &file.display().to_string()]);
    let c1 = repo.head();
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair(&c1, &key)]);
    let f = at(&report, &c1);
    assert_place(f, &msg, &key);
    let g = git_of(f);
    assert_eq!(g.object, "commit-message");
    assert_eq!(g.commit.as_deref(), Some(c1.as_str()));
    assert_eq!(g.author.as_deref(), Some(AUTHOR));
    assert_eq!(g.date, Some(repo.date(&c1)));
    assert!(report.complete);
}
