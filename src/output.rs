//! Where keyhound writes what it makes (reports, SARIF, replacement lists): standard output for
//! `-` or no path; a device, FIFO or socket in place; anything else as a new file created beside
//! the path (`O_EXCL|O_NOFOLLOW`) and renamed over it once complete. A symlink a pull request
//! committed at the path is so replaced, never followed, and an interrupted run leaves the old
//! file, never half a report. A relative path through a symlinked directory (one a checkout can
//! hold) is refused.

use anyhow::Context as _;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use tempfile::NamedTempFile;

/// Who may read a file keyhound creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// As `File::create` makes it: 0666 less the umask.
    Shared,
    /// Its owner only (0600): the file holds whole keys.
    Private,
}

/// An output being written; `commit` puts it in place.
pub struct Output {
    sink: Sink,
}

enum Sink {
    Stdout(BufWriter<io::Stdout>),
    InPlace(BufWriter<File>),
    Replace {
        file: BufWriter<NamedTempFile<File>>,
        path: PathBuf,
    },
}

/// Whether `path` means standard output (none, or `-`).
pub fn is_stdout(path: Option<&Path>) -> bool {
    path.is_none_or(|p| p == Path::new("-"))
}

/// Opens `path` (standard output when `is_stdout`); `what` names it in errors ("the report").
pub fn open(path: Option<&Path>, what: &str, access: Access) -> anyhow::Result<Output> {
    let sink = match path {
        Some(path) if !is_stdout(Some(path)) => open_file(path, access)
            .with_context(|| format!("{}: cannot write {what} there", path.display()))?,
        _ => Sink::Stdout(BufWriter::new(io::stdout())),
    };
    Ok(Output { sink })
}

/// Opens where a command's report goes: standard output or the `-o` file.
pub fn report(path: Option<&Path>) -> anyhow::Result<Output> {
    open(path, "the report", Access::Shared)
}

/// A closed pipe (`keyhound scan | head`) is not an error.
pub fn ignore_broken_pipe(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

fn open_file(path: &Path, access: Access) -> io::Result<Sink> {
    if let Some(link) = linked_directory(path) {
        return Err(io::Error::other(format!(
            "{} is a symbolic link, and a relative path is not followed through one (a \
             checked-out repository can hold it, pointing anywhere): name the directory it \
             points to, or give an absolute path",
            link.display()
        )));
    }
    if written_in_place(path) {
        let file = OpenOptions::new().write(true).truncate(true).open(path)?;
        return Ok(Sink::InPlace(BufWriter::new(file)));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file = tempfile::Builder::new()
        .prefix(".keyhound-")
        .suffix(".tmp")
        .make_in(dir, |p| create_new(p, access))?;
    Ok(Sink::Replace {
        file: BufWriter::new(file),
        path: path.to_path_buf(),
    })
}

/// The first directory of a relative `path` that is a symbolic link. Those directories are
/// below the working directory, often a checkout whose links a pull request chose; an absolute
/// path is the user's own.
fn linked_directory(path: &Path) -> Option<PathBuf> {
    if path.is_absolute() {
        return None;
    }
    let mut prefix = PathBuf::new();
    for part in path.parent()?.components() {
        prefix.push(part);
        let is_link = || std::fs::symlink_metadata(&prefix).is_ok_and(|m| m.is_symlink());
        if matches!(part, Component::Normal(_)) && is_link() {
            return Some(prefix);
        }
    }
    None
}

/// A device, FIFO or socket at `path` (`/dev/null`, a named pipe) is written, never replaced; so
/// is a symlink under `/dev` or `/proc` (`/dev/stdout`), which only the user can have named.
/// A symlink anywhere else is replaced by the new file.
fn written_in_place(path: &Path) -> bool {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            path.starts_with("/dev") || path.starts_with("/proc")
        }
        Ok(m) => !m.is_file(),
        Err(_) => false,
    }
}

#[cfg(unix)]
fn create_new(path: &Path, access: Access) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mode = match access {
        Access::Shared => 0o666,
        Access::Private => 0o600,
    };
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(mode)
        .open(path)
}

#[cfg(not(unix))]
fn create_new(path: &Path, _access: Access) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

impl Output {
    /// Flushes what was written and, for a new file, renames it over the path.
    pub fn commit(self) -> io::Result<()> {
        match self.sink {
            Sink::Stdout(mut out) => out.flush(),
            Sink::InPlace(mut out) => out.flush(),
            Sink::Replace { file, path } => {
                let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.persist(&path).map(drop).map_err(|e| {
                    io::Error::new(
                        e.error.kind(),
                        format!("{}: cannot write there: {}", path.display(), e.error),
                    )
                })
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Stdout(out) => out.write(buf),
            Sink::InPlace(out) => out.write(buf),
            Sink::Replace { file, .. } => file.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(out) => out.write_all(buf),
            Sink::InPlace(out) => out.write_all(buf),
            Sink::Replace { file, .. } => file.write_all(buf),
        }
    }

    /// Flushes the buffer only: the new file is put in place by `commit`.
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(out) => out.flush(),
            Sink::InPlace(out) => out.flush(),
            Sink::Replace { file, .. } => file.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str, access: Access) {
        let mut out = open(Some(path), "the report", access).unwrap();
        out.write_all(text.as_bytes()).unwrap();
        out.commit().unwrap();
    }

    #[test]
    fn a_symlink_at_the_path_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.path().join("report.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write(&link, "report", Access::Shared);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "report");
    }

    #[test]
    fn an_uncommitted_output_leaves_the_old_file_and_no_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, "old").unwrap();
        let mut out = open(Some(&path), "the report", Access::Shared).unwrap();
        out.write_all(b"half a rep").unwrap();
        drop(out);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn private_files_are_their_owners_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replacements.txt");
        write(&path, "k==>x\n", Access::Private);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_dash_is_standard_output() {
        assert!(is_stdout(None));
        assert!(is_stdout(Some(Path::new("-"))));
        assert!(!is_stdout(Some(Path::new("./-"))));
    }
}
