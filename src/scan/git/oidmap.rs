//! Sets and maps keyed by object id. Ids are already uniform hashes, so their first 8 bytes
//! make the hash: SipHash over every tree entry of a large history was a tenth of the walk.

use git2::Oid;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes an object id by its first 8 bytes.
#[derive(Default)]
pub(super) struct OidHasher(u64);

impl Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        match bytes.first_chunk::<8>() {
            Some(head) => self.0 ^= u64::from_ne_bytes(*head),
            None => {
                for b in bytes {
                    self.0 = self.0.rotate_left(8) ^ u64::from(*b);
                }
            }
        }
    }
}

pub(super) type OidSet = HashSet<Oid, BuildHasherDefault<OidHasher>>;
pub(super) type OidMap<V> = HashMap<Oid, V, BuildHasherDefault<OidHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_hash_apart() {
        let a = Oid::from_str("1111111111111111111111111111111111111111").unwrap();
        let b = Oid::from_str("2222222222222222222222222222222222222222").unwrap();
        let mut set = OidSet::default();
        assert!(set.insert(a) && set.insert(b) && !set.insert(a));
    }
}
