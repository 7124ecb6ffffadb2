//! A bounded memo of the access-token signatures this process has already checked, so a resource
//! server introspecting the same token on every call (or an app calling userinfo with it) costs
//! one signature verification per token, not one per call. Only the cryptographic check is
//! remembered: issuer, type, expiry, not-before, revocation and the session are checked on every
//! call as before (`access::verify`, `token_check`).
//!
//! An entry is the SHA-256 of the verifying key's fingerprint and the token's exact bytes, so it
//! only ever vouches for byte-identical tokens under the identical public key: a key that left
//! the ring (rotated out, deleted) or a re-imported key under the same kid no longer matches, and
//! its tokens are verified afresh (and fail). Entries end with the token's `exp`. The memo is
//! bounded (`SHARDS` x `PER_SHARD` entries of 40 bytes): a full shard first drops what expired,
//! and is emptied when nothing did, so inserting stays amortised O(1) and memory constant.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::UnixTime;

const SHARDS: usize = 16;
const PER_SHARD: usize = 1024;

/// One memo per realm cache (`RealmCache` hands it to every key ring it loads, so it outlives
/// the rings' reloads); a ring loaded on its own gets a fresh one.
#[derive(Default)]
pub struct VerifiedSignatures {
    shards: [Mutex<HashMap<[u8; 32], UnixTime>>; SHARDS],
}

impl VerifiedSignatures {
    /// The memo's key for `token` as verified by the key of `fingerprint`.
    pub fn digest(fingerprint: &[u8; 32], token: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(fingerprint);
        hasher.update(token.as_bytes());
        hasher.finalize().into()
    }

    /// Whether this signature was verified before and its token has not expired at `now`.
    pub fn holds(&self, digest: &[u8; 32], now: UnixTime) -> bool {
        let shard = self.shard(digest).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        shard.get(digest).is_some_and(|&exp| now < exp)
    }

    /// Remembers a verified signature until its token's `exp`.
    pub fn record(&self, digest: [u8; 32], exp: UnixTime, now: UnixTime) {
        if exp <= now {
            return;
        }
        let mut shard = self.shard(&digest).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if shard.len() >= PER_SHARD && !shard.contains_key(&digest) {
            shard.retain(|_, &mut until| now < until);
            if shard.len() >= PER_SHARD {
                shard.clear();
            }
        }
        shard.insert(digest, exp);
    }

    fn shard(&self, digest: &[u8; 32]) -> &Mutex<HashMap<[u8; 32], UnixTime>> {
        &self.shards[usize::from(digest[0]) % SHARDS]
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn a_recorded_signature_holds_until_its_token_expires() {
        let memo = VerifiedSignatures::default();
        let digest = VerifiedSignatures::digest(&KEY, "a.b.c");
        assert!(!memo.holds(&digest, 100));
        memo.record(digest, 160, 100);
        assert!(memo.holds(&digest, 159));
        assert!(!memo.holds(&digest, 160));
    }

    #[test]
    fn another_key_or_other_bytes_are_another_entry() {
        let memo = VerifiedSignatures::default();
        memo.record(VerifiedSignatures::digest(&KEY, "a.b.c"), 160, 100);
        assert!(!memo.holds(&VerifiedSignatures::digest(&[8; 32], "a.b.c"), 100));
        assert!(!memo.holds(&VerifiedSignatures::digest(&KEY, "a.b.d"), 100));
    }

    #[test]
    fn an_expired_token_is_never_recorded() {
        let memo = VerifiedSignatures::default();
        memo.record(VerifiedSignatures::digest(&KEY, "a.b.c"), 100, 100);
        assert_eq!(memo.len(), 0);
    }

    #[test]
    fn the_memo_stays_bounded_under_a_stream_of_distinct_tokens() {
        let memo = VerifiedSignatures::default();
        for i in 0..(SHARDS * PER_SHARD * 3) {
            memo.record(VerifiedSignatures::digest(&KEY, &i.to_string()), 1_000, 100);
            assert!(memo.len() <= SHARDS * PER_SHARD);
        }
        // the newest one is always kept
        assert!(memo.holds(&VerifiedSignatures::digest(&KEY, &(SHARDS * PER_SHARD * 3 - 1).to_string()), 100));
    }

    #[test]
    fn a_full_shard_drops_expired_entries_before_live_ones() {
        let memo = VerifiedSignatures::default();
        let live = VerifiedSignatures::digest(&KEY, "live");
        memo.record(live, 10_000, 100);
        let shard = live[0];
        let mut filled = 1;
        let mut i = 0u64;
        while filled < PER_SHARD {
            let d = VerifiedSignatures::digest(&KEY, &i.to_string());
            if d[0] % SHARDS as u8 == shard % SHARDS as u8 {
                memo.record(d, 150, 100);
                filled += 1;
            }
            i += 1;
        }
        // at 200 the short-lived ones expired: inserting one more keeps the long-lived entry
        loop {
            let d = VerifiedSignatures::digest(&KEY, &i.to_string());
            i += 1;
            if d[0] % SHARDS as u8 == shard % SHARDS as u8 {
                memo.record(d, 10_000, 200);
                break;
            }
        }
        assert!(memo.holds(&live, 200));
    }
}
