//! Streaming a blob through the matcher in chunks with an overlap, so a 300 MB one-line file is
//! scanned in bounded memory and a key across a chunk boundary is found exactly once; a blob
//! already in memory is scanned where it lies, in the same windows.

use super::context::{LineState, context};
use super::tarball::TarInput;
use super::{BlobOutcome, Scanner, archive, budget, chunks};
use crate::finding::{Decoding, Finding, Origin, fingerprint};
use crate::matcher::Found;
use crate::suppress;
use std::io::{ErrorKind, Read};

/// Bytes before a chunk's own region that stay visible, so boundaries and escapes before a key
/// at the region's start can still be looked at.
const LOOKBEHIND: usize = 64;

/// An object held whole for scanning, with its bytes taken from [`budget::HELD`] until it is
/// let go.
pub struct Held {
    _permit: budget::Permit,
}

impl Held {
    /// Waits for an object of `size` bytes to fit the budget (at once under its floor).
    pub fn take(size: u64) -> Held {
        Held::of(size.min(budget::SMALL))
    }

    /// Waits for `bytes` of the budget (at once under its floor), for an object that costs
    /// more than its size (the libgit2 reader's: `git::blobs::held_bytes`).
    pub fn of(bytes: u64) -> Held {
        Held {
            _permit: budget::HELD.acquire(bytes),
        }
    }
}

/// Bytes read before deciding whether a blob is an archive (tar's magic sits at 257).
pub(super) const SNIFF_BYTES: usize = 512;

impl Scanner<'_> {
    /// Scans everything `reader` yields; archives below the depth limit are opened. At depth 0
    /// it is one more blob (or file) on the progress bar.
    pub fn scan_reader(
        &self,
        reader: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        out: &mut BlobOutcome,
    ) {
        self.scan_blob(reader, origin, depth, false, out);
    }

    /// As [`Scanner::scan_reader`]; `prefix_checked`: the caller has already looked at the
    /// blob's end for a zip with bytes before it (a file on disk can seek there).
    pub(super) fn scan_blob(
        &self,
        reader: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        prefix_checked: bool,
        out: &mut BlobOutcome,
    ) {
        self.begin_blob(depth);
        self.scan_any(reader, origin, depth, prefix_checked, out);
    }

    /// As [`Scanner::scan_blob`], for a blob whose first bytes, `head`, were read already: as
    /// many as [`SNIFF_BYTES`], fewer only when it ended.
    pub(super) fn scan_blob_headed(
        &self,
        head: Vec<u8>,
        reader: &mut dyn Read,
        origin: &Origin,
        prefix_checked: bool,
        out: &mut BlobOutcome,
    ) {
        self.begin_blob(0);
        self.scan_headed(head, reader, origin, 0, prefix_checked, out);
    }

    /// A blob at `depth` 0 starts its archives' inflation budget and is one more on the
    /// progress bar.
    pub(super) fn begin_blob(&self, depth: usize) {
        if depth == 0 {
            archive::start_blob();
            // Its bytes are counted chunk by chunk, so a large blob moves the bar too.
            self.progress.add_blob(0);
        }
    }

    /// A commit message: one more commit on the progress bar, not a blob.
    pub fn scan_message(&self, text: &[u8], origin: &Origin, out: &mut BlobOutcome) {
        self.progress.add_commits(1);
        self.scan_held(text, origin, 0, true, out);
    }

    /// A commit message read as it streams in (one can be hundreds of megabytes).
    pub fn scan_message_reader(
        &self,
        reader: &mut dyn Read,
        origin: &Origin,
        out: &mut BlobOutcome,
    ) {
        self.progress.add_commits(1);
        self.scan_any(reader, origin, 0, true, out);
    }

    /// Scans `bytes`, all of a blob held in memory, as [`Scanner::scan_reader`] scans a
    /// stream, but where they lie: no chunk buffer, no copy.
    pub fn scan_bytes(&self, bytes: &[u8], origin: &Origin, depth: usize, out: &mut BlobOutcome) {
        self.begin_blob(depth);
        self.scan_held(bytes, origin, depth, false, out);
    }

    fn scan_held(
        &self,
        bytes: &[u8],
        origin: &Origin,
        depth: usize,
        prefix_checked: bool,
        out: &mut BlobOutcome,
    ) {
        let (head, mut rest) = bytes.split_at(bytes.len().min(SNIFF_BYTES));
        match self.route(head, origin, depth, prefix_checked, out) {
            Route::Archive(archive::Kind::Tar) => {
                self.scan_tar(&mut TarInput::Held(bytes), origin, depth, out);
            }
            Route::Archive(kind) => {
                self.scan_archive(kind, head.to_vec(), &mut rest, origin, depth, out);
            }
            Route::Prefixed => {
                self.scan_maybe_prefixed(head.to_vec(), &mut rest, origin, depth, out);
            }
            Route::Bytes => self.scan_in_place(bytes, origin, out),
        }
    }

    fn scan_any(
        &self,
        reader: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        prefix_checked: bool,
        out: &mut BlobOutcome,
    ) {
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        if let Err(e) = fill(reader, &mut head, SNIFF_BYTES) {
            out.skip(origin.display(), format!("read error: {e}"), true);
            return;
        }
        self.scan_headed(head, reader, origin, depth, prefix_checked, out);
    }

    /// Scans a blob whose first bytes are `head` (all of it when they are fewer than
    /// [`SNIFF_BYTES`]): as an archive, or a zip with bytes before it, or its bytes.
    fn scan_headed(
        &self,
        head: Vec<u8>,
        reader: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        prefix_checked: bool,
        out: &mut BlobOutcome,
    ) {
        match self.route(&head, origin, depth, prefix_checked, out) {
            Route::Archive(kind) => self.scan_archive(kind, head, reader, origin, depth, out),
            Route::Prefixed => self.scan_maybe_prefixed(head, reader, origin, depth, out),
            Route::Bytes if head.len() < SNIFF_BYTES => self.scan_in_place(&head, origin, out),
            Route::Bytes => self.scan_chunks(&head, reader, origin, out),
        }
    }

    /// How a blob at `depth` whose first bytes are `head` is read: opened as an archive, looked
    /// at for a zip with bytes before it, or scanned as bytes (an archive nested too deep is
    /// noted as such).
    fn route(
        &self,
        head: &[u8],
        origin: &Origin,
        depth: usize,
        prefix_checked: bool,
        out: &mut BlobOutcome,
    ) -> Route {
        // Depth 0 means archives are not opened at all: their raw bytes are scanned, by request.
        let max = self.limits.max_archive_depth;
        if let Some(kind) = archive::sniff(head).filter(|_| max > 0) {
            if depth < max {
                return Route::Archive(kind);
            }
            let reason = format!(
                "{kind} nested deeper than --max-archive-depth {max}: scanned as raw bytes"
            );
            out.skip(origin.display(), reason, true);
        } else if !prefix_checked && depth < max && archive::may_be_prefixed_zip(head) {
            return Route::Prefixed;
        }
        Route::Bytes
    }

    /// Bytes carried from one chunk into the next.
    fn overlap(&self) -> usize {
        (2 * self.matcher.reach() + LOOKBEHIND).max(4096)
    }

    /// The bytes of a whole chunk buffer: a chunk and the overlap.
    pub(super) fn chunk_bytes(&self) -> usize {
        self.overlap() + self.limits.chunk_size.max(1)
    }

    /// Where a scan through a blob's windows is.
    fn windows(&self, first: &[u8]) -> Windows {
        Windows {
            overlap: self.overlap(),
            target: self.chunk_bytes(),
            carried: 0,
            lines: LineState {
                utf16_bom: first.starts_with(&[0xFF, 0xFE]) || first.starts_with(&[0xFE, 0xFF]),
                ..LineState::default()
            },
        }
    }

    /// Scans `bytes`, a whole blob in memory, where they lie: in windows of a chunk and its
    /// overlap, as [`Scanner::scan_chunks`] reads a stream, so the keys found and the work per
    /// window are the same.
    pub(super) fn scan_in_place(&self, bytes: &[u8], origin: &Origin, out: &mut BlobOutcome) {
        let mut at = self.windows(bytes);
        let mut start = 0;
        loop {
            let end = bytes.len().min(start + at.target);
            let eof = end == bytes.len();
            let dropped = self.scan_window(&bytes[start..end], eof, &mut at, origin, out);
            if eof {
                break;
            }
            start += dropped;
        }
    }

    /// Scans `head` followed by the rest of `reader`, chunk by chunk, in a buffer lent by the
    /// pool ([`chunks`]): it grows from [`chunks::FIRST`] to a whole chunk while the pool has
    /// room, else the chunks stay the size they are.
    pub(super) fn scan_chunks(
        &self,
        head: &[u8],
        reader: &mut dyn Read,
        origin: &Origin,
        out: &mut BlobOutcome,
    ) {
        let mut at = self.windows(head);
        let mut grow = Grow {
            target: at.target,
            floor: at.target.min(chunks::FIRST.max(2 * at.overlap)),
        };
        // A head can be longer than a first buffer (a tar record kept whole, up to 1 MiB).
        let mut lent = self.limits.chunks.lend(grow.floor.max(head.len()));
        let data = lent.data();
        data[..head.len()].copy_from_slice(head);
        let mut filled = head.len();
        loop {
            let eof =
                Self::fill_growing(reader, &mut lent, &mut filled, &mut grow).unwrap_or_else(|e| {
                    let read = at.lines.base + filled as u64;
                    out.skip(
                        origin.display(),
                        format!("read error after {read} bytes: {e}"),
                        true,
                    );
                    true
                });
            let data = lent.data();
            let dropped = self.scan_window(&data[..filled], eof, &mut at, origin, out);
            if eof {
                break;
            }
            data.copy_within(dropped..filled, 0);
            filled -= dropped;
        }
    }

    /// Scans `buf`, a window of a blob starting `at.lines.base` bytes in (its end when `eof`),
    /// for the keys that start in its own part (not the overlap before or after it). Returns
    /// how many bytes of its front the next window drops: all but the overlap.
    fn scan_window(
        &self,
        buf: &[u8],
        eof: bool,
        at: &mut Windows,
        origin: &Origin,
        out: &mut BlobOutcome,
    ) -> usize {
        let own_start = if at.lines.base == 0 { 0 } else { LOOKBEHIND };
        let own_end = if eof {
            buf.len()
        } else {
            buf.len() - at.overlap + LOOKBEHIND
        };
        let found = self.matcher.find_with(buf, at.lines.utf16_parity());
        self.collect(buf, found, own_start..own_end, &at.lines, origin, out);
        let new = (buf.len() - at.carried) as u64;
        out.bytes += new;
        self.progress.add_bytes(new);
        if eof {
            return buf.len();
        }
        let dropped = buf.len() - at.overlap;
        at.lines.advance(&buf[..dropped]);
        at.carried = at.overlap;
        dropped
    }

    /// Fills the lent buffer up to `grow.target` bytes (or all of a larger one), growing it
    /// by doubling so a small file never costs a whole chunk, while the pool has room; else
    /// the chunks stay the size they are. Returns whether the reader ended.
    fn fill_growing(
        reader: &mut dyn Read,
        lent: &mut chunks::Lent,
        filled: &mut usize,
        grow: &mut Grow,
    ) -> std::io::Result<bool> {
        loop {
            let data = lent.data();
            let limit = data.len().min(grow.target).max(*filled);
            if fill_into(reader, &mut data[..limit], filled)? {
                return Ok(true);
            }
            if limit >= grow.target {
                return Ok(false);
            }
            let next = (limit * 2).min(grow.target);
            if !lent.grow(next) {
                grow.target = limit.max(grow.floor);
            }
        }
    }

    /// Marks the blob incomplete (once) because rule `ri` used up the matcher's work for a chunk
    /// of it (a rule matching nearly every byte): the rest of that chunk was not searched.
    fn out_of_work(&self, ri: usize, origin: &Origin, out: &mut BlobOutcome) {
        let rule = &self.matcher.rules().rules[ri];
        let path = origin.display();
        let reason = format!(
            "rule {} ({}) matched so often that the matcher's work limit for this file ran out; \
             the rest was not searched — fix the rule's pattern so it does not match nearly every byte",
            rule.spec.id, rule.origin
        );
        if !out
            .skipped
            .iter()
            .any(|s| s.path == path && s.reason == reason)
        {
            out.skip(path, reason, true);
        }
    }

    /// Turns the matches whose start lies in `own` into findings.
    fn collect(
        &self,
        buf: &[u8],
        found: Found,
        own: std::ops::Range<usize>,
        lines: &LineState,
        origin: &Origin,
        out: &mut BlobOutcome,
    ) {
        out.placeholders += found
            .placeholders
            .iter()
            .filter(|p| own.contains(p))
            .count() as u64;
        out.unattributed += found
            .unattributed
            .iter()
            .filter(|p| own.contains(p))
            .count() as u64;
        if let Some(ri) = found.stopped {
            self.out_of_work(ri, origin, out);
        }
        if found.join_cut {
            join_cut(origin, out);
        }
        if found.keys.is_empty() {
            return;
        }
        let rules = &self.matcher.rules().rules;
        let keys: Vec<_> = found
            .keys
            .into_iter()
            .map(|m| {
                let secret = m.to_secret();
                (m, secret)
            })
            .collect();
        let mut cursor = (0, 0);
        for (i, (m, secret)) in keys
            .iter()
            .enumerate()
            .filter(|(_, (m, _))| own.contains(&m.start))
        {
            let allowed = suppress::inline::allowed(buf, m.start, m.end);
            if self.inline_allow && allowed {
                out.suppressed_inline += 1;
                continue;
            }
            let (line, mut column, mut column_chars) = lines.position(buf, m.start, &mut cursor);
            if m.decoded.contains(&Decoding::Utf16) {
                // Two bytes a character: count characters, as an editor showing the file does,
                // and the byte-order mark is not one.
                let bom = usize::from(lines.utf16_bom && line == 1) as u64;
                column = ((column - 1) / 2 + 1).saturating_sub(bom).max(1);
                column_chars = column;
            }
            let mut decoded = origin.decoded.clone();
            decoded.extend_from_slice(&m.decoded);
            out.findings.push(Finding {
                rule: m.rule,
                origin: origin.clone(),
                decoded,
                line,
                column,
                column_chars,
                offset: lines.base + m.start as u64,
                fingerprint: fingerprint(&rules[m.rule].spec.provider, secret.expose()),
                secret: secret.clone(),
                context: context(buf, &keys, i),
                git: None,
                allowed,
                pieces: (m.pieces > 1).then(|| u8::try_from(m.pieces).unwrap_or(u8::MAX)),
            });
        }
    }
}

/// How far a chunk buffer may grow.
struct Grow {
    target: usize,
    /// The size the buffer is lent at, the least `target` may shrink to.
    floor: usize,
}

/// Where a scan through a blob's windows is: the lines before the window, and the bytes at
/// its front already counted (the overlap carried from the window before).
struct Windows {
    overlap: usize,
    /// A whole window: a chunk and the overlap.
    target: usize,
    carried: usize,
    lines: LineState,
}

/// How a blob is read.
enum Route {
    Archive(archive::Kind),
    Prefixed,
    Bytes,
}

/// Reads into `buf[*filled..]` until it is full or the reader ends; returns whether it ended.
fn fill_into(reader: &mut dyn Read, buf: &mut [u8], filled: &mut usize) -> std::io::Result<bool> {
    while *filled < buf.len() {
        match reader.read(&mut buf[*filled..]) {
            Ok(0) => return Ok(true),
            Ok(n) => *filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Reads until `buf` holds `target` bytes or the reader ends; returns whether it ended. For the
/// few hundred bytes read to sniff a blob; chunks go through `fill_into` on the reused buffer.
pub(super) fn fill(
    reader: &mut dyn Read,
    buf: &mut Vec<u8>,
    target: usize,
) -> std::io::Result<bool> {
    let mut filled = buf.len();
    buf.resize(target.max(filled), 0);
    let result = fill_into(reader, buf, &mut filled);
    buf.truncate(filled);
    result
}

/// Notes once per file that joining split keys stopped at its cap: the scan is incomplete.
fn join_cut(origin: &Origin, out: &mut BlobOutcome) {
    let path = origin.display();
    let reason = "so many string literals or lines around keywords that putting split keys back \
                  together stopped at its limit (8 bytes of joined text per byte, plus 1 MiB); \
                  keys split between pieces in the rest were not looked for — scan it with \
                  --no-join to look for whole keys only, or leave the file out";
    if !out
        .skipped
        .iter()
        .any(|s| s.path == path && s.reason == reason)
    {
        out.skip(path, reason, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::chunks::{FIRST, Pool};

    fn builtin() -> crate::matcher::Matcher {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        crate::matcher::Matcher::new(std::sync::Arc::new(rules), 1)
    }

    type Found = Vec<(u64, usize, String)>;

    /// Scans `text` as one file with `matcher` through `limits`, streamed or `held` in memory:
    /// (offset, rule, secret) of each key, and the overlap.
    fn scan_with(
        matcher: &crate::matcher::Matcher,
        text: &[u8],
        limits: super::super::Limits,
        held: bool,
    ) -> (Found, usize) {
        let scanner = Scanner {
            matcher,
            limits,
            inline_allow: false,
            progress: crate::progress::Progress::hidden(),
        };
        let mut out = BlobOutcome::default();
        let origin = Origin::file("a.txt");
        if held {
            scanner.scan_bytes(text, &origin, 0, &mut out);
        } else {
            scanner.scan_reader(&mut &text[..], &origin, 0, &mut out);
        }
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        assert_eq!(out.bytes, text.len() as u64);
        let found = (out.findings.iter())
            .map(|f| (f.offset, f.rule, f.secret.expose().to_string()))
            .collect();
        (found, scanner.overlap())
    }

    fn through(pool: &'static Pool) -> super::super::Limits {
        super::super::Limits {
            chunks: pool,
            ..super::super::Limits::default()
        }
    }

    /// Issue 14 point 10: workers scanning files of 1 MB at once hold no more chunk buffers
    /// than the pool holds. Each of them held 1 MiB (16 MiB here) before there was one.
    #[test]
    fn r14_workers_scanning_at_once_hold_no_more_than_the_pool() {
        static P: Pool = Pool::new(2 * ((1 << 20) + (64 << 10)));
        const WORKERS: usize = 16;
        let matcher = builtin();
        let text: Vec<u8> = b"lorem ipsum dolor sit amet\n".repeat(40_000);
        std::thread::scope(|s| {
            for _ in 0..WORKERS {
                s.spawn(|| scan_with(&matcher, &text, through(&P), false));
            }
        });
        assert!(P.peak() <= P.capacity(), "{} bytes held", P.peak());
        assert!(P.peak() > FIRST, "the buffers grew");
    }

    /// Issue 14 point 10: a worker that finds no room in the pool for a whole chunk scans
    /// through the buffer it has, in chunks of 64 KiB less the overlap, and finds every key a
    /// worker with a whole chunk finds, at the same place, as does a scan of the blob held in
    /// memory, where it lies: here one key across each of those chunk boundaries, each a few
    /// bytes further back than the one before.
    #[test]
    fn r14_a_worker_with_no_room_for_a_whole_chunk_finds_the_same_keys() {
        use crate::rules::template::{Rng, expand};
        static TIGHT: Pool = Pool::new(FIRST);
        static ROOMY: Pool = Pool::new(4 << 20);
        let matcher = builtin();
        let (_, overlap) = scan_with(&matcher, b"", through(&ROOMY), false);
        let step = FIRST - overlap;
        let mut rng = Rng::new(1410);
        let mut text = Vec::new();
        let mut want = Vec::new();
        for i in 0..24 {
            let boundary = FIRST - overlap + LOOKBEHIND + i * step;
            let key = expand("sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", &mut rng).unwrap();
            let start = boundary - 1 - (i * 7) % (key.len() - 1);
            let lines = b"lorem ipsum dolor sit amet,\nconsectetur adipiscing elit;\n";
            text.extend(lines.iter().cycle().take(start - 1 - text.len()));
            text.push(b' ');
            want.push((start as u64, key.clone()));
            text.extend_from_slice(key.as_bytes());
            text.push(b'\n');
        }
        let (small, _) = scan_with(&matcher, &text, through(&TIGHT), false);
        assert_eq!(TIGHT.counted(), FIRST, "scanned in small chunks");
        let found: Vec<_> = small.iter().map(|(o, _, k)| (*o, k.clone())).collect();
        assert_eq!(found, want);
        assert_eq!(scan_with(&matcher, &text, through(&ROOMY), false).0, small);
        assert!(ROOMY.counted() > 1 << 20, "scanned in whole chunks");
        assert_eq!(scan_with(&matcher, &text, through(&TIGHT), true).0, small);
        // In place, in windows as small as the tight pool's chunks.
        let windows = super::super::Limits {
            chunk_size: step,
            ..through(&TIGHT)
        };
        assert_eq!(scan_with(&matcher, &text, windows, true).0, small);
    }
}
