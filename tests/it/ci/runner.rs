//! What the runner is shown: no workflow commands injected by file names or lines, at most ten
//! annotations, outputs and the summary appended to earlier steps'.

use super::*;

// ---- What the runner is shown

#[test]
fn a_file_name_cannot_inject_workflow_commands() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9535);
    let name = "50%:odd,name\r\n::warning::injected.env";
    repo.write(name, env_line(&project_key(9536)));
    let head = repo.commit("odd name");

    // As action.yml runs it: the human report follows the annotations on standard output.
    let run = lab.ci_human(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    let notes = run.annotations();
    assert_eq!(notes.len(), 1, "{}", run.why());
    assert!(
        notes[0].starts_with(
            "::error file=50%25%3Aodd%2Cname%0D%0A%3A%3Awarning%3A%3Ainjected.env,line=1,col=16,\
             title=Leaked key%3A kh.openai.project::"
        ),
        "{}",
        notes[0]
    );
    assert_eq!(
        run.commands(),
        notes,
        "nothing but the annotation is a workflow command:\n{}",
        run.stdout
    );
    // The summary's row stays one row of the table.
    let rows = run.summary_rows();
    assert_eq!(rows.len(), 1, "{}", run.summary);
    assert!(rows[0].contains("kh.openai.project"), "{}", rows[0]);
}

#[test]
fn a_line_of_a_file_cannot_inject_workflow_commands() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9537);
    let key = project_key(9538);
    repo.write(
        "notes.txt",
        // The report's context shows up to 40 characters before a key.
        format!("::error::forged {}", env_line(&key)),
    );
    let head = repo.commit("notes");

    let run = lab.ci_human(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    let notes = run.annotations();
    assert_eq!(notes.len(), 1, "{}", run.why());
    assert!(
        notes[0].starts_with("::error file=notes.txt,line=1,"),
        "{}",
        notes[0]
    );
    assert_eq!(
        run.commands(),
        notes,
        "nothing but the annotation is a workflow command:\n{}",
        run.stdout
    );
}

#[test]
fn at_most_ten_annotations_but_the_summary_lists_every_finding() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9540);
    for i in 1..=12u64 {
        repo.write(
            &format!("keys/k{i:02}.env"),
            env_line(&project_key(9540 + i)),
        );
    }
    let head = repo.commit("twelve keys");

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    let report = run.report();
    assert_eq!(report.findings.len(), 12);
    let notes = run.annotations();
    assert_eq!(notes.len(), 10, "{}", run.why());
    // The first ten of the report, in its order.
    for (note, f) in notes.iter().zip(&report.findings) {
        assert!(
            note.starts_with(&format!("::error file={},line=1,col=16,", f.path)),
            "{note}"
        );
    }
    assert_eq!(run.output, "findings=12\n");
    assert!(
        run.summary.starts_with("## keyhound: 12 leaked keys\n"),
        "{}",
        run.summary
    );
    let rows = run.summary_rows();
    assert_eq!(rows.len(), 12, "{}", run.summary);
    for f in &report.findings {
        let place = format!("| {}:1 |", f.path);
        assert_eq!(
            rows.iter().filter(|r| r.contains(&place)).count(),
            1,
            "{place}"
        );
    }
}

#[test]
fn annotations_stay_out_of_a_report_written_to_standard_output() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9553);
    repo.write("pr.env", env_line(&project_key(9554)));
    let head = repo.commit("key");
    let run = lab.run_ci(
        repo.path(),
        Some("pull_request"),
        Some(&pr_event(&base, &head)),
        &["--format", "json"],
        true,
    );
    assert_eq!(run.code, 1, "{}", run.why());
    let doc: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is the JSON report only ({e}):\n{}", run.stdout));
    check_schema(&doc, None);
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(1));
    assert_eq!(run.output, "findings=1\n");
}

#[test]
fn outputs_and_the_summary_are_appended_to_what_earlier_steps_wrote() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9555);
    repo.write("a.env", env_line(&project_key(9556)));
    repo.write("b.env", env_line(&project_key(9557)));
    let head = repo.commit("two keys");
    let dir = lab.next_run_dir();
    std::fs::write(dir.join("output.txt"), "sarif=keyhound.sarif\n").expect("write");
    std::fs::write(dir.join("summary.md"), "# Earlier step\n\n").expect("write");

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.output, "sarif=keyhound.sarif\nfindings=2\n");
    assert!(
        run.summary
            .starts_with("# Earlier step\n\n## keyhound: 2 leaked keys\n"),
        "{}",
        run.summary
    );

    // A clean run says so too.
    repo.write("a.env", "");
    repo.write("b.env", "");
    let clean = repo.commit("keys gone");
    let run = lab.ci(repo.path(), "pull_request", &pr_event(&head, &clean), &[]);
    assert_eq!(run.code, 0, "{}", run.why());
    assert_eq!(run.output, "findings=0\n");
}
