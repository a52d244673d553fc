//! One object read in-process as a stream of its inflated bytes: a loose object's zlib stream,
//! or a pack entry stored whole (not as a delta), inflated as it is read through a small
//! buffer, so that a commit of hundreds of megabytes costs kilobytes, not its size (`git
//! cat-file --batch` holds any commit whole). A delta cannot be streamed, since it is applied
//! to its whole base: the caller then reads the object another way, and says so.

use flate2::bufread::ZlibDecoder;
use git2::Oid;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The buffer between the file and the inflater, and after it.
const BUF: usize = 64 << 10;

/// An object's kind and size, and its content as a reader.
pub(crate) struct Streamed {
    pub kind: gix_object::Kind,
    pub size: u64,
    pub body: Checked<Box<dyn BufRead + Send>>,
}

/// Why an object could not be streamed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unstreamed {
    /// A pack holds it as a delta.
    Delta,
    /// Neither a loose file nor a pack of this object folder holds it (an alternate may).
    Absent,
    /// Its file or pack entry could not be read.
    Unreadable,
}

/// A SHA-1 repository's object folder, its pack indexes opened on first use.
pub(crate) struct Objects {
    dir: PathBuf,
    packs: Option<Vec<(PathBuf, gix_pack::index::File)>>,
}

impl Objects {
    /// The object folder `dir` (`.git/objects`).
    pub fn new(dir: PathBuf) -> Objects {
        Objects { dir, packs: None }
    }

    /// Object `oid` as a stream: from its loose file, else from the first pack that holds it.
    pub fn stream(&mut self, oid: Oid) -> Result<Streamed, Unstreamed> {
        let hex = oid.to_string();
        let loose = self.dir.join(&hex[..2]).join(&hex[2..]);
        match File::open(&loose) {
            Ok(file) => return loose_stream(file),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Unstreamed::Unreadable);
            }
            Err(_) => {}
        }
        let id = gix_hash::oid::try_from_bytes(oid.as_bytes()).map_err(|_| Unstreamed::Absent)?;
        for (pack, index) in self.packs() {
            if let Some(at) = index.lookup(id) {
                return packed(pack, index.pack_offset_at_index(at));
            }
        }
        Err(Unstreamed::Absent)
    }

    fn packs(&mut self) -> &[(PathBuf, gix_pack::index::File)] {
        let dir = self.dir.join("pack");
        self.packs.get_or_insert_with(|| {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                return Vec::new();
            };
            let mut idx: Vec<PathBuf> = (entries.flatten())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "idx"))
                .collect();
            idx.sort();
            (idx.into_iter())
                .filter_map(|p| {
                    let index = gix_pack::index::File::at(&p, gix_hash::Kind::Sha1).ok()?;
                    Some((p.with_extension("pack"), index))
                })
                .collect()
        })
    }
}

/// A loose object: one zlib stream of `<kind> <size>\0` and the content.
fn loose_stream(file: File) -> Result<Streamed, Unstreamed> {
    let inflated = ZlibDecoder::new(BufReader::with_capacity(BUF, file));
    let mut body = BufReader::with_capacity(BUF, inflated);
    let mut header = Vec::new();
    (&mut body)
        .take(64)
        .read_until(0, &mut header)
        .map_err(|_| Unstreamed::Unreadable)?;
    let text = header.strip_suffix(b"\0").ok_or(Unstreamed::Unreadable)?;
    let text = std::str::from_utf8(text).map_err(|_| Unstreamed::Unreadable)?;
    let (kind, size) = text.split_once(' ').ok_or(Unstreamed::Unreadable)?;
    let kind = gix_object::Kind::from_bytes(kind.as_bytes()).map_err(|_| Unstreamed::Unreadable)?;
    let size = size.parse().map_err(|_| Unstreamed::Unreadable)?;
    Ok(Streamed {
        kind,
        size,
        body: Checked::new(Box::new(body), size),
    })
}

/// The entry at `offset` of `pack`, when it is stored whole.
pub(crate) fn packed(pack: &Path, offset: u64) -> Result<Streamed, Unstreamed> {
    let mut file = File::open(pack).map_err(|_| Unstreamed::Unreadable)?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|_| Unstreamed::Unreadable)?;
    let mut head = BufReader::with_capacity(BUF, file);
    let entry = gix_pack::data::Entry::from_read(&mut head, offset, 20)
        .map_err(|_| Unstreamed::Unreadable)?;
    let kind = entry.header.as_kind().ok_or(Unstreamed::Delta)?;
    // The header was read from `head`'s buffer: what it holds beyond is the compressed data.
    let inflated = ZlibDecoder::new(head);
    let body = BufReader::with_capacity(BUF, inflated);
    let size = entry.decompressed_size;
    Ok(Streamed {
        kind,
        size,
        body: Checked::new(Box::new(body), size),
    })
}

/// A reader of an object's content that ends at its stated size and remembers whether it
/// delivered it all without an error (zlib checks the stream's checksum at its end), so that a
/// damaged object is never taken as scanned.
pub(crate) struct Checked<R> {
    inner: R,
    left: u64,
    failed: bool,
}

impl<R: BufRead> Checked<R> {
    fn new(inner: R, size: u64) -> Checked<R> {
        Checked {
            inner,
            left: size,
            failed: false,
        }
    }

    /// Reads what is left, then whether every byte of the object came, and nothing after it.
    pub fn finish(mut self) -> bool {
        if std::io::copy(&mut self, &mut std::io::sink()).is_err() || self.failed {
            return false;
        }
        // The end of the zlib stream, with its checksum, must follow the last byte.
        let mut extra = [0u8; 1];
        matches!(self.inner.read(&mut extra), Ok(0))
    }
}

impl<R: BufRead> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.fill_buf()?.len().min(buf.len());
        buf[..n].copy_from_slice(&self.fill_buf()?[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Checked<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.left == 0 {
            return Ok(&[]);
        }
        let left = self.left;
        match self.inner.fill_buf() {
            Ok([]) => {
                self.failed = true;
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the object ends before its stated size",
                ))
            }
            Ok(buf) => Ok(&buf[..buf.len().min(usize::try_from(left).unwrap_or(usize::MAX))]),
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        self.left -= n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    fn loose(dir: &Path, raw: &[u8]) -> Oid {
        let oid = Oid::hash_object(git2::ObjectType::Commit, raw).unwrap();
        let hex = oid.to_string();
        let mut obj = format!("commit {}\0", raw.len()).into_bytes();
        obj.extend_from_slice(raw);
        std::fs::create_dir_all(dir.join(&hex[..2])).unwrap();
        std::fs::write(dir.join(&hex[..2]).join(&hex[2..]), zlib(&obj)).unwrap();
        oid
    }

    #[test]
    fn a_loose_object_streams_whole_and_a_damaged_one_fails() {
        let dir = tempfile::tempdir().unwrap();
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmessage\n".repeat(3);
        let oid = loose(dir.path(), &raw);
        let mut objects = Objects::new(dir.path().to_path_buf());
        let mut s = objects.stream(oid).unwrap();
        assert_eq!(
            (s.kind, s.size),
            (gix_object::Kind::Commit, raw.len() as u64)
        );
        let mut got = Vec::new();
        s.body.read_to_end(&mut got).unwrap();
        assert_eq!(got, raw);
        assert!(s.body.finish());

        // Cut short: the body ends early, and finishing says so.
        let hex = oid.to_string();
        let file = dir.path().join(&hex[..2]).join(&hex[2..]);
        let whole = std::fs::read(&file).unwrap();
        std::fs::write(&file, &whole[..whole.len() - 8]).unwrap();
        let s = objects.stream(oid).unwrap();
        assert!(!s.body.finish());
        assert_eq!(
            objects.stream(Oid::from_str("1234").unwrap()).err(),
            Some(Unstreamed::Absent)
        );
    }
}
