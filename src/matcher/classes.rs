//! One pass over a haystack that classifies its bytes, 64 at a time, for the searches after it:
//! the long base64 runs, the escape openings, the quotes that may open a split keyword, and
//! whether a NUL occurs. Each was a pass of its own over the same bytes, the quotes with a
//! branch at every one (together about a quarter of a tree scan); SIMD table lookups now give
//! one bit mask per class and block, and the rest is arithmetic on the masks.

mod needles;

pub use needles::Needles;

use super::decode::{is_b64, next_line_start};
use super::join::is_quote;
use super::prefilter::LONG_RUN;
use std::ops::Range;

/// What [`Classifier::scan`] found in a haystack.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The runs of at least [`LONG_RUN`] base64 characters (either alphabet), each followed by
    /// the next line's run when the run ends its line (the last line of a wrapped block,
    /// however short), in order.
    pub runs: Vec<Range<usize>>,
    /// Where an escape's opening byte is (`%`, `\`, `&`: the first bytes of the prefilter's
    /// [`super::prefilter::Gate::Opening`] needles), in order.
    pub openings: Vec<usize>,
    /// Where a quote is whose next two bytes may start a keyword's prefix (a superset of those
    /// `join::Short::may_start` takes), in order.
    pub quotes: Vec<usize>,
    /// Whether a NUL byte occurs.
    pub nul: bool,
    /// The classifier's [`Needles`] found, each where it starts (the first of those starting
    /// there): (its index, start, end), in order.
    pub needles: Vec<(usize, usize, usize)>,
}

/// A set of bytes as two nibble tables: a byte is in it when the entries of its low and high
/// nibbles share a bit. That is the set itself when its rows (the low-nibble sets of each high
/// nibble) are at most as many distinct ones as the bits it may use, as any set of ASCII bytes
/// is within 8; otherwise rows are merged and the tables give a superset.
#[derive(Debug, Clone, Copy, Default)]
struct ByteSet {
    lo: [u8; 16],
    hi: [u8; 16],
}

impl ByteSet {
    /// The set of `bytes`, in at most 8 bits.
    #[cfg(test)]
    fn new(bytes: impl IntoIterator<Item = u8>) -> ByteSet {
        ByteSet::within(bytes, 8)
    }

    /// The set of `bytes` in at most `bits` bits (a superset if it needs more).
    fn within(bytes: impl IntoIterator<Item = u8>, bits: usize) -> ByteSet {
        let mut rows = [0u16; 16];
        for b in bytes {
            rows[usize::from(b >> 4)] |= 1 << (b & 15);
        }
        let mut classes: Vec<u16> = rows.iter().copied().filter(|&r| r != 0).collect();
        classes.sort_unstable();
        classes.dedup();
        while classes.len() > bits.clamp(1, 8) {
            let (a, b) = (classes.pop().unwrap_or(0), classes.pop().unwrap_or(0));
            classes.push(a | b);
            classes.sort_unstable();
            classes.dedup();
        }
        let mut set = ByteSet::default();
        for (h, &row) in rows.iter().enumerate() {
            if let Some(c) = classes.iter().position(|&c| row != 0 && row & !c == 0) {
                set.hi[h] = 1 << c;
            }
        }
        for (c, &class) in classes.iter().enumerate() {
            for l in 0..16 {
                if class & 1 << l != 0 {
                    set.lo[l] |= 1 << c;
                }
            }
        }
        set
    }

    #[cfg(test)]
    fn contains(&self, b: u8) -> bool {
        self.lo[usize::from(b & 15)] & self.hi[usize::from(b >> 4)] != 0
    }

    /// This set's tables moved up by `shift` bits, to share a pair of tables with others.
    fn shifted(self, shift: u32) -> ByteSet {
        ByteSet {
            lo: self.lo.map(|b| b << shift),
            hi: self.hi.map(|b| b << shift),
        }
    }
}

/// The classes, in the order of each block's masks.
const B64: usize = 0;
const QUOTE: usize = 1;
const NUL: usize = 2;
const OPENING: usize = 3;
const FIRST: usize = 4;
const SECOND: usize = 5;
const SETS: usize = 6;
/// A block's masks: the classes', then the candidates of the classifier's [`Needles`].
const MASKS: usize = SETS + 1;
const CANDIDATES: usize = SETS;

/// The pairs of nibble tables the classes share: base64 (5 bits), quotes (2) and NUL (1) in
/// the first; the first bytes of escape openings (2) and of prefixes (6) in the second; the
/// prefixes' second bytes (8) in the third. Those three may be supersets (an exact test
/// follows each), the others are exact.
const PAIRS: usize = 3;
/// Each class's pair and bits in it.
const SLOTS: [(usize, u8); SETS] = [
    (0, 0b0001_1111),
    (0, 0b0110_0000),
    (0, 0b1000_0000),
    (1, 0b0000_0011),
    (1, 0b1111_1100),
    (2, 0b1111_1111),
];

/// How the blocks' masks are made: the widest SIMD the CPU has, or a byte at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Scalar,
}

impl Path {
    /// Every path this CPU runs, the best first.
    #[cfg(test)]
    fn available() -> Vec<Path> {
        let mut paths = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512bw") {
                paths.push(Path::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                paths.push(Path::Avx2);
            }
        }
        paths.push(Path::Scalar);
        paths
    }

    /// Whether the scan finds [`Needles`] at the speed of the Teddy passes it replaces: with
    /// AVX-512 (by AVX2 the packed searchers are faster).
    pub fn finds_needles() -> bool {
        #[cfg(target_arch = "x86_64")]
        return Path::best() == Path::Avx512;
        #[cfg(not(target_arch = "x86_64"))]
        false
    }

    fn best() -> Path {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512bw") {
                return Path::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Path::Avx2;
            }
        }
        Path::Scalar
    }
}

/// The byte classes a scan classifies by, as pairs of nibble tables.
#[derive(Debug, Clone)]
pub struct Classifier {
    pairs: [ByteSet; PAIRS],
    needles: Option<Needles>,
}

impl Classifier {
    /// A classifier for escape openings starting with one of `openings`, for quotes followed
    /// by a byte of `first` then one of `second`, and finding `needles`.
    pub fn new(
        openings: &[u8],
        first: &[u8],
        second: &[u8],
        needles: Option<Needles>,
    ) -> Classifier {
        let sets = [
            ByteSet::within((0..=255u8).filter(|&b| is_b64(b)), 5),
            ByteSet::within((0..=255u8).filter(|&b| is_quote(b)), 2),
            ByteSet::within([0], 1),
            ByteSet::within(openings.iter().copied(), 2),
            ByteSet::within(first.iter().copied(), 6),
            ByteSet::within(second.iter().copied(), 8),
        ];
        let mut pairs = [ByteSet::default(); PAIRS];
        for (set, &(pair, bits)) in sets.into_iter().zip(&SLOTS) {
            let set = set.shifted(bits.trailing_zeros());
            for (t, s) in pairs[pair].lo.iter_mut().zip(set.lo) {
                *t |= s;
            }
            for (t, s) in pairs[pair].hi.iter_mut().zip(set.hi) {
                *t |= s;
            }
        }
        Classifier { pairs, needles }
    }

    /// Whether `b` is of class `k`.
    fn is(&self, k: usize, b: u8) -> bool {
        let (pair, bits) = SLOTS[k];
        let p = &self.pairs[pair];
        p.lo[usize::from(b & 15)] & p.hi[usize::from(b >> 4)] & bits != 0
    }

    /// Classifies `hay` (see [`Scan`]).
    pub fn scan(&self, hay: &[u8]) -> Scan {
        self.scan_by(hay, Path::best())
    }

    /// Classifies `hay` by `path`, which the CPU must allow ([`Path::best`] or one under it).
    fn scan_by(&self, hay: &[u8], path: Path) -> Scan {
        let needles = self.needles.as_ref();
        let mut state = State::new(hay, needles);
        // The needles' candidates are looked up at each byte and the three after it: the
        // blocks whose last three bytes end the haystack are taken one byte at a time.
        let whole = match needles {
            Some(_) => hay.len().saturating_sub(needles::PREFIX - 1) / 64 * 64,
            None => hay.len() / 64 * 64,
        };
        match path {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU has AVX-512BW (and so AVX-512F), as `path` says; `whole` leaves
            // the three bytes after the last block the needles' lookups read.
            Path::Avx512 => unsafe {
                self.blocks_avx512(hay, whole, &mut state);
                return state.finish();
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU has AVX2, as `path` says.
            Path::Avx2 => unsafe {
                state.candidates_by_byte = true;
                simd::blocks_avx2(&hay[..whole], &self.pairs, &mut state);
                state.candidates_by_byte = false;
            },
            Path::Scalar => self.scalar_blocks(whole, &mut state),
        }
        for at in (whole..hay.len()).step_by(64) {
            state.block(at, self.masks(hay, at));
        }
        state.finish()
    }

    /// The blocks of `hay` by AVX-512: the whole ones before `whole` where they lie, the last
    /// ones (a name, the end of a file) copied into a padded buffer, their masks then cut at
    /// the haystack's end, as taking them a byte at a time gives.
    ///
    /// # Safety
    /// The CPU must have AVX-512BW.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512bw")]
    unsafe fn blocks_avx512(&self, hay: &[u8], whole: usize, state: &mut State) {
        let tail = hay.len() - whole;
        let mut padded = [0u8; 2 * 64 + needles::PREFIX];
        padded[..tail].copy_from_slice(&hay[whole..]);
        let none = [[ByteSet::default(); 2]; needles::PREFIX];
        let tables = self.needles.as_ref().map_or(&none, |n| &n.tables);
        let parts = [
            (hay, whole, whole, 0),
            (&padded[..], tail.div_ceil(64) * 64, tail, whole),
        ];
        for (bytes, blocks, valid, offset) in parts {
            let part = simd::Part {
                bytes,
                blocks,
                valid,
                offset,
            };
            match self.needles {
                Some(_) => simd::blocks_avx512::<true>(part, &self.pairs, tables, state),
                None => simd::blocks_avx512::<false>(part, &self.pairs, tables, state),
            }
        }
    }

    fn scalar_blocks(&self, whole: usize, state: &mut State) {
        for at in (0..whole).step_by(64) {
            state.block(at, self.masks(state.hay, at));
        }
    }

    /// The masks of the 64 bytes of `hay` from `at` (fewer at its end), one byte at a time.
    fn masks(&self, hay: &[u8], at: usize) -> [u64; MASKS] {
        let mut out = [0u64; MASKS];
        for (i, &b) in hay[at..].iter().enumerate().take(64) {
            for (k, mask) in out[..SETS].iter_mut().enumerate() {
                *mask |= u64::from(self.is(k, b)) << i;
            }
        }
        if let Some(needles) = &self.needles {
            out[CANDIDATES] = needles.candidates(hay, at);
        }
        out
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use super::needles::PREFIX;
    use super::{BATCH, ByteSet, CANDIDATES, MASKS, PAIRS, SETS, SLOTS, State};
    use std::arch::x86_64::{
        __m256i, __m512i, _mm_loadu_si128, _mm256_and_si256, _mm256_broadcastsi128_si256,
        _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8,
        _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_srli_epi16, _mm512_and_si512,
        _mm512_broadcast_i32x4, _mm512_loadu_si512, _mm512_set1_epi8, _mm512_shuffle_epi8,
        _mm512_srli_epi16, _mm512_test_epi8_mask,
    };

    /// Bytes whose 64-byte blocks are classified: the first `blocks` (a multiple of 64), of
    /// which the first `valid` are the haystack's, from its offset `offset`.
    pub(super) struct Part<'a> {
        pub bytes: &'a [u8],
        pub blocks: usize,
        pub valid: usize,
        pub offset: usize,
    }

    /// Every 64-byte block of `part` handed to `state` with its masks (cut at its valid
    /// bytes), by AVX-512BW: one lookup of 64 bytes per pair of tables, one test per class;
    /// with `NEEDLES`, also the candidates of the needles whose tables are `needles` (four
    /// loads, at each byte and the three after it, `blocks + 3` being within the bytes).
    /// Written out rather than looped over arrays of registers, which the compiler kept in
    /// memory.
    #[target_feature(enable = "avx512bw")]
    pub(super) fn blocks_avx512<const NEEDLES: bool>(
        part: Part,
        pairs: &[ByteSet; PAIRS],
        needles: &[[ByteSet; 2]; PREFIX],
        state: &mut State,
    ) {
        let Part {
            bytes: hay,
            blocks: whole,
            valid,
            offset,
        } = part;
        assert!(whole <= hay.len() && (!NEEDLES || whole == 0 || whole + PREFIX - 1 <= hay.len()));
        // SAFETY: each table is 16 bytes, read by one unaligned load.
        let table = |t: &ByteSet| unsafe {
            (
                _mm512_broadcast_i32x4(_mm_loadu_si128(t.lo.as_ptr().cast())),
                _mm512_broadcast_i32x4(_mm_loadu_si128(t.hi.as_ptr().cast())),
            )
        };
        let (pair0, pair1, pair2) = (table(&pairs[0]), table(&pairs[1]), table(&pairs[2]));
        let (first0, first1) = (table(&needles[0][0]), table(&needles[0][1]));
        let (second0, second1) = (table(&needles[1][0]), table(&needles[1][1]));
        let (third0, third1) = (table(&needles[2][0]), table(&needles[2][1]));
        let (fourth0, fourth1) = (table(&needles[3][0]), table(&needles[3][1]));
        let bits = SLOTS.map(|(_, b)| _mm512_set1_epi8(b.cast_signed()));
        let mut batch = [[0u64; MASKS]; BATCH];
        let mut at = 0;
        while at + 64 <= whole {
            let blocks = ((whole - at) / 64).min(BATCH);
            for (j, masks) in batch[..blocks].iter_mut().enumerate() {
                let block = at + 64 * j;
                // SAFETY: the loads read inside `hay` (block + 64 <= whole, and whole + 3 <=
                // len when NEEDLES), unaligned loads allowed.
                let load = |off: usize| unsafe {
                    _mm512_loadu_si512(hay.as_ptr().add(block + off).cast())
                };
                let bytes = nibbles(load(0));
                let looked = [look(pair0, bytes), look(pair1, bytes), look(pair2, bytes)];
                for k in 0..SETS {
                    masks[k] = _mm512_test_epi8_mask(looked[SLOTS[k].0], bits[k]);
                }
                if NEEDLES {
                    let (next, third, fourth) =
                        (nibbles(load(1)), nibbles(load(2)), nibbles(load(3)));
                    let low = _mm512_and_si512(
                        _mm512_and_si512(look(first0, bytes), look(second0, next)),
                        _mm512_and_si512(look(third0, third), look(fourth0, fourth)),
                    );
                    let high = _mm512_and_si512(
                        _mm512_and_si512(look(first1, bytes), look(second1, next)),
                        _mm512_and_si512(look(third1, third), look(fourth1, fourth)),
                    );
                    masks[CANDIDATES] =
                        _mm512_test_epi8_mask(low, low) | _mm512_test_epi8_mask(high, high);
                }
                if block + 64 > valid {
                    // Only the bytes before `valid` are the haystack's (under 64 of them).
                    let keep = (1u64 << valid.saturating_sub(block)) - 1;
                    for m in masks.iter_mut() {
                        *m &= keep;
                    }
                }
            }
            state.blocks(offset + at, &batch[..blocks]);
            at += 64 * blocks;
        }
    }

    /// The low and high nibbles of each byte of `v`.
    #[target_feature(enable = "avx512bw")]
    #[inline]
    fn nibbles(v: __m512i) -> (__m512i, __m512i) {
        let low = _mm512_set1_epi8(0x0f);
        (
            _mm512_and_si512(v, low),
            _mm512_and_si512(_mm512_srli_epi16(v, 4), low),
        )
    }

    /// The bits a pair of nibble tables gives each byte whose nibbles are `lo` and `hi`.
    #[target_feature(enable = "avx512bw")]
    #[inline]
    fn look((tl, th): (__m512i, __m512i), (lo, hi): (__m512i, __m512i)) -> __m512i {
        _mm512_and_si512(_mm512_shuffle_epi8(tl, lo), _mm512_shuffle_epi8(th, hi))
    }

    /// As [`blocks_avx512`], by AVX2: 32 bytes at a time.
    #[target_feature(enable = "avx2")]
    pub(super) fn blocks_avx2(hay: &[u8], pairs: &[ByteSet; PAIRS], state: &mut State) {
        // SAFETY: each table is 16 bytes, read by one unaligned load.
        let table = |t: &[u8; 16]| unsafe {
            _mm256_broadcastsi128_si256(_mm_loadu_si128(t.as_ptr().cast()))
        };
        let tables = [
            (table(&pairs[0].lo), table(&pairs[0].hi)),
            (table(&pairs[1].lo), table(&pairs[1].hi)),
            (table(&pairs[2].lo), table(&pairs[2].hi)),
        ];
        let bits = SLOTS.map(|(_, b)| _mm256_set1_epi8(b.cast_signed()));
        let mut batch = [[0u64; MASKS]; BATCH];
        let mut at = 0;
        while at + 64 <= hay.len() {
            let n = ((hay.len() - at) / 64).min(BATCH);
            for (j, masks) in batch[..n].iter_mut().enumerate() {
                let block = at + 64 * j;
                // SAFETY: both loads read inside `hay` (block + 64 <= len), unaligned loads
                // allowed.
                let (a, b) = unsafe {
                    (
                        _mm256_loadu_si256(hay.as_ptr().add(block).cast()),
                        _mm256_loadu_si256(hay.as_ptr().add(block + 32).cast()),
                    )
                };
                let (a, b) = (classify(a, &tables, &bits), classify(b, &tables, &bits));
                for k in 0..SETS {
                    masks[k] = u64::from(a[k]) | u64::from(b[k]) << 32;
                }
            }
            state.blocks(at, &batch[..n]);
            at += 64 * n;
        }
    }

    /// Each class's mask of the 32 bytes of `v`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn classify(
        v: __m256i,
        tables: &[(__m256i, __m256i); PAIRS],
        bits: &[__m256i; SETS],
    ) -> [u32; SETS] {
        let low = _mm256_set1_epi8(0x0f);
        let lo = _mm256_and_si256(v, low);
        let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
        let zero = _mm256_setzero_si256();
        let mut p = [zero; PAIRS];
        for (p, &(tl, th)) in p.iter_mut().zip(tables) {
            *p = _mm256_and_si256(_mm256_shuffle_epi8(tl, lo), _mm256_shuffle_epi8(th, hi));
        }
        let mut out = [0u32; SETS];
        for k in 0..SETS {
            let x = _mm256_and_si256(p[SLOTS[k].0], bits[k]);
            out[k] = !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, zero)).cast_unsigned());
        }
        out
    }
}

/// No run of base64 characters reaches the end of the last block ([`State::open`]).
const NONE: usize = usize::MAX;

/// Blocks whose masks are made before any is taken: the SIMD loop then holds its tables in
/// registers, not across calls.
const BATCH: usize = 16;

/// What a scan carries from one block to the next.
struct State<'h> {
    hay: &'h [u8],
    scan: Scan,
    /// Every block's NUL mask, or-ed.
    nul: u64,
    /// Where the run of base64 characters reaching the end of the last block starts, when that
    /// block was followed exactly (see [`State::block`]), or [`NONE`].
    open: usize,
    /// The last block's base64 mask.
    last_b64: u64,
    /// The last block's offset and its quote, first and second masks: its quotes are taken
    /// once the next block tells what follows its last two bytes.
    pending: (usize, u64, u64, u64),
    /// The needles the classifier finds, if any.
    needles: Option<&'h Needles>,
    /// Whether the blocks handed over have no candidates' mask, which is then made here.
    candidates_by_byte: bool,
}

impl<'h> State<'h> {
    fn new(hay: &'h [u8], needles: Option<&'h Needles>) -> Self {
        State {
            hay,
            scan: Scan::default(),
            nul: 0,
            open: NONE,
            last_b64: 0,
            pending: (0, 0, 0, 0),
            needles,
            candidates_by_byte: false,
        }
    }

    /// Takes the blocks at `at` and after by their masks.
    #[inline]
    fn blocks(&mut self, at: usize, batch: &[[u64; MASKS]]) {
        for (j, masks) in batch.iter().enumerate() {
            self.block(at + 64 * j, *masks);
        }
    }

    /// Takes the block at `at` (64 bytes, or the haystack's last ones) by its masks.
    #[inline]
    fn block(&mut self, at: usize, mut masks: [u64; MASKS]) {
        if let Some(needles) = self.needles {
            if self.candidates_by_byte {
                masks[CANDIDATES] = needles.candidates(self.hay, at);
            }
            if masks[CANDIDATES] != 0 {
                self.needles_at(needles, at, masks[CANDIDATES]);
            }
        }
        self.nul |= masks[NUL];
        if masks[OPENING] != 0 {
            self.openings(at, masks[OPENING]);
        }
        self.quotes(masks[FIRST], masks[SECOND]);
        self.pending = (at, masks[QUOTE], masks[FIRST], masks[SECOND]);
        // A run of LONG_RUN (32) holds an aligned 16 bytes: a block with none such, and no run
        // reaching into it from a block followed exactly, starts or ends no long run.
        let m = masks[B64];
        if self.open != NONE || has_full_quarter(m) {
            self.runs(at, m);
        }
        self.last_b64 = m;
    }

    /// Verifies the needles' candidates of the block at `at`.
    #[inline(never)]
    fn needles_at(&mut self, needles: &Needles, at: usize, mut candidates: u64) {
        while candidates != 0 {
            let i = at + candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            self.scan.needles.extend(needles.at(self.hay, i));
        }
    }

    #[inline(never)]
    fn openings(&mut self, at: usize, mut open: u64) {
        while open != 0 {
            self.scan.openings.push(at + open.trailing_zeros() as usize);
            open &= open - 1;
        }
    }

    /// Takes the pending block's quotes, `first` and `second` being the next block's masks.
    #[inline]
    fn quotes(&mut self, first: u64, second: u64) {
        let (at, quote, f, s) = self.pending;
        let quotes = quote & (f >> 1 | first << 63) & (s >> 2 | second << 62);
        if quotes != 0 {
            self.push_quotes(at, quotes);
        }
    }

    #[inline(never)]
    fn push_quotes(&mut self, at: usize, mut quotes: u64) {
        while quotes != 0 {
            self.scan.quotes.push(at + quotes.trailing_zeros() as usize);
            quotes &= quotes - 1;
        }
    }

    /// Follows the runs of base64 characters through the block at `at`, whose base64 mask is
    /// `m`: the run reaching into it from the last block (which, if that block was not
    /// followed, starts there), the one inside it, and the one reaching out of it.
    #[inline(never)]
    fn runs(&mut self, at: usize, m: u64) {
        if self.open == NONE {
            self.open = at - (!self.last_b64).leading_zeros() as usize;
        }
        if m == u64::MAX {
            return;
        }
        let lead = (!m).trailing_zeros() as usize;
        if at + lead - self.open >= LONG_RUN {
            self.close(self.open, at + lead);
        }
        // Both under 64 (a zero bit lies between them): the runs inside are the bits left.
        let trail = (!m).leading_zeros() as usize;
        let inner = m & !((1u64 << lead) - 1) & u64::MAX >> trail;
        if let Some(first) = long_run_in(inner) {
            let len = (!(inner >> first)).trailing_zeros() as usize;
            self.close(at + first, at + first + len);
        }
        self.open = if trail > 0 { at + 64 - trail } else { NONE };
    }

    /// A long run of base64 characters ended: kept, with the next line's run.
    fn close(&mut self, start: usize, end: usize) {
        self.scan.runs.push(start..end);
        if let Some(next) = next_line_run(self.hay, end) {
            self.scan.runs.push(next);
        }
    }

    fn finish(mut self) -> Scan {
        self.quotes(0, 0);
        if self.open != NONE && self.hay.len() - self.open >= LONG_RUN {
            self.close(self.open, self.hay.len());
        }
        self.scan.nul = self.nul != 0;
        self.scan
    }
}

/// Whether one of the four 16-bit quarters of `m` is all ones.
#[inline]
fn has_full_quarter(m: u64) -> bool {
    // A zero quarter of `!m`, found by the borrow it takes from its top bit.
    const ONES: u64 = 0x0001_0001_0001_0001;
    let t = !m;
    t.wrapping_sub(ONES) & !t & ONES << 15 != 0
}

/// Where the first run of at least [`LONG_RUN`] (32) set bits of `m` starts, if any.
#[inline]
fn long_run_in(m: u64) -> Option<usize> {
    let mut x = m;
    x &= x >> 1;
    x &= x >> 2;
    x &= x >> 4;
    x &= x >> 8;
    x &= x >> 16;
    (x != 0).then(|| x.trailing_zeros() as usize)
}

/// The run that starts the line after a run ending at `end` (`[ \t\r]*\n[ \t]*` between them),
/// when it is shorter than [`LONG_RUN`] (a longer one is a run of its own).
fn next_line_run(hay: &[u8], end: usize) -> Option<Range<usize>> {
    let start = next_line_start(hay, end)?;
    let mut i = start;
    while i < hay.len() && i - start < LONG_RUN && is_b64(hay[i]) {
        i += 1;
    }
    (i > start && i - start < LONG_RUN).then_some(start..i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The runs by their definition: the maximal runs of base64 characters of at least
    /// [`LONG_RUN`], each followed by the next line's short run.
    fn runs_by_definition(hay: &[u8]) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < hay.len() {
            if !is_b64(hay[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < hay.len() && is_b64(hay[i]) {
                i += 1;
            }
            if i - start >= LONG_RUN {
                out.push(start..i);
                out.extend(next_line_run(hay, i));
            }
        }
        out
    }

    fn classifier() -> Classifier {
        Classifier::new(b"%\\&", b"sg", b"kh\"'`", None)
    }

    fn by_definition(hay: &[u8], c: &Classifier) -> Scan {
        let at =
            |set: usize| -> Vec<usize> { (0..hay.len()).filter(|&i| c.is(set, hay[i])).collect() };
        let quotes = at(QUOTE)
            .into_iter()
            .filter(|&q| {
                matches!(hay.get(q + 1..q + 3), Some(&[f, s])
                    if c.is(FIRST, f) && c.is(SECOND, s))
            })
            .collect();
        Scan {
            runs: runs_by_definition(hay),
            openings: at(OPENING),
            quotes,
            nul: hay.contains(&0),
            needles: Vec::new(),
        }
    }

    #[test]
    fn byte_sets_hold_their_bytes_and_only_them_when_ascii() {
        let b64 = ByteSet::new((0..=255u8).filter(|&b| is_b64(b)));
        for b in 0..=255u8 {
            assert_eq!(b64.contains(b), is_b64(b), "{b}");
        }
        // Every byte in a set of its own row: more than 8 rows, merged to a superset.
        let wide = ByteSet::new((0..16u8).map(|h| h << 4 | h));
        assert!((0..16u8).all(|h| wide.contains(h << 4 | h)));
    }

    #[test]
    fn runs_cross_blocks_and_end_lines() {
        let c = classifier();
        let run = "A".repeat(40);
        for pad in [0, 1, 30, 31, 32, 33, 63, 64, 65, 100] {
            let hay = format!("{} {run}\n  QQ== {run}", " ".repeat(pad));
            for path in Path::available() {
                let want = by_definition(hay.as_bytes(), &c);
                assert_eq!(c.scan_by(hay.as_bytes(), path), want, "{pad} {path:?}");
            }
        }
        assert_eq!(c.scan(&[b'A'; 128]).runs, vec![0..128]);
        assert_eq!(c.scan(&[b'A'; 31]).runs, Vec::<Range<usize>>::new());
    }

    /// Runs of base64 characters of any length between bytes of every class.
    fn bytes_of_every_class() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            2 => Just(b'\n'),
            2 => Just(b' '),
            2 => prop::sample::select(b"\"'`%\\&sgkh\0/+-_=".to_vec()),
            1 => any::<u8>(),
        ];
        let piece = (0usize..90, prop::collection::vec(byte, 1..4));
        prop::collection::vec(piece, 0..12).prop_map(|pieces| {
            let mut hay = Vec::new();
            for (run, between) in pieces {
                hay.extend((0..run).map(|i| b"Ab9+/-_z"[i % 8]));
                hay.extend(between);
            }
            hay
        })
    }

    /// The needles at each offset of `hay` by their definition: the lowest index starting there.
    fn needles_by_definition(hay: &[u8], needles: &[Vec<u8>]) -> Vec<(usize, usize, usize)> {
        (0..hay.len())
            .filter_map(|at| {
                let n = needles.iter().position(|n| hay[at..].starts_with(n))?;
                Some((n, at, at + needles[n].len()))
            })
            .collect()
    }

    fn needle_texts() -> Vec<Vec<u8>> {
        let words = [
            "sk-",
            "sk-ant-api03-",
            "hf_",
            "r8_",
            "ghp_",
            "gho_",
            "xoxb-",
            "xoxp-",
            "AKIA",
            "ASIA",
            "mistral",
            "Mistral",
            "hooks.slack.com/",
            "hooks.slack.com%2F",
            "pk_live_",
            "rk_live_",
            "sk_live_",
            "T3BlbkFJ",
            "pypi-AgE",
            "glpat-",
            "aaa",
            "aaab",
            "\\u0073",
        ];
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    /// Haystacks full of the needles, their prefixes and near misses.
    fn bytes_near_needles() -> impl Strategy<Value = Vec<u8>> {
        let pieces: Vec<Vec<u8>> = needle_texts()
            .into_iter()
            .flat_map(|n| [n[..n.len() - 1].to_vec(), n.clone(), n[1..].to_vec()])
            .chain([b" ".to_vec(), b"\n".to_vec(), b"a".to_vec(), b"-_".to_vec()])
            .collect();
        prop::collection::vec(prop::sample::select(pieces), 0..60).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn needles_are_found_where_they_start_by_every_path(hay in bytes_near_needles()) {
            let texts = needle_texts();
            let c = Classifier::new(b"%", b"", b"", Needles::new(texts.clone()));
            let want = needles_by_definition(&hay, &texts);
            for path in Path::available() {
                prop_assert_eq!(&c.scan_by(&hay, path).needles, &want, "{:?}", path);
            }
        }

        #[test]
        fn a_scan_gives_what_each_class_s_definition_gives(hay in bytes_of_every_class()) {
            let c = classifier();
            for path in Path::available() {
                prop_assert_eq!(c.scan_by(&hay, path), by_definition(&hay, &c), "{:?}", path);
            }
        }

        #[test]
        fn runs_of_any_length_anywhere_are_found(pad in 0usize..130, len in 20usize..200) {
            let mut hay = vec![b' '; pad];
            hay.extend(std::iter::repeat_n(b'x', len));
            hay.extend(b" tail");
            let c = classifier();
            for path in Path::available() {
                prop_assert_eq!(c.scan_by(&hay, path), by_definition(&hay, &c), "{:?}", path);
            }
        }
    }
}
