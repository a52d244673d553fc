//! `--verify` against the local stand-in for the OpenAI API.

use super::*;

// ---- --verify

#[test]
fn a_live_key_at_head_ranks_first_as_critical() {
    let server = server::Server::start();
    let root = Root::new();
    let repo = root.repo("repo");
    let keys: Vec<String> = (0..4).map(|i| project_key(7300 + i)).collect();
    let (live, live_disk, live_old, dead) = (&*keys[0], &*keys[1], &*keys[2], &*keys[3]);
    repo.write("dead.env", env_line(dead));
    repo.write("old.env", env_line(live_old));
    repo.commit("keys");
    repo.remove("old.env");
    repo.commit("drop one");
    repo.write("live.env", env_line(live));
    repo.commit("the live one");
    repo.write("notes.txt", env_line(live_disk));
    for key in [live, live_disk, live_old] {
        server.script(key, vec![server::Reply::models()]);
    }
    let base = server.base_url();
    let path = repo.path().to_str().unwrap();
    let verify = ["--verify", "--no-verify-cache", "--openai-base-url", &base];
    let mut args = verify.to_vec();
    args.push(path);
    let (code, report, err) = audit_shown(root.path(), &args);
    assert_eq!(code, 1, "{err}");
    assert!(report.verified);
    assert_eq!(secrets_of(&report.keys), [live, live_disk, live_old, dead]);
    let risks: Vec<(&str, &str, bool)> = report
        .keys
        .iter()
        .map(|k| (k.risk.as_str(), k.verification.status.as_str(), k.at_head))
        .collect();
    assert_eq!(
        risks,
        [
            ("critical", "live", true),
            ("critical", "live", false),
            ("high", "live", false),
            ("none", "dead", true)
        ],
        "live at HEAD, live in the work tree, live in history, dead"
    );
    assert!(report.keys[0].verification.checked_at.is_some());
    assert_eq!(
        (
            report.summary.live,
            report.summary.dead,
            report.summary.not_checked
        ),
        (3, 1, 0)
    );
    for key in &keys {
        assert_eq!(server.requests_for(key), 1, "one request per key");
    }
    // --only-live leaves the dead key out.
    args.insert(0, "--only-live");
    let (code, report, err) = audit_shown(root.path(), &args);
    assert_eq!(code, 1, "{err}");
    assert_eq!(secrets_of(&report.keys), [live, live_disk, live_old]);
}
