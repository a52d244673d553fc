//! The whole history read from the object store in-process: gitoxide's pack traversal decodes
//! every object of each pack once (each delta from its decoded base, on every core) with no
//! `git` child and no pipe, and loose objects come through libgit2. Two passes over the objects:
//! blobs and commits first, scanned on the thread that decoded them; then the trees, into the
//! graph, which by then knows which blobs had findings. Used for repositories whose objects are
//! all in their own packs and loose files (no alternates) and fit `--max-blob-size`; otherwise
//! `catfile` streams them through `git cat-file`.

use super::graph::Graph;
use super::source::{Contents, ObjectSource};
use crate::scan::git::Ctx;
use crate::scan::git::blobs::{blob_done, message_done};
use crate::scan::git::objects::{Links, message, read_header};
use crate::scan::git::oidmap::OidHasher;
use git2::{ObjectType, Oid, Repository};
use gix_object::Kind;
use gix_pack::index::traverse::{Algorithm, Options, SafetyCheck};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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
    (!unreadable.into_inner()).then(|| into_inner(contents))
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
        let ends = packs.iter().map(Ends::of).collect::<Option<_>>()?;
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
    /// loose objects. None when an object cannot be decoded or is larger than
    /// `--max-blob-size`.
    fn each(&self, ctx: &Ctx<'_>, repo: &Repository, pass: Pass, f: Each<'_>) -> Option<()> {
        let stop = AtomicBool::new(false);
        for (i, (bundle, ends)) in self.packs.iter().zip(&self.ends).enumerate() {
            let shed = Shed::new(&bundle.pack);
            let processor = |kind: Kind,
                             data: &[u8],
                             entry: &gix_pack::index::Entry,
                             _: &dyn gix_utils::progress::Progress|
             -> gix_error::Result<()> {
                if !ends.intact(bundle, entry) {
                    stop.store(true, Ordering::Relaxed);
                    return Ok(());
                }
                let id = entry.oid.as_bytes();
                // With one pack, every object in it is its first.
                let first = self.packs.len() == 1 || self.pack_of(id) == Some(i as u32);
                if let (true, true, Ok(oid)) = (pass.takes(kind), first, Oid::from_bytes(id)) {
                    f(kind, oid, data);
                }
                shed.decoded(data.len());
                Ok(())
            };
            let options = Options {
                traversal: Algorithm::DeltaTreeLookup,
                thread_limit: Some(decoding_threads(ctx.opts.threads)),
                // Hashing every object again would double the time; each entry's CRC-32 is
                // checked against the index instead (`Ends::intact`).
                check: SafetyCheck::SkipFileAndObjectChecksumVerification,
                alloc_limit_bytes: usize::try_from(ctx.opts.max_blob_size).ok(),
                make_pack_lookup_cache: || gix_pack::cache::Never,
            };
            let mut progress = gix_utils::progress::Discard;
            (bundle.index)
                .traverse(&bundle.pack, &mut progress, &stop, processor, options)
                .ok()?;
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
            if size > ctx.opts.max_blob_size {
                return None;
            }
            let kind = match kind {
                ObjectType::Blob => Kind::Blob,
                ObjectType::Tree => Kind::Tree,
                ObjectType::Commit => Kind::Commit,
                _ => continue,
            };
            if pass.takes(kind) {
                f(kind, *oid, odb.read(*oid).ok()?.data());
            }
        }
        Some(())
    }
}

/// How many threads decode a pack: `-j`, but no more than the cores. Each holds the objects
/// of the delta chain it is decoding, whole, however large: threads beyond the cores make no
/// decoding faster and only multiply those (six 21 MB blobs with deltas: 152 MB at `-j 2`,
/// 291 MB at `-j 64` on two cores before this bound).
fn decoding_threads(threads: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    threads.clamp(1, cores)
}

/// Where each entry of a pack ends, to check its bytes against the CRC-32 the index keeps for
/// it: gix inflates an entry up to its stated size without checking what zlib would, and a
/// damaged pack must not be scanned as if it were whole.
struct Ends {
    offsets: Vec<u64>,
    end: u64,
}

impl Ends {
    /// None for a version 1 index, which keeps no CRC-32s.
    fn of(bundle: &gix_pack::Bundle) -> Option<Ends> {
        if bundle.index.version() == gix_pack::index::Version::V1 {
            return None;
        }
        let mut offsets: Vec<u64> = bundle.index.iter().map(|e| e.pack_offset).collect();
        offsets.sort_unstable();
        let end = bundle.pack.pack_end() as u64;
        Some(Ends { offsets, end })
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
    use super::decoding_threads;

    #[test]
    fn packs_are_decoded_on_at_most_the_cores() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        assert_eq!(decoding_threads(0), 1);
        assert_eq!(decoding_threads(1), 1);
        assert_eq!(decoding_threads(256), cores);
        assert_eq!(decoding_threads(cores), cores);
    }
}
