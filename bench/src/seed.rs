//! Scale runs (issue 16 item 4): `--seed-sessions N` fills the Postgres store of a spawned
//! server with N sessions of the generated realm through the real schema, as logins leave them
//! (a user session, its client session for the bench client, one refresh-token family), in bulk
//! with `generate_series` in one `psql` call, so refresh throughput and latency can be measured
//! among N live sessions, and the database's bytes per session read from Postgres. Ids have the
//! server's shape (time-ordered UUID strings, `domain::new_session_id`) and each session a desktop
//! browser's user agent, inserted in the order they were made, so the bytes are those real
//! logins leave. With
//! `--seed-expired` the seeded sessions are already expired, for the cleanup run: the server's
//! cleanup task (`PORTCULLIS_CLEANUP_INTERVAL`) deletes them while the load runs.

use std::process::Command;
use std::time::Instant;

use anyhow::Context;

use crate::server::{CLIENT_ID, REALM};

/// The address seeded sessions come from (TEST-NET-2, RFC 5737), which also tells them apart.
const SEED_IP: &str = "198.51.100.7";
/// A desktop Chrome's user agent (101 bytes), as a browser login stores it.
const SEED_USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// What seeding did and what the tables then weigh.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Seeded {
    pub sessions: u64,
    pub expired: bool,
    pub seconds: f64,
    /// `pg_total_relation_size` of the session and family tables (indexes and TOAST included).
    pub bytes: u64,
}

impl Seeded {
    pub fn bytes_per_session(&self) -> f64 {
        self.bytes as f64 / self.sessions.max(1) as f64
    }
}

fn psql(db_url: &str, sql: &str) -> anyhow::Result<String> {
    let output = Command::new("psql")
        .arg(db_url)
        .args(["-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
        .output()
        .context("running psql (the seed needs Postgres' client)")?;
    anyhow::ensure!(output.status.success(), "psql: {}", String::from_utf8_lossy(&output.stderr));
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Inserts `n` sessions in batches of a million rows (one transaction each), then analyzes the
/// tables so the planner sees their size.
pub fn seed_sessions(db_url: &str, n: u64, expired: bool, now: i64) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    // live: last access now, deadline in ten hours; expired: both an hour ago and more
    let (access, expires) = if expired { (now - 7_200, now - 3_600) } else { (now, now + 36_000) };
    const BATCH: u64 = 1_000_000;
    // ids' time part: one millisecond per session, ending now, as if they logged in in turn; the
    // rest (the random part of a server-made id) is the kind of row (1, 2, 3) and `g`, which keeps
    // them unique and costs less than a hash per id
    let first_ms = now * 1_000 - n as i64;
    let mut done = 0;
    while done < n {
        let (from, to) = (done + 1, (done + BATCH).min(n));
        psql(db_url, &format!(
            "BEGIN; \
             CREATE FUNCTION pg_temp.seed_id(kind INT, g BIGINT) RETURNS TEXT LANGUAGE SQL IMMUTABLE AS $$ \
               SELECT substr(t, 1, 8) || '-' || substr(t, 9, 4) || '-7' || substr(r, 1, 3) || '-8' || substr(r, 4, 3) \
                      || '-' || substr(r, 7, 12) \
               FROM (SELECT lpad(to_hex({first_ms} + g), 12, '0') AS t, lpad(to_hex(kind), 4, '0') || lpad(to_hex(g), 14, '0') AS r) x $$; \
             CREATE TEMP TABLE seed_users ON COMMIT DROP AS \
               SELECT u.id, u.realm_id, (row_number() OVER (ORDER BY u.id)) - 1 AS n FROM users u \
               JOIN realms r ON r.id = u.realm_id WHERE r.name = '{REALM}' AND u.service_account_client_id IS NULL; \
             INSERT INTO user_sessions (id, realm_id, user_id, offline, started_at, last_access_at, auth_time, remember_me, \
               ip, user_agent, expires_at, cleanup_after) \
               SELECT pg_temp.seed_id(1, g), u.realm_id, u.id, false, {access}, {access}, {access}, false, '{SEED_IP}', \
                      '{SEED_USER_AGENT}', {expires}, {expires} \
               FROM generate_series({from}, {to}) g JOIN seed_users u ON u.n = g % (SELECT count(*) FROM seed_users) ORDER BY g; \
             INSERT INTO client_sessions (id, user_session_id, client_id, started_at, last_access_at) \
               SELECT pg_temp.seed_id(2, g), pg_temp.seed_id(1, g), c.id, {access}, {access} FROM generate_series({from}, {to}) g \
               CROSS JOIN (SELECT c.id FROM clients c JOIN realms r ON r.id = c.realm_id \
                           WHERE r.name = '{REALM}' AND c.client_id = '{CLIENT_ID}') c; \
             INSERT INTO token_families (id, client_session_id, scope, created_at, generation, current_hash, reuse_count, rotated_at) \
               SELECT pg_temp.seed_id(3, g), pg_temp.seed_id(2, g), 'openid profile email', {access}, 1, \
                      sha256(convert_to('seed-' || g, 'UTF8')), 0, {access} \
               FROM generate_series({from}, {to}) g; \
             COMMIT;"
        ))?;
        done = to;
    }
    psql(db_url, "ANALYZE user_sessions; ANALYZE client_sessions; ANALYZE token_families;")?;
    let bytes: u64 = psql(
        db_url,
        "SELECT pg_total_relation_size('user_sessions') + pg_total_relation_size('client_sessions') \
         + pg_total_relation_size('token_families')",
    )?
    .parse()
    .context("table sizes")?;
    Ok(Seeded { sessions: n, expired, seconds: started.elapsed().as_secs_f64(), bytes })
}

/// Seeded sessions still in the store (the cleanup run reads how many were deleted).
pub fn remaining(db_url: &str) -> anyhow::Result<u64> {
    psql(db_url, &format!("SELECT count(*) FROM user_sessions WHERE ip = '{SEED_IP}'"))?.parse().context("count")
}
