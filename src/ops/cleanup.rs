//! Background deletion of expired rows in bounded batches. Correctness never depends on it
//! (liveness is computed at read time, DESIGN.md §3); it only keeps tables small.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::store::Store;

/// Runs one pass: deletes keys no longer published. Returns how many rows went.
pub async fn run_once(store: &dyn Store, clock: &dyn Clock) -> u64 {
    let now = clock.now();
    match store.delete_expired_keys(now).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cleanup of expired keys failed; will retry");
            0
        }
    }
}

/// Spawns the periodic task; it stops when the runtime shuts down.
pub fn spawn(store: Arc<dyn Store>, clock: Arc<dyn Clock>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let deleted = run_once(store.as_ref(), clock.as_ref()).await;
            if deleted > 0 {
                tracing::info!(deleted, "cleanup removed expired rows");
            }
        }
    })
}
