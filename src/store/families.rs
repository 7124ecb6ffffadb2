//! Refresh-token families (DESIGN.md §2): their rotation, revocation and lookup, as a contract
//! both backends meet. A family holds constant state whatever its number of refreshes: its
//! current generation, the hash of its newest token, the reuse count, the sealed successor for
//! the reuse interval. A presented shell names its family and generation under the realm's HMAC,
//! so an older generation is recognised as reuse without any row of its own. Sessions themselves
//! are `sessions`; the SQL is `families_sql.rs` and, for the refresh hot path, `rotation`.

use async_trait::async_trait;

use super::sessions::{ClientSessionRecord, TokenHash, UserSessionRecord};
use super::StoreError;
use crate::clock::UnixTime;
use crate::domain::User;
pub use crate::session::TimeoutTable;

/// The generation shells are minted with when their family starts.
pub const FIRST_GENERATION: i64 = 1;

/// A verified refresh shell as the store sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PresentedToken {
    /// SHA-256 of the shell's jti.
    pub hash: TokenHash,
    /// The family and generation the shell names. `None` for shells minted before families held
    /// constant state (migration 0011 on Postgres, 0010 on SQLite): those are found by `hash`
    /// among the rows frozen at the upgrade until their family rotates once.
    pub generation: Option<FamilyGeneration>,
}

impl PresentedToken {
    /// A shell minted before the upgrade, known by its jti hash only.
    pub fn legacy(hash: TokenHash) -> Self {
        Self { hash, generation: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyGeneration {
    pub family_id: String,
    pub generation: i64,
}

/// A refresh request as the store sees it.
#[derive(Debug, Clone)]
pub struct RotateRequest {
    pub realm_id: String,
    /// The authenticated client's internal id: a token of another client is `Unknown`.
    pub client_id: String,
    pub presented: PresentedToken,
    /// The hash of the successor's jti.
    pub successor: TokenHash,
    pub now: UnixTime,
    /// `revokeRefreshToken`: consume the presented token. When false it stays valid.
    pub rotate: bool,
    /// `refreshTokenMaxReuse`: a generation may be presented this many times beyond its first use.
    pub max_reuse: i64,
    /// With `Some`, the user must be mapped directly to one of these role ids (an offline
    /// grant: the roles that grant `offline_access`); otherwise `NotPermitted`, nothing written.
    pub requires_any_role: Option<Vec<String>>,
    /// The realm's session timeouts: the store decides with them, inside its transaction or
    /// statement, whether the session is alive and its new upper bound
    /// (`TimeoutTable::refresh`), so the decision and the write cannot be separated.
    pub timeouts: TimeoutTable,
}

impl RotateRequest {
    /// Whether a user mapped to `role_ids` may have this rotation.
    pub fn permits(&self, role_ids: &[String]) -> bool {
        match &self.requires_any_role {
            None => true,
            Some(required) => role_ids.iter().any(|r| required.contains(r)),
        }
    }
}

/// Lost-response recovery for one rotation (realm setting `refreshTokenReuseIntervalSeconds`).
#[derive(Debug, Clone)]
pub struct ReuseInterval {
    /// How long after its rotation a consumed token may come back for the same successor.
    pub seconds: i64,
    /// The successor's jti sealed under the master key (bound to the presented token's hash):
    /// kept on the family row until `now + seconds`, as the only way to hand the same
    /// successor out again, since the store otherwise knows it by hash alone.
    pub successor_sealed: Vec<u8>,
}

/// A consumed token came back within the reuse interval, and the successor its rotation
/// recorded is still unused: the grant re-issues that successor. Nothing was written.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayedGrant {
    /// `grant.generation` is the successor's generation.
    pub grant: RotatedGrant,
    pub successor_hash: TokenHash,
    /// As `ReuseInterval::successor_sealed` stored it.
    pub successor_sealed: Vec<u8>,
    /// When the successor was issued: its `iat`, and the time its `exp` was computed at.
    pub successor_issued_at: UnixTime,
}

/// What a rotation found, decided and did.
#[derive(Debug, Clone, PartialEq)]
pub enum RotateOutcome {
    /// The presented token was consumed (when rotating) and its successor's generation
    /// recorded, the session's last access moved to `now`.
    Rotated(Box<RotatedGrant>),
    /// No such token for this client in this realm (never issued, or its session is gone).
    Unknown,
    /// The family was revoked before this request.
    FamilyRevoked,
    /// The token was presented more often than allowed: its family is now revoked.
    ReuseDetected { family_id: String },
    /// The session is past its idle or max deadline, or the user is disabled.
    SessionInactive,
    /// Lost-response recovery: see `ReplayedGrant`.
    Replayed(Box<ReplayedGrant>),
    /// The user no longer holds a role the grant needs (`requires_any_role`): nothing was written.
    NotPermitted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RotatedGrant {
    pub session: UserSessionRecord,
    pub client_session: ClientSessionRecord,
    pub family_id: String,
    /// The generation the successor shell must carry. 0 only for a replayed successor that was
    /// itself minted before the upgrade: it is re-issued in its old form, without family claims.
    pub generation: i64,
    pub scope: String,
    pub user: User,
    pub role_ids: Vec<String>,
}

/// The session a refresh token belongs to, and whether its user is enabled.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTokenSession {
    pub session: UserSessionRecord,
    pub user_enabled: bool,
}

/// Where a presented generation `p` stands against its family's current generation `g`, reuse
/// count `reuse` and the realm's rules: the one decision both backends' SQL also encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerationCheck {
    /// `p == g` while rotating: the first use; the family moves to `g + 1`.
    Advance,
    /// `p == g - 1` and the generation may still be presented again (`refreshTokenMaxReuse`).
    ExtraUse,
    /// Not rotating: any generation up to `g` stays valid; the successor carries `g`.
    Keep,
    /// `p == g - 1` used up: a replay if the reuse interval allows it, else a reuse.
    Previous,
    /// An older generation: a reuse.
    Older,
    /// A generation the family never reached: not a token of this family.
    Ahead,
}

impl GenerationCheck {
    pub fn of(presented: i64, current: i64, reuse: i64, rotate: bool, max_reuse: i64) -> Self {
        if presented > current {
            Self::Ahead
        } else if !rotate {
            Self::Keep
        } else if presented == current {
            Self::Advance
        } else if presented == current - 1 && reuse < max_reuse {
            Self::ExtraUse
        } else if presented == current - 1 {
            Self::Previous
        } else {
            Self::Older
        }
    }

    /// Whether a token at this position is live for introspection and logout.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Advance | Self::ExtraUse | Self::Keep)
    }
}

#[async_trait]
pub trait FamilyStore {
    /// Rotates a refresh token (see `RotateRequest` and `RotateOutcome`). Serialises with
    /// revocation, logout and session deletion of the same session: once those commit, no
    /// successor is recorded. Of concurrent rotations of one generation, exactly
    /// `max_reuse + 1` succeed (when rotating). A generation older than the current one (by
    /// more than `max_reuse` uses) is a reuse and revokes the family. Writes no row per
    /// refresh: the family row and both sessions are updated in place.
    async fn rotate_refresh_token(&self, request: &RotateRequest) -> Result<RotateOutcome, StoreError> {
        self.rotate_refresh_token_within(request, None).await
    }

    /// `rotate_refresh_token` with lost-response recovery. With `interval`, a rotation also
    /// records the successor's sealed jti on the family row. A token that would be a reuse is
    /// instead `Replayed` when, under the same lock: it is the generation just before the
    /// current one, the family recorded a sealed successor less than `interval.seconds` ago,
    /// that successor is still unused (the family has not moved on), the family is not revoked
    /// and the session is alive. Otherwise the rules of `rotate_refresh_token` apply unchanged
    /// (a reuse revokes the family). Without `interval` nothing is recorded or replayed.
    async fn rotate_refresh_token_within(
        &self,
        request: &RotateRequest,
        interval: Option<&ReuseInterval>,
    ) -> Result<RotateOutcome, StoreError>;

    /// Revokes the family holding this token (RFC 7009), whatever its generation. Offline
    /// families end their offline session. Returns false when the token is unknown or belongs
    /// to another client.
    async fn revoke_refresh_family(
        &self,
        realm_id: &str,
        client_id: &str,
        token: &PresentedToken,
        now: UnixTime,
    ) -> Result<bool, StoreError>;

    /// The session a refresh token belongs to, when the token's family is not revoked. With
    /// `max_reuse` (a realm that rotates), only while its generation may still be used: a token
    /// rotated away is no longer live (its next use would revoke the family). Without, any
    /// generation the family reached.
    async fn session_of_refresh_token(
        &self,
        token: &PresentedToken,
        max_reuse: Option<i64>,
    ) -> Result<Option<RefreshTokenSession>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::GenerationCheck::{self, *};

    fn of(presented: i64, current: i64, reuse: i64, rotate: bool, max_reuse: i64) -> GenerationCheck {
        GenerationCheck::of(presented, current, reuse, rotate, max_reuse)
    }

    #[test]
    fn the_current_generation_advances_and_the_one_before_is_a_reuse_by_default() {
        assert_eq!(of(4, 4, 0, true, 0), Advance);
        assert_eq!(of(3, 4, 0, true, 0), Previous);
        assert_eq!(of(2, 4, 0, true, 0), Older);
        assert_eq!(of(5, 4, 0, true, 0), Ahead);
    }

    #[test]
    fn refresh_token_max_reuse_allows_that_many_further_uses_of_the_generation_before() {
        assert_eq!(of(3, 4, 0, true, 2), ExtraUse);
        assert_eq!(of(3, 4, 1, true, 2), ExtraUse);
        assert_eq!(of(3, 4, 2, true, 2), Previous);
        assert_eq!(of(2, 4, 0, true, 2), Older, "only the generation just before");
    }

    #[test]
    fn without_rotation_every_generation_reached_stays_live() {
        assert_eq!(of(1, 4, 9, false, 0), Keep);
        assert_eq!(of(-1, 0, 0, false, 0), Keep, "a consumed pre-upgrade token too, as before");
        assert_eq!(of(5, 4, 0, false, 0), Ahead);
        assert!(Keep.is_live() && Advance.is_live() && ExtraUse.is_live());
        assert!(!Previous.is_live() && !Older.is_live() && !Ahead.is_live());
    }
}
