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

# tests/api/python_client.rs drives the server with the real python-keycloak from .venv, and
# tests/api/example_fastapi.rs runs examples/fastapi-resource-server from the same .venv. Create
# .venv when missing and install both pinned requirements files, again only when one of them (or
# the venv's interpreter) changed since the last install, as recorded in a stamp file.
if [ ! -x .venv/bin/python ]; then
  echo "test.sh: creating .venv for the Python end-to-end tests"
  python3 -m venv .venv
fi
requirements=(tests/python/requirements.txt examples/fastapi-resource-server/requirements.txt)
stamp=.venv/.portcullis-requirements.sha256
wanted="$( (cat "${requirements[@]}"; .venv/bin/python -VV) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  echo "test.sh: installing ${requirements[*]} into .venv"
  pip_args=()
  for file in "${requirements[@]}"; do pip_args+=(-r "$file"); done
  .venv/bin/python -m pip install -q --disable-pip-version-check "${pip_args[@]}"
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

# tests/api/example_mod_auth_openidc.rs runs tests/interop/mod_auth_openidc/run-test.sh: Apache
# httpd with Debian's mod_auth_openidc as a relying party, driven with curl.
if [ ! -x /usr/sbin/apache2 ] || [ ! -f /usr/lib/apache2/modules/mod_auth_openidc.so ] ||
  ! command -v curl >/dev/null 2>&1; then
  echo "test.sh: installing apache2, libapache2-mod-auth-openidc and curl"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q apache2 libapache2-mod-auth-openidc curl >/dev/null
fi

# tests/api/example_keycloak_js.rs serves examples/keycloak-js, which loads the npm package
# keycloak-js pinned in that folder's package-lock.json. Install it there (node_modules is
# git-ignored) when missing or when the lock file (or Node) changed, as recorded in a stamp file.
keycloak_js=examples/keycloak-js
stamp=$keycloak_js/node_modules/.portcullis-package-lock.sha256
wanted="$( (cat "$keycloak_js/package-lock.json"; node --version) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  echo "test.sh: installing $keycloak_js/package-lock.json (keycloak-js) into $keycloak_js/node_modules"
  (cd "$keycloak_js" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$wanted" >"$stamp"
fi

# tests/api/interop_openid_client.rs runs openid-client (npm) from tests/interop/openid-client,
# pinned in its package-lock.json: installed the same way.
openid_client=tests/interop/openid-client
stamp=$openid_client/node_modules/.portcullis-package-lock.sha256
wanted="$( (cat "$openid_client/package-lock.json"; node --version) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  echo "test.sh: installing $openid_client/package-lock.json (openid-client) into $openid_client/node_modules"
  (cd "$openid_client" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$wanted" >"$stamp"
fi

cargo build --locked --bin portcullis
cargo test --locked --workspace --all-targets "$@"
