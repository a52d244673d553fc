//! Names are content: a key in a file or directory name, an archive member's name or a link's
//! target is found and reported like a key in a file, and the name is shown with the key
//! redacted wherever it is printed (paths, members, warnings).

use super::{BlobOutcome, Scanner};
use crate::finding::Origin;
use crate::secret::Secret;

impl Scanner<'_> {
    /// `name` with every key in it redacted. Each key becomes a finding at `origin_of(redacted)`,
    /// its line and column counted in the name.
    pub(super) fn scan_name(
        &self,
        name: &str,
        origin_of: impl FnOnce(&str) -> Origin,
        out: &mut BlobOutcome,
    ) -> String {
        let redacted = self.redact_name(name);
        if redacted == name {
            return redacted;
        }
        let bytes = out.bytes;
        self.scan_in_place(name.as_bytes(), &origin_of(&redacted), out);
        // A name is not content read: the byte count stays that of the files.
        out.bytes = bytes;
        redacted
    }

    /// `name` with every key in it replaced by its redacted form.
    pub(super) fn redact_name(&self, name: &str) -> String {
        let found = self.matcher.find(name.as_bytes());
        if found.keys.is_empty() {
            return name.to_string();
        }
        let bytes = name.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut at = 0;
        for key in &found.keys {
            out.extend_from_slice(&bytes[at..key.start.max(at)]);
            let secret = Secret::new(key.secret.clone(), key.prefix_len);
            out.extend_from_slice(secret.redacted().as_bytes());
            at = at.max(key.end);
        }
        out.extend_from_slice(&bytes[at.min(bytes.len())..]);
        String::from_utf8_lossy(&out).into_owned()
    }
}
