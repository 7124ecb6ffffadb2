#!/usr/bin/env bash
# Issue 16 item 5: Portcullis and node oidc-provider side by side in one command, in both signing
# modes. Each side signs one JWT per refresh with the same algorithm: Portcullis its access token
# (scope `profile`: no id token), oidc-provider its id token (opaque access tokens, its default),
# RS256 and then ES256. Portcullis runs `start-dev` defaults (SQLite, rate limits as shipped), the
# peer in memory; the same load tool drives both (refresh_token grants chained through rotation,
# each worker on its own session and keep-alive connection). A benchmark, not a test: run it on
# an otherwise idle machine. Needs node and npm (the peer is npm-installed into a temp dir).
# Usage: bench/side-by-side.sh [SECONDS per run, 10] [CONCURRENCY, 32] [OUT_DIR, bench-side-by-side]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
concurrency="${2:-32}"
out="${3:-bench-side-by-side}"
mkdir -p "$out"
# two commands: `--bin portcullis` would also filter the bench package's targets, leaving its binary stale
cargo build --release --locked -p portcullis --bin portcullis >&2
cargo build --release --locked -p portcullis-bench --bin portcullis-bench >&2
bench=target/release/portcullis-bench
for alg in RS256 ES256; do
  "$bench" --spawn target/release/portcullis --shipped-limits --alg "$alg" --scope profile --scenario refresh \
    --concurrency "$concurrency" --duration "$duration" --strict --name portcullis --json "$out/portcullis-$alg.json" >&2
  rm -f "$out/peer-$alg-seed.json"
  PEER_ALG="$alg" bench/peers/oidc-provider/run.sh 3100 "$out/peer-$alg-seed.json" 4000 > "$out/peer-$alg.log" 2>&1 &
  peer=$!
  for _ in $(seq 600); do
    [ -s "$out/peer-$alg-seed.json" ] && curl -sf http://127.0.0.1:3100/.well-known/openid-configuration >/dev/null && break
    sleep 0.2
  done
  [ -s "$out/peer-$alg-seed.json" ] || { echo "oidc-provider did not start; see $out/peer-$alg.log" >&2; exit 1; }
  "$bench" --seed "$out/peer-$alg-seed.json" --scenario refresh --concurrency "$concurrency" --duration "$duration" \
    --strict --name oidc-provider --json "$out/peer-$alg.json" >&2 || { kill "$peer"; exit 1; }
  kill "$peer" 2>/dev/null || true
  pkill -f "node server.mjs 3100" 2>/dev/null || true
  sleep 1
done
python3 - "$out" "$concurrency" <<'PY'
import json, os, sys
out, c = sys.argv[1], int(sys.argv[2])
def run(name):
    report = json.load(open(os.path.join(out, f"{name}.json")))
    return next(r for r in report["runs"] if r["scenario"] == "refresh_token" and r["concurrency"] == c)
print(f"| refresh_token, c={c}, one JWT signed per refresh | Portcullis req/s | p99 ms | oidc-provider req/s | p99 ms | ratio |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for alg in ["RS256", "ES256"]:
    ours, peer = run(f"portcullis-{alg}"), run(f"peer-{alg}")
    print(f"| {alg} | {ours['throughput']:.0f} | {ours['p99_ms']:.1f} | {peer['throughput']:.0f} | {peer['p99_ms']:.1f} | "
          f"{ours['throughput'] / peer['throughput']:.2f}x |")
PY
