#!/usr/bin/env bash
# Apache httpd + mod_auth_openidc (Debian's libapache2-mod-auth-openidc) as a relying party of
# Portcullis, end to end with curl and a cookie jar: discovery, our login page, the code exchange
# (PKCE S256, client_secret_basic), the Apache session, a refresh through rotation, logout at both
# ends. Starts `portcullis start-dev` and Apache on free ports under a temporary directory, and
# stops both on exit, whatever happens.
#
# Usage: run-test.sh [PORTCULLIS_BINARY]   (default: target/debug/portcullis of this checkout)
# Needs: apache2 and libapache2-mod-auth-openidc (apt-get install -y apache2
# libapache2-mod-auth-openidc), curl, python3. Prints one line per step and ends with
# `N passed, M failed`; exits 1 on the first failure. tests/api/interop_mod_auth_openidc.rs runs it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
portcullis="${1:-$here/../../../target/debug/portcullis}"
apache="$(command -v apache2 || echo /usr/sbin/apache2)"
modules=/usr/lib/apache2/modules

if [ ! -x "$apache" ] || [ ! -f "$modules/mod_auth_openidc.so" ]; then
  echo "FATAL: Apache with mod_auth_openidc is required: apt-get install -y apache2 libapache2-mod-auth-openidc" >&2
  exit 2
fi
if [ ! -x "$portcullis" ]; then
  echo "FATAL: no portcullis binary at $portcullis (cargo build --bin portcullis)" >&2
  exit 2
fi

work="$(mktemp -d)"
chmod 755 "$work" # Apache's workers may run as www-data
mkdir -p "$work/run" "$work/logs" "$work/htdocs/protected" "$work/portcullis"
portcullis_pid=""
apache_pid=""
passed=0
step_name=""

cleanup() {
  status=$?
  [ -n "$apache_pid" ] && kill -TERM "$apache_pid" 2>/dev/null && wait "$apache_pid" 2>/dev/null || true
  [ -n "$portcullis_pid" ] && kill -TERM "$portcullis_pid" 2>/dev/null && wait "$portcullis_pid" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    echo "--- Apache error log"; cat "$work/logs/error.log" 2>/dev/null || true
    echo "--- Apache access log"; cat "$work/logs/access.log" 2>/dev/null || true
    echo "--- Portcullis log (last 40 lines)"; tail -n 40 "$work/portcullis.log" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

step() { step_name="$1"; }
ok() { passed=$((passed + 1)); echo "ok   $step_name"; }
fail() {
  echo "FAIL $step_name: $*"
  echo "$passed passed, 1 failed"
  exit 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

jar="$work/cookies.txt"
# GET or POST with the cookie jar, never following redirects: prints "STATUS LOCATION", body in $work/body
fetch() {
  curl -sS --max-time 15 -b "$jar" -c "$jar" -o "$work/body" -w '%{http_code} %{redirect_url}\n' "$@"
}
json() { python3 -c "import json, sys; d = json.load(open('$work/body')); print($1)"; }

apache_port="$(free_port)"
apache_base="http://127.0.0.1:$apache_port"
client_secret="apache-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
passphrase="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"

# 1. Portcullis with the realm, registering Apache's redirect and post-logout URIs
sed -e "s|@APACHE_PORT@|$apache_port|g" -e "s|@CLIENT_SECRET@|$client_secret|g" \
  "$here/realm.json.template" >"$work/realm.json"
# shellcheck disable=SC2046 # one -u per PORTCULLIS_* variable of the caller's environment
env $(env | grep -o '^PORTCULLIS_[A-Z_]*' | sed 's/^/-u /') PORTCULLIS_LOG_LEVEL=info \
  "$portcullis" start-dev --http-port 0 --data-dir "$work/portcullis" --import-realm "$work/realm.json" \
  >"$work/portcullis.log" 2>&1 &
portcullis_pid=$!
step "portcullis start-dev serves the realm's discovery document"
pc=""
for _ in $(seq 1 150); do
  pc="$(grep -o 'listening on http://[0-9.:]*' "$work/portcullis.log" 2>/dev/null | head -n 1 | sed 's/listening on //' || true)"
  [ -n "$pc" ] && [ "$(fetch "$pc/realms/intranet/.well-known/openid-configuration" 2>/dev/null | cut -d' ' -f1)" = 200 ] && break
  sleep 0.2
done
[ -n "$pc" ] || fail "start-dev never printed its address"
[ "$(json 'd["issuer"]')" = "$pc/realms/intranet" ] || fail "issuer is $(json 'd["issuer"]')"
ok

# 2. Apache under the temporary ServerRoot
run_as=""
[ "$(id -u)" = 0 ] && run_as=$'User www-data\nGroup www-data'
python3 - "$here/httpd.conf.template" "$work/httpd.conf" <<EOF
import sys
text = open(sys.argv[1]).read()
for key, value in {"@ROOT@": "$work", "@APACHE_PORT@": "$apache_port", "@MODULES@": "$modules",
                   "@PORTCULLIS@": "$pc", "@CLIENT_SECRET@": "$client_secret",
                   "@PASSPHRASE@": "$passphrase", "@RUN_AS@": """$run_as"""}.items():
    text = text.replace(key, value)
open(sys.argv[2], "w").write(text)
EOF
cat >"$work/htdocs/protected/index.shtml" <<'EOF'
<!doctype html>
<title>Protected</title>
<p id="user">Hello <!--#echo var="REMOTE_USER" --></p>
<p id="email"><!--#echo var="OIDC_CLAIM_email" --></p>
EOF
echo '<!doctype html><title>Logged out</title><p>You are logged out.</p>' >"$work/htdocs/loggedout.html"
chmod -R a+rX "$work/htdocs"
step "Apache with mod_auth_openidc starts ($("$apache" -v | head -n 1 | sed 's/Server version: //'), mod_auth_openidc $(dpkg-query -W -f='${Version}' libapache2-mod-auth-openidc 2>/dev/null || echo '?'))"
"$apache" -t -d "$work" -f "$work/httpd.conf" >"$work/configtest.log" 2>&1 || fail "$(cat "$work/configtest.log")"
"$apache" -d "$work" -f "$work/httpd.conf" -D FOREGROUND >>"$work/logs/error.log" 2>&1 &
apache_pid=$!
for _ in $(seq 1 100); do
  [ "$(fetch "$apache_base/loggedout.html" 2>/dev/null | cut -d' ' -f1)" = 200 ] && break
  kill -0 "$apache_pid" 2>/dev/null || fail "Apache exited"
  sleep 0.1
done
[ "$(fetch "$apache_base/loggedout.html" | cut -d' ' -f1)" = 200 ] || fail "Apache does not answer on $apache_base"
ok

# 3. the login round trip
step "an anonymous request to /protected is sent to Portcullis' authorization endpoint with PKCE S256"
read -r status location < <(fetch "$apache_base/protected/")
[ "$status" = 302 ] || fail "status $status"
case "$location" in "$pc/realms/intranet/protocol/openid-connect/auth?"*) ;; *) fail "Location $location" ;; esac
case "$location" in *code_challenge_method=S256*) ;; *) fail "no PKCE S256 in $location" ;; esac
case "$location" in *client_id=apache*) ;; *) fail "no client_id in $location" ;; esac
ok

step "Portcullis shows its login page"
read -r status _ < <(fetch "$location")
[ "$status" = 200 ] || fail "status $status"
grep -q 'id="login-form"' "$work/body" || fail "no login form"
ok

step "erin signs in and Portcullis redirects to Apache's redirect URI with a code"
# the form's action and hidden fields (CSRF token, sealed pending login), then the credentials
mapfile -t form < <(python3 - "$work/body" <<'EOF'
import sys
from html.parser import HTMLParser
from urllib.parse import urlencode

class Form(HTMLParser):
    action, fields = None, {}
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "login-form":
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value") or ""

form = Form()
form.feed(open(sys.argv[1]).read())
print(form.action)
print(urlencode({**form.fields, "username": "erin", "password": "erin-password-1"}))
EOF
)
action="${form[0]}"
case "$action" in http*) ;; *) action="$pc$action" ;; esac
read -r status location < <(fetch -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data "${form[1]}" "$action")
[ "$status" = 302 ] || fail "status $status: $(head -c 300 "$work/body")"
case "$location" in "$apache_base/protected/redirect_uri?"*code=*) ;; *) fail "Location $location" ;; esac
ok

step "mod_auth_openidc exchanges the code, validates the ID token and starts its session"
read -r status location < <(fetch "$location")
[ "$status" = 302 ] || fail "status $status: $(head -c 300 "$work/body")"
[ "$location" = "$apache_base/protected/" ] || fail "Location $location"
grep -q mod_auth_openidc_session "$jar" || fail "no session cookie"
ok

step "the protected page is served to erin, with her claims passed to the application"
read -r status _ < <(fetch "$apache_base/protected/")
[ "$status" = 200 ] || fail "status $status"
grep -q 'Hello erin' "$work/body" || fail "$(cat "$work/body")"
grep -q 'erin@example.com' "$work/body" || fail "no email claim: $(cat "$work/body")"
ok

step "the session holds Portcullis' tokens (info hook)"
read -r status _ < <(fetch "$apache_base/protected/redirect_uri?info=json")
[ "$status" = 200 ] || fail "status $status"
[ "$(json 'd["id_token"]["preferred_username"]')" = erin ] || fail "$(cat "$work/body")"
[ "$(json 'd["id_token"]["iss"]')" = "$pc/realms/intranet" ] || fail "iss $(json 'd["id_token"]["iss"]')"
access_1="$(json 'd["access_token"]')"
refresh_1="$(json 'd["refresh_token"]')"
[ -n "$refresh_1" ] || fail "no refresh token"
ok

# 4. refresh through rotation
step "mod_auth_openidc refreshes the access token with the refresh token (rotated)"
read -r status _ < <(fetch "$apache_base/protected/redirect_uri?info=json&access_token_refresh_interval=0")
[ "$status" = 200 ] || fail "status $status: $(head -c 300 "$work/body")"
access_2="$(json 'd["access_token"]')"
refresh_2="$(json 'd["refresh_token"]')"
[ "$access_2" != "$access_1" ] || fail "the access token did not change"
[ "$refresh_2" != "$refresh_1" ] || fail "the refresh token was not rotated"
read -r status _ < <(fetch "$apache_base/protected/")
[ "$status" = 200 ] || fail "after the refresh: status $status"
ok

# 5. logout at both ends
step "logout at Apache goes through Portcullis' end-session endpoint and back"
read -r status location < <(fetch "$apache_base/protected/redirect_uri?logout=$(python3 -c "import urllib.parse; print(urllib.parse.quote('$apache_base/loggedout.html', safe=''))")")
[ "$status" = 302 ] || fail "status $status"
case "$location" in "$pc/realms/intranet/protocol/openid-connect/logout?"*id_token_hint=*) ;; *) fail "Location $location" ;; esac
read -r status location < <(fetch "$location")
[ "$status" = 302 ] || fail "Portcullis answered $status: $(head -c 300 "$work/body")"
case "$location" in "$apache_base/loggedout.html"*) ;; *) fail "Location $location" ;; esac
read -r status _ < <(fetch "$location")
[ "$status" = 200 ] || fail "logged-out page: status $status"
ok

step "after logout /protected asks for a login again, and Portcullis shows the form (SSO session ended)"
read -r status location < <(fetch "$apache_base/protected/")
[ "$status" = 302 ] || fail "status $status"
case "$location" in "$pc/realms/intranet/protocol/openid-connect/auth?"*) ;; *) fail "Location $location" ;; esac
read -r status _ < <(fetch "$location")
[ "$status" = 200 ] && grep -q 'id="login-form"' "$work/body" || fail "no login form (status $status)"
ok

step "the session's refresh token is dead at Portcullis"
read -r status _ < <(fetch -u "apache:$client_secret" --data-urlencode grant_type=refresh_token \
  --data-urlencode "refresh_token=$refresh_2" "$pc/realms/intranet/protocol/openid-connect/token")
[ "$status" = 400 ] || fail "status $status"
[ "$(json 'd["error"]')" = invalid_grant ] || fail "$(cat "$work/body")"
ok

echo "$passed passed, 0 failed"
