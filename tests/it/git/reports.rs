//! What a history report carries: redaction, SARIF written to a file, JSON lines with the git
//! object, archive and decode depths applied to blobs, a report the thread count does not change.

use super::*;

#[test]
fn secrets_are_redacted_unless_asked() {
    let repo = Repo::new();
    let (k1, k2) = (project_key(9024), project_key(9025));
    repo.write("a.env", env_line(&k1));
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", &format!("oops {k2}")]);
    for format in ["json", "jsonl", "sarif", "human"] {
        let out = hound_out(repo.path(), &["--format", format], &[]);
        assert_eq!(code_of(&out), 1, "{format}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !stdout.contains(&k1) && !stdout.contains(&k2),
            "{format}: {stdout}"
        );
    }
    let out = hound_out(repo.path(), &["--format", "json"], &[]);
    let report: Report = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report.findings.len(), 2);
    assert!(report.findings.iter().all(|f| f.redacted));
    let (_, shown, _) = hound(repo.path(), &[]);
    let mut secrets = secrets(&shown);
    secrets.sort();
    let mut want = vec![k1, k2];
    want.sort();
    assert_eq!(secrets, want);
}

#[test]
fn sarif_written_to_a_file_has_the_results() {
    let repo = Repo::new();
    repo.write("a.env", env_line(&project_key(9026)));
    repo.commit("key");
    let file = repo.beside("out.sarif");
    let out = hound_out(
        repo.path(),
        &["--format", "sarif", "-o", file.to_str().unwrap()],
        &[],
    );
    assert_eq!(code_of(&out), 1);
    let doc: Value =
        serde_json::from_slice(&std::fs::read(&file).expect("SARIF written")).expect("JSON");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{doc:#}");
}

#[test]
fn jsonl_lines_carry_the_git_object() {
    let repo = Repo::new();
    let key = project_key(9027);
    repo.write("a.env", env_line(&key));
    let c1 = repo.commit("key");
    let out = hound_out(repo.path(), &["--format", "jsonl", "--show-secrets"], &[]);
    assert_eq!(code_of(&out), 1);
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    for line in &lines {
        check_schema(line, Some("jsonlLine"));
    }
    let findings: Vec<&Value> = lines.iter().filter(|l| l["type"] == "finding").collect();
    assert_eq!(findings.len(), 1, "{lines:#?}");
    assert_eq!(findings[0]["secret"], key.as_str());
    assert_eq!(findings[0]["git"]["commit"], c1.as_str());
    assert_eq!(findings[0]["git"]["at_head"], true);
    let summary = lines.last().expect("summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["stats"]["commits"], 1);
}

#[test]
fn archive_and_decode_depths_apply_to_blobs() {
    let repo = Repo::new();
    let (zipped, encoded) = (project_key(9028), project_key(9029));
    let inner = env_line(&zipped);
    repo.write(
        "bundle.zip",
        zip_bytes(&[("conf/inner.env", inner.as_bytes(), false)]),
    );
    repo.write(
        "blob.b64",
        format!("{}\n", b64(env_line(&encoded).as_bytes())),
    );
    let c1 = repo.commit("bundle");
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        [pair("blob.b64", &encoded), pair("bundle.zip", &zipped)]
    );
    let f = at(&report, "bundle.zip");
    assert_eq!(f.archive_member.as_deref(), Some("conf/inner.env"));
    assert_eq!(git_of(f), &history(&repo, &c1, "bundle.zip", &c1, 1, true));
    assert_eq!(at(&report, "blob.b64").decoded, ["base64"]);
    let (_, report, _) = hound(repo.path(), &["--max-archive-depth", "0"]);
    assert_eq!(found(&report), [pair("blob.b64", &encoded)]);
    let (_, report, _) = hound(repo.path(), &["--max-decode-depth", "0"]);
    assert_eq!(found(&report), [pair("bundle.zip", &zipped)]);
}

#[test]
fn the_thread_count_does_not_change_the_report() {
    let repo = Repo::new();
    for i in 0..12u64 {
        repo.write(&format!("f{i}.env"), env_line(&project_key(9030 + i)));
        if i % 3 == 0 {
            repo.write("log.txt", format!("{i}\n"));
        }
        repo.commit(&format!("commit {i}"));
    }
    let key = |f: &Finding| (f.path.clone(), f.secret.clone(), f.line, f.git.clone());
    let sorted = |r: &Report| {
        let mut v: Vec<_> = r.findings.iter().map(key).collect();
        v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        v
    };
    let (_, one, _) = hound(repo.path(), &["-j", "1"]);
    let (_, four, _) = hound(repo.path(), &["-j", "4"]);
    assert_eq!(one.findings.len(), 12);
    assert_eq!(sorted(&one), sorted(&four));
    assert_eq!(one.stats.blobs_scanned, four.stats.blobs_scanned);
}
