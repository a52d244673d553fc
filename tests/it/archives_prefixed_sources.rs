//! Issue 18: a zip with bytes before it (a Spring Boot executable jar, a self-extracting
//! archive) is read as a zip wherever it comes from: standard input, staged changes and whole
//! histories, under every history reader, not only files on disk.

use crate::archives::member_text;
use crate::util::*;

const MEMBER: &str = "BOOT-INF/classes/application.properties";

/// A launch script holding `script_key`, then a jar whose deflated member holds `member_key`.
fn executable_jar(script_key: &str, member_key: &str) -> Vec<u8> {
    let script = format!(
        "#!/bin/bash\n# launch script\nexport OPENAI_API_KEY={script_key}\nexec java -jar \"$0\" \"$@\"\n"
    );
    let (text, _) = member_text(member_key);
    let jar = zip_bytes(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n", false),
        (MEMBER, text.as_bytes(), false),
    ]);
    assert!(!String::from_utf8_lossy(&jar).contains(member_key));
    [script.as_bytes(), &jar].concat()
}

/// (archive member, line, column, secret) of a finding.
type Found = (Option<String>, u64, u64, String);

/// Each finding, and whether the scan was complete.
fn found(report: &Report) -> (Vec<Found>, bool) {
    let rows = report
        .findings
        .iter()
        .map(|f| (f.archive_member.clone(), f.line, f.column, f.secret.clone()))
        .collect();
    (rows, report.complete)
}

fn want(script_key: &str, member_key: &str) -> (Vec<Found>, bool) {
    let (_, (line, col)) = member_text(member_key);
    (
        vec![
            (None, 3, 23, script_key.to_string()),
            (Some(MEMBER.to_string()), line, col, member_key.to_string()),
        ],
        true,
    )
}

fn run(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Report {
    let mut cmd = kh();
    cmd.current_dir(dir)
        .args(args)
        .args(["--format", "json", "--show-secrets"])
        .write_stdin(stdin.to_vec());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("keyhound runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

#[test]
fn an_executable_jar_on_standard_input_is_read_as_a_zip() {
    let (script_key, member_key) = (project_key(1890), project_key(1891));
    let app = executable_jar(&script_key, &member_key);
    let dir = tempfile::tempdir().expect("temp dir");
    let report = run(dir.path(), &["scan", "-"], &[], &app);
    assert_eq!(found(&report), want(&script_key, &member_key));
    assert!(report.findings.iter().all(|f| f.path == "-"));
}

#[test]
fn an_executable_jar_staged_and_in_history_is_read_as_a_zip() {
    let (script_key, member_key) = (project_key(1892), project_key(1893));
    let app = executable_jar(&script_key, &member_key);
    let dir = committed_repo(&[("README.md", b"base\n")], "base");
    let git = |args: &[&str]| git_run(dir.path(), args);
    std::fs::write(dir.path().join("app"), &app).expect("write");
    git(&["add", "app"]);
    let staged = run(dir.path(), &["git", "--staged"], &[], b"");
    assert_eq!(found(&staged), want(&script_key, &member_key), "staged");
    git(&["commit", "-qm", "add app"]);
    std::fs::remove_file(dir.path().join("app")).expect("rm");
    git(&["commit", "-qam", "remove app"]);
    for reader in ["packs", "git", "libgit2"] {
        let report = run(
            dir.path(),
            &["git"],
            &[("KEYHOUND_GIT_READER", reader)],
            b"",
        );
        assert_eq!(found(&report), want(&script_key, &member_key), "{reader}");
        assert!(report.findings.iter().all(|f| f.path == "app"), "{reader}");
    }
}

#[test]
fn a_self_extracting_archive_in_history_is_read_as_a_zip_after_its_stub() {
    let key = project_key(1894);
    let (text, (line, col)) = member_text(&key);
    let mut stub = b"MZ\x90\x00".to_vec();
    stub.extend_from_slice(&[0u8; 200]);
    stub.extend_from_slice(b"PK\x03\x04 is what the extractor looks for");
    stub.extend_from_slice(&[0u8; 300]);
    let exe = [
        stub,
        zip_bytes(&[("setup/config.ini", text.as_bytes(), false)]),
    ]
    .concat();
    let dir = committed_repo(&[("setup.exe", &exe)], "installer");
    let report = run(dir.path(), &["git"], &[], b"");
    let rows = found(&report);
    assert_eq!(
        rows,
        (
            vec![(Some("setup/config.ini".to_string()), line, col, key.clone())],
            true
        )
    );
}

#[test]
fn a_script_on_standard_input_that_does_not_end_with_a_zip_is_scanned_as_text() {
    let key = project_key(1895);
    let script = format!("#!/bin/sh\n# not a jar; PK\x05\x06 in a comment\nKEY={key}\n");
    let dir = tempfile::tempdir().expect("temp dir");
    let report = run(dir.path(), &["scan", "-"], &[], script.as_bytes());
    assert_eq!(found(&report), (vec![(None, 3, 5, key)], true));
}

#[test]
fn an_executable_jar_inside_a_tarball_is_read_as_a_zip() {
    let (script_key, member_key) = (project_key(1896), project_key(1897));
    let app = executable_jar(&script_key, &member_key);
    let tgz = gzip_bytes(&tar_bytes(&[("opt/app/app.jar", &app)]));
    let dir = tree(&[("release.tar.gz", &tgz)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{:#?}", report.skipped);
    let (_, (line, col)) = member_text(&member_key);
    let rows: Vec<Found> = report
        .findings
        .iter()
        .map(|f| (f.archive_member.clone(), f.line, f.column, f.secret.clone()))
        .collect();
    assert_eq!(
        rows,
        [
            (Some("opt/app/app.jar".to_string()), 3, 23, script_key),
            (
                Some(format!("opt/app/app.jar!{MEMBER}")),
                line,
                col,
                member_key
            ),
        ]
    );
    assert!(report.complete, "{:#?}", report.skipped);
}
