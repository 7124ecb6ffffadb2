//! Session liveness and token deadlines as pure functions of the realm settings, the session's
//! timestamps and `now` (DESIGN.md §3). Nothing here reads a clock or a database, so every
//! timeout rule is tested by passing times in.

use crate::clock::UnixTime;
use crate::domain::RealmSettings;
use crate::store::{ClientSessionRecord, UserSessionRecord};

/// The idle and max timeouts (seconds; `None` = no limit) that apply to one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub idle: i64,
    pub max: Option<i64>,
}

/// Keycloak's rule: remember-me sessions use the remember-me variants when they are set (> 0).
pub fn sso_timeouts(settings: &RealmSettings, remember_me: bool) -> Timeouts {
    let pick = |remember: i64, normal: i64| if remember_me && remember > 0 { remember } else { normal };
    Timeouts {
        idle: pick(settings.sso_session_idle_timeout_remember_me, settings.sso_session_idle_timeout),
        max: Some(pick(settings.sso_session_max_lifespan_remember_me, settings.sso_session_max_lifespan)),
    }
}

pub fn offline_timeouts(settings: &RealmSettings) -> Timeouts {
    Timeouts {
        idle: settings.offline_session_idle_timeout,
        max: settings.offline_session_max_lifespan_enabled.then_some(settings.offline_session_max_lifespan),
    }
}

/// The timeouts of a user session (online or offline).
pub fn session_timeouts(settings: &RealmSettings, session: &UserSessionRecord) -> Timeouts {
    if session.offline {
        offline_timeouts(settings)
    } else {
        sso_timeouts(settings, session.remember_me)
    }
}

/// Client-session timeouts narrow the user session's when set (> 0); 0 inherits (Keycloak).
fn client_timeouts(settings: &RealmSettings, offline: bool) -> (i64, i64) {
    if offline {
        (settings.client_offline_session_idle_timeout, settings.client_offline_session_max_lifespan)
    } else {
        (settings.client_session_idle_timeout, settings.client_session_max_lifespan)
    }
}

/// A realm's session timeouts as plain data (`None`: no limit): the one statement of the rules
/// below, which the store also mirrors in SQL to decide a refresh in one round trip (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutTable {
    /// (idle, max) of an online session without and with remember-me, and of an offline one.
    pub sso: (i64, Option<i64>),
    pub sso_remember_me: (i64, Option<i64>),
    pub offline: (i64, Option<i64>),
    /// (idle, max) of the client session, online and offline; they narrow the session's.
    pub client: (Option<i64>, Option<i64>),
    pub client_offline: (Option<i64>, Option<i64>),
}

impl TimeoutTable {
    /// Client-session timeouts of 0 inherit (Keycloak).
    pub fn of(settings: &RealmSettings) -> Self {
        let pair = |t: Timeouts| (t.idle, t.max);
        let narrowing = |(idle, max): (i64, i64)| ((idle > 0).then_some(idle), (max > 0).then_some(max));
        Self {
            sso: pair(sso_timeouts(settings, false)),
            sso_remember_me: pair(sso_timeouts(settings, true)),
            offline: pair(offline_timeouts(settings)),
            client: narrowing(client_timeouts(settings, false)),
            client_offline: narrowing(client_timeouts(settings, true)),
        }
    }

    /// When the session stops being alive if nothing touches it again: the earliest of the idle
    /// deadline, the max deadline, and the client session's own deadlines. `touched_at` computes
    /// it as if both were accessed at that time (what a refresh is about to record).
    pub fn deadline(
        &self,
        session: &UserSessionRecord,
        client_session: Option<&ClientSessionRecord>,
        touched_at: Option<UnixTime>,
    ) -> UnixTime {
        let (idle, max) = match (session.offline, session.remember_me) {
            (true, _) => self.offline,
            (false, true) => self.sso_remember_me,
            (false, false) => self.sso,
        };
        let mut at = touched_at.unwrap_or(session.last_access_at).saturating_add(idle);
        if let Some(max) = max {
            at = at.min(session.started_at.saturating_add(max));
        }
        if let Some(cs) = client_session {
            let (idle, max) = if session.offline { self.client_offline } else { self.client };
            if let Some(idle) = idle {
                at = at.min(touched_at.unwrap_or(cs.last_access_at).saturating_add(idle));
            }
            if let Some(max) = max {
                at = at.min(cs.started_at.saturating_add(max));
            }
        }
        at
    }

    /// What a refresh at `now` decides: `None` when the session (or its client session) is no
    /// longer alive, else the session's new upper bound once its last access moves to `now`.
    pub fn refresh(&self, session: &UserSessionRecord, client_session: &ClientSessionRecord, now: UnixTime) -> Option<UnixTime> {
        (now < self.deadline(session, Some(client_session), None)).then(|| self.deadline(session, None, Some(now)))
    }
}

/// `TimeoutTable::deadline` under the realm's settings.
pub fn deadline(
    settings: &RealmSettings,
    session: &UserSessionRecord,
    client_session: Option<&ClientSessionRecord>,
    touched_at: Option<UnixTime>,
) -> UnixTime {
    TimeoutTable::of(settings).deadline(session, client_session, touched_at)
}

/// Whether the session is alive at `now` given its recorded last access.
pub fn is_alive(
    settings: &RealmSettings,
    session: &UserSessionRecord,
    client_session: Option<&ClientSessionRecord>,
    now: UnixTime,
) -> bool {
    now < deadline(settings, session, client_session, None)
}

/// The rules of `deadline` as data, for the store's refresh (`RotateRequest::timeouts`).
pub fn timeout_table(settings: &RealmSettings) -> TimeoutTable {
    TimeoutTable::of(settings)
}

/// Seconds until a refresh token issued at `now` expires: 0 means "no expiry" for offline tokens
/// without a max lifespan, as Keycloak reports `refresh_expires_in`.
pub fn refresh_expires_in(deadline: UnixTime, now: UnixTime) -> i64 {
    (deadline - now).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(started: i64, last: i64, offline: bool, remember_me: bool) -> UserSessionRecord {
        UserSessionRecord {
            id: "s".into(),
            realm_id: "r".into(),
            user_id: "u".into(),
            offline,
            started_at: started,
            last_access_at: last,
            auth_time: started,
            remember_me,
            ip: None,
            user_agent: None,
            expires_at: 0,
            browser_session_id: None,
        }
    }

    #[test]
    fn an_idle_session_dies_at_its_idle_deadline() {
        let s = RealmSettings::default(); // idle 1800, max 36000
        let live = session(0, 1000, false, false);
        assert!(is_alive(&s, &live, None, 2799));
        assert!(!is_alive(&s, &live, None, 2800));
    }

    #[test]
    fn a_busy_session_still_dies_at_its_max_lifespan() {
        let s = RealmSettings::default();
        let busy = session(0, 35_999, false, false);
        assert!(is_alive(&s, &busy, None, 35_999));
        assert!(!is_alive(&s, &busy, None, 36_000));
        assert_eq!(deadline(&s, &busy, None, Some(35_999)), 36_000);
    }

    #[test]
    fn remember_me_uses_its_own_timeouts_when_set() {
        let mut s = RealmSettings::default();
        s.sso_session_idle_timeout_remember_me = 86_400;
        let remembered = session(0, 0, false, true);
        assert!(is_alive(&s, &remembered, None, 10_000));
        assert!(!is_alive(&s, &session(0, 0, false, false), None, 10_000));
    }

    #[test]
    fn client_session_timeouts_narrow_and_zero_inherits() {
        let mut s = RealmSettings::default();
        let us = session(0, 0, false, false);
        let cs = ClientSessionRecord {
            id: "c".into(),
            user_session_id: "s".into(),
            client_id: "x".into(),
            started_at: 0,
            last_access_at: 0,
        };
        assert_eq!(deadline(&s, &us, Some(&cs), None), 1800);
        s.client_session_idle_timeout = 600;
        assert_eq!(deadline(&s, &us, Some(&cs), None), 600);
    }

    #[test]
    fn offline_sessions_have_no_max_unless_enabled() {
        let mut s = RealmSettings::default();
        let off = session(0, 5_000_000, true, false);
        assert!(is_alive(&s, &off, None, 5_000_001));
        s.offline_session_max_lifespan_enabled = true;
        assert!(!is_alive(&s, &off, None, 5_184_000));
    }
}
