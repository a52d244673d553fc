//! Archives, recognised by magic bytes rather than extension: zip (and jar, docx, apk…), gzip and
//! tar. Members are streamed through the scanner under size and ratio limits, so a bomb is
//! reported as skipped instead of filling memory.

use super::stream::fill;
use super::{BlobOutcome, Scanner};
use crate::finding::Origin;
use std::cell::Cell;
use std::fmt;
use std::io::{self, Cursor, Read};
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Gzip,
    Tar,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Zip => "zip archive",
            Kind::Gzip => "gzip stream",
            Kind::Tar => "tar archive",
        })
    }
}

/// The archive kind whose magic bytes start `head`.
pub fn sniff(head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(Kind::Zip)
    } else if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Kind::Gzip)
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// Decompressed bytes a member may reach before the ratio limit applies.
const RATIO_GRACE: u64 = 1 << 20;

/// A reader that stops with an error once its output passes the size or ratio limit.
struct Limited<R> {
    inner: R,
    produced: u64,
    max: u64,
    ratio: u64,
    compressed: Rc<Cell<u64>>,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        if self.produced > self.max {
            return Err(io::Error::other(format!(
                "decompresses to more than {} MiB",
                self.max >> 20
            )));
        }
        let compressed = self.compressed.get().max(1);
        if self.produced > RATIO_GRACE && self.produced / compressed > self.ratio {
            return Err(io::Error::other(format!(
                "compression ratio over {}:1 (a zip bomb?)",
                self.ratio
            )));
        }
        Ok(n)
    }
}

/// Counts the bytes read through it into a shared cell.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl Scanner<'_> {
    /// Opens the archive that starts with `head` and continues in `rest`, and scans its members.
    pub(super) fn scan_archive(
        &self,
        kind: Kind,
        head: Vec<u8>,
        rest: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        out: &mut BlobOutcome,
    ) {
        let mut whole = Cursor::new(head).chain(rest);
        match kind {
            Kind::Gzip => self.scan_gzip(&mut whole, origin, depth, out),
            Kind::Tar => self.scan_tar(&mut whole, origin, depth, out),
            Kind::Zip => self.scan_zip(&mut whole, origin, depth, out),
        }
    }

    fn limited<R: Read>(&self, inner: R, compressed: Rc<Cell<u64>>) -> Limited<R> {
        Limited {
            inner,
            produced: 0,
            max: self.limits.max_member_bytes,
            ratio: self.limits.max_ratio,
            compressed,
        }
    }

    /// A gzip stream is a decoding, not a member: its content keeps the outer path. A tar inside
    /// it (`.tar.gz`) is opened at the same depth.
    fn scan_gzip(
        &self,
        input: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        out: &mut BlobOutcome,
    ) {
        let count = Rc::new(Cell::new(0));
        let counted = Counting {
            inner: input,
            count: count.clone(),
        };
        let mut gz = self.limited(flate2::read::MultiGzDecoder::new(counted), count);
        let mut head = Vec::new();
        if let Err(e) = fill(&mut gz, &mut head, 512) {
            out.skip(origin.display(), format!("corrupt gzip stream: {e}"), true);
            return;
        }
        let inner = origin.decoded("gzip");
        let depth = if super::archive::sniff(&head) == Some(Kind::Tar) {
            depth
        } else {
            depth + 1
        };
        self.scan_member(head, &mut gz, &inner, depth, out);
    }

    fn scan_tar(&self, input: &mut dyn Read, origin: &Origin, depth: usize, out: &mut BlobOutcome) {
        let mut archive = tar::Archive::new(input);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return out.skip(origin.display(), format!("corrupt tar archive: {e}"), true),
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    return out.skip(origin.display(), format!("corrupt tar archive: {e}"), true);
                }
            };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let member = origin.member(&name);
            let size = entry.size();
            if size > self.limits.max_member_bytes {
                out.skip(
                    member.display(),
                    format!("member of {size} bytes is over the 256 MiB member limit"),
                    true,
                );
                continue;
            }
            let mut head = Vec::new();
            if let Err(e) = fill(&mut entry, &mut head, 512) {
                return out.skip(member.display(), format!("corrupt tar archive: {e}"), true);
            }
            self.scan_member(head, &mut entry, &member, depth + 1, out);
        }
    }

    fn scan_zip(&self, input: &mut dyn Read, origin: &Origin, depth: usize, out: &mut BlobOutcome) {
        let mut bytes = Vec::new();
        let cap = self.limits.max_member_bytes;
        if let Err(e) = input.take(cap + 1).read_to_end(&mut bytes) {
            return out.skip(origin.display(), format!("read error: {e}"), true);
        }
        if bytes.len() as u64 > cap {
            out.skip(
                origin.display(),
                "zip archive over 256 MiB: scanned as raw bytes, members not opened",
                true,
            );
            return self.scan_chunks(&bytes, &mut io::empty(), origin, out);
        }
        let mut zip = match zip::ZipArchive::new(Cursor::new(&bytes[..])) {
            Ok(z) => z,
            Err(e) => {
                out.skip(
                    origin.display(),
                    format!("corrupt zip archive ({e}): scanned as raw bytes"),
                    true,
                );
                return self.scan_chunks(&bytes, &mut io::empty(), origin, out);
            }
        };
        for i in 0..zip.len() {
            let mut file = match zip.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    out.skip(
                        origin.member(&format!("#{i}")).display(),
                        format!("cannot open zip member: {e}"),
                        true,
                    );
                    continue;
                }
            };
            if file.is_dir() {
                continue;
            }
            let name = file.name().map_or_else(
                |_| String::from_utf8_lossy(file.name_raw()).into_owned(),
                |n| n.into_owned(),
            );
            let member = origin.member(&name);
            let compressed = Rc::new(Cell::new(file.compressed_size()));
            let mut limited = self.limited(&mut file, compressed);
            let mut head = Vec::new();
            if let Err(e) = fill(&mut limited, &mut head, 512) {
                out.skip(
                    member.display(),
                    format!("cannot read zip member: {e}"),
                    true,
                );
                continue;
            }
            self.scan_member(head, &mut limited, &member, depth + 1, out);
        }
    }

    /// Scans one member: an archive again (below the depth limit), else its bytes.
    fn scan_member(
        &self,
        head: Vec<u8>,
        rest: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        out: &mut BlobOutcome,
    ) {
        let mut whole = Cursor::new(head).chain(rest);
        self.scan_reader(&mut whole, origin, depth, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_magic_not_name() {
        assert_eq!(sniff(b"PK\x03\x04rest"), Some(Kind::Zip));
        assert_eq!(sniff(&[0x1f, 0x8b, 0x08, 0]), Some(Kind::Gzip));
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff(&tar), Some(Kind::Tar));
        assert_eq!(sniff(b"plain text"), None);
    }
}
