//! Commits over [`LARGE_COMMIT`], and large blobs, scanned as streams, never held whole: a
//! commit's header read up to its blank line for the links, the message or the blob through the
//! scanner in bounded pieces, the object inflated here from its loose file or pack entry
//! (`inflate`) or read from `git cat-file`, by whichever reader met it.

use super::blobs::Done;
use super::inflate::{Objects, Streamed, Unstreamed};
use super::objects::Links;
use crate::finding::Origin;
use crate::scan::BlobOutcome;
use crate::scan::git::Ctx;
use git2::Oid;
use std::io::{BufRead, Read};

/// A blob or commit scanned from a stream: a commit's links with it.
pub(super) type Scanned = (Option<Links>, Done);

pub(crate) use super::objects::LARGE_COMMIT;

/// A commit of `size` bytes read from `r`: its header (the links) read whole, its message
/// scanned from the stream in bounded pieces, as a large blob is. None when the header is not
/// a commit's or the stream fails.
pub(super) fn scan_commit_stream(
    ctx: &Ctx<'_>,
    oid: Oid,
    size: u64,
    r: &mut impl BufRead,
) -> Option<(Links, Done)> {
    let mut body = r.take(size);
    let mut head = Vec::new();
    loop {
        let start = head.len();
        if body.read_until(b'\n', &mut head).ok()? == 0 || head[start..] == *b"\n" {
            break;
        }
    }
    let links = Links::parse(&head)?;
    let mut outcome = BlobOutcome::default();
    let origin = Origin::file(oid.to_string());
    ctx.scanner
        .scan_message_reader(&mut body, &origin, &mut outcome);
    std::io::copy(&mut body, &mut std::io::sink()).ok()?;
    let done = Done {
        oid,
        is_blob: false,
        read: true,
        outcome,
        links: None,
    };
    Some((links, done))
}

/// A blob of `size` bytes read from `r`, scanned as it streams. None when the stream fails.
pub(super) fn scan_blob_stream(
    ctx: &Ctx<'_>,
    oid: Oid,
    size: u64,
    r: &mut impl Read,
) -> Option<Done> {
    let mut outcome = BlobOutcome::default();
    let mut body = r.take(size);
    let origin = Origin::file(oid.to_string());
    ctx.scanner.scan_reader(&mut body, &origin, 0, &mut outcome);
    // What the scanner left unread (it stops at nothing, but a read error might) is skipped.
    std::io::copy(&mut body, &mut std::io::sink()).ok()?;
    outcome.files = 1;
    Some(Done {
        oid,
        is_blob: true,
        read: true,
        outcome,
        links: None,
    })
}

/// Commit `oid` inflated from `store` and scanned as it streams. Err when it cannot be (a
/// delta, an object another store holds, a damaged one): then nothing of it counts, and the
/// caller reads it another way.
pub(super) fn inflated_commit(
    ctx: &Ctx<'_>,
    store: &mut Objects,
    oid: Oid,
) -> Result<(Links, Done), Unstreamed> {
    let s = store.stream(oid)?;
    if s.kind != gix_object::Kind::Commit {
        return Err(Unstreamed::Unreadable);
    }
    match scan_streamed(ctx, oid, s)? {
        (Some(links), done) => Ok((links, done)),
        (None, _) => Err(Unstreamed::Unreadable),
    }
}

/// Blob or commit `oid`, opened as a stream `s`, scanned as it streams; Err as
/// [`inflated_commit`], and for an object of another kind.
pub(super) fn scan_streamed(ctx: &Ctx<'_>, oid: Oid, s: Streamed) -> Result<Scanned, Unstreamed> {
    let mut body = s.body;
    let scanned = match s.kind {
        gix_object::Kind::Commit => {
            scan_commit_stream(ctx, oid, s.size, &mut body).map(|(l, d)| (Some(l), d))
        }
        gix_object::Kind::Blob => scan_blob_stream(ctx, oid, s.size, &mut body).map(|d| (None, d)),
        _ => None,
    };
    match (scanned, body.finish()) {
        (Some(scanned), true) => Ok(scanned),
        _ => Err(Unstreamed::Unreadable),
    }
}
