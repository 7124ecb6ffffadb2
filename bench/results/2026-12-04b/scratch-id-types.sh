#!/bin/bash
# The estimate behind BENCHMARKS.md's "uuid columns" line: the three session tables rebuilt by hand in a
# scratch database, with text or uuid ids, random (v4) or time-ordered (v7), a 110-byte user agent.
# Usage: scratch-id-types.sh text4|text7|uuid4|uuid7 [ROWS]; drops and creates database exp_<variant>.
# $1 = variant: text4 text7 uuid4 uuid7 ; $2 = N
V=$1; N=${2:-100000}
DB=exp_$V
psql -q -U postgres -h 127.0.0.1 -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" postgres
case $V in text*) T=TEXT;; uuid*) T=UUID;; esac
case $V in *4) GEN="gen_random_uuid()";; *7) GEN="(lpad(to_hex(1700000000000 + g*3), 12, '0') || substr(replace(gen_random_uuid()::text,'-',''), 13))::uuid";; esac
psql -q -U postgres -h 127.0.0.1 $DB <<SQL
CREATE TABLE realms (id TEXT PRIMARY KEY);
CREATE TABLE users (id TEXT PRIMARY KEY, realm_id TEXT);
CREATE TABLE clients (id TEXT PRIMARY KEY);
INSERT INTO realms VALUES ('8f3c1f6e-2a4b-4c1d-9e7f-1a2b3c4d5e6f');
INSERT INTO users SELECT gen_random_uuid()::text, '8f3c1f6e-2a4b-4c1d-9e7f-1a2b3c4d5e6f' FROM generate_series(1,1000);
INSERT INTO clients VALUES ('7e3c1f6e-2a4b-4c1d-9e7f-1a2b3c4d5e6f');
CREATE TABLE user_sessions (
    id $T PRIMARY KEY, realm_id TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    offline BOOLEAN NOT NULL, started_at BIGINT NOT NULL, last_access_at BIGINT NOT NULL, auth_time BIGINT NOT NULL,
    remember_me BOOLEAN NOT NULL, ip TEXT, user_agent TEXT, expires_at BIGINT NOT NULL,
    browser_session_id TEXT, cleanup_after BIGINT NOT NULL DEFAULT 0) WITH (fillfactor=85);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_cleanup ON user_sessions (cleanup_after);
CREATE TABLE client_sessions (
    id $T PRIMARY KEY, user_session_id $T NOT NULL REFERENCES user_sessions (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    started_at BIGINT NOT NULL, last_access_at BIGINT NOT NULL,
    CONSTRAINT client_sessions_session_client_key UNIQUE (user_session_id, client_id));
CREATE TABLE token_families (
    id $T PRIMARY KEY, client_session_id $T NOT NULL REFERENCES client_sessions (id) ON DELETE CASCADE,
    scope TEXT NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT,
    generation BIGINT NOT NULL DEFAULT 1, current_hash BYTEA, reuse_count BIGINT NOT NULL DEFAULT 0,
    rotated_at BIGINT, successor_sealed BYTEA, reuse_until BIGINT) WITH (fillfactor=85);
CREATE INDEX token_families_client_session ON token_families (client_session_id);
CREATE INDEX token_families_reuse_until ON token_families (reuse_until) WHERE successor_sealed IS NOT NULL;
CREATE TEMP TABLE ids AS SELECT g, $GEN AS s, $GEN AS c, $GEN AS f FROM generate_series(1,$N) g;
CREATE TEMP TABLE u AS SELECT id, row_number() OVER () - 1 AS n FROM users;
INSERT INTO user_sessions SELECT s::$T, '8f3c1f6e-2a4b-4c1d-9e7f-1a2b3c4d5e6f', u.id, false, 1, 1, 1, false, '203.0.113.17',
   'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', 2, NULL, 2 FROM ids JOIN u ON u.n = ids.g % 1000 ORDER BY g;
INSERT INTO client_sessions SELECT c::$T, s::$T, '7e3c1f6e-2a4b-4c1d-9e7f-1a2b3c4d5e6f', 1, 1 FROM ids ORDER BY g;
INSERT INTO token_families (id, client_session_id, scope, created_at, generation, current_hash, reuse_count, rotated_at)
  SELECT f::$T, c::$T, 'openid profile email', 1, 1, sha256(convert_to('x' || g, 'UTF8')), 0, 1 FROM ids ORDER BY g;
VACUUM ANALYZE;
SELECT relname, pg_relation_size(oid)/$N AS per FROM pg_class WHERE relname IN ('user_sessions','user_sessions_pkey','user_sessions_user','user_sessions_cleanup','client_sessions','client_sessions_pkey','client_sessions_session_client_key','token_families','token_families_pkey','token_families_client_session') ORDER BY 1;
SELECT '$V total', (pg_total_relation_size('user_sessions') + pg_total_relation_size('client_sessions') + pg_total_relation_size('token_families'))/$N;
SQL
