#!/usr/bin/env bash
# Issue 16 item 4: refresh throughput and p99 among N live sessions on Postgres, the database's
# bytes per session, and refresh p99 while the cleanup task deletes a million expired sessions.
# Each row runs on a fresh database: `portcullis-bench --seed-sessions N` inserts the sessions
# (user session, client session, refresh-token family, as logins leave them) in bulk through
# the real schema, then 32 workers refresh their own sessions among them. A benchmark, not a
# test: run it on an otherwise idle machine; 10 M sessions take minutes to seed and ~10 GB.
# Usage: bench/scale.sh [SECONDS per run, 10] [SESSION COUNTS, "1000 100000 1000000 10000000"] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
counts="${2:-1000 100000 1000000 10000000}"
out="${3:-bench-scale}"
pg="${PORTCULLIS_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
mkdir -p "$out"
# two commands: `--bin portcullis` would also filter the bench package's targets, leaving its binary stale
cargo build --release --locked -p portcullis --bin portcullis >&2
cargo build --release --locked -p portcullis-bench --bin portcullis-bench >&2
bench=target/release/portcullis-bench
row() { # name, then portcullis-bench arguments
  local name="$1" db="portcullis_scale_${1//-/_}"; shift
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
  "$bench" --spawn target/release/portcullis --db-url "$pg/$db" --shipped-limits --alg ES256 --scope profile \
    --scenario refresh --concurrency 32 --duration "$duration" --strict --name "$name" --json "$out/$name.json" "$@" >&2
  psql "$pg/postgres" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
}
for n in $counts; do
  row "live-$n" --seed-sessions "$n"
done
PORTCULLIS_CLEANUP_INTERVAL=1 row "cleanup-1000000" --seed-sessions 1000000 --seed-expired
python3 - "$out" $counts <<'PY'
import json, os, sys
out, counts = sys.argv[1], sys.argv[2:]
def load(name):
    return json.load(open(os.path.join(out, f"{name}.json")))
print("| live sessions | refresh req/s (c=32, ES256) | p99 ms | bytes per session | seeded in s |")
print("| ---: | ---: | ---: | ---: | ---: |")
for n in counts:
    r = load(f"live-{n}"); run = r["runs"][0]; s = r["seeded"]
    print(f"| {int(n):,} | {run['throughput']:.0f} | {run['p99_ms']:.1f} | {s['bytes'] / s['sessions']:.0f} | {s['seconds']:.0f} |")
r = load("cleanup-1000000"); run = r["runs"][0]
print(f"\nWhile the cleanup task deleted expired sessions (1,000,000 seeded, {r['seeded_left']:,} left after the run): "
      f"{run['throughput']:.0f} req/s, p99 {run['p99_ms']:.1f} ms")
PY
