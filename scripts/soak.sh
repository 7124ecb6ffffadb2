#!/usr/bin/env bash
# The soak (issue 7 item 9): mixed load (password logins, refreshes chained through rotation,
# introspections, revocations) for MINUTES (default 10) on SQLite, then on a fresh Postgres
# database, with release builds. Prints one line a minute (requests, errors by kind, p99, RSS) and
# a summary per backend; exits non-zero when either run had an unexpected answer or its RSS grew
# by more than the bound (portcullis-bench soak --max-rss-growth-mib, default 8) after minute 2.
#
#   scripts/soak.sh [MINUTES]
#
# Output goes to the terminal and to $SOAK_OUT/soak-{sqlite,postgres}.txt (+ .json), with
# SOAK_OUT defaulting to target/soak. Postgres: PORTCULLIS_SOAK_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/postgres); the database portcullis_soak_<pid> is created and
# dropped again. SOAK_CONCURRENCY (default 16) sets the workers.
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES="${1:-10}"
CONCURRENCY="${SOAK_CONCURRENCY:-16}"
OUT="${SOAK_OUT:-target/soak}"
PG_URL="${PORTCULLIS_SOAK_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="portcullis_soak_$$"
mkdir -p "$OUT"

cargo build --release --locked --bin portcullis
cargo build --release --locked -p portcullis-bench --bin portcullis-bench

REVISION="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"

soak() {
  local name="$1"
  shift
  {
    echo "== scripts/soak.sh on $name: $MINUTES min, concurrency $CONCURRENCY, release build of $REVISION," \
      "$(date -u +%FT%TZ), $(nproc) cores, load average at the start $(cut -d' ' -f1-3 /proc/loadavg)"
    target/release/portcullis-bench soak --spawn target/release/portcullis --minutes "$MINUTES" \
      --concurrency "$CONCURRENCY" --json "$OUT/soak-$name.json" "$@"
    echo "== load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
  } 2>&1 | tee "$OUT/soak-$name.txt"
}

status=0
soak sqlite || status=1

drop_db() { psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; }
trap drop_db EXIT
psql "$PG_URL" -qc "CREATE DATABASE $DB" >/dev/null
soak postgres --db-url "${PG_URL%/*}/$DB" || status=1

echo "== soak outputs: $OUT/soak-sqlite.txt, $OUT/soak-postgres.txt"
exit "$status"
