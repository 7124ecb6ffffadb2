#!/usr/bin/env python3
"""End to end with a real Keycloak client library: python-keycloak's KeycloakOpenID, unchanged,
against a running Portcullis.

Usage: e2e_python_keycloak.py BASE_URL   (e.g. http://127.0.0.1:8080)

The server must have imported tests/fixtures/secrets-realm.json (realm `vault`, confidential
client `backend`, public client `frontend`, user carol with role offline_access). Prints one
line per passed step and ends with `N passed, M failed`; exits non-zero on any failure. Steps
within one scenario depend on each other, so a failure ends its scenario (the rest are listed as
skipped) and the next scenario starts.

tests/api/python_client.rs runs this against `portcullis start-dev` (the last scenario is python-keycloak's own
PKCE test: it scrapes the login form's action and posts only username and password); scripts/test.sh creates the
.venv it runs in from tests/python/requirements.txt.
"""

from __future__ import annotations

import base64
import json
import sys
import traceback
from typing import Any, Callable

from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakAuthenticationError, KeycloakError

REALM = "vault"
CLIENT_ID = "backend"
CLIENT_SECRET = "s3cr3t-client-value-0123456789"
PUBLIC_CLIENT_ID = "frontend"
USERNAME = "carol"  # imported as "Carol": usernames are lower-cased, as in Keycloak
PASSWORD = "correct-horse-battery-staple"


class Failure(Exception):
    def __init__(self, expected: str, got: Any) -> None:
        super().__init__(expected)
        self.expected = expected
        self.got = got


def show(value: Any) -> str:
    if isinstance(value, KeycloakError):
        body = value.response_body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        return f"{type(value).__name__}: HTTP {value.response_code}, body {body!r}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2, sort_keys=True, default=str)
    return repr(value)


def error_body(error: KeycloakError) -> str:
    body = error.response_body
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body)


class Steps:
    """One scenario at a time; `begin` names the step, `check` asserts, `done` reports a pass."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.current = ""

    def begin(self, name: str) -> None:
        self.current = name

    def check(self, condition: bool, expected: str, got: Any) -> None:
        if not condition:
            raise Failure(expected, got)

    def equal(self, what: str, got: Any, expected: Any) -> None:
        self.check(got == expected, f"{what} == {expected!r}", got)

    def done(self) -> None:
        self.passed += 1
        print(f"ok   {self.current}", flush=True)

    def refused(self, call: Callable[[], Any], expected: str, body_contains: str) -> KeycloakError:
        """The call must raise a python-keycloak error whose response body names `body_contains`."""
        try:
            result = call()
        except KeycloakError as error:
            self.check(body_contains in error_body(error), f"{expected}; body containing {body_contains!r}", error)
            return error
        raise Failure(f"{expected} (an error), not success", result)

    def scenario(self, title: str, body: Callable[["Steps"], None]) -> None:
        print(f"--- {title}", flush=True)
        self.current = f"{title}: setup"
        try:
            body(self)
        except Failure as failure:
            self.failed += 1
            print(f"FAIL {self.current}", flush=True)
            print(f"     expected: {failure.expected}", flush=True)
            print(f"     got:      {show(failure.got)}", flush=True)
            print(f"     (rest of scenario '{title}' skipped)", flush=True)
        except Exception as error:  # noqa: BLE001 - any surprise is a failed step
            self.failed += 1
            print(f"FAIL {self.current}", flush=True)
            print("     expected: no exception", flush=True)
            print(f"     got:      {show(error)}", flush=True)
            print("     " + traceback.format_exc().replace("\n", "\n     "), flush=True)
            print(f"     (rest of scenario '{title}' skipped)", flush=True)


def require_tokens(s: Steps, tokens: dict, *, refresh: bool = True) -> None:
    s.check(isinstance(tokens, dict), "a JSON object", tokens)
    s.check(isinstance(tokens.get("access_token"), str) and tokens["access_token"].count(".") == 2,
            "access_token: a compact JWT", tokens)
    s.check(isinstance(tokens.get("expires_in"), int) and tokens["expires_in"] > 0,
            "expires_in: a positive integer", tokens)
    s.check(str(tokens.get("token_type", "")).lower() == "bearer", "token_type Bearer", tokens)
    if refresh:
        s.check(isinstance(tokens.get("refresh_token"), str) and tokens["refresh_token"].count(".") == 2,
                "refresh_token: a compact JWT", tokens)
        s.check(isinstance(tokens.get("refresh_expires_in"), int), "refresh_expires_in: an integer", tokens)


def main() -> int:
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} BASE_URL", file=sys.stderr)
        return 2
    base = sys.argv[1].rstrip("/")
    issuer = f"{base}/realms/{REALM}"
    # server_url with a trailing slash: python-keycloak urljoin()s its relative paths onto it.
    backend = KeycloakOpenID(server_url=base + "/", realm_name=REALM, client_id=CLIENT_ID,
                             client_secret_key=CLIENT_SECRET, timeout=30)
    frontend = KeycloakOpenID(server_url=base + "/", realm_name=REALM, client_id=PUBLIC_CLIENT_ID, timeout=30)
    steps = Steps()

    def discovery(s: Steps) -> None:
        s.begin("well_known(): issuer and endpoints are the realm's")
        doc = backend.well_known()
        s.equal("issuer", doc.get("issuer"), issuer)
        oidc = f"{issuer}/protocol/openid-connect"
        for key, url in [("token_endpoint", f"{oidc}/token"), ("userinfo_endpoint", f"{oidc}/userinfo"),
                         ("jwks_uri", f"{oidc}/certs"), ("end_session_endpoint", f"{oidc}/logout"),
                         ("introspection_endpoint", f"{oidc}/token/introspect")]:
            s.equal(key, doc.get(key), url)
        s.check("password" in doc.get("grant_types_supported", []), "password in grant_types_supported", doc)
        s.done()

    def password_refresh(s: Steps) -> None:
        s.begin("token(username, password): password grant with the confidential client")
        tokens = backend.token(USERNAME, PASSWORD)
        require_tokens(s, tokens)
        s.check(isinstance(tokens.get("id_token"), str), "an id_token (scope openid is python-keycloak's default)", tokens)
        s.check("openid" in tokens.get("scope", "").split(), "scope containing openid", tokens)
        s.done()

        s.begin("token(username, wrong password) is refused: 401 invalid_grant")
        error = s.refused(lambda: backend.token(USERNAME, "not-the-password"), "wrong password refused", "invalid_grant")
        s.check(isinstance(error, KeycloakAuthenticationError) and error.response_code == 401,
                "KeycloakAuthenticationError (HTTP 401, as Keycloak answers 'Invalid user credentials')", error)
        s.done()

        s.begin("userinfo(access_token): preferred_username carol")
        info = backend.userinfo(tokens["access_token"])
        s.check(isinstance(info, dict), "a JSON object", info)
        s.equal("preferred_username", info.get("preferred_username"), USERNAME)
        s.equal("email", info.get("email"), "carol@example.com")
        s.check(bool(info.get("sub")), "a sub", info)
        s.done()

        s.begin("introspect(access_token): active, username carol, client backend")
        answer = backend.introspect(tokens["access_token"])
        s.equal("active", answer.get("active"), True)
        s.equal("username", answer.get("username"), USERNAME)
        s.equal("client_id", answer.get("client_id"), CLIENT_ID)
        s.equal("sub", answer.get("sub"), info.get("sub"))
        s.done()

        s.begin("certs() and decode_token(access_token, validate=True): verifies against the realm's JWKS")
        jwks = backend.certs()
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        s.check(isinstance(keys, list) and len(keys) > 0, "a JWKS with at least one key", jwks)
        header = json.loads(_b64url_json(tokens["access_token"].split(".")[0]))
        s.check(header.get("kid") in [k.get("kid") for k in keys], "the access token's kid published in certs()",
                {"header": header, "jwks": jwks})
        claims = backend.decode_token(tokens["access_token"], validate=True)
        s.equal("iss", claims.get("iss"), issuer)
        s.equal("azp", claims.get("azp"), CLIENT_ID)
        s.equal("preferred_username", claims.get("preferred_username"), USERNAME)
        s.equal("typ", claims.get("typ"), "Bearer")
        id_claims = backend.decode_token(tokens["id_token"], validate=True)
        s.equal("id token iss", id_claims.get("iss"), issuer)
        aud = id_claims.get("aud")
        s.check(aud == CLIENT_ID or (isinstance(aud, list) and CLIENT_ID in aud), "id token aud backend", id_claims)
        s.done()

        s.begin("decode_token(tampered access token, validate=True) is rejected")
        head, payload, signature = tokens["access_token"].split(".")
        forged = ".".join([head, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
        try:
            forged_claims = backend.decode_token(forged, validate=True)
        except Exception:  # noqa: BLE001 - jwcrypto raises its own signature errors
            pass
        else:
            raise Failure("a signature error from jwcrypto", forged_claims)
        s.done()

        s.begin("refresh_token(refresh_token): new tokens")
        renewed = backend.refresh_token(tokens["refresh_token"])
        require_tokens(s, renewed)
        s.check(renewed["access_token"] != tokens["access_token"], "a new access token", renewed)
        s.check(renewed["refresh_token"] != tokens["refresh_token"], "a new (rotated) refresh token", renewed)
        s.equal("preferred_username of the new access token",
                backend.decode_token(renewed["access_token"], validate=True).get("preferred_username"), USERNAME)
        s.equal("userinfo with the new access token",
                backend.userinfo(renewed["access_token"]).get("preferred_username"), USERNAME)
        s.done()

        s.begin("refresh_token(old refresh token) is refused: invalid_grant (rotation)")
        s.refused(lambda: backend.refresh_token(tokens["refresh_token"]), "the consumed refresh token refused",
                  "invalid_grant")
        s.done()

        s.begin("after the reuse, its successor is refused too (family revoked, DESIGN §2)")
        s.refused(lambda: backend.refresh_token(renewed["refresh_token"]), "the successor refused", "invalid_grant")
        s.done()

    def offline_and_logout(s: Steps) -> None:
        s.begin("token(..., scope='openid offline_access'): an offline token")
        offline = backend.token(USERNAME, PASSWORD, scope="openid offline_access")
        require_tokens(s, offline)
        s.check("offline_access" in offline.get("scope", "").split(), "scope containing offline_access", offline)
        offline_claims = backend.decode_token(offline["refresh_token"], validate=False)
        s.equal("offline token typ", offline_claims.get("typ"), "Offline")
        s.done()

        s.begin("token(username, password): a fresh online session to log out")
        online = backend.token(USERNAME, PASSWORD)
        require_tokens(s, online)
        s.equal("introspect active before logout", backend.introspect(online["access_token"]).get("active"), True)
        s.done()

        s.begin("logout(refresh_token): 204")
        result = backend.logout(online["refresh_token"])
        s.equal("logout result (python-keycloak's {} for 204)", result, {})
        s.done()

        s.begin("introspect(access token of the logged-out session): active false")
        answer = backend.introspect(online["access_token"])
        s.equal("active", answer.get("active"), False)
        s.done()

        s.begin("userinfo(access token of the logged-out session) is refused: 401")
        error = s.refused(lambda: backend.userinfo(online["access_token"]), "userinfo refused", "invalid_token")
        s.equal("HTTP status", error.response_code, 401)
        s.done()

        s.begin("refresh_token(logged-out refresh token) is refused: invalid_grant")
        s.refused(lambda: backend.refresh_token(online["refresh_token"]), "refresh after logout refused",
                  "invalid_grant")
        s.done()

        s.begin("the offline token survives the logout: refresh_token(offline token) works")
        renewed = backend.refresh_token(offline["refresh_token"])
        require_tokens(s, renewed)
        s.equal("renewed offline token typ",
                backend.decode_token(renewed["refresh_token"], validate=False).get("typ"), "Offline")
        s.equal("introspect of the new access token", backend.introspect(renewed["access_token"]).get("active"), True)
        s.done()

        s.begin("logout(offline token) ends the offline session")
        s.equal("logout result", backend.logout(renewed["refresh_token"]), {})
        s.equal("introspect after offline logout", backend.introspect(renewed["access_token"]).get("active"), False)
        s.refused(lambda: backend.refresh_token(renewed["refresh_token"]), "offline refresh after logout refused",
                  "invalid_grant")
        s.done()

    def client_credentials(s: Steps) -> None:
        s.begin("token(grant_type='client_credentials'): service-account token")
        tokens = backend.token(grant_type="client_credentials")
        require_tokens(s, tokens, refresh=False)
        s.check("refresh_token" not in tokens,
                "no refresh_token (Keycloak's default: use_refresh_tokens_for_client_credentials off)", tokens)
        claims = backend.decode_token(tokens["access_token"], validate=True)
        s.equal("azp", claims.get("azp"), CLIENT_ID)
        s.equal("preferred_username", claims.get("preferred_username"), "service-account-backend")
        answer = backend.introspect(tokens["access_token"])
        s.equal("introspect active", answer.get("active"), True)
        s.equal("introspect username", answer.get("username"), "service-account-backend")
        s.done()

        s.begin("client_credentials with a wrong secret is refused: 401 invalid_client")
        wrong = KeycloakOpenID(server_url=base + "/", realm_name=REALM, client_id=CLIENT_ID,
                               client_secret_key="not-the-secret", timeout=30)
        error = s.refused(lambda: wrong.token(grant_type="client_credentials"), "wrong secret refused",
                          "invalid_client")
        s.equal("HTTP status", error.response_code, 401)
        s.done()

    def public_client(s: Steps) -> None:
        s.begin("public client frontend (no secret): token(username, password)")
        tokens = frontend.token(USERNAME, PASSWORD)
        require_tokens(s, tokens)
        claims = frontend.decode_token(tokens["access_token"], validate=True)
        s.equal("azp", claims.get("azp"), PUBLIC_CLIENT_ID)
        s.equal("preferred_username", claims.get("preferred_username"), USERNAME)
        s.equal("userinfo preferred_username", frontend.userinfo(tokens["access_token"]).get("preferred_username"),
                USERNAME)
        s.done()

        s.begin("public client frontend: refresh_token(refresh_token)")
        renewed = frontend.refresh_token(tokens["refresh_token"])
        require_tokens(s, renewed)
        s.done()

        s.begin("public client frontend: logout(refresh_token)")
        s.equal("logout result", frontend.logout(renewed["refresh_token"]), {})
        s.equal("introspect (by backend) after logout", backend.introspect(renewed["access_token"]).get("active"),
                False)
        s.done()

    def pkce_login_form(s: Steps) -> None:
        # python-keycloak's own test_pkce_auth_url_and_token: it scrapes the login form's action
        # and posts only username and password to it, then reads `code` from the redirect
        import re
        import urllib.parse

        import requests
        from keycloak.pkce_utils import generate_code_challenge, generate_code_verifier

        redirect = "https://frontend.example/callback"
        s.begin("auth_url(code_challenge=S256) and the login form: post username and password to its action")
        verifier = generate_code_verifier()
        challenge, method = generate_code_challenge(verifier)
        url = frontend.auth_url(redirect_uri=redirect, code_challenge=challenge, code_challenge_method=method,
                                scope="openid%20email")
        session = requests.Session()
        page = session.get(url, allow_redirects=False, timeout=30)
        s.equal("login page status", page.status_code, 200)
        actions = re.findall(r"action=\"(.*)\" method", page.text)
        s.check(len(actions) == 1 and actions[0].startswith(base), "one absolute form action", actions)
        answer = session.post(actions[0], data={"username": USERNAME, "password": PASSWORD}, allow_redirects=False,
                              cookies=page.cookies.get_dict(), timeout=30)
        s.equal("login answer status", answer.status_code, 302)
        codes = urllib.parse.parse_qs(answer.headers["Location"]).get("code")
        s.check(codes is not None and len(codes) == 1, "a code in the redirect", answer.headers.get("Location"))
        s.done()

        s.begin("token(authorization_code, code_verifier) and userinfo")
        tokens = frontend.token(grant_type="authorization_code", code=codes[0], redirect_uri=redirect,
                                code_verifier=verifier)
        require_tokens(s, tokens)
        s.equal("userinfo preferred_username", frontend.userinfo(tokens["access_token"]).get("preferred_username"),
                USERNAME)
        s.done()

        s.begin("the same code again is refused: invalid_grant")
        s.refused(lambda: frontend.token(grant_type="authorization_code", code=codes[0], redirect_uri=redirect,
                                         code_verifier=verifier), "code replay refused", "invalid_grant")
        s.done()

    steps.scenario("discovery", discovery)
    steps.scenario("password grant, userinfo, introspection, JWKS, refresh rotation", password_refresh)
    steps.scenario("offline token and logout", offline_and_logout)
    steps.scenario("client credentials", client_credentials)
    steps.scenario("public client", public_client)
    steps.scenario("authorization code with PKCE through the login form", pkce_login_form)

    print(f"{steps.passed} passed, {steps.failed} failed", flush=True)
    return 0 if steps.failed == 0 else 1


def _b64url_json(segment: str) -> str:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode("utf-8")


if __name__ == "__main__":
    sys.exit(main())
