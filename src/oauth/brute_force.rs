//! Keycloak's brute-force detection as a pure function: after `failureFactor` failures the
//! account waits `waitIncrementSeconds` times the number of lockouts (at most
//! `maxFailureWaitSeconds`), or is locked for good with `permanentLockout`; two failures closer
//! than `quickLoginCheckMilliSeconds` wait `minimumQuickLoginWaitSeconds`; failures older than
//! `maxDeltaTimeSeconds` are forgotten.

use crate::clock::UnixTime;
use crate::domain::RealmSettings;
use crate::store::LoginFailureRecord;

pub fn record_failure(settings: &RealmSettings, previous: &LoginFailureRecord, now: UnixTime) -> LoginFailureRecord {
    let stale = previous.failures > 0 && now - previous.last_failure_at > settings.max_delta_time_seconds;
    let failures = if stale { 1 } else { previous.failures + 1 };
    let mut next = LoginFailureRecord { failures, last_failure_at: now, locked_until: None, locked_forever: false };
    let quick = previous.failures > 0
        && !stale
        && (now - previous.last_failure_at).saturating_mul(1000) < settings.quick_login_check_milli_seconds;
    if quick {
        next.locked_until = Some(now + settings.minimum_quick_login_wait_seconds);
    }
    let factor = settings.failure_factor.max(1);
    if failures % factor == 0 {
        if settings.permanent_lockout {
            next.locked_forever = true;
        } else {
            let wait = (settings.wait_increment_seconds * (failures / factor)).min(settings.max_failure_wait_seconds);
            next.locked_until = Some(next.locked_until.unwrap_or(now).max(now + wait));
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RealmSettings {
        RealmSettings { brute_force_protected: true, failure_factor: 3, ..RealmSettings::default() }
    }

    fn fail_n(s: &RealmSettings, n: i64, every: i64) -> LoginFailureRecord {
        (0..n).fold(LoginFailureRecord::default(), |state, i| record_failure(s, &state, 1000 + i * every))
    }

    #[test]
    fn the_factor_th_failure_locks_for_the_wait_increment() {
        let s = settings();
        assert_eq!(fail_n(&s, 2, 10).locked_until, None);
        let locked = fail_n(&s, 3, 10);
        assert_eq!(locked.locked_until, Some(1020 + 60));
        assert_eq!(fail_n(&s, 6, 10).locked_until, Some(1050 + 120), "waits grow with each lockout");
    }

    #[test]
    fn quick_successive_failures_wait_the_minimum() {
        let s = RealmSettings { quick_login_check_milli_seconds: 5000, ..settings() };
        assert_eq!(fail_n(&s, 2, 1).locked_until, Some(1001 + 60));
    }

    #[test]
    fn permanent_lockout_locks_for_good_and_old_failures_are_forgotten() {
        let s = RealmSettings { permanent_lockout: true, ..settings() };
        assert!(fail_n(&s, 3, 10).locked_forever);
        let s = settings();
        let old = fail_n(&s, 2, 10);
        assert_eq!(record_failure(&s, &old, 1010 + s.max_delta_time_seconds + 1).failures, 1);
    }
}
