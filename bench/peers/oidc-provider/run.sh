#!/usr/bin/env bash
# Installs node oidc-provider into a temp dir with npm and starts it on PORT, writing SEED_FILE
# (the issuer and COUNT refresh tokens minted through its models) for portcullis-bench.
# Usage: bench/peers/oidc-provider/run.sh PORT SEED_FILE [COUNT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seed="$(realpath -m "$2")" # the server runs from the temp dir: a relative path would land there
work="$(mktemp -d)"
cp "$here/server.mjs" "$work/"
cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund oidc-provider@9.13.3 >/dev/null
exec node server.mjs "$1" "$seed" "${3:-1000}"
