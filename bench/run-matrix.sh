#!/usr/bin/env bash
# Produces the figures in BENCHMARKS.md with portcullis-bench on this machine:
#   1. Portcullis on SQLite and on Postgres, RS256 (access + id token: two signatures) and ES256,
#      every scenario at concurrency 1, 8, 32, 128;
#   2. the refresh target run: ES256 without an id token (scope "profile"), concurrency 32;
#   3. a password-login storm (argon2id) beside refreshes, to read refresh p99 under it;
#   4. node oidc-provider (bench/peers/oidc-provider) with the same tool and scenarios, with opaque
#      access tokens (its default) and with RS256 JWT access tokens.
# Usage: bench/run-matrix.sh [OUT_DIR] [SECONDS_PER_RUN]
# Needs: a local Postgres (postgres@127.0.0.1:5432, trust), node + npm for the peer. Run it on a
# quiet machine: it measures the machine as much as the server.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-results}"
duration="${2:-5}"
mkdir -p "$out"
cargo build --release --locked --workspace --bins
bin=target/release/portcullis
bench=target/release/portcullis-bench
pg=postgres://postgres@127.0.0.1:5432
all=(--scenario refresh --scenario client-credentials --scenario introspect --scenario userinfo --scenario jwks --scenario password)

fresh_pg() {
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS portcullis_bench" -c "CREATE DATABASE portcullis_bench"
  echo "$pg/portcullis_bench"
}

run() { # name, then portcullis-bench arguments
  local name="$1"; shift
  echo "== $name" >&2
  "$bench" "$@" --json "$out/$name.json" | tee "$out/$name.md"
}

for alg in RS256 ES256; do
  run "sqlite-$alg" --spawn "$bin" --alg "$alg" "${all[@]}" --concurrency 1,8,32,128 --duration "$duration"
  run "postgres-$alg" --spawn "$bin" --db-url "$(fresh_pg)" --alg "$alg" "${all[@]}" --concurrency 1,8,32,128 --duration "$duration"
done
run sqlite-ES256-no-id-token --spawn "$bin" --alg ES256 --scope profile --scenario refresh --concurrency 32 --duration "$duration"
run postgres-ES256-no-id-token --spawn "$bin" --db-url "$(fresh_pg)" --alg ES256 --scope profile --scenario refresh --concurrency 32 --duration "$duration"

# 3. storm: a server of our own, 32 workers logging in with passwords while 32 others refresh.
storm_dir="$(mktemp -d)"
python3 - "$storm_dir/realm.json" <<'EOF'
import json, sys
users = [{"username": f"user{i}", "enabled": True, "email": f"user{i}@bench.example",
          "credentials": [{"type": "password", "value": f"password-{i}"}]} for i in range(32)]
realm = {"realm": "bench", "defaultSignatureAlgorithm": "ES256", "users": users,
         "clients": [{"clientId": "bench-client", "secret": "bench-secret-0123456789abcdef", "publicClient": False,
                      "directAccessGrantsEnabled": True, "serviceAccountsEnabled": True,
                      "redirectUris": ["http://127.0.0.1/cb"]}]}
json.dump(realm, open(sys.argv[1], "w"))
EOF
for backend in sqlite postgres; do
  db=(); [ "$backend" = postgres ] && db=(start --db-url "$(fresh_pg)" --http-host 127.0.0.1) || db=(start-dev)
  PORTCULLIS_RATE_LIMIT_TOKEN_PER_IP=0 PORTCULLIS_RATE_LIMIT_TOKEN_PER_CLIENT=0 PORTCULLIS_RATE_LIMIT_LOGIN_PER_IP=0 \
  PORTCULLIS_MASTER_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= PORTCULLIS_BOOTSTRAP_ADMIN_PASSWORD=bench-admin-password \
    "$bin" "${db[@]}" --data-dir "$storm_dir/$backend" --http-port 3200 --log-level warn --import-realm "$storm_dir/realm.json" &
  server=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:3200/realms/bench/.well-known/openid-configuration >/dev/null && break; sleep 0.1; done
  users=(); for i in $(seq 0 31); do users+=(--user "user$i:password-$i"); done
  issuer=(--issuer http://127.0.0.1:3200/realms/bench "${users[@]}")
  "$bench" "${issuer[@]}" --name storm-logins --scenario password --concurrency 32 --duration $((duration * 3)) \
    --json "$out/storm-$backend-logins.json" > "$out/storm-$backend-logins.md" &
  storm=$!
  sleep 1
  run "storm-$backend-refresh" "${issuer[@]}" --name refresh-under-storm --scenario refresh --concurrency 32 --duration "$duration"
  wait "$storm"
  cat "$out/storm-$backend-logins.md"
  kill "$server"; wait "$server" || true
done

# 4. the peer, measured by the same tool on the same machine: first with its default opaque access
#    tokens (userinfo and introspection need them), then with RS256 JWT access tokens like ours
peer_run() { # name, extra environment, then portcullis-bench scenario arguments
  local name="$1" env="$2"; shift 2
  rm -f "$out/$name-seed.json"
  env $env bench/peers/oidc-provider/run.sh 3100 "$out/$name-seed.json" 4000 > "$out/$name.log" 2>&1 &
  local peer=$!
  for _ in $(seq 600); do [ -s "$out/$name-seed.json" ] && curl -sf http://127.0.0.1:3100/.well-known/openid-configuration >/dev/null && break; sleep 0.2; done
  [ -s "$out/$name-seed.json" ] || { echo "oidc-provider did not start; see $out/$name.log" >&2; tail "$out/$name.log" >&2; exit 1; }
  run "$name" --seed "$out/$name-seed.json" --name "$name" "$@" --concurrency 1,8,32,128 --duration "$duration"
  kill "$peer" 2>/dev/null || true
  pkill -f "node server.mjs 3100" 2>/dev/null || true
  sleep 1
}
peer_run oidc-provider PEER_ACCESS_TOKENS=opaque \
  --scenario refresh --scenario client-credentials --scenario introspect --scenario userinfo --scenario jwks
peer_run oidc-provider-jwt PEER_ACCESS_TOKENS=jwt --scenario refresh --scenario client-credentials
echo "results in $out/" >&2
