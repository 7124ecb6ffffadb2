//! SQLite's refresh rotations on a thread of their own (issue 16). The one writer connection
//! serialises every rotation; when the task holding it must wait for a busy tokio worker (to be
//! handed the connection, then the script's result), the cores idle while refreshes queue. This
//! thread takes rotations off a queue and runs them back to back on the writer connection, so
//! no rotation waits on the HTTP workers while it holds the write lock.

use tokio::sync::{mpsc, oneshot};

use super::families::{FamilyGeneration, ReuseInterval, RotateRequest};
use super::rotation::SqliteRotation;
use super::StoreError;

/// How many queued rotations run before the connection goes back to the pool, so the other
/// writers (logins, admin writes, the general path) are not starved by a refresh storm.
const RUN_LENGTH: usize = 32;
/// Rotations waiting for the thread; a full queue sends a refresh to the general path.
const QUEUE: usize = 1024;

struct Job {
    request: RotateRequest,
    presented: FamilyGeneration,
    interval: Option<ReuseInterval>,
    roles: Option<String>,
    reply: oneshot::Sender<Result<Option<SqliteRotation>, StoreError>>,
}

/// The handle the store keeps: queues rotations for the thread.
pub(super) struct RotationThread {
    queue: mpsc::Sender<Job>,
}

impl RotationThread {
    /// Starts the thread over the writer pool; `script` opens the transaction and ends with its
    /// read (`rotation::sqlite_rotation_sql`). The thread ends when the store is dropped.
    pub(super) fn start(writer: sqlx::SqlitePool, script: String) -> std::io::Result<Self> {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        std::thread::Builder::new()
            .name("sqlite-rotations".into())
            .spawn(move || runtime.block_on(run(writer, script, jobs)))?;
        Ok(Self { queue })
    }

    /// Runs one rotation of `presented` (the request's shell) on the thread: `None` when the
    /// queue is full or the thread is gone (the caller then takes the general path), else what
    /// the script read.
    pub(super) async fn rotate(
        &self,
        request: &RotateRequest,
        presented: &FamilyGeneration,
        interval: Option<&ReuseInterval>,
        roles: Option<String>,
    ) -> Option<Result<Option<SqliteRotation>, StoreError>> {
        let (reply, answer) = oneshot::channel();
        let job = Job { request: request.clone(), presented: presented.clone(), interval: interval.cloned(), roles, reply };
        self.queue.try_send(job).ok()?;
        answer.await.ok()
    }
}

/// Takes rotations off the queue until the store drops its end, running up to `RUN_LENGTH` of
/// them each time it holds the writer connection.
async fn run(writer: sqlx::SqlitePool, script: String, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut conn = match writer.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                let _ = first.reply.send(Err(e.into()));
                continue;
            }
        };
        let mut next = Some(first);
        let mut ran = 0;
        while let Some(job) = next.take() {
            // a requester that gave up (its timeout, a closed connection) gets nothing written
            if !job.reply.is_closed() {
                let result = rotate_once(&mut conn, &script, &job).await;
                let _ = job.reply.send(result);
            }
            ran += 1;
            if ran < RUN_LENGTH {
                next = jobs.try_recv().ok();
            }
        }
    }
}

/// One rotation: the script up to its read, then `COMMIT` only if the requester still waits
/// (else `ROLLBACK`, so a request dropped midway leaves its token valid, as on the general path).
async fn rotate_once(
    conn: &mut sqlx::pool::PoolConnection<sqlx::Sqlite>,
    script: &str,
    job: &Job,
) -> Result<Option<SqliteRotation>, StoreError> {
    let found: Result<Option<SqliteRotation>, sqlx::Error> =
        super::rotation::bind_rotation!(sqlx::query_as(script), &job.request, &job.presented, job.interval.as_ref(), &job.roles)
            .fetch_optional(&mut **conn)
            .await;
    let end = if found.is_ok() && !job.reply.is_closed() { "COMMIT" } else { "ROLLBACK" };
    // an error is "no transaction is active" when BEGIN itself failed
    let ended = sqlx::query(end).execute(&mut **conn).await;
    let found = found?;
    if end == "COMMIT" {
        ended?;
    }
    Ok(found)
}
