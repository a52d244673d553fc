//! A zip with bytes before it (issue 18): a Spring Boot executable jar (a launch script, then
//! the jar) and a self-extracting archive (an executable's stub, then the zip) are opened as
//! zips, their deflated members scanned, and the bytes before them scanned as the file's text.

use crate::archives::{Row, member_text, rows};
use crate::util::*;

fn row(path: &str, member: Option<&str>, (line, col): (u64, u64), key: &str) -> Row {
    (
        path.to_string(),
        member.map(str::to_string),
        Vec::new(),
        line,
        col,
        key.to_string(),
    )
}

#[test]
fn a_spring_boot_executable_jar_is_read_as_a_zip_after_its_launch_script() {
    let (script_key, member_key) = (project_key(1860), project_key(1861));
    let script = format!(
        "#!/bin/bash\n# launch script\nexport OPENAI_API_KEY={script_key}\nexec java -jar \"$0\" \"$@\"\n"
    );
    let (text, pos) = member_text(&member_key);
    let jar = zip_bytes(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n", false),
        (
            "BOOT-INF/classes/application.properties",
            text.as_bytes(),
            false,
        ),
    ]);
    // Deflated: the member's key is not in the file's bytes.
    assert!(!String::from_utf8_lossy(&jar).contains(&member_key));
    let app = [script.as_bytes(), &jar].concat();
    let dir = tree(&[("app", &app)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{:#?}", report.skipped);
    assert_eq!(
        rows(&report),
        [
            row("app", None, (3, 23), &script_key),
            row(
                "app",
                Some("BOOT-INF/classes/application.properties"),
                pos,
                &member_key
            ),
        ]
    );
    assert!(report.complete, "{:#?}", report.skipped);
}

#[test]
fn a_self_extracting_archive_is_read_as_a_zip_after_its_stub() {
    let key = project_key(1862);
    let (text, pos) = member_text(&key);
    // A stub that names the local header's signature, as an extractor's code does.
    let mut stub = b"MZ\x90\x00".to_vec();
    stub.extend_from_slice(&[0u8; 200]);
    stub.extend_from_slice(b"PK\x03\x04 is what the extractor looks for");
    stub.extend_from_slice(&[0u8; 300]);
    let zip = zip_bytes(&[("setup/config.ini", text.as_bytes(), false)]);
    let exe = [stub, zip].concat();
    let dir = tree(&[("setup.exe", &exe)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{:#?}", report.skipped);
    assert_eq!(
        rows(&report),
        [row("setup.exe", Some("setup/config.ini"), pos, &key)]
    );
    assert!(report.complete, "{:#?}", report.skipped);
}

#[test]
fn a_script_that_does_not_end_with_a_zip_is_scanned_as_text() {
    let key = project_key(1863);
    let script = format!("#!/bin/sh\n# not a jar; PK\x05\x06 in a comment\nKEY={key}\n");
    let dir = tree(&[("run.sh", script.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{:#?}", report.skipped);
    assert_eq!(rows(&report), [row("run.sh", None, (3, 5), &key)]);
    assert!(report.complete);
}
