//! Streaming a blob through the matcher in chunks with an overlap, so a 300 MB one-line file is
//! scanned in bounded memory and a key across a chunk boundary is found exactly once.

use super::context::{LineState, context};
use super::{BlobOutcome, Scanner, archive, budget};
use crate::finding::{Decoding, Finding, Origin, fingerprint};
use crate::matcher::Found;
use crate::suppress;
use std::cell::Cell;
use std::io::{ErrorKind, Read};

/// Bytes before a chunk's own region that stay visible, so boundaries and escapes before a key
/// at the region's start can still be looked at.
const LOOKBEHIND: usize = 64;

/// The first buffer a thread gets; it doubles up to a whole chunk when files need it, with
/// bytes from [`budget::CHUNKS`].
const FIRST_BUFFER: usize = budget::FIRST_CHUNK as usize;

/// The largest buffer kept for reuse by a thread: one default chunk and its overlap, so a
/// worker reading large files reuses one buffer instead of faulting in a fresh one per file;
/// larger ones (a `--chunk-size` over the default) are freed after each blob, so idle workers
/// hold little.
const MAX_POOLED: usize = 2 << 20;

thread_local! {
    /// Each worker's read buffer: grown (and zeroed) once, then reused for every file.
    static POOL: Cell<Pooled> = const { Cell::new(Pooled { data: Vec::new(), permit: None }) };
}

/// A worker's read buffer and, past [`FIRST_BUFFER`], the bytes it holds of
/// [`budget::CHUNKS`], kept together between files.
#[derive(Default)]
struct Pooled {
    data: Vec<u8>,
    permit: Option<budget::Permit>,
}

/// An object held whole for scanning, with its bytes taken from [`budget::HELD`]. Let go on
/// the thread that scanned it, it takes that thread's chunk buffer along when the object was
/// large enough to count: otherwise each of `-j 64` workers would keep a chunk of the last
/// large object it scanned, as much again as the budget bounds.
pub struct Held {
    counted: bool,
    _permit: budget::Permit,
}

impl Held {
    /// Waits for an object of `size` bytes to fit the budget (at once under its floor).
    pub fn take(size: u64) -> Held {
        Held::counting(size, size.min(budget::SMALL))
    }

    /// As [`Held::take`], for an object read whole into a buffer of its own and scanned
    /// through a chunk as large, which holds it twice: counted twice, up to [`budget::SMALL`]
    /// each time.
    pub fn take_copied(size: u64) -> Held {
        Held::counting(size, 2 * size.min(budget::SMALL))
    }

    fn counting(size: u64, bytes: u64) -> Held {
        let counted = size >= budget::HELD.floor();
        Held {
            counted,
            _permit: budget::HELD.acquire(if counted { bytes } else { 0 }),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.counted {
            POOL.with(|p| {
                let pooled = p.take();
                if (pooled.data.len() as u64) < budget::HELD.floor() {
                    p.set(pooled);
                }
            });
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
        self.scan_message_reader(&mut &text[..], origin, out);
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

    /// Scans a blob whose first bytes are `head`: as an archive, or a zip with bytes before
    /// it, or its bytes.
    fn scan_headed(
        &self,
        head: Vec<u8>,
        reader: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        prefix_checked: bool,
        out: &mut BlobOutcome,
    ) {
        // Depth 0 means archives are not opened at all: their raw bytes are scanned, by request.
        let max = self.limits.max_archive_depth;
        if let Some(kind) = archive::sniff(&head).filter(|_| max > 0) {
            if depth < max {
                return self.scan_archive(kind, head, reader, origin, depth, out);
            }
            let reason = format!(
                "{kind} nested deeper than --max-archive-depth {max}: scanned as raw bytes"
            );
            out.skip(origin.display(), reason, true);
        } else if !prefix_checked && depth < max && archive::may_be_prefixed_zip(&head) {
            return self.scan_maybe_prefixed(head, reader, origin, depth, out);
        }
        self.scan_chunks(&head, reader, origin, out);
    }

    /// Bytes carried from one chunk into the next.
    fn overlap(&self) -> usize {
        (2 * self.matcher.reach() + LOOKBEHIND).max(4096)
    }

    /// Scans `head` followed by the rest of `reader`, chunk by chunk, in this thread's buffer.
    pub(super) fn scan_chunks(
        &self,
        head: &[u8],
        reader: &mut dyn Read,
        origin: &Origin,
        out: &mut BlobOutcome,
    ) {
        let overlap = self.overlap();
        let target = overlap + self.limits.chunk_size.max(1);
        let Pooled { mut data, permit } = POOL.with(Cell::take);
        let mut grow = Grow {
            target,
            floor: target.min(FIRST_BUFFER.max(2 * overlap)),
            permit,
        };
        let first = head
            .len()
            .max(FIRST_BUFFER)
            .min(grow.target.max(head.len()));
        if data.len() < first {
            data.resize(first, 0);
        }
        data[..head.len()].copy_from_slice(head);
        let (mut filled, mut carried) = (head.len(), 0);
        let mut lines = LineState {
            utf16_bom: head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]),
            ..LineState::default()
        };
        loop {
            let eof = self
                .fill_growing(reader, &mut data, &mut filled, &mut grow)
                .unwrap_or_else(|e| {
                    let at = lines.base + filled as u64;
                    out.skip(
                        origin.display(),
                        format!("read error after {at} bytes: {e}"),
                        true,
                    );
                    true
                });
            let buf = &data[..filled];
            let own_start = if lines.base == 0 { 0 } else { LOOKBEHIND };
            let own_end = if eof {
                filled
            } else {
                filled - overlap + LOOKBEHIND
            };
            self.collect(
                buf,
                self.matcher.find_with(buf, lines.utf16_parity()),
                own_start..own_end,
                &lines,
                origin,
                out,
            );
            out.bytes += (filled - carried) as u64;
            self.progress.add_bytes((filled - carried) as u64);
            if eof {
                break;
            }
            let dropped = filled - overlap;
            lines.advance(&data[..dropped]);
            data.copy_within(dropped..filled, 0);
            (filled, carried) = (overlap, overlap);
        }
        // A buffer past the first is kept only with its bytes taken from the budget (one made
        // as large as a long `head` has none yet).
        if data.len() <= MAX_POOLED && (data.len() <= FIRST_BUFFER || grow.room(data.len())) {
            POOL.with(|p| {
                p.set(Pooled {
                    data,
                    permit: grow.permit,
                });
            });
        }
    }

    /// Fills `data` up to `grow.target` bytes (or all of a larger `data`), growing it by
    /// doubling so a small file never costs a whole chunk; past [`FIRST_BUFFER`] only with
    /// bytes from [`budget::CHUNKS`], else the chunks stay the size they are. Returns whether
    /// the reader ended.
    fn fill_growing(
        &self,
        reader: &mut dyn Read,
        data: &mut Vec<u8>,
        filled: &mut usize,
        grow: &mut Grow,
    ) -> std::io::Result<bool> {
        loop {
            let limit = data.len().min(grow.target).max(*filled);
            if fill_into(reader, &mut data[..limit], filled)? {
                return Ok(true);
            }
            if limit >= grow.target {
                return Ok(false);
            }
            let next = (limit * 2).min(grow.target);
            if next > grow.floor && !grow.room(next) {
                grow.target = limit.max(grow.floor);
                continue;
            }
            // Exactly: a doubled capacity would be memory the budget does not count.
            data.reserve_exact(next - data.len());
            data.resize(next, 0);
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

/// How far a chunk buffer may grow, and the bytes it holds of [`budget::CHUNKS`] to grow past
/// its floor.
struct Grow {
    target: usize,
    /// The least `target` may shrink to, to which the buffer grows without a permit.
    floor: usize,
    permit: Option<budget::Permit>,
}

impl Grow {
    /// Whether the buffer may grow to `bytes`: they are taken from the budget if free now.
    fn room(&mut self, bytes: usize) -> bool {
        if let Some(permit) = &mut self.permit {
            return permit.try_grow(bytes as u64);
        }
        self.permit = budget::CHUNKS.try_acquire(bytes as u64);
        self.permit.is_some()
    }
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

    fn pooled() -> usize {
        POOL.with(|p| {
            let pooled = p.take();
            let len = pooled.data.len();
            p.set(pooled);
            len
        })
    }

    #[test]
    fn a_large_object_let_go_takes_the_chunk_buffer_along() {
        POOL.with(|p| {
            p.set(Pooled {
                data: vec![0; 1 << 20],
                permit: None,
            });
        });
        drop(Held::take(4 << 10));
        assert_eq!(
            pooled(),
            1 << 20,
            "a small object leaves the buffer for the next"
        );
        drop(Held::take(1_000_000));
        assert_eq!(pooled(), 0);
    }

    fn builtin() -> crate::matcher::Matcher {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        crate::matcher::Matcher::new(std::sync::Arc::new(rules), 1)
    }

    /// Scans `text` as one file with `matcher`: (offset, rule, secret) of each key, and the
    /// overlap. The thread keeps its buffer.
    fn scan_with(
        matcher: &crate::matcher::Matcher,
        text: &[u8],
    ) -> (Vec<(u64, usize, String)>, usize) {
        let scanner = Scanner {
            matcher,
            limits: super::super::Limits::default(),
            inline_allow: false,
            progress: crate::progress::Progress::hidden(),
        };
        let mut out = BlobOutcome::default();
        scanner.scan_reader(&mut &text[..], &Origin::file("a.txt"), 0, &mut out);
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        let found = (out.findings.iter())
            .map(|f| (f.offset, f.rule, f.secret.expose().to_string()))
            .collect();
        (found, scanner.overlap())
    }

    /// As [`scan_with`] with the built-in rules, and the size of the buffer the thread kept
    /// (now let go).
    fn scan_text(text: &[u8]) -> (Vec<(u64, usize, String)>, usize, usize) {
        let (found, overlap) = scan_with(&builtin(), text);
        let kept = POOL.with(Cell::take).data.len();
        (found, overlap, kept)
    }

    /// Issue 14 point 10: the buffers many workers keep after scanning files of 1 MB are, past
    /// the first 64 KiB of each, within the budget. Each of them kept 1 MiB (16 MiB here).
    #[test]
    fn r14_the_buffers_many_workers_keep_stay_within_the_budget() {
        const WORKERS: usize = 16;
        let matcher = builtin();
        let text: Vec<u8> = b"lorem ipsum dolor sit amet\n".repeat(40_000);
        let barrier = std::sync::Barrier::new(WORKERS);
        let kept: usize = std::thread::scope(|s| {
            let workers: Vec<_> = (0..WORKERS)
                .map(|_| {
                    s.spawn(|| {
                        scan_with(&matcher, &text);
                        let kept = pooled();
                        // All hold their buffers at once, until every one has scanned.
                        barrier.wait();
                        kept
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).sum()
        });
        // The budget: four chunks of 1 MiB and their overlaps.
        let bound = (5 << 20) + WORKERS * FIRST_BUFFER;
        assert!(kept <= bound, "{kept} bytes kept, {bound} at most");
        assert!(kept >= FIRST_BUFFER * WORKERS);
    }

    /// Issue 14 point 10: a worker that finds the budget of chunk buffers spent scans through
    /// the buffer it has, in chunks of 64 KiB less the overlap, and finds every key a worker
    /// with a whole chunk finds, at the same place: here one key across each of its chunk
    /// boundaries, each a few bytes further back than the one before.
    #[test]
    fn r14_a_worker_with_no_room_for_a_whole_chunk_finds_the_same_keys() {
        use crate::rules::template::{Rng, expand};
        let (_, overlap, _) = scan_text(b"");
        let step = FIRST_BUFFER - overlap;
        let mut rng = Rng::new(1410);
        let mut text = Vec::new();
        let mut want = Vec::new();
        for i in 0..24 {
            let boundary = FIRST_BUFFER - overlap + LOOKBEHIND + i * step;
            let key = expand("sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", &mut rng).unwrap();
            let start = boundary - 1 - (i * 7) % (key.len() - 1);
            let lines = b"lorem ipsum dolor sit amet,\nconsectetur adipiscing elit;\n";
            text.extend(lines.iter().cycle().take(start - 1 - text.len()));
            text.push(b' ');
            want.push((start as u64, key.clone()));
            text.extend_from_slice(key.as_bytes());
            text.push(b'\n');
        }
        let spent = budget::CHUNKS.acquire(budget::CHUNKS.capacity());
        let (small, _, kept) = scan_text(&text);
        drop(spent);
        assert_eq!(kept, FIRST_BUFFER, "scanned in small chunks");
        let found: Vec<_> = small.iter().map(|(o, _, k)| (*o, k.clone())).collect();
        assert_eq!(found, want);
        // Other tests' scans may hold some of the budget: the whole chunk is not asserted.
        let (whole, _, _) = scan_text(&text);
        assert_eq!(small, whole);
    }
}
