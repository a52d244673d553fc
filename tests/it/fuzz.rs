//! Fuzzing on stable Rust: proptest feeds arbitrary bytes, and valid inputs with bytes flipped,
//! cut, repeated or spliced in, to every reader of untrusted input — the rule loader, the
//! template engine, the matcher's decoders, the archive readers (through the scan entry point),
//! the git pack reader (a real repository's pack and index, damaged), and the baseline,
//! `.keyhoundignore` and `keyhound.toml` parsers. Each must end (within `HANG`) without a panic.
//! The normal suite runs a few cases per target; `PROPTEST_CASES=N` runs N per target (README,
//! Development). Every crash found has its own regression test below, named `fuzz_r*`.

use crate::util::{b64, git_in, gzip_bytes, kh, ok, project_key, tar_bytes, utf16, zip_bytes};
use keyhound::finding::Origin;
use keyhound::matcher::Matcher;
use keyhound::matcher::check_rules;
use keyhound::progress::Progress;
use keyhound::rules::template::{Rng, expand};
use keyhound::rules::{RuleSet, load_rule_files};
use keyhound::scan::{BlobOutcome, Limits, Scanner};
use keyhound::suppress::baseline;
use keyhound::suppress::project::{Project, RootFiles};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Longer than any case takes: a case still running then is a hang.
const HANG: Duration = Duration::from_secs(60);

/// `PROPTEST_CASES`, else `default`; failures are not written to files (each gets a test here).
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        failure_persistence: None,
        max_shrink_iters: 512,
        ..ProptestConfig::default()
    }
}

/// Runs `f` on its own thread; a panic is passed on, a run past `HANG` is a failure.
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(HANG) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the thread sent nothing and did not panic"),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("{what}: hung"),
    }
}

/// One change to an input.
#[derive(Debug, Clone)]
enum Edit {
    Set(Index, u8),
    /// Four bytes at once, as a length or an offset field (`0xff…`, `0x7f…`, 0).
    Field(Index, u32),
    Insert(Index, Vec<u8>),
    Remove(Index, u8),
    Truncate(Index),
    /// Repeats a slice a few times in place.
    Repeat(Index, u8, u8),
}

/// Fragments that mean something to the parsers.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "{{",
    "[",
    "]",
    "\"",
    "'",
    "\\",
    "\n",
    "=",
    ":",
    ",",
    "!",
    "*",
    "**/",
    "../",
    "/",
    "{alnum:99999999999999999999}",
    "{repeat:x:18446744073709551615}",
    "{b64url:4096}",
    "18446744073709551615",
    "-1",
    "1e308",
    "NaN",
    "[[rule]]",
    "[verify]",
    "[allow]",
    "[rules]",
    "T3BlbkFJ",
    "sk-",
    "kh1:",
    "\u{0}",
    "\u{feff}",
    "\u{1b}[31m",
    "\"\"\"",
    "#",
    "(?x)",
    "(",
    ")",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        (
            any::<Index>(),
            prop_oneof![Just(u32::MAX), Just(0x7fff_ffff), Just(0), any::<u32>()]
        )
            .prop_map(|(i, v)| Edit::Field(i, v)),
        (
            any::<Index>(),
            prop_oneof![
                vec(any::<u8>(), 1..16),
                proptest::sample::select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
            ]
        )
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, n)| Edit::Remove(i, n)),
        any::<Index>().prop_map(Edit::Truncate),
        (any::<Index>(), 1..64u8, 2..8u8).prop_map(|(i, n, t)| Edit::Repeat(i, n, t)),
    ]
}

fn apply(mut data: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = data.len();
        let at = |i: &Index| if len == 0 { 0 } else { i.index(len) };
        match e {
            Edit::Set(i, b) if len > 0 => data[at(i)] = *b,
            Edit::Field(i, v) if len >= 4 => {
                let p = at(i).min(len - 4);
                data[p..p + 4].copy_from_slice(&v.to_le_bytes());
            }
            Edit::Insert(i, bytes) => {
                let p = at(i);
                data.splice(p..p, bytes.iter().copied());
            }
            Edit::Remove(i, n) if len > 0 => {
                let p = at(i);
                data.drain(p..(p + usize::from(*n)).min(len));
            }
            Edit::Truncate(i) => data.truncate(at(i)),
            Edit::Repeat(i, n, times) if len > 0 => {
                let p = at(i);
                let piece = data[p..(p + usize::from(*n)).min(len)].to_vec();
                for _ in 1..*times {
                    data.splice(p..p, piece.iter().copied());
                }
            }
            _ => {}
        }
    }
    data
}

/// Arbitrary bytes, or one of `seeds` with a few edits.
fn input(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    prop_oneof![
        1 => vec(any::<u8>(), 0..512),
        4 => (0..n, vec(edit(), 1..6)).prop_map(move |(i, e)| apply(seeds[i].clone(), &e)),
    ]
}

fn text(seeds: &[&str]) -> impl Strategy<Value = String> + use<> {
    let seeds = seeds.iter().map(|s| s.as_bytes().to_vec()).collect();
    input(seeds).prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn builtin() -> Arc<RuleSet> {
    static RULES: OnceLock<Arc<RuleSet>> = OnceLock::new();
    RULES
        .get_or_init(|| Arc::new(RuleSet::builtin().expect("built-in rules load")))
        .clone()
}

fn matcher() -> &'static Matcher {
    static MATCHER: OnceLock<Matcher> = OnceLock::new();
    MATCHER.get_or_init(|| Matcher::new(builtin(), 2))
}

/// Scans `data` as a file named `name`, as `keyhound scan` would.
fn scan_bytes(name: &str, data: &[u8]) -> BlobOutcome {
    let scanner = Scanner {
        matcher: matcher(),
        limits: Limits {
            max_member_bytes: 8 << 20,
            chunk_size: 64 << 10,
            ..Limits::default()
        },
        inline_allow: true,
        progress: Progress::hidden(),
    };
    let mut out = BlobOutcome::default();
    scanner.scan_reader(&mut &data[..], &Origin::file(name), 0, &mut out);
    out
}

const RULE: &str = r#"[[rule]]
id = "acme.token"
name = "AcmeToken"
provider = "acme"
kind = "token"
description = "Acme API token"
severity = 7.5
remediation = "Revoke it in the Acme console."
keywords = ["acme_"]
pattern = '''(?x) \b (acme_[a-z0-9]{16,40}) \b'''
examples = ["token = acme_{lower:20}"]
negative_examples = ["acme_short"]
references = ["https://acme.example/docs"]
"#;

/// The built-in OpenAI rules under ids of their own, so that they load beside the built-ins.
fn openai_rules() -> String {
    include_str!("../../rules/openai.toml").replace("id = \"kh.", "id = \"fz.")
}

/// Loads `text` as a user's rule file; when it loads, checks its examples (`keyhound rules
/// check`) and scans its own text with it.
fn load_rules(text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, text).unwrap();
    // The built-ins are left out, so that only the fuzzed rules are checked.
    let builtins: Vec<String> = builtin().rules.iter().map(|r| r.spec.id.clone()).collect();
    if let Ok(set) = load_rule_files(&[path], &builtins) {
        let set = Arc::new(set);
        check_rules(set.clone());
        Matcher::new(set, 1).find(text.as_bytes());
    }
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn fuzz_rule_loader(text in text(&[RULE, &openai_rules()])) {
        bounded("rule loader", move || load_rules(&text));
    }

    #[test]
    fn fuzz_templates(
        template in text(&["sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", "{repeat:x:20}{seq:6}{{"]),
        seed in any::<u64>(),
    ) {
        bounded("template", move || { let _ = expand(&template, &mut Rng::new(seed)); });
    }
}

/// A key in the encodings the matcher decodes: base64 (once and twice), UTF-16 both ways.
fn encoded_seeds() -> Vec<Vec<u8>> {
    let key = project_key(900);
    let line = format!("OPENAI_API_KEY={key}\n");
    vec![
        line.clone().into_bytes(),
        b64(line.as_bytes()).into_bytes(),
        b64(b64(line.as_bytes()).as_bytes()).into_bytes(),
        format!("data = \"{}\"", b64(key.as_bytes())).into_bytes(),
        utf16(&line, true, true),
        utf16(&line, false, false),
        format!("{key}%3D{key}\\n{key}").into_bytes(),
    ]
}

/// Archives holding a key: zip (stored, deflated, nested), gzip, tar, tar.gz, and each codec of
/// `archives_codecs` around the key and around a tar.
fn archive_seeds() -> Vec<Vec<u8>> {
    let key = project_key(901);
    let env = format!("OPENAI_API_KEY={key}\n");
    let env = env.as_bytes();
    let zip = zip_bytes(&[("a.env", env, true), ("b/c.env", env, false)]);
    let tar = tar_bytes(&[("a.env", env), ("dir/b.txt", b"nothing here\n")]);
    let mut seeds = vec![
        zip.clone(),
        zip_bytes(&[("inner.zip", &zip, true), ("x.env", env, false)]),
        gzip_bytes(env),
        tar.clone(),
        gzip_bytes(&tar),
        tar_bytes(&[("inner.zip", &zip)]),
        tar_with_extensions(env),
        gzip_bytes(&zip),
        zip_with_comment(env),
    ];
    for (_, _, compress) in crate::archives_codecs::CODECS {
        seeds.extend([compress(env), compress(&tar)]);
    }
    seeds
}

/// A zip with an archive comment, and a member the central directory does not list.
fn zip_with_comment(env: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.set_comment("an archive comment").unwrap();
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("a.env", stored).unwrap();
    w.write_all(env).unwrap();
    let zip = w.finish().unwrap().into_inner();
    let mut stray = zip_bytes(&[("stray.env", env, true)]);
    let end = stray.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    stray.truncate(end);
    [stray, zip].concat()
}

/// A tar with a PAX record, a GNU long name and a symlink, then a plain member.
fn tar_with_extensions(env: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let record = b"30 comment=a PAX comment here\n";
    let mut pax = tar::Header::new_ustar();
    pax.set_entry_type(tar::EntryType::XHeader);
    pax.set_size(record.len() as u64);
    b.append_data(&mut pax, "PaxHeader/a", &record[..]).unwrap();
    let mut long = tar::Header::new_gnu();
    long.set_size(env.len() as u64);
    long.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut long, "d/".repeat(60) + "a.env", env)
        .unwrap();
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    b.append_link(&mut link, "link", "d/a.env").unwrap();
    let mut plain = tar::Header::new_ustar();
    plain.set_size(env.len() as u64);
    b.append_data(&mut plain, "b.env", env).unwrap();
    b.into_inner().unwrap()
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn fuzz_decoders(data in input(encoded_seeds())) {
        bounded("matcher", move || { matcher().find(&data); });
    }

    #[test]
    fn fuzz_archives(data in input(archive_seeds()), name in proptest::sample::select(
        &["x.zip", "x.tar", "x.gz", "x.tgz", "x.txt", "x.tar.bz2", "x.tar.xz", "x.tar.zst"][..]
    )) {
        bounded("archive", move || { scan_bytes(name, &data); });
    }
}

const REPORT: &str =
    r#"{"version":1,"findings":[{"fingerprint":"kh1:0123456789abcdef","rule":"x"}]}"#;
const LINES: &str = "{\"type\":\"finding\",\"fingerprint\":\"kh1:00ff\"}\n{\"type\":\"summary\"}\n";
const IGNORE: &str = "# comment\n*.env\n!keep.env\nvendor/**\nkh1:0123456789abcdef\n[a-\n";
const CONFIG: &str = r#"[allow]
paths = ["fixtures/**", "*.pem"]
fingerprints = ["kh1:0123456789abcdef"]

[rules]
paths = ["rules"]

[verify]
concurrency = 4
fail_on = "live"
"#;

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn fuzz_baseline(text in text(&[REPORT, LINES])) {
        bounded("baseline", move || { let _ = baseline::parse(&text); });
    }

    #[test]
    fn fuzz_project_files(ignore in text(&[IGNORE]), config in text(&[CONFIG])) {
        bounded("project files", move || parse_project(ignore, config));
    }
}

/// Parses the root files as a scan of a work tree does, suppressions built from them included.
fn parse_project(ignore: String, config: String) {
    let root = tempfile::tempdir().unwrap();
    let files = RootFiles {
        origin: root.path().display().to_string(),
        ignore: Some(ignore),
        config: Some(config),
    };
    if let Ok(project) = Project::parse(&files, Some(root.path())) {
        let _ = keyhound::suppress::Suppressions::new(
            &project,
            std::collections::HashSet::default(),
            root.path(),
        );
    }
}

/// A small repository, packed: (its directory, the pack, the index).
fn packed_repo() -> &'static (tempfile::TempDir, PathBuf, PathBuf) {
    static REPO: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    REPO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let mut cmd = git_in(dir.path());
            cmd.args(args);
            ok(cmd)
        };
        git(&["init", "-q"]);
        for (i, text) in ["first\n", "second\n"].iter().enumerate() {
            let key = project_key(910 + i as u64);
            std::fs::write(dir.path().join("a.env"), format!("{text}K={key}\n")).unwrap();
            std::fs::write(dir.path().join(format!("f{i}.txt")), text.repeat(50)).unwrap();
            git(&["add", "-A"]);
            git(&["commit", "-qm", &format!("commit {i}")]);
        }
        git(&["gc", "-q", "--aggressive"]);
        let pack_dir = dir.path().join(".git/objects/pack");
        let find = |ext: &str| {
            std::fs::read_dir(&pack_dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|e| e == ext))
                .expect("git gc wrote a pack")
        };
        let (pack, idx) = (find("pack"), find("idx"));
        (dir, pack, idx)
    })
}

/// Copies the packed repository, writes `pack` and `idx` over its own, runs `keyhound git`
/// starting at `reader` (`KEYHOUND_GIT_READER`: `packs`, `git` or `libgit2`).
fn scan_damaged_pack(pack: &[u8], idx: &[u8], reader: &str) -> std::process::Output {
    let (repo, pack_path, idx_path) = packed_repo();
    let copy = tempfile::tempdir().unwrap();
    copy_dir(repo.path(), copy.path());
    let rel = |p: &Path| copy.path().join(p.strip_prefix(repo.path()).unwrap());
    for (path, data) in [(rel(pack_path), pack), (rel(idx_path), idx)] {
        let writable: std::fs::Permissions = PermissionsExt::from_mode(0o644);
        std::fs::set_permissions(&path, writable).unwrap();
        std::fs::write(path, data).unwrap();
    }
    let mut cmd = kh();
    cmd.current_dir(copy.path())
        .args(["git", "--format", "json", "."])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("KEYHOUND_GIT_READER", reader)
        .timeout(HANG);
    cmd.output().expect("keyhound runs")
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(config(8))]

    #[test]
    fn fuzz_pack_reader(
        pack_edits in vec(edit(), 0..4),
        idx_edits in vec(edit(), 0..4),
        reader in proptest::sample::select(&["packs", "git", "libgit2"][..]),
    ) {
        let (_, pack, idx) = packed_repo();
        let pack = apply(std::fs::read(pack).unwrap(), &pack_edits);
        let idx = apply(std::fs::read(idx).unwrap(), &idx_edits);
        let out = scan_damaged_pack(&pack, &idx, reader);
        let code = out.status.code();
        prop_assert!(
            matches!(code, Some(0..=2)),
            "exit {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A pack index giving an offset past its pack's end made libgit2 map beyond the file: SIGBUS
/// (found by `fuzz_pack_reader`). The repository is refused with an error naming the index.
#[test]
fn a_pack_index_pointing_past_its_pack_is_an_error_not_a_crash() {
    let (_, pack, idx) = packed_repo();
    let pack = std::fs::read(pack).unwrap();
    let mut idx = std::fs::read(idx).unwrap();
    let count = u32::from_be_bytes(idx[8 + 255 * 4..8 + 256 * 4].try_into().unwrap()) as usize;
    let first_offset = 8 + 1024 + 24 * count;
    let past = u32::try_from(pack.len() + 4096).unwrap();
    idx[first_offset..first_offset + 4].copy_from_slice(&past.to_be_bytes());
    for reader in ["packs", "git", "libgit2"] {
        let out = scan_damaged_pack(&pack, &idx, reader);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{reader}: {stderr}");
        assert!(
            stderr.contains(".idx: damaged pack index: an object's offset"),
            "{reader}: {stderr}"
        );
    }
}

/// The fuzzer starts from inputs that work: each seed is read as meant.
#[test]
fn fuzz_seeds_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, RULE).unwrap();
    let set = load_rule_files(std::slice::from_ref(&path), &[]).expect("the seed rule loads");
    assert!(check_rules(Arc::new(set)).ok());
    std::fs::write(&path, openai_rules()).unwrap();
    let builtins: Vec<String> = builtin().rules.iter().map(|r| r.spec.id.clone()).collect();
    let set = load_rule_files(&[path], &builtins).expect("the renamed OpenAI rules load");
    assert!(check_rules(Arc::new(set)).ok());
    for (i, data) in archive_seeds().iter().enumerate() {
        // The codecs' seeds, after these, are found by their magic bytes under any name.
        let name = [
            "x.zip", "x.zip", "x.gz", "x.tar", "x.tgz", "x.tar", "x.tar", "x.gz", "x.zip",
        ]
        .get(i)
        .unwrap_or(&"x.bin");
        assert!(
            !scan_bytes(name, data).findings.is_empty(),
            "archive seed {i}"
        );
    }
    assert_eq!(baseline::parse(REPORT).unwrap().len(), 1);
    assert_eq!(baseline::parse(LINES).unwrap().len(), 1);
    let root = tempfile::tempdir().unwrap();
    let files = RootFiles {
        origin: String::new(),
        ignore: Some(IGNORE.into()),
        config: Some(CONFIG.into()),
    };
    Project::parse(&files, Some(root.path())).expect("the seed config parses");
    let (_, pack, idx) = packed_repo();
    let (pack, idx) = (std::fs::read(pack).unwrap(), std::fs::read(idx).unwrap());
    for reader in ["packs", "git", "libgit2"] {
        let out = scan_damaged_pack(&pack, &idx, reader);
        let code = out.status.code();
        assert_eq!(
            code,
            Some(1),
            "{reader}: the intact repository has findings"
        );
    }
}

/// Found by `fuzz_templates` and `fuzz_rule_loader`: a rule example with a huge count aborted
/// `keyhound rules check` (capacity overflow) instead of naming the bad example.
#[test]
fn fuzz_r1_rules_check_rejects_a_huge_template_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    let huge = RULE.replace("{lower:20}", "{lower:1000000000000000}");
    std::fs::write(&path, huge).unwrap();
    let out = kh()
        .args(["rules", "check", "--rules"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad template token"), "{stderr}");
}
