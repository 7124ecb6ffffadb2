//! A few threads below normal scheduling priority for CPU-heavy steps of a request (an RSA
//! signature takes ~0.4 ms). Run on the async workers, such a step makes every thread that wakes
//! meanwhile (the SQLite driver thread, a task holding the one SQLite write connection or a
//! Postgres row lock) wait for a CPU; at nice 10 the kernel runs those first, so locks are held
//! for microseconds instead of milliseconds. Measured in BENCHMARKS.md.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

/// How far below normal the pool's threads run (nice value, 0 = normal, 19 = lowest).
const NICENESS: i32 = 10;

/// Runs `work` on the pool and waits for it without blocking the async worker. Runs it inline
/// when the pool's threads could not be started.
pub async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let Some(pool) = pool() else {
        return Some(work());
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(work());
    });
    // A send fails only when every thread has gone, which `worker` never lets happen.
    pool.send(job).ok()?;
    rx.await.ok()
}

fn pool() -> Option<&'static Sender<Job>> {
    static POOL: OnceLock<Option<Sender<Job>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let mut started = 0;
        for i in 0..threads {
            let rx = rx.clone();
            let spawned =
                std::thread::Builder::new().name(format!("low-priority-{i}")).spawn(move || worker(&rx));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::warn!(error = %e, "cannot start a low-priority thread"),
            }
        }
        (started > 0).then_some(tx)
    })
    .as_ref()
}

fn worker(jobs: &Mutex<Receiver<Job>>) {
    lower_own_priority();
    loop {
        // The guard is dropped before the job runs, so the other threads keep taking jobs.
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        // A panicking job drops its reply channel (its caller gets None); the thread lives on.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

fn lower_own_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority take no pointers; on Linux PRIO_PROCESS with a thread id
    // changes that one thread's nice value. Raising it needs no privilege.
    unsafe {
        let tid = libc::gettid();
        if libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICENESS) != 0 {
            tracing::debug!("cannot lower a low-priority thread's scheduling priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_a_pool_thread_and_its_result_comes_back() {
        let name = run(|| std::thread::current().name().map(str::to_string)).await.flatten();
        assert!(name.is_some_and(|n| n.starts_with("low-priority-")));
    }

    #[tokio::test]
    async fn a_panicking_job_answers_none_and_the_pool_keeps_working() {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        for _ in 0..threads + 1 {
            assert_eq!(run(|| -> u8 { panic!("boom") }).await, None);
        }
        assert_eq!(run(|| 6 * 7).await, Some(42));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn pool_threads_run_below_normal_priority() {
        // SAFETY: getpriority of the calling thread, no pointers.
        let nice =
            run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }).await;
        assert_eq!(nice, Some(NICENESS));
    }
}
