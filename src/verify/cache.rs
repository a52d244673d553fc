//! The verification cache, which survives runs so that re-running an audit does not ask the API
//! again about keys found dead an hour ago. Entries are keyed by the SHA-256 of the key (of both
//! parts of a two-part key; never the key) and hold the verdict and its time only, in one file
//! per API base URL in the user's cache directory. `dead` is trusted for the TTL (24 h by
//! default), `live` for at most an hour (a user who just revoked a key must not be told it still
//! works), `unknown` is never kept.
//! Runs at the same time each add their verdicts: the read-merge-write of `save` holds an
//! advisory lock (`flock` on a `.lock` file beside the cache), and the temporary file is created
//! anew (`O_EXCL|O_NOFOLLOW`), so a symlink planted at its path is never followed.

use super::endpoint::BaseUrl;
use super::{Status, Verification};
use crate::finding::sha256;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest a `live` verdict is trusted, whatever the TTL.
pub const LIVE_MAX_AGE: Duration = Duration::from_secs(3600);

/// Entries older than this (or the TTL, if longer) are dropped when the file is written.
const KEEP: Duration = Duration::from_secs(7 * 86_400);

/// How far in the future of this run's clock an entry may be dated and still be kept: another run
/// may have checked a key, and saved it, after this run read the clock and while it waited for the
/// lock. Entries dated further ahead (a clock set back) are dropped.
const SKEW: i64 = 3600;

const VERSION: u32 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    /// SHA-256 of the key, in hex → verdict.
    entries: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    status: Status,
    reason: Option<String>,
    /// Seconds since the Unix epoch.
    checked_at: i64,
}

/// The verdicts of earlier runs against one base URL, and those of this run to add.
#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    entries: BTreeMap<String, Entry>,
    added: BTreeMap<String, Entry>,
}

impl Cache {
    /// The cache for `base` under `dir`. A missing or unreadable file is an empty cache.
    pub fn open(dir: &Path, base: &BaseUrl) -> Cache {
        Cache::open_named(dir, &base.cache_id())
    }

    /// The cache named `name` (`BaseUrl::cache_id`, and what else sets verdicts apart).
    pub fn open_named(dir: &Path, name: &str) -> Cache {
        let digest = hex(&sha256(name.as_bytes()));
        let path = dir.join(format!("verdicts-{}.json", &digest[..16]));
        Cache {
            entries: read(&path).entries,
            path,
            added: BTreeMap::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached verdict on `key`, if it is still to be trusted at `now`.
    pub fn get(&self, key: &Secret, now: i64, ttl: Duration) -> Option<Verification> {
        let entry = self.entries.get(&key_id(key))?;
        let age = now.checked_sub(entry.checked_at).filter(|a| *a >= 0)?;
        let max_age = match entry.status {
            Status::Dead => ttl,
            Status::Live => ttl.min(LIVE_MAX_AGE),
            Status::Unknown | Status::NotChecked => return None,
        };
        ((age as u64) < max_age.as_secs()).then(|| Verification {
            status: entry.status,
            reason: entry.reason.clone(),
            checked_at: Some(entry.checked_at),
            cached: true,
            ..Verification::default()
        })
    }

    /// Keeps a fresh `live` or `dead` verdict on `key`; others are not cached.
    pub fn put(&mut self, key: &Secret, v: &Verification) {
        let (Status::Live | Status::Dead, Some(checked_at)) = (v.status, v.checked_at) else {
            return;
        };
        let entry = Entry {
            status: v.status,
            reason: v.reason.clone(),
            checked_at,
        };
        self.added.insert(key_id(key), entry);
    }

    /// Writes this run's verdicts, merged into what the file holds now (another run may have
    /// written since), dropping entries too old to be used.
    pub fn save(&self, now: i64, ttl: Duration) -> io::Result<()> {
        if self.added.is_empty() {
            return Ok(());
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(|e| context(e, dir))?;
        let lock_path = self.path.with_extension("lock");
        let _lock = lock(&lock_path).map_err(|e| context(e, &lock_path))?;
        let mut file = read(&self.path);
        file.version = VERSION;
        file.entries.extend(self.added.clone());
        let keep = ttl.max(KEEP).as_secs() as i64;
        file.entries
            .retain(|_, e| now.saturating_sub(e.checked_at) < keep && e.checked_at <= now + SKEW);
        write_atomically(&self.path, &serde_json::to_vec(&file)?)
    }
}

/// The cache file, or an empty one when it is missing, unreadable or of another version.
fn read(path: &Path) -> CacheFile {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
        .filter(|f| f.version == VERSION)
        .unwrap_or_default()
}

fn context(e: io::Error, what: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", what.display()))
}

/// Writes `data` to a new temporary file beside `path` (readable by the user only), then renames
/// it over `path`. Whatever is at the temporary path already (a leftover, a planted symlink) is
/// removed, never written through.
fn write_atomically(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".verdicts-{}.tmp", std::process::id()));
    let mut f = match new_private_file(&tmp) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&tmp).map_err(|e| context(e, &tmp))?;
            new_private_file(&tmp)
        }
        opened => opened,
    }
    .map_err(|e| context(e, &tmp))?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .map_err(|e| context(e, &tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        context(e, path)
    })
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Creates `path`, which must not exist (not even as a symlink), readable by the user only.
#[cfg(unix)]
fn new_private_file(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn new_private_file(path: &Path) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Takes the exclusive advisory lock on `path` (created if missing, never through a symlink);
/// it is released when the returned file is dropped, or when the process ends.
#[cfg(unix)]
fn lock(path: &Path) -> io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)?;
    loop {
        // SAFETY: flock on a descriptor this function owns for the call's duration.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(file);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Without `flock`, concurrent runs may lose each other's verdicts (never corrupt the file).
#[cfg(not(unix))]
fn lock(_path: &Path) -> io::Result<()> {
    Ok(())
}

/// The entry key of a secret: SHA-256 of the key, in hex; for a two-part key (an AWS key id),
/// of the key, its paired secret and its session token, so that another secret found with the
/// same key id is verified on its own rather than given the first one's verdict.
fn key_id(key: &Secret) -> String {
    let Some(paired) = key.paired() else {
        return hex(&sha256(key.expose().as_bytes()));
    };
    let mut material = format!("{}\0{}", key.expose(), paired.expose());
    if let Some(token) = key.hints("session_token").next() {
        material.push('\0');
        material.push_str(token);
    }
    hex(&sha256(material.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);
    const T0: i64 = 1_700_000_000;

    fn verdict(status: Status, reason: Option<&str>) -> Verification {
        Verification {
            status,
            reason: reason.map(String::from),
            http_status: Some(401),
            request_id: Some("req_x".into()),
            checked_at: Some(T0),
            ..Verification::default()
        }
    }

    fn key(s: &str) -> Secret {
        Secret::new(s.to_string(), 3)
    }

    fn saved(dir: &Path, puts: &[(&str, Verification)]) -> Cache {
        let mut c = Cache::open(dir, &BaseUrl::openai());
        for (k, v) in puts {
            c.put(&key(k), v);
        }
        c.save(T0, DAY).unwrap();
        Cache::open(dir, &BaseUrl::openai())
    }

    /// Another run checked a key a second after this run read the clock, and saved first (the
    /// flake of `r14_sixteen_runs_at_once_keep_all_their_verdicts`: 15 of 16 verdicts kept).
    #[test]
    fn a_verdict_saved_by_a_later_run_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut later = Cache::open(dir.path(), &BaseUrl::openai());
        let mut v = verdict(Status::Dead, None);
        v.checked_at = Some(T0 + 1);
        later.put(&key("sk-later"), &v);
        later.save(T0 + 1, DAY).unwrap();
        let mut this = Cache::open(dir.path(), &BaseUrl::openai());
        this.put(&key("sk-this"), &verdict(Status::Dead, None));
        this.save(T0, DAY).unwrap();
        let c = Cache::open(dir.path(), &BaseUrl::openai());
        assert!(c.get(&key("sk-later"), T0 + 2, DAY).is_some());
        assert!(c.get(&key("sk-this"), T0 + 2, DAY).is_some());
        let mut far = Cache::open(dir.path(), &BaseUrl::openai());
        v.checked_at = Some(T0 + 2 * SKEW);
        far.put(&key("sk-far"), &v);
        far.save(T0 + 2 * SKEW, DAY).unwrap();
        this.save(T0, DAY).unwrap();
        let c = Cache::open(dir.path(), &BaseUrl::openai());
        assert!(
            c.get(&key("sk-far"), T0 + 2 * SKEW, DAY).is_none(),
            "an entry dated over an hour ahead is dropped"
        );
    }

    #[test]
    fn dead_is_kept_for_the_ttl_live_for_an_hour_unknown_never() {
        let dir = tempfile::tempdir().unwrap();
        let c = saved(
            dir.path(),
            &[
                (
                    "sk-dead",
                    verdict(Status::Dead, Some("revoked or never valid")),
                ),
                ("sk-live", verdict(Status::Live, None)),
                ("sk-unknown", verdict(Status::Unknown, Some("timed out"))),
            ],
        );
        let dead = c.get(&key("sk-dead"), T0 + 3 * 3600, DAY).unwrap();
        assert_eq!(dead.status, Status::Dead);
        assert_eq!(dead.reason.as_deref(), Some("revoked or never valid"));
        assert!(dead.cached);
        assert_eq!(dead.checked_at, Some(T0));
        assert_eq!(
            dead.http_status, None,
            "only the verdict and its time are kept"
        );
        assert!(c.get(&key("sk-dead"), T0 + 86_400, DAY).is_none());
        assert!(c.get(&key("sk-live"), T0 + 3599, DAY).is_some());
        assert!(c.get(&key("sk-live"), T0 + 3600, DAY).is_none());
        assert!(
            c.get(&key("sk-live"), T0 + 60, Duration::from_secs(30))
                .is_none()
        );
        assert!(c.get(&key("sk-unknown"), T0, DAY).is_none());
        assert!(c.get(&key("sk-other"), T0, DAY).is_none());
    }

    #[test]
    fn the_file_holds_hashes_and_verdicts_only() {
        let dir = tempfile::tempdir().unwrap();
        let c = saved(
            dir.path(),
            &[("sk-secret-value", verdict(Status::Dead, None))],
        );
        let text = std::fs::read_to_string(c.path()).unwrap();
        assert!(!text.contains("sk-secret-value"));
        assert!(text.contains(&key_id(&key("sk-secret-value"))));
        assert!(!text.contains("req_x") && !text.contains("401"));
    }

    #[test]
    fn each_base_url_has_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        saved(dir.path(), &[("sk-a", verdict(Status::Dead, None))]);
        let other = BaseUrl::parse("http://127.0.0.1:9/v1").unwrap();
        let c = Cache::open(dir.path(), &other);
        assert!(c.get(&key("sk-a"), T0, DAY).is_none());
    }

    #[test]
    fn a_corrupt_file_is_an_empty_cache_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::open(dir.path(), &BaseUrl::openai());
        std::fs::write(c.path(), b"{not json").unwrap();
        let c = saved(dir.path(), &[("sk-a", verdict(Status::Dead, None))]);
        assert!(c.get(&key("sk-a"), T0, DAY).is_some());
    }

    /// Issue 14, point 15: unfixed, the cache was written through the symlink into its target.
    #[cfg(unix)]
    #[test]
    fn r14_a_symlink_at_the_temporary_path_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("victim");
        std::fs::write(&target, b"untouched").unwrap();
        let tmp = dir
            .path()
            .join(format!(".verdicts-{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&target, &tmp).unwrap();
        let c = saved(dir.path(), &[("sk-a", verdict(Status::Dead, None))]);
        assert_eq!(std::fs::read(&target).unwrap(), b"untouched");
        assert!(!std::fs::symlink_metadata(c.path()).unwrap().is_symlink());
        assert!(c.get(&key("sk-a"), T0, DAY).is_some());
        assert!(
            std::fs::symlink_metadata(&tmp).is_err(),
            "nothing is left behind"
        );
    }

    #[test]
    fn a_key_id_with_another_secret_or_token_has_its_own_entry() {
        let dir = tempfile::tempdir().unwrap();
        let pair = |secret: &str, token: Option<&str>| {
            let hints = token.map(|t| vec![("session_token".to_string(), t.to_string())]);
            key("AKIAQEXAMPLEKEYID001")
                .with_paired(Some(key(secret)))
                .with_hints(hints.unwrap_or_default())
        };
        let mut c = Cache::open(dir.path(), &BaseUrl::openai());
        c.put(&pair("secret-a", None), &verdict(Status::Dead, None));
        c.put(
            &pair("secret-b", Some("tok-1")),
            &verdict(Status::Live, None),
        );
        c.save(T0, DAY).unwrap();
        let c = Cache::open(dir.path(), &BaseUrl::openai());
        let status = |k: &Secret| c.get(k, T0, DAY).map(|v| v.status);
        assert_eq!(status(&pair("secret-a", None)), Some(Status::Dead));
        assert_eq!(status(&pair("secret-b", Some("tok-1"))), Some(Status::Live));
        assert_eq!(status(&pair("secret-c", None)), None);
        assert_eq!(status(&pair("secret-b", Some("tok-2"))), None);
        assert_eq!(status(&pair("secret-b", None)), None);
        assert_eq!(status(&key("AKIAQEXAMPLEKEYID001")), None);
        let text = std::fs::read_to_string(c.path()).unwrap();
        assert!(!text.contains("secret-a") && !text.contains("AKIAQEXAMPLEKEYID001"));
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let c = saved(dir.path(), &[("sk-a", verdict(Status::Dead, None))]);
        let mode = std::fs::metadata(c.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
