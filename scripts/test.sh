#!/usr/bin/env bash
# The whole test suite, on a fresh machine of this project's kind: starts Postgres when it is
# down, fails loudly (never skips) when it cannot reach it, drops databases left by earlier runs,
# then runs every test against both backends. `.ci/run` calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${PORTCULLIS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export PORTCULLIS_TEST_POSTGRES_URL="$PG_URL"

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "test.sh: Postgres is not answering on 127.0.0.1:5432; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break
    sleep 1
  done
fi
if ! psql "$PG_URL" -qAtc 'SELECT 1' >/dev/null; then
  echo "test.sh: FATAL: cannot reach Postgres at $PG_URL; the Postgres suite is required, not optional" >&2
  exit 1
fi
psql "$PG_URL" -qAtc "SELECT datname FROM pg_database WHERE datname LIKE 'portcullis_test_%'" |
  while read -r db; do
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  done

# tests/api/python_client.rs drives the server with the real python-keycloak from .venv. Create
# .venv when missing and install the pinned tests/python/requirements.txt, again only when that
# file (or the venv's interpreter) changed since the last install, as recorded in a stamp file.
if [ ! -x .venv/bin/python ]; then
  echo "test.sh: creating .venv for the python-keycloak end-to-end test"
  python3 -m venv .venv
fi
requirements=tests/python/requirements.txt
stamp=.venv/.portcullis-requirements.sha256
wanted="$( (cat "$requirements"; .venv/bin/python -VV) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  echo "test.sh: installing $requirements into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
  echo "$wanted" >"$stamp"
fi

# tests/api/browser_chromium.rs drives real headless Chromium through chromedriver (Debian's
# chromium and chromium-driver packages; no browser download of its own).
if [ ! -x /usr/bin/chromium ] || ! command -v chromedriver >/dev/null 2>&1; then
  echo "test.sh: installing chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q chromium chromium-driver >/dev/null
fi

cargo build --locked --bin portcullis
cargo test --locked --workspace --all-targets "$@"
