//! Archives, recognised by magic bytes rather than extension: zip (and jar, docx, apk…), tar
//! (read in `tarball`), and gzip, bzip2, xz and zstd streams (decoded by `codecs`). Members are streamed through the scanner under size and ratio limits
//! and a budget for the whole archive, so a bomb is reported as skipped instead of filling memory
//! or time; what a zip's directory hides (overlapping entries, unlisted entries, comments, bytes
//! after its end) is scanned or reported.

use super::stream::{SNIFF_BYTES, fill};
use super::tarball::TarInput;
use super::ziplayout;
use super::{BlobOutcome, Scanner};
use super::{budget, codecs, inflate};
use crate::finding::{Decoding, Origin};
use std::cell::Cell;
use std::fmt;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
    Tar,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Zip => "zip archive",
            Kind::Gzip => "gzip stream",
            Kind::Bzip2 => "bzip2 stream",
            Kind::Xz => "xz stream",
            Kind::Zstd => "zstd stream",
            Kind::Tar => "tar archive",
        })
    }
}

impl Kind {
    /// The `decoded` value of a compressed stream's content; `None` for archives of members.
    pub fn decoding(self) -> Option<Decoding> {
        match self {
            Kind::Gzip => Some(Decoding::Gzip),
            Kind::Bzip2 => Some(Decoding::Bzip2),
            Kind::Xz => Some(Decoding::Xz),
            Kind::Zstd => Some(Decoding::Zstd),
            Kind::Zip | Kind::Tar => None,
        }
    }
}

/// A bzip2 stream's first bytes after `BZh<level>`: a block's magic, or the end of an empty one.
const BZIP2_BLOCK: [&[u8]; 2] = [b"1AY&SY", b"\x17\x72\x45\x38\x50\x90"];

/// An xz stream's header magic.
const XZ_MAGIC: &[u8] = b"\xFD7zXZ\x00";

/// A zstd frame's magic number, little-endian.
const ZSTD_MAGIC: &[u8] = &[0x28, 0xB5, 0x2F, 0xFD];

/// The archive kind whose magic bytes start `head`.
pub fn sniff(head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(Kind::Zip)
    } else if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Kind::Gzip)
    } else if is_bzip2(head) {
        Some(Kind::Bzip2)
    } else if head.starts_with(XZ_MAGIC) {
        Some(Kind::Xz)
    } else if head.starts_with(ZSTD_MAGIC) {
        Some(Kind::Zstd)
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// `BZh`, a level digit, then a block: text that starts with `BZh9` is not taken for bzip2.
fn is_bzip2(head: &[u8]) -> bool {
    head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && BZIP2_BLOCK.contains(&&head[4..10])
}

/// How a file that is a zip with bytes before it starts: a launch script (Spring Boot's
/// executable jars) or an executable (Windows' and Linux's self-extracting archives).
const PREFIXED_ZIP_HEADS: [&[u8]; 3] = [b"#!", b"MZ", b"\x7fELF"];

/// Zips up to this size are read into memory while [`budget::ARCHIVES`] has room; larger ones
/// (and the others) are copied to a temporary file.
const ZIP_IN_MEMORY: u64 = 4 << 20;

/// A zip (or a blob that may end with one) read whole to be read where it lies.
enum Whole {
    /// Its bytes, and the budget they are taken from when over [`budget::SMALL`].
    Memory(Cursor<Vec<u8>>, Option<budget::Permit>),
    /// Copied to a temporary file; true when over the member limit (the rest left unread).
    File(io::BufReader<std::fs::File>, bool),
}

/// Why a zip could not be read whole.
enum WholeError {
    Read(io::Error),
    /// Copying it to a temporary file failed (a read or a write).
    Spool(io::Error),
}

/// Reads from `input` until `bytes` holds `limit` bytes or the input ends.
fn read_up_to(input: &mut dyn Read, bytes: &mut Vec<u8>, limit: u64) -> io::Result<()> {
    let room = limit.saturating_sub(bytes.len() as u64);
    input.take(room).read_to_end(bytes).map(drop)
}

/// What a zip is read from: its bytes in memory, or a temporary file.
trait Source: Read + Seek {}
impl<S: Read + Seek> Source for S {}

/// Decompressed bytes a member may reach before the ratio limit applies.
const RATIO_GRACE: u64 = 1 << 20;

thread_local! {
    /// Bytes the archives of the blob this thread scans have inflated to so far, all members
    /// and levels together; reset for each blob.
    static INFLATED: Cell<u64> = const { Cell::new(0) };
}

/// Starts the inflation budget of a new top-level blob on this thread.
pub fn start_blob() {
    INFLATED.set(0);
}

/// A reader that stops with an error once its output passes the size or ratio limit, or the
/// blob's archives together pass their budget.
struct Limited<R> {
    inner: R,
    produced: u64,
    max: u64,
    ratio: u64,
    budget: u64,
    /// Compressed bytes read so far, counted from `base`.
    compressed: Rc<Cell<u64>>,
    base: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        INFLATED.set(INFLATED.get() + n as u64);
        if self.produced > self.max {
            return Err(io::Error::other(format!(
                "decompresses to more than {} MiB",
                self.max >> 20
            )));
        }
        if INFLATED.get() > self.budget {
            return Err(io::Error::other(format!(
                "the archive inflates to more than {} MiB in all",
                self.budget >> 20
            )));
        }
        let compressed = (self.compressed.get() - self.base).max(1);
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

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Whether a blob that starts with `head` may be a zip with bytes before it: it starts as a
/// launch script or an executable does.
pub fn may_be_prefixed_zip(head: &[u8]) -> bool {
    PREFIXED_ZIP_HEADS.iter().any(|h| head.starts_with(h))
}

/// Each entry's bytes, local header to the end of its data as the directory states its size.
fn zip_spans<R: Read + Seek>(zip: &mut zip::ZipArchive<R>) -> Vec<Range<u64>> {
    (0..zip.len())
        .map(|i| match zip.by_index_raw(i) {
            Ok(f) => {
                let start = f.header_start();
                let data = f.data_start().unwrap_or(start);
                start..data.saturating_add(f.compressed_size()).max(start + 1)
            }
            Err(_) => 0..0,
        })
        .collect()
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
        let whole = &mut Cursor::new(&head[..]).chain(&mut *rest);
        match kind {
            Kind::Gzip => self.scan_gzip(whole, origin, depth, out),
            Kind::Tar => self.scan_tar(&mut TarInput::Stream(whole), origin, depth, out),
            Kind::Zip => self.scan_zip(whole, origin, depth, false, out),
            Kind::Bzip2 | Kind::Xz | Kind::Zstd => {
                self.scan_stream(kind, head, rest, origin, depth, out);
            }
        }
    }

    fn limited<R: Read>(&self, inner: R, compressed: Rc<Cell<u64>>, base: u64) -> Limited<R> {
        Limited {
            inner,
            produced: 0,
            max: self.limits.max_member_bytes,
            ratio: self.limits.max_ratio,
            budget: self.limits.max_archive_bytes,
            compressed,
            base,
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
        let Some(mut buffer) = inflate::Buffer::take(0) else {
            return self.stream_gzip(input, origin, depth, out);
        };
        let filled = match buffer.fill(input, inflate::MAX_GZIP_IN + 1) {
            Ok(filled) => filled,
            Err(e) => {
                buffer.give();
                return out.skip(origin.display(), format!("read error: {e}"), true);
            }
        };
        if let Some((content, names)) = filled.then(|| self.gunzip_whole(&mut buffer)).flatten() {
            self.scan_text(&names.0, &origin.member("(gzip file name)"), out);
            self.scan_text(&names.1, &origin.member("(gzip comment)"), out);
            let content = &buffer.data()[content];
            let (inner, depth) = decoded(Kind::Gzip, content, origin, depth);
            self.scan_bytes(content, &inner, depth, out);
            return buffer.give();
        }
        // Rarely: a stream too large, of several members, or corrupt, or no room to read it.
        let ahead = std::mem::take(buffer.data());
        buffer.give();
        self.stream_gzip(&mut Cursor::new(ahead).chain(input), origin, depth, out);
    }

    /// The content of the gzip stream read whole into `buffer`, inflated there when it is one
    /// member of at most [`inflate::MAX_GZIP_OUT`] bytes that the limits a streaming read
    /// checks allow whole (its range in the buffer), and its file name and comment.
    fn gunzip_whole(
        &self,
        buffer: &mut inflate::Buffer,
    ) -> Option<(Range<usize>, inflate::GzipNames)> {
        let whole = buffer.data();
        let input = whole.len();
        let size = u64::from(inflate::gzip_size(whole)?);
        if input as u64 > inflate::MAX_GZIP_IN
            || !self.inflates_whole(size, input as u64, inflate::MAX_GZIP_OUT)
        {
            return None;
        }
        let names = inflate::gzip_names(whole)?;
        let (from, to) = buffer.inflate(input, usize::try_from(size).ok()?, None)?;
        INFLATED.set(INFLATED.get() + size);
        Some((from..to, names))
    }

    /// Whether data of `size` bytes, `packed` compressed, is within `most` and every limit
    /// [`Limited`] checks allows all of it: inflating it whole never scans what streaming it
    /// would not.
    fn inflates_whole(&self, size: u64, packed: u64, most: u64) -> bool {
        size <= most
            && size <= self.limits.max_member_bytes
            && INFLATED.get() + size <= self.limits.max_archive_bytes
            && (size <= RATIO_GRACE || size / packed.max(1) <= self.limits.max_ratio)
    }

    /// Streams a gzip stream through flate2 under the limits of [`Limited`].
    fn stream_gzip(
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
        let mut gz = self.limited(flate2::read::MultiGzDecoder::new(counted), count, 0);
        let mut head = Vec::new();
        if let Err(e) = fill(&mut gz, &mut head, 512) {
            out.skip(origin.display(), format!("corrupt gzip stream: {e}"), true);
            return;
        }
        if let Some(header) = gz.inner.header() {
            let name = header.filename().unwrap_or_default().to_vec();
            self.scan_text(&name, &origin.member("(gzip file name)"), out);
            let comment = header.comment().unwrap_or_default().to_vec();
            self.scan_text(&comment, &origin.member("(gzip comment)"), out);
        }
        self.scan_decoded(Kind::Gzip, head, &mut gz, origin, depth, out);
    }

    /// A bzip2, xz or zstd stream, read as gzip's is: its content keeps the outer path, and its
    /// decoder's window comes from [`codecs::window`]. A truncated or corrupt stream is a read
    /// error, which makes the scan incomplete.
    fn scan_stream(
        &self,
        kind: Kind,
        head: Vec<u8>,
        input: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        out: &mut BlobOutcome,
    ) {
        let window = match codecs::window(kind, &head) {
            Ok(window) => window,
            Err(reason) => return out.skip(origin.display(), reason, true),
        };
        let count = Rc::new(Cell::new(0));
        let counted = Counting {
            inner: Cursor::new(head).chain(input),
            count: count.clone(),
        };
        let decoder = match codecs::decoder(kind, counted, &window) {
            Ok(decoder) => decoder,
            Err(e) => return out.skip(origin.display(), format!("corrupt {kind}: {e}"), true),
        };
        let mut decoded = self.limited(decoder, count, 0);
        let mut head = Vec::new();
        if let Err(e) = fill(&mut decoded, &mut head, 512) {
            return out.skip(origin.display(), format!("corrupt {kind}: {e}"), true);
        }
        self.scan_decoded(kind, head, &mut decoded, origin, depth, out);
    }

    /// Scans a stream's decoded content (`head`, then `rest`) under the outer path, saying how
    /// it was decoded. A tar inside it (`.tar.gz`, `.tar.xz`…) is opened at the same depth.
    fn scan_decoded(
        &self,
        kind: Kind,
        head: Vec<u8>,
        rest: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        out: &mut BlobOutcome,
    ) {
        let (inner, depth) = decoded(kind, &head, origin, depth);
        self.scan_member(head, rest, &inner, depth, out);
    }
}

/// The origin and depth of what a stream of `kind` at `depth` decodes to, whose first bytes
/// are `head`: the outer path, decoded; a tar inside it (`.tar.gz`, `.tar.xz`…) is opened at the
/// same depth.
fn decoded(kind: Kind, head: &[u8], origin: &Origin, depth: usize) -> (Origin, usize) {
    let inner = kind
        .decoding()
        .map_or_else(|| origin.clone(), |d| origin.decoded(d));
    let depth = if sniff(head) == Some(Kind::Tar) {
        depth
    } else {
        depth + 1
    };
    (inner, depth)
}

impl Scanner<'_> {
    /// Scans an open file as [`Scanner::scan_reader`] does, except that a zip is read where it
    /// lies, not copied into memory, and a zip with bytes before it (a self-extracting archive,
    /// an executable jar), whose directory only a file's end shows, is opened as a zip; those
    /// bytes are scanned as the file's own.
    pub fn scan_file(&self, file: &mut std::fs::File, origin: &Origin, out: &mut BlobOutcome) {
        // The head read here is the blob's own: one read, no seek back, for most files.
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        if let Err(e) = fill(file, &mut head, SNIFF_BYTES) {
            self.begin_blob(0);
            return out.skip(origin.display(), format!("read error: {e}"), true);
        }
        let opens = self.limits.max_archive_depth > 0;
        let prefixable = opens && may_be_prefixed_zip(&head);
        let zip = if opens && sniff(&head) == Some(Kind::Zip) {
            Some(false)
        } else {
            (prefixable && ziplayout::ends_with_zip(file).unwrap_or(false)).then_some(true)
        };
        let resume = if zip.is_some() { 0 } else { head.len() as u64 };
        if (zip.is_some() || prefixable)
            && let Err(e) = file.seek(SeekFrom::Start(resume))
        {
            self.begin_blob(0);
            return out.skip(origin.display(), format!("read error: {e}"), true);
        }
        if let Some(prefixed) = zip {
            self.begin_blob(0);
            let mut input = io::BufReader::with_capacity(64 << 10, file);
            return self.scan_zip_in(&mut input, origin, 0, prefixed, out);
        }
        self.scan_blob_headed(head, file, origin, true, out);
    }

    /// Scans a blob read from a stream (history, standard input, an archive's member) that
    /// starts as a launch script or an executable does: only its end says whether it is a zip
    /// with bytes before it, so it is read whole first ([`Scanner::read_whole`]).
    pub(super) fn scan_maybe_prefixed(
        &self,
        head: Vec<u8>,
        reader: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        out: &mut BlobOutcome,
    ) {
        match self.read_whole(head, reader) {
            Ok(Whole::Memory(mut whole, _permit)) => {
                if ziplayout::ends_with_zip(&mut whole).unwrap_or(false) {
                    return self.scan_zip_in(&mut whole, origin, depth, true, out);
                }
                self.scan_in_place(whole.get_ref(), origin, out);
            }
            Ok(Whole::File(mut file, false)) => {
                if ziplayout::ends_with_zip(&mut file).unwrap_or(false) {
                    return self.scan_zip_in(&mut file, origin, depth, true, out);
                }
                match file.seek(SeekFrom::Start(0)) {
                    Ok(_) => self.scan_chunks(&[], &mut file, origin, out),
                    Err(e) => out.skip(origin.display(), format!("read error: {e}"), true),
                }
            }
            // Over the member limit: no zip is opened, so its bytes are all there is to scan.
            Ok(Whole::File(mut file, true)) => match file.seek(SeekFrom::Start(0)) {
                Ok(_) => self.scan_chunks(&[], &mut file.chain(reader), origin, out),
                Err(e) => out.skip(origin.display(), format!("read error: {e}"), true),
            },
            Err(WholeError::Read(e)) => {
                out.skip(origin.display(), format!("read error: {e}"), true);
            }
            Err(WholeError::Spool(e)) => out.skip(
                origin.display(),
                format!(
                    "cannot copy the file to a temporary file to look for a zip at its end: {e}"
                ),
                true,
            ),
        }
    }

    /// `prefixed`: the zip starts after bytes that are not its entries, scanned as text.
    fn scan_zip(
        &self,
        input: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        prefixed: bool,
        out: &mut BlobOutcome,
    ) {
        match self.read_whole(Vec::new(), input) {
            Ok(Whole::Memory(mut whole, _permit)) => {
                self.scan_zip_in(&mut whole, origin, depth, prefixed, out);
            }
            Ok(Whole::File(mut file, false)) => {
                self.scan_zip_in(&mut file, origin, depth, prefixed, out);
            }
            Ok(Whole::File(file, true)) => {
                out.skip(
                    origin.display(),
                    "zip archive over 256 MiB: scanned as raw bytes, members not opened",
                    true,
                );
                self.scan_chunks(&[], &mut file.chain(input), origin, out);
            }
            Err(WholeError::Read(e)) => {
                out.skip(origin.display(), format!("read error: {e}"), true);
            }
            Err(WholeError::Spool(e)) => out.skip(
                origin.display(),
                format!("cannot copy the zip archive to a temporary file: {e}"),
                true,
            ),
        }
    }

    /// Reads `head` and the rest of `input` whole, to be read where it lies: into memory up to
    /// [`budget::SMALL`], or up to [`ZIP_IN_MEMORY`] while [`budget::ARCHIVES`] has room for
    /// it, else into an unnamed temporary file up to the member limit. So `-j 64` holds the
    /// nested archives in memory that `-j 2` does, and the others wait on disk, not in memory.
    fn read_whole(&self, head: Vec<u8>, input: &mut dyn Read) -> Result<Whole, WholeError> {
        let mut bytes = head;
        let small = budget::SMALL + 1;
        read_up_to(input, &mut bytes, small).map_err(WholeError::Read)?;
        if (bytes.len() as u64) < small {
            return Ok(Whole::Memory(Cursor::new(bytes), None));
        }
        let permit = budget::ARCHIVES.try_acquire(ZIP_IN_MEMORY);
        if permit.is_some() {
            bytes.reserve_exact(ZIP_IN_MEMORY as usize + 1 - bytes.len());
            read_up_to(input, &mut bytes, ZIP_IN_MEMORY + 1).map_err(WholeError::Read)?;
            if bytes.len() as u64 <= ZIP_IN_MEMORY {
                return Ok(Whole::Memory(Cursor::new(bytes), permit));
            }
        }
        let (file, over) = self.spool(bytes, input).map_err(WholeError::Spool)?;
        Ok(Whole::File(file, over))
    }

    /// Copies a large zip (its first `bytes`, then the rest of `input` up to the member limit)
    /// to an unnamed temporary file, so that its levels are never all in memory; true when it
    /// is over the limit.
    fn spool(
        &self,
        bytes: Vec<u8>,
        input: &mut dyn Read,
    ) -> io::Result<(io::BufReader<std::fs::File>, bool)> {
        let mut file = tempfile::tempfile()?;
        file.write_all(&bytes)?;
        let cap = self.limits.max_member_bytes;
        let rest = cap.saturating_sub(bytes.len() as u64) + 1;
        drop(bytes);
        let copied = io::copy(&mut input.take(rest), &mut file)?;
        file.seek(SeekFrom::Start(0))?;
        Ok((io::BufReader::with_capacity(64 << 10, file), copied >= rest))
    }

    fn scan_zip_in(
        &self,
        source: &mut dyn Source,
        origin: &Origin,
        depth: usize,
        prefixed: bool,
        out: &mut BlobOutcome,
    ) {
        let count = Rc::new(Cell::new(0));
        let reader = Counting {
            inner: &mut *source,
            count: count.clone(),
        };
        let (spans, directory, comment) = match zip::ZipArchive::new(reader) {
            Ok(mut zip) => (
                zip_spans(&mut zip),
                zip.central_directory_start(),
                zip.comment().to_vec(),
            ),
            Err(e) => {
                let reason = format!("corrupt zip archive ({e}): scanned as raw bytes");
                return self.scan_raw(source, reason, origin, out);
            }
        };
        // A prefixed zip starts at its first entry (or its directory, if it has none).
        let start = if prefixed {
            spans
                .iter()
                .map(|s| s.start)
                .min()
                .unwrap_or(directory)
                .min(directory)
        } else {
            0
        };
        if start > 0 {
            self.scan_prefix(source, start, origin, out);
        }
        let layout = match ziplayout::check(source, &spans, directory, start) {
            Ok(layout) => layout,
            Err(e) => return out.skip(origin.display(), format!("read error: {e}"), true),
        };
        self.scan_layout(&layout, source, origin, out);
        self.scan_text(&comment, &origin.member("(zip comment)"), out);
        let reader = Counting {
            inner: &mut *source,
            count: count.clone(),
        };
        let Ok(mut zip) = zip::ZipArchive::new(reader) else {
            return out.skip(origin.display(), "zip archive changed while read", true);
        };
        for i in (0..zip.len()).filter(|i| layout.overlapping.binary_search(i).is_err()) {
            if INFLATED.get() > self.limits.max_archive_bytes {
                return out.skip(origin.display(), self.over_budget(), true);
            }
            self.scan_zip_member(&mut zip, i, &count, origin, depth, out);
        }
    }

    /// Scans the `len` bytes before a zip (a launch script, an executable) as the file's text.
    fn scan_prefix(
        &self,
        source: &mut dyn Source,
        len: u64,
        origin: &Origin,
        out: &mut BlobOutcome,
    ) {
        if let Err(e) = source.seek(SeekFrom::Start(0)) {
            return out.skip(origin.display(), format!("read error: {e}"), true);
        }
        self.scan_chunks(&[], &mut (&mut *source).take(len), origin, out);
    }

    /// Scans a zip that cannot be opened as raw bytes, from its start.
    fn scan_raw(
        &self,
        source: &mut dyn Source,
        reason: String,
        origin: &Origin,
        out: &mut BlobOutcome,
    ) {
        out.skip(origin.display(), reason, true);
        if let Err(e) = source.seek(SeekFrom::Start(0)) {
            return out.skip(origin.display(), format!("read error: {e}"), true);
        }
        self.scan_chunks(&[], source, origin, out);
    }

    fn scan_zip_member(
        &self,
        zip: &mut zip::ZipArchive<Counting<&mut dyn Source>>,
        i: usize,
        count: &Rc<Cell<u64>>,
        origin: &Origin,
        depth: usize,
        out: &mut BlobOutcome,
    ) {
        if self.scan_inflated_member(zip, i, origin, depth, out) {
            return;
        }
        let base = count.get();
        let mut file = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                return out.skip(
                    origin.member(&format!("#{i}")).display(),
                    format!("cannot open zip member: {e}"),
                    true,
                );
            }
        };
        let name = self.member_name(&file, origin, out);
        if file.is_dir() {
            return;
        }
        let member = origin.member(&name);
        let mut limited = self.limited(&mut file, count.clone(), base);
        let mut head = Vec::new();
        if let Err(e) = fill(&mut limited, &mut head, 512) {
            return out.skip(
                member.display(),
                format!("cannot read zip member: {e}"),
                true,
            );
        }
        self.scan_member(head, &mut limited, &member, depth + 1, out);
    }

    /// Scans zip member `i` inflated whole ([`inflate::Buffer::inflate`]) when it is
    /// deflated, not encrypted, and small and within the limits ([`Scanner::inflates_whole`]),
    /// with room in [`budget::INFLATING`]; false when it was not, and is still to be streamed.
    fn scan_inflated_member(
        &self,
        zip: &mut zip::ZipArchive<Counting<&mut dyn Source>>,
        i: usize,
        origin: &Origin,
        depth: usize,
        out: &mut BlobOutcome,
    ) -> bool {
        let Ok(mut file) = zip.by_index_raw(i) else {
            return false;
        };
        let (size, packed) = (file.size(), file.compressed_size());
        if file.encrypted()
            || file.is_dir()
            || file.compression() != zip::CompressionMethod::Deflated
            || packed > inflate::MAX_MEMBER
            || !self.inflates_whole(size, packed, inflate::MAX_MEMBER)
        {
            return false;
        }
        let Some(mut buffer) = inflate::Buffer::take(packed + size) else {
            return false;
        };
        let read = (&mut file).take(packed).read_to_end(buffer.data());
        let input = buffer.data().len();
        let content = match (read, usize::try_from(size)) {
            (Ok(_), Ok(size)) => buffer.inflate(input, size, Some(file.crc32())),
            _ => None,
        };
        let Some((from, to)) = content else {
            buffer.give();
            return false;
        };
        INFLATED.set(INFLATED.get() + size);
        let name = self.member_name(&file, origin, out);
        self.scan_bytes(
            &buffer.data()[from..to],
            &origin.member(&name),
            depth + 1,
            out,
        );
        buffer.give();
        true
    }

    /// Scans a zip member's name and comment, and returns its name as shown (keys redacted).
    fn member_name<R: Read>(
        &self,
        file: &zip::read::ZipFile<'_, R>,
        origin: &Origin,
        out: &mut BlobOutcome,
    ) -> String {
        let raw = file.name().map_or_else(
            |_| String::from_utf8_lossy(file.name_raw()).into_owned(),
            |n| n.into_owned(),
        );
        let name = self.scan_name(&raw, |n| origin.member(n), out);
        let comment = file.comment_raw().to_vec();
        self.scan_text(&comment, &origin.member(&format!("{name} (comment)")), out);
        name
    }

    /// Reports what the zip's directory hides, and scans the bytes after its end.
    fn scan_layout(
        &self,
        layout: &ziplayout::Layout,
        source: &mut dyn Source,
        origin: &Origin,
        out: &mut BlobOutcome,
    ) {
        if !layout.overlapping.is_empty() {
            let n = layout.overlapping.len();
            let reason =
                format!("{n} zip entries overlap each other's bytes (a zip bomb?): not opened");
            out.skip(origin.display(), reason, true);
        }
        if let Some(&at) = layout.unlisted.first() {
            let reason = format!(
                "zip entry at offset {at} is missing from the central directory (hidden): \
                 not opened"
            );
            out.skip(origin.display(), reason, true);
        }
        if let Some(at) = layout.trailing {
            let after = origin.member("(after the end of the zip)");
            match source.seek(SeekFrom::Start(at)) {
                Ok(_) => self.scan_chunks(&[], source, &after, out),
                Err(e) => out.skip(after.display(), format!("read error: {e}"), true),
            }
        }
    }

    /// Scans metadata text (a comment) as content of `origin`; nothing when it is empty.
    fn scan_text(&self, text: &[u8], origin: &Origin, out: &mut BlobOutcome) {
        if !text.is_empty() {
            self.scan_in_place(text, origin, out);
        }
    }

    fn over_budget(&self) -> String {
        format!(
            "the archive inflates to more than {} MiB in all: the rest was not scanned",
            self.limits.max_archive_bytes >> 20
        )
    }
    /// Scans one member: an archive again (below the depth limit), else its bytes.
    pub(super) fn scan_member(
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
        assert_eq!(sniff(b"BZh91AY&SYrest"), Some(Kind::Bzip2));
        assert_eq!(sniff(b"BZh9 is not enough"), None);
        assert_eq!(sniff(b"\xFD7zXZ\x00\x00\x04"), Some(Kind::Xz));
        assert_eq!(sniff(&[0x28, 0xB5, 0x2F, 0xFD, 0x24]), Some(Kind::Zstd));
    }
}

#[cfg(test)]
mod budget_tests {
    use super::super::{BlobOutcome, Limits, Scanner};
    use crate::finding::Origin;
    use crate::matcher::Matcher;
    use crate::rules::RuleSet;
    use std::io::Write as _;

    /// Issue 14 point 7: one archive's members together stop at the budget, and the scan says so.
    #[test]
    fn r14_an_archive_stops_at_its_inflation_budget() {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        let mut noise = 1u64;
        for i in 0..4 {
            w.start_file(format!("{i}.bin"), opts).unwrap();
            let member: Vec<u8> = (0..1 << 20)
                .map(|_| {
                    noise = noise
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    (noise >> 56) as u8
                })
                .collect();
            w.write_all(&member).unwrap();
        }
        let zip = w.finish().unwrap().into_inner();
        let matcher = Matcher::new(std::sync::Arc::new(RuleSet::builtin().unwrap()), 1);
        let scanner = Scanner {
            matcher: &matcher,
            limits: Limits {
                max_archive_bytes: (5 << 20) / 2,
                ..Limits::default()
            },
            inline_allow: false,
            progress: crate::progress::Progress::hidden(),
        };
        let mut out = BlobOutcome::default();
        scanner.scan_reader(&mut &zip[..], &Origin::file("a.zip"), 0, &mut out);
        assert!(out.bytes < 3 << 20, "{} bytes scanned", out.bytes);
        assert!(
            out.skipped
                .iter()
                .any(|s| s.incomplete && s.reason.contains("inflates to more than 2 MiB")),
            "{:?}",
            out.skipped
        );
    }
}
