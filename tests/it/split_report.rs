//! Issue 18: the human report says how many pieces a split key was put back together from,
//! as JSON's `pieces` does.

use crate::util::{kh, project_key, tree};

#[test]
fn the_human_report_shows_the_piece_count_of_a_joined_key() {
    let key = project_key(1880);
    let (a, b) = (key.len() / 3, 2 * key.len() / 3);
    let text = format!(
        "k = (\"{}\"\n     \"{}\"\n     \"{}\")\n",
        &key[..a],
        &key[a..b],
        &key[b..]
    );
    let dir = tree(&[("split.py", text.as_bytes())]);
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("(in concatenation, joined from 3 pieces)"),
        "{stdout}"
    );
    // A whole key says nothing of pieces.
    let dir = tree(&[("whole.py", format!("k = \"{key}\"\n").as_bytes())]);
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", "."])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("pieces") && !stdout.contains("(in "),
        "{stdout}"
    );
}
