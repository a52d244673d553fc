//! The whole history read from the object store in-process: gitoxide's pack traversal decodes
//! every object of each pack once (each delta from its decoded base, on every core) with no
//! `git` child and no pipe, and loose objects come through libgit2. Two passes over the objects:
//! blobs and commits first, scanned on the thread that decoded them; then the trees, into the
//! graph, which by then knows which blobs had findings. Each pass decodes only the entries of
//! its own kinds (told from the entry headers), so that every object is decoded once in all.
//!
//! Memory is bounded by bytes, not by `-j` or the cores. A blob or commit over 1 MiB stored whole
//! (no delta) that no delta is based on, loose or packed, is not decoded but set aside and
//! inflated as it is scanned after the first pass (`large`), in buffers of kilobytes, however
//! high `--max-blob-size` is. What is decoded whole (delta bases and deltas, and the pack's
//! first entry, which gix's delta tree decodes whatever it is) is decoded on as many threads as
//! the blob budget holds of the largest such entry the headers name, so that `-j 64` holds what
//! `-j 2` does; a delta's result, whose size no header tells, is bounded only by
//! `--max-blob-size`. A pack that opens with a commit over 16 MiB is left to `catfile`.
//! Used for repositories whose objects are all in their own packs and loose files (no
//! alternates) and whose decoded objects fit `--max-blob-size`; otherwise `catfile` streams them
//! through `git cat-file`.

use super::graph::Graph;
use super::source::{Contents, ObjectSource};
use crate::scan::budget;
use crate::scan::git::Ctx;
use crate::scan::git::blobs::{blob_done, message_done};
use crate::scan::git::inflate::{self, Streamed, Unstreamed};
use crate::scan::git::large::{self, LARGE_COMMIT};
use crate::scan::git::objects::{Links, message, read_header};
use crate::scan::git::oidmap::OidHasher;
use git2::{ObjectType, Oid, Repository};
use gix_object::Kind;
use gix_pack::index::traverse::{Algorithm, Options, SafetyCheck};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// The objects as the pack files hold them, read in-process.
#[derive(Default)]
pub(super) struct Packs {
    store: Option<Store>,
}

impl ObjectSource for Packs {
    /// Every blob and commit from the store; None when it cannot be read this way.
    fn contents(&mut self, ctx: &Ctx<'_>, repo: &Repository) -> Option<anyhow::Result<Contents>> {
        let store = self.store.insert(Store::open(repo)?);
        scan_objects(ctx, repo, store).map(Ok)
    }

    /// The second pass: every tree into the graph.
    fn trees(&mut self, ctx: &Ctx<'_>, repo: &Repository, graph: &mut Graph) -> Option<()> {
        let graph = Mutex::new(graph);
        (self.store.as_ref()?).each(ctx, repo, Pass::Trees, &|_, oid, data| {
            lock(&graph).add_tree(oid, data);
        })
    }

    /// Every object but the blobs and commits is about a tree (tags are few).
    fn sizes(&self, contents: usize) -> (usize, usize) {
        let objects = self.store.as_ref().map_or(0, Store::objects);
        (objects, objects.saturating_sub(contents))
    }
}

/// The first pass: every blob and commit message scanned; what has findings or notes whole,
/// the rest as tallies; and every commit's links. None when a commit cannot be parsed.
fn scan_objects(ctx: &Ctx<'_>, repo: &Repository, store: &Store) -> Option<Contents> {
    let contents = Mutex::new(Contents::default());
    let unreadable = AtomicBool::new(false);
    store.each(ctx, repo, Pass::Contents, &|kind, oid, data| {
        let d = match kind {
            Kind::Commit => {
                match Links::parse(data) {
                    Some(l) => drop(lock(&contents).links.insert(oid, l)),
                    None => unreadable.store(true, Ordering::Relaxed),
                }
                message_done(ctx, oid, message(data))
            }
            _ => blob_done(ctx, oid, data),
        };
        lock(&contents).add(d);
    })?;
    scan_aside(ctx, repo, store, &contents)?;
    (!unreadable.into_inner()).then(|| into_inner(contents))
}

/// Scans the blobs and commits the first pass set aside, each inflated as it is scanned, on
/// [`streaming_threads`] threads, each holding a chunk buffer, never an object. None when one
/// cannot be read.
fn scan_aside(
    ctx: &Ctx<'_>,
    repo: &Repository,
    store: &Store,
    contents: &Mutex<Contents>,
) -> Option<()> {
    let aside = store.aside();
    let threads = streaming_threads(ctx.opts.threads, crate::threads::cores(), aside.len());
    let (next, failed) = (AtomicUsize::new(0), AtomicBool::new(false));
    let objects = repo.commondir().join("objects");
    let work = || {
        let mut loose = inflate::Objects::new(objects.clone());
        while let Some(&(oid, lies)) = aside.get(next.fetch_add(1, Ordering::Relaxed)) {
            let scanned = (store.stream(oid, lies, &mut loose))
                .and_then(|s| large::scan_streamed(ctx, oid, s));
            let Ok((links, done)) = scanned else {
                failed.store(true, Ordering::Relaxed);
                return;
            };
            let mut contents = lock(contents);
            if let Some(links) = links {
                contents.links.insert(oid, links);
            }
            contents.add(done);
        }
    };
    std::thread::scope(|s| {
        for _ in 0..threads {
            if crate::threads::spawn_scoped(s, "keyhound-stream", work).is_err() {
                failed.store(true, Ordering::Relaxed);
            }
        }
    });
    (!failed.into_inner()).then_some(())
}

/// What a thread streaming an object holds: a chunk buffer of about [`budget::SMALL`], its
/// overlap, and the decoder's and the pack's buffers and pages it reads through (1.5 MB each,
/// measured on 2 MiB blobs).
const STREAMING: u64 = budget::SMALL * 3 / 2;

/// The threads that stream `aside` objects: `-j`, no more than the cores, nor than the
/// budget of held objects holds streaming threads, so `-j 64` on 64 cores holds what `-j 2`
/// does (four of them cost 1.13 times two on 60 blobs of 2 MiB).
fn streaming_threads(threads: usize, cores: usize, aside: usize) -> usize {
    let fit = usize::try_from(budget::HELD.capacity() / STREAMING).unwrap_or(usize::MAX);
    threads.clamp(1, cores.max(1)).min(aside).min(fit.max(1))
}

/// Which objects a pass over the store hands on.
#[derive(Clone, Copy)]
enum Pass {
    /// Blobs and commits.
    Contents,
    Trees,
}

impl Pass {
    fn takes(self, kind: Kind) -> bool {
        match self {
            Pass::Contents => matches!(kind, Kind::Blob | Kind::Commit),
            Pass::Trees => kind == Kind::Tree,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn into_inner<T>(m: Mutex<T>) -> T {
    m.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// What is handed each object: its kind, id and content.
type Each<'a> = &'a (dyn Fn(Kind, Oid, &[u8]) + Sync);

/// The repository's packs, and its loose objects no pack holds.
struct Store {
    packs: Vec<gix_pack::Bundle>,
    /// Where each pack's entries end, one per pack.
    ends: Vec<Ends>,
    loose: Vec<Oid>,
    /// The loose blobs and commits over [`STREAMED`] the first pass met, streamed after it.
    loose_aside: Mutex<Vec<Oid>>,
    /// With several packs: the first pack each object is in, so that it is taken once (a
    /// repository that fetched often without a gc may hold dozens of overlapping packs).
    first_pack: HashMap<[u8; 20], u32, BuildHasherDefault<OidHasher>>,
}

impl Store {
    /// None for what this reader leaves to git: objects borrowed from other repositories
    /// (alternates), an object folder named by the environment, SHA-256 repositories,
    /// unreadable packs, version 1 indexes (no CRC-32s to check entries against).
    fn open(repo: &Repository) -> Option<Store> {
        // A linked work tree's objects are in the repository it belongs to.
        let objects = repo.commondir().join("objects");
        let moved = ["GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        if moved || objects.join("info").join("alternates").exists() {
            return None;
        }
        let format = repo.config().ok()?.get_string("extensions.objectformat");
        if format.is_ok_and(|f| !f.eq_ignore_ascii_case("sha1")) {
            return None;
        }
        let mut packs = Vec::new();
        if let Ok(dir) = std::fs::read_dir(objects.join("pack")) {
            for entry in dir {
                let path = entry.ok()?.path();
                if path.extension().is_some_and(|e| e == "idx") {
                    packs.push(gix_pack::Bundle::at(&path, gix_hash::Kind::Sha1).ok()?);
                }
            }
        }
        let ends: Vec<Ends> = packs.iter().map(Ends::of).collect::<Option<_>>()?;
        if ends.iter().any(|e| e.large_first) {
            return None;
        }
        let mut first_pack = HashMap::default();
        if packs.len() > 1 {
            for (i, bundle) in packs.iter().enumerate() {
                for entry in bundle.index.iter() {
                    let id = entry.oid.as_bytes().try_into().ok()?;
                    first_pack.entry(id).or_insert(i as u32);
                }
            }
        }
        let mut store = Store {
            packs,
            ends,
            loose: Vec::new(),
            loose_aside: Mutex::new(Vec::new()),
            first_pack,
        };
        store.loose = loose_objects(&objects)?
            .into_iter()
            .filter(|oid| store.pack_of(oid.as_bytes()).is_none())
            .collect();
        Some(store)
    }

    /// The first pack that holds object `id`.
    fn pack_of(&self, id: &[u8]) -> Option<u32> {
        if self.packs.len() > 1 {
            let id: &[u8; 20] = id.try_into().ok()?;
            return self.first_pack.get(id).copied();
        }
        let id = gix_hash::oid::try_from_bytes(id).ok()?;
        let bundle = self.packs.first()?;
        bundle.index.lookup(id).map(|_| 0)
    }

    /// How many objects the packs and loose files hold (an object in two packs counts twice).
    fn objects(&self) -> usize {
        let packed: usize = (self.packs.iter())
            .map(|b| b.index.num_objects() as usize)
            .sum();
        packed + self.loose.len()
    }

    /// Hands every object `pass` takes to `f` once, packs on `ctx.opts.threads` threads, then
    /// loose objects. Only the entries that decode to what `pass` takes are decoded (each
    /// delta is of its base's kind), so that the two passes decode each object once between
    /// them. None when an object cannot be decoded or is larger than `--max-blob-size`.
    fn each(&self, ctx: &Ctx<'_>, repo: &Repository, pass: Pass, f: Each<'_>) -> Option<()> {
        let stop = AtomicBool::new(false);
        for (i, (bundle, ends)) in self.packs.iter().zip(&self.ends).enumerate() {
            let shed = Shed::new(&bundle.pack);
            let take = |kind: Kind, data: &[u8], entry: &gix_pack::index::Entry| {
                if !ends.intact(bundle, entry) {
                    stop.store(true, Ordering::Relaxed);
                    return;
                }
                let id = entry.oid.as_bytes();
                // With one pack, every object in it is its first.
                let first = self.packs.len() == 1 || self.pack_of(id) == Some(i as u32);
                if let (true, true, Ok(oid)) = (pass.takes(kind), first, Oid::from_bytes(id)) {
                    f(kind, oid, data);
                }
                shed.decoded(data.len());
            };
            let largest = ends.largest(pass).min(ctx.opts.max_blob_size);
            let limits = Limits {
                threads: decoding_threads(ctx.opts.threads, crate::threads::cores(), largest),
                alloc: usize::try_from(ctx.opts.max_blob_size).ok(),
                stop: &stop,
            };
            let entries = ends.entries(bundle, pass);
            traverse(bundle, entries, &take, &limits)?;
            if stop.load(Ordering::Relaxed) {
                return None;
            }
        }
        self.each_loose(ctx, repo, pass, f)
    }

    /// The loose objects, one at a time: each is one zlib stream, with no delta to resolve.
    /// Only what `pass` takes is read.
    fn each_loose(&self, ctx: &Ctx<'_>, repo: &Repository, pass: Pass, f: Each<'_>) -> Option<()> {
        let odb = repo.odb().ok()?;
        for oid in &self.loose {
            let (size, kind) = read_header(&odb, *oid).ok()?;
            let kind = match kind {
                ObjectType::Blob => Kind::Blob,
                ObjectType::Tree => Kind::Tree,
                ObjectType::Commit => Kind::Commit,
                _ => continue,
            };
            if kind != Kind::Tree && size > STREAMED {
                if pass.takes(kind) {
                    lock(&self.loose_aside).push(*oid);
                }
                continue;
            }
            if size > ctx.opts.max_blob_size {
                return None;
            }
            if pass.takes(kind) {
                f(kind, *oid, odb.read(*oid).ok()?.data());
            }
        }
        Some(())
    }

    /// The blobs and commits the first pass set aside, and where each lies: those stored whole
    /// that no delta is based on, in the packs (the first pack that holds each), and the loose
    /// ones.
    fn aside(&self) -> Vec<(Oid, Lies)> {
        let mut out = Vec::new();
        for (i, (bundle, ends)) in self.packs.iter().zip(&self.ends).enumerate() {
            for &at in &ends.streamed {
                let id = bundle.index.oid_at_index(ends.order[at]);
                let first = self.packs.len() == 1 || self.pack_of(id.as_bytes()) == Some(i as u32);
                if let (true, Ok(oid)) = (first, Oid::from_bytes(id.as_bytes())) {
                    let offset = ends.offsets[at];
                    out.push((oid, Lies::Packed { pack: i, offset }));
                }
            }
        }
        let loose = std::mem::take(&mut *lock(&self.loose_aside));
        out.extend(loose.into_iter().map(|oid| (oid, Lies::Loose)));
        out
    }

    /// Object `oid`, which `lies` there, opened as a stream (`loose` reads the loose files).
    fn stream(
        &self,
        oid: Oid,
        lies: Lies,
        loose: &mut inflate::Objects,
    ) -> Result<Streamed, Unstreamed> {
        match lies {
            Lies::Packed { pack, offset } => inflate::packed(self.packs[pack].pack.path(), offset),
            Lies::Loose => loose.stream(oid),
        }
    }
}

/// Where an object set aside to be streamed lies.
#[derive(Clone, Copy)]
enum Lies {
    /// At `offset` of the pack at place `pack`, stored whole.
    Packed {
        pack: usize,
        offset: u64,
    },
    Loose,
}

/// Blobs and commits stored whole over this many bytes, that no delta is based on, are set
/// aside and streamed, never decoded whole: the size past which a commit is streamed
/// everywhere, and past which a whole blob takes a permit from the blob budget.
const STREAMED: u64 = LARGE_COMMIT;

/// How many threads decode a pack whose largest entry to decode is `largest` bytes: `-j`, no
/// more than the `cores` (more make no decoding faster), no more than the blob budget holds of
/// that entry, and, for one over the floor of the budget of held objects, no more than that
/// budget holds of it (counted up to 1 MiB). Each thread holds the objects of the delta chain
/// it is decoding, whole, and scans each in a chunk of up to its size: with the cores alone as
/// the bound, six 21 MB blobs with deltas cost 152 MB at `-j 2` and 291 MB at `-j 64` on two
/// cores, and 300 blobs of 1 MB 73 MB at `-j 2` and 199 MB at `-j 64` on 64 cores (90 MB now).
fn decoding_threads(threads: usize, cores: usize, largest: u64) -> usize {
    let fit = |budget: &budget::Budget, bytes: u64| {
        usize::try_from(budget.capacity() / bytes.max(1)).map_or(usize::MAX, |n| n.max(1))
    };
    let held = if budget::HELD.floor() <= largest {
        fit(&budget::HELD, largest.min(budget::SMALL))
    } else {
        usize::MAX
    };
    threads
        .clamp(1, cores.max(1))
        .min(fit(&budget::BLOBS, largest))
        .min(held)
}

/// How a pack is traversed: on how many threads, the largest object decoded, and the flag that
/// stops every thread.
struct Limits<'a> {
    threads: usize,
    alloc: Option<usize>,
    stop: &'a AtomicBool,
}

/// What a traversal hands each decoded object: its kind, content and index entry.
type Take<'a> = &'a (dyn Fn(Kind, &[u8], &gix_pack::index::Entry) + Sync);

/// Decodes `entries` of `bundle` (sorted by pack offset, each delta's base among them) with
/// gix's delta tree, each base once for all its deltas, and hands every object to `take`.
/// Without `entries` (a pack whose kinds could not be told), every entry of the pack. None
/// when an entry cannot be decoded.
fn traverse(
    bundle: &gix_pack::Bundle,
    entries: Option<Vec<gix_pack::index::Entry>>,
    take: Take<'_>,
    limits: &Limits<'_>,
) -> Option<()> {
    let Some(entries) = entries else {
        return traverse_whole(bundle, take, limits);
    };
    let index = &bundle.index;
    let mut progress = gix_utils::progress::Discard;
    let tree = gix_pack::cache::delta::Tree::from_offsets_in_pack(
        bundle.pack.path(),
        entries.into_iter(),
        &|e| e.pack_offset,
        &|id| Ok(index.lookup(id).map(|i| index.pack_offset_at_index(i))),
        &mut progress,
        limits.stop,
        gix_hash::Kind::Sha1,
    )
    .ok()?;
    let inspect = |entry: &mut gix_pack::index::Entry,
                   _: &dyn gix_utils::progress::Progress,
                   c: gix_pack::cache::delta::traverse::Context<'_>|
     -> gix_error::Result<()> {
        if let Some(kind) = c.entry.header.as_kind() {
            take(kind, c.decompressed, entry);
        }
        Ok(())
    };
    let options = gix_pack::cache::delta::traverse::Options {
        object_progress: Box::new(gix_utils::progress::Discard),
        size_progress: &mut progress,
        thread_limit: Some(limits.threads),
        should_interrupt: limits.stop,
        object_hash: gix_hash::Kind::Sha1,
        alloc_limit_bytes: limits.alloc,
    };
    let pack = &bundle.pack;
    let end = pack.pack_end() as u64;
    tree.traverse(
        |range, pack| pack.entry_slice(range),
        pack,
        end,
        inspect,
        options,
    )
    .ok()
    .map(drop)
}

/// Decodes every entry of `bundle` through gix's own index traversal.
fn traverse_whole(bundle: &gix_pack::Bundle, take: Take<'_>, limits: &Limits<'_>) -> Option<()> {
    let processor = |kind: Kind,
                     data: &[u8],
                     entry: &gix_pack::index::Entry,
                     _: &dyn gix_utils::progress::Progress|
     -> gix_error::Result<()> {
        take(kind, data, entry);
        Ok(())
    };
    let options = Options {
        traversal: Algorithm::DeltaTreeLookup,
        thread_limit: Some(limits.threads),
        // Hashing every object again would double the time; each entry's CRC-32 is
        // checked against the index instead (`Ends::intact`).
        check: SafetyCheck::SkipFileAndObjectChecksumVerification,
        alloc_limit_bytes: limits.alloc,
        make_pack_lookup_cache: || gix_pack::cache::Never,
    };
    let mut progress = gix_utils::progress::Discard;
    (bundle.index)
        .traverse(&bundle.pack, &mut progress, limits.stop, processor, options)
        .ok()
        .map(drop)
}

/// Where each entry of a pack ends, to check its bytes against the CRC-32 the index keeps for
/// it: gix inflates an entry up to its stated size without checking what zlib would, and a
/// damaged pack must not be scanned as if it were whole.
struct Ends {
    offsets: Vec<u64>,
    /// The index position of each entry, by its place in `offsets`.
    order: Vec<u32>,
    end: u64,
    /// The kind each entry decodes to, by its place in `offsets`; None when the entry headers
    /// do not tell (then every entry is decoded in each pass).
    kinds: Option<Vec<Kind>>,
    /// The places of the blobs and commits over [`STREAMED`] stored whole that no delta is
    /// based on (the first entry aside): streamed after the first pass, never decoded whole.
    streamed: Vec<usize>,
    /// The place and size of every other entry from the floor of [`budget::HELD`] up (a
    /// delta's size is that of its instructions), to bound the decoding threads by.
    large: Vec<(usize, u64)>,
    /// Whether the pack's first entry is a commit over [`LARGE_FIRST`]: gix's delta tree
    /// decodes the first entry whatever it is, so such a pack is left to `catfile`, which
    /// streams the commit.
    large_first: bool,
}

/// A pack whose first entry (the newest commit, in git's packs) is a commit larger than this
/// is not read here; smaller ones cost their size while they are scanned.
const LARGE_FIRST: u64 = 16 << 20;

impl Ends {
    /// None for a version 1 index, which keeps no CRC-32s.
    fn of(bundle: &gix_pack::Bundle) -> Option<Ends> {
        if bundle.index.version() == gix_pack::index::Version::V1 {
            return None;
        }
        let mut by_offset: Vec<(u64, u32)> = (bundle.index.iter().enumerate())
            .map(|(i, e)| (e.pack_offset, i as u32))
            .collect();
        by_offset.sort_unstable();
        let (offsets, order): (Vec<u64>, Vec<u32>) = by_offset.into_iter().unzip();
        let end = bundle.pack.pack_end() as u64;
        let (kinds, streamed, large) = match kinds_of(bundle, &offsets) {
            Some(h) => (Some(h.kinds), h.streamed, h.large),
            None => (None, Vec::new(), Vec::new()),
        };
        let large_first = (offsets.first())
            .and_then(|&at| bundle.pack.entry(at).ok())
            .is_some_and(|e| {
                e.header == gix_pack::data::entry::Header::Commit
                    && e.decompressed_size > LARGE_FIRST
            });
        Some(Ends {
            offsets,
            order,
            end,
            kinds,
            streamed,
            large,
            large_first,
        })
    }

    /// The largest entry `pass` decodes from the floor of [`budget::HELD`] up, as far as the
    /// headers tell (0: none so large). Unknown (`u64::MAX`) when the kinds are (every entry
    /// is decoded).
    fn largest(&self, pass: Pass) -> u64 {
        let Some(kinds) = &self.kinds else {
            return u64::MAX;
        };
        (self.large.iter())
            .filter(|&&(at, _)| at == 0 || pass.takes(kinds[at]))
            .map(|&(_, size)| size)
            .fold(0, u64::max)
    }

    /// The entries that decode to what `pass` takes, sorted by pack offset, and the pack's
    /// first entry: gix's delta tree reads the headers from the start of the pack on, and
    /// takes the first it is given to be there. None when the kinds are not known, or the
    /// first entry is a delta (it would need its base too). Read in pack order, with no search
    /// and no sort: on a pack of 363k objects, searching each index entry's offset cost 0.2 s
    /// a pass, on one thread.
    fn entries(
        &self,
        bundle: &gix_pack::Bundle,
        pass: Pass,
    ) -> Option<Vec<gix_pack::index::Entry>> {
        let kinds = self.kinds.as_ref()?;
        let first = self.offsets.first().copied();
        let index = &bundle.index;
        let out = (self.offsets.iter().zip(&self.order).zip(kinds))
            .enumerate()
            .filter(|&(at, (_, &kind))| at == 0 || (pass.takes(kind) && !self.is_streamed(at)))
            .map(|(_, ((&pack_offset, &i), _))| gix_pack::index::Entry {
                oid: index.oid_at_index(i).to_owned(),
                pack_offset,
                crc32: index.crc32_at_index(i),
            })
            .collect();
        match first {
            Some(at) if !bundle.pack.entry(at).ok()?.header.is_base() => None,
            _ => Some(out),
        }
    }

    /// Whether the entry at place `at` is streamed rather than decoded.
    fn is_streamed(&self, at: usize) -> bool {
        !self.streamed.is_empty() && self.streamed.binary_search(&at).is_ok()
    }

    /// Whether the bytes of `entry` in the pack are those the index was written for.
    fn intact(&self, bundle: &gix_pack::Bundle, entry: &gix_pack::index::Entry) -> bool {
        let start = entry.pack_offset;
        let next = self.offsets.partition_point(|&o| o <= start);
        let end = self.offsets.get(next).copied().unwrap_or(self.end);
        let (Some(crc), true) = (entry.crc32, start < end && end <= self.end) else {
            return false;
        };
        bundle.pack.entry_crc32(start, (end - start) as usize) == crc
    }
}

/// What the entry headers of a pack tell, read without inflating anything.
struct Headers {
    /// The kind each entry decodes to, by its place: a delta is of its base's kind.
    kinds: Vec<Kind>,
    /// See [`Ends::streamed`].
    streamed: Vec<usize>,
    /// See [`Ends::large`].
    large: Vec<(usize, u64)>,
}

/// What the headers of the entries at `offsets` (sorted) tell. None when a header cannot be
/// read, a base is not in this pack, or deltas loop.
fn kinds_of(bundle: &gix_pack::Bundle, offsets: &[u64]) -> Option<Headers> {
    use gix_pack::data::entry::Header;
    let position = |offset: u64| offsets.binary_search(&offset).ok();
    // Per entry: its kind, or the place of its base.
    let mut bases: Vec<Result<Kind, usize>> = Vec::with_capacity(offsets.len());
    let (mut streamed, mut large) = (Vec::new(), Vec::new());
    for &offset in offsets {
        let entry = bundle.pack.entry(offset).ok()?;
        let (at, size) = (bases.len(), entry.decompressed_size);
        let whole = matches!(entry.header, Header::Commit | Header::Blob);
        if whole && size > STREAMED && at > 0 {
            streamed.push(at);
        } else if size >= budget::HELD.floor() {
            large.push((at, size));
        }
        bases.push(match entry.header {
            Header::OfsDelta { base_distance } => Err(position(
                Header::verified_base_pack_offset(offset, base_distance)?,
            )?),
            Header::RefDelta { base_id } => {
                let at = bundle.index.lookup(base_id)?;
                Err(position(bundle.index.pack_offset_at_index(at))?)
            }
            header => Ok(header.as_kind()?),
        });
    }
    let kinds = resolve_kinds(&bases)?;
    if !streamed.is_empty() {
        // An entry a delta is based on is decoded with its deltas.
        let based: std::collections::HashSet<usize> =
            (bases.iter()).filter_map(|b| b.err()).collect();
        for &at in streamed.iter().filter(|at| based.contains(at)) {
            large.push((at, bundle.pack.entry(offsets[at]).ok()?.decompressed_size));
        }
        streamed.retain(|at| !based.contains(at));
    }
    Some(Headers {
        kinds,
        streamed,
        large,
    })
}

/// The kind of each entry, given its own or the place of its base (`bases`). None when deltas
/// loop.
fn resolve_kinds(bases: &[Result<Kind, usize>]) -> Option<Vec<Kind>> {
    let mut kinds: Vec<Kind> = Vec::with_capacity(bases.len());
    for (i, base) in bases.iter().enumerate() {
        // A base comes before its deltas, except a REF_DELTA's, which may come after.
        let (mut base, mut steps) = (*base, 0);
        let kind = loop {
            match base {
                Ok(kind) => break kind,
                Err(at) if at < i => break kinds[at],
                Err(_) if steps > bases.len() => return None,
                Err(at) => (base, steps) = (bases[at], steps + 1),
            }
        };
        kinds.push(kind);
    }
    Some(kinds)
}

/// Every this many bytes decoded, the pages of the pack read so far are let go.
const SHED_EVERY: u64 = 32 << 20;

/// Keeps the mapped pack from counting whole in the resident memory: the traversal reads each
/// compressed object about once, so every `SHED_EVERY` decoded bytes the pages read so far are
/// dropped from this process (they stay in the page cache, and a page read again is mapped
/// again from it). Without this, a 1 GB pack read is 1 GB resident at the end.
struct Shed<'a> {
    map: &'a [u8],
    decoded: AtomicU64,
}

impl<'a> Shed<'a> {
    fn new(pack: &'a gix_pack::data::File) -> Shed<'a> {
        let map = pack.entry_slice(0..pack.data_len() as u64).unwrap_or(&[]);
        Shed {
            map,
            decoded: AtomicU64::new(0),
        }
    }

    fn decoded(&self, bytes: usize) {
        let before = self.decoded.fetch_add(bytes as u64, Ordering::Relaxed);
        if before / SHED_EVERY != (before + bytes as u64) / SHED_EVERY {
            drop_pages(self.map);
        }
    }
}

#[cfg(target_os = "linux")]
fn drop_pages(map: &[u8]) {
    // SAFETY: `map` is the whole of gix's private, read-only mapping of the pack file (it
    // starts on a page boundary and is never written), so dropping its pages loses nothing:
    // the next read of one maps it again from the file. A refusal changes nothing.
    unsafe {
        libc::madvise(
            map.as_ptr() as *mut libc::c_void,
            map.len(),
            libc::MADV_DONTNEED,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn drop_pages(_: &[u8]) {}

/// The loose objects: `objects/ab/cdef...` files. None when the folder cannot be listed.
fn loose_objects(objects: &Path) -> Option<Vec<Oid>> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(objects).ok()? {
        let dir = dir.ok()?;
        let name = dir.file_name();
        let Some(prefix) = name.to_str().filter(|n| is_hex(n, 2)) else {
            continue;
        };
        for file in std::fs::read_dir(dir.path()).ok()? {
            let file = file.ok()?.file_name();
            let Some(rest) = file.to_str().filter(|n| is_hex(n, 38)) else {
                continue;
            };
            out.extend(Oid::from_str(&format!("{prefix}{rest}")).ok());
        }
    }
    Some(out)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_are_decoded_on_as_many_threads_as_the_budgets_hold_whatever_the_cores() {
        let (small, budget) = (budget::SMALL, budget::BLOBS.capacity());
        let (held, floor) = (budget::HELD.capacity(), budget::HELD.floor());
        assert_eq!(decoding_threads(0, 64, 0), 1);
        assert_eq!(decoding_threads(64, 2, 0), 2, "no more than the cores");
        assert_eq!(decoding_threads(64, 64, floor - 1), 64, "small objects: -j");
        // Objects of 1 MB: as many as the budget of held objects holds, on 64 cores as on 256.
        for cores in [64, 256] {
            let fit = usize::try_from(held / 1_000_000).unwrap();
            assert_eq!(decoding_threads(64, cores, 1_000_000), fit);
            assert_eq!(decoding_threads(2, cores, 1_000_000), 2);
        }
        // Objects of 60 MB: two fit the blob budget, at -j 2 as at -j 64, on 2 cores as on 256.
        for cores in [2, 64, 256] {
            assert_eq!(decoding_threads(2, cores, 60_000_000), 2);
            assert_eq!(decoding_threads(64, cores, 60_000_000), 2);
        }
        assert_eq!(decoding_threads(64, 64, budget + 1), 1);
        assert_eq!(decoding_threads(64, 64, u64::MAX), 1, "sizes unknown");
        for largest in [floor, small, 5 << 20, 33 << 20, 60_000_000, 100 << 20] {
            for j in [2, 8, 64, 256] {
                let t = decoding_threads(j, 256, largest) as u64;
                let fits = t * largest <= budget && t * largest.min(small) <= held;
                assert!(t == 1 || fits, "-j {j}, {largest} bytes: {t}");
            }
        }
    }

    #[test]
    fn large_objects_are_streamed_on_no_more_threads_at_j64_on_64_cores_than_at_j2() {
        assert_eq!(streaming_threads(2, 2, 100), 2);
        assert_eq!(streaming_threads(64, 64, 100), 2);
        assert_eq!(streaming_threads(64, 64, 1), 1, "no more than the objects");
        assert_eq!(streaming_threads(0, 64, 100), 1);
        let fit = streaming_threads(256, 256, 1000) as u64;
        assert!(fit * STREAMING <= budget::HELD.capacity());
    }

    #[test]
    fn whole_blobs_no_delta_is_based_on_are_streamed_and_bases_bound_the_threads() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let sig = git2::Signature::now("a", "a@example.com").unwrap();
        // Three blobs of 2 MB: two alike (one stored as a delta of the other), one unlike.
        let text = |seed: u64| -> Vec<u8> {
            let mut x = seed;
            (0..2_000_000)
                .map(|_| {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    b'a' + (x >> 59) as u8
                })
                .collect()
        };
        let (base, unlike) = (text(1), text(2));
        let mut edited = base.clone();
        edited.extend_from_slice(b"one more line\n");
        let mut root = repo.treebuilder(None).unwrap();
        for (name, data) in [("base", &base), ("edited", &edited), ("unlike", &unlike)] {
            root.insert(name, repo.blob(data).unwrap(), 0o100_644)
                .unwrap();
        }
        let tree = repo.find_tree(root.write().unwrap()).unwrap();
        let id = repo
            .commit(Some("HEAD"), &sig, &sig, "c", &tree, &[])
            .unwrap();
        let mut builder = repo.packbuilder().unwrap();
        builder.insert_commit(id).unwrap();
        let pack_dir = dir.path().join("objects").join("pack");
        builder.write(&pack_dir, 0o644).unwrap();
        let idx = (std::fs::read_dir(&pack_dir).unwrap())
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .unwrap();
        let bundle = gix_pack::Bundle::at(&idx, gix_hash::Kind::Sha1).unwrap();
        let ends = Ends::of(&bundle).unwrap();
        let id_at = |at: usize| {
            Oid::from_bytes(bundle.index.oid_at_index(ends.order[at]).as_bytes()).unwrap()
        };
        let streamed: Vec<Oid> = ends.streamed.iter().map(|&at| id_at(at)).collect();
        assert_eq!(streamed, [repo.blob(&unlike).unwrap()]);
        let deltas = (ends.offsets.iter())
            .filter(|&&o| !bundle.pack.entry(o).unwrap().header.is_base())
            .count();
        assert_eq!(deltas, 1, "one of the alike blobs is a delta");
        // The base, of either size, is decoded (with its delta, whose result no header tells).
        let largest = ends.largest(Pass::Contents);
        assert!((2_000_000..=2_000_014).contains(&largest), "{largest}");
        assert_eq!(ends.largest(Pass::Trees), 0);
        let entries = ends.entries(&bundle, Pass::Contents).unwrap();
        let unlike_at = ends.offsets[ends.streamed[0]];
        assert!(
            entries.iter().all(|e| e.pack_offset != unlike_at),
            "not decoded"
        );
    }

    /// A repository of a few commits that edit the same files (so that the pack holds deltas
    /// of blobs and of trees), packed by libgit2 into one pack; its bundle.
    fn packed() -> (tempfile::TempDir, gix_pack::Bundle) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let sig = git2::Signature::now("a", "a@example.com").unwrap();
        let mut parent: Option<git2::Commit<'_>> = None;
        let mut text = String::new();
        for i in 0..12 {
            text.push_str(&format!(
                "line {i} of a file that grows by one line a commit\n"
            ));
            let blob = repo.blob(text.as_bytes()).unwrap();
            let other = repo.blob(format!("{i}\n{text}").as_bytes()).unwrap();
            let mut sub = repo.treebuilder(None).unwrap();
            sub.insert("inner.txt", other, 0o100_644).unwrap();
            let sub = sub.write().unwrap();
            let mut root = repo.treebuilder(None).unwrap();
            root.insert("file.txt", blob, 0o100_644).unwrap();
            root.insert("dir", sub, 0o040_000).unwrap();
            let tree = repo.find_tree(root.write().unwrap()).unwrap();
            let parents: Vec<_> = parent.iter().collect();
            let id =
                (repo.commit(Some("HEAD"), &sig, &sig, &format!("c{i}"), &tree, &parents)).unwrap();
            parent = Some(repo.find_commit(id).unwrap());
        }
        let mut builder = repo.packbuilder().unwrap();
        builder.insert_commit(parent.unwrap().id()).unwrap();
        let pack_dir = dir.path().join("objects").join("pack");
        builder.write(&pack_dir, 0o644).unwrap();
        let idx = std::fs::read_dir(&pack_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .unwrap();
        (
            dir,
            gix_pack::Bundle::at(&idx, gix_hash::Kind::Sha1).unwrap(),
        )
    }

    /// The kinds and ids `pass` hands on from `bundle`, read by `traverse`.
    fn read(bundle: &gix_pack::Bundle, pass: Pass) -> Vec<(Kind, Oid)> {
        let ends = Ends::of(bundle).unwrap();
        let entries = ends.entries(bundle, pass);
        assert!(entries.is_some(), "every kind told from the headers alone");
        let got = Mutex::new(Vec::new());
        let take = |kind: Kind, _: &[u8], e: &gix_pack::index::Entry| {
            assert!(ends.intact(bundle, e));
            if pass.takes(kind) {
                lock(&got).push((kind, Oid::from_bytes(e.oid.as_bytes()).unwrap()));
            }
        };
        let stop = AtomicBool::new(false);
        let limits = Limits {
            threads: 2,
            alloc: None,
            stop: &stop,
        };
        assert!(traverse(bundle, entries, &take, &limits).is_some());
        let mut got = into_inner(got);
        got.sort_by_key(|(kind, oid)| (*kind as u8, *oid));
        got
    }

    #[test]
    fn each_pass_decodes_its_own_kinds_of_the_pack() {
        let (dir, bundle) = packed();
        let repo = Repository::open_bare(dir.path()).unwrap();
        let odb = repo.odb().unwrap();
        let mut want: Vec<(Kind, Oid)> = Vec::new();
        for e in bundle.index.iter() {
            let oid = Oid::from_bytes(e.oid.as_bytes()).unwrap();
            let kind = match read_header(&odb, oid).unwrap().1 {
                ObjectType::Blob => Kind::Blob,
                ObjectType::Tree => Kind::Tree,
                ObjectType::Commit => Kind::Commit,
                _ => Kind::Tag,
            };
            want.push((kind, oid));
        }
        want.sort_by_key(|(kind, oid)| (*kind as u8, *oid));
        let ends = Ends::of(&bundle).unwrap();
        let deltas = (ends.offsets.iter())
            .filter(|&&o| !bundle.pack.entry(o).unwrap().header.is_base())
            .count();
        assert!(deltas > 0, "the pack holds deltas");
        for pass in [Pass::Contents, Pass::Trees] {
            let expected: Vec<_> = want
                .iter()
                .filter(|(k, _)| pass.takes(*k))
                .copied()
                .collect();
            assert!(!expected.is_empty());
            assert_eq!(read(&bundle, pass), expected);
        }
    }
}
