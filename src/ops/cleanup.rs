//! Background deletion of expired rows in bounded batches. Correctness never depends on it
//! (liveness is computed at read time, DESIGN.md §3); it only keeps tables small, as Hydra's
//! ever-growing token tables showed is needed.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::store::Store;

/// Rows deleted per statement: bounded so a backlog never holds long locks.
pub const BATCH: i64 = 1000;

/// How long one pass may keep deleting batches while they come back full. One batch per pass
/// (as before) cleared 1,000 sessions per `cleanup-interval` (300 s by default): slower than a
/// busy server's sessions expire, so the backlog grew without end; measured in BENCHMARKS.md.
pub const PASS_BUDGET: Duration = Duration::from_secs(10);

/// Seconds an expired device authorization is kept, so its device is told it expired.
pub const DEVICE_GRANT_GRACE: i64 = 600;

/// Deletes batch after batch with `delete` while they come back full and the pass has budget
/// left; how many rows went. A failure is logged and retried at the next pass.
async fn drain<F, Fut>(what: &str, started: tokio::time::Instant, mut delete: F) -> u64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, crate::store::StoreError>>,
{
    let mut deleted = 0;
    loop {
        match delete().await {
            Ok(n) => {
                deleted += n;
                if n < BATCH as u64 || started.elapsed() >= PASS_BUDGET {
                    return deleted;
                }
                // short statements with gaps between them: requests get the database in turn
                tokio::task::yield_now().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cleanup of {what} failed; will retry");
                return deleted;
            }
        }
    }
}

/// Runs one pass: expired sessions (with their tokens), used codes, revoked-token records,
/// events older than the retention, used action tokens past their expiry, device authorizations
/// past `DEVICE_GRANT_GRACE`, and keys no longer published, batch after batch until a
/// batch is not full or `PASS_BUDGET` is spent. Returns how many rows went.
pub async fn run_once(store: &dyn Store, clock: &dyn Clock, event_retention: i64) -> u64 {
    let now = clock.now();
    let started = tokio::time::Instant::now();
    let mut deleted = drain("expired sessions", started, || store.delete_expired(now, now - event_retention, BATCH)).await;
    // used action tokens past their expiry (issue 17): the token's own signature check refuses
    // them by then, so the record is no longer needed
    deleted += drain("used action tokens", started, || store.delete_expired_action_tokens(now, BATCH)).await;
    // device authorizations (issue 19) a while after their expiry: until then a late poll
    // still learns `expired_token` rather than `invalid_grant`
    let device_cutoff = now - DEVICE_GRANT_GRACE;
    deleted += drain("device authorizations", started, || store.delete_expired_device_grants(device_cutoff, BATCH)).await;
    match store.delete_expired_keys(now).await {
        Ok(n) => deleted += n,
        Err(e) => tracing::warn!(error = %e, "cleanup of expired keys failed; will retry"),
    }
    deleted
}

/// Spawns the periodic task; it stops when aborted or the runtime shuts down.
pub fn spawn(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    every: Duration,
    event_retention: i64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let deleted = run_once(store.as_ref(), clock.as_ref(), event_retention).await;
            if deleted > 0 {
                tracing::info!(deleted, "cleanup removed expired rows");
            }
        }
    })
}
