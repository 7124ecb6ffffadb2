"""A command-line client of the Orders API (app.py): logs in to Portcullis with the password
grant, calls the API, refreshes the access token with grant_type=refresh_token when it expires,
and logs out. Then it checks what the API must refuse.

Usage: client.py [--portcullis http://127.0.0.1:8080] [--api http://127.0.0.1:8000]

The realm is realm.json from this folder (access tokens live 5 seconds, so one expiry and refresh
happens during the run). Prints one line per step and ends with `N passed, M failed`; exits 1
when a step fails (the steps build on each other, so the first failure ends the run).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Callable

import httpx

REALM = "orders"
CLIENT_ID = "orders-cli"
USERS = {"alice": "alice-password-1", "bob": "bob-password-1", "carol": "carol-password-1"}


class TokenSession:
    """The tokens of one login, kept fresh.

    `access_token()` refreshes when the access token expires within `skew` seconds (the server
    says when, in `expires_in`); `get()` also refreshes once and retries when the API still
    answers 401 invalid_token. Every refresh returns a new refresh token (rotation): the old one
    is consumed, and presenting it again would end the whole login, so it is dropped at once.
    """

    def __init__(self, http: httpx.Client, realm_url: str, client_id: str, skew: float = 1.0) -> None:
        self.http = http
        self.token_url = f"{realm_url}/protocol/openid-connect/token"
        self.logout_url = f"{realm_url}/protocol/openid-connect/logout"
        self.client_id = client_id
        self.skew = skew
        self.tokens: dict[str, Any] = {}
        self.expires_at = 0.0
        self.refreshes = 0

    def _store(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code != 200:
            raise RuntimeError(f"token endpoint answered {response.status_code}: {response.text}")
        self.tokens = response.json()
        self.expires_at = time.monotonic() + float(self.tokens["expires_in"])
        return self.tokens

    def login(self, username: str, password: str) -> dict[str, Any]:
        form = {"grant_type": "password", "client_id": self.client_id, "username": username,
                "password": password, "scope": "openid"}
        return self._store(self.http.post(self.token_url, data=form))

    def refresh(self) -> dict[str, Any]:
        form = {"grant_type": "refresh_token", "client_id": self.client_id,
                "refresh_token": self.tokens["refresh_token"]}
        self.refreshes += 1
        return self._store(self.http.post(self.token_url, data=form))

    def access_token(self) -> str:
        if time.monotonic() >= self.expires_at - self.skew:
            self.refresh()
        return self.tokens["access_token"]

    def get(self, url: str) -> httpx.Response:
        response = self.http.get(url, headers=bearer(self.access_token()))
        if response.status_code == 401 and "invalid_token" in response.headers.get("www-authenticate", ""):
            self.refresh()
            response = self.http.get(url, headers=bearer(self.tokens["access_token"]))
        return response

    def logout(self) -> httpx.Response:
        form = {"client_id": self.client_id, "refresh_token": self.tokens["refresh_token"]}
        return self.http.post(self.logout_url, data=form)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def expect_status(response: httpx.Response, status: int) -> None:
    expect(response.status_code == status,
           f"expected {status}, got {response.status_code} {response.headers.get('www-authenticate', '')} {response.text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portcullis", default="http://127.0.0.1:8080")
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    realm_url = f"{args.portcullis.rstrip('/')}/realms/{REALM}"
    api = args.api.rstrip("/")
    http = httpx.Client(timeout=10.0)
    alice = TokenSession(http, realm_url, CLIENT_ID)
    state: dict[str, Any] = {}

    def no_token_is_401() -> None:
        response = http.get(f"{api}/api/orders")
        expect_status(response, 401)
        expect(response.headers.get("www-authenticate", "").startswith("Bearer"), "a Bearer challenge")

    def alice_logs_in() -> None:
        tokens = alice.login("alice", USERS["alice"])
        expect(0 < tokens["expires_in"] <= 5, f"the realm's 5 s access token lifespan, got {tokens['expires_in']}")
        expect(bool(tokens.get("refresh_token")), "a refresh token")
        state["first_refresh_token"] = tokens["refresh_token"]

    def alice_reads_her_orders() -> None:
        response = alice.get(f"{api}/api/orders")
        expect_status(response, 200)
        body = response.json()
        expect(body["username"] == "alice" and len(body["orders"]) == 2, f"alice's orders, got {body}")
        expect(alice.refreshes == 0, "no refresh needed yet")

    def a_tampered_token_is_401() -> None:
        token = alice.tokens["access_token"]
        head, payload, signature = token.split(".")
        forged = f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
        response = http.get(f"{api}/api/orders", headers=bearer(forged))
        expect_status(response, 401)

    def the_expired_access_token_is_401() -> None:
        state["stale"] = alice.tokens["access_token"]
        time.sleep(max(0.0, alice.expires_at - time.monotonic()) + 1.5)
        response = http.get(f"{api}/api/orders", headers=bearer(state["stale"]))
        expect_status(response, 401)
        expect("token expired" in response.headers.get("www-authenticate", ""), "says the token expired")

    def the_client_refreshes_and_reads_again() -> None:
        response = alice.get(f"{api}/api/orders")
        expect_status(response, 200)
        expect(alice.refreshes == 1, f"exactly one refresh, got {alice.refreshes}")
        expect(alice.tokens["access_token"] != state["stale"], "a new access token")
        expect(alice.tokens["refresh_token"] != state["first_refresh_token"], "rotation: a new refresh token")

    def bob_without_the_realm_role_is_403() -> None:
        bob = TokenSession(http, realm_url, CLIENT_ID)
        bob.login("bob", USERS["bob"])
        expect_status(bob.get(f"{api}/api/me"), 200)
        expect_status(bob.get(f"{api}/api/orders"), 403)
        expect_status(bob.logout(), 204)

    def carol_without_the_api_audience_is_401() -> None:
        carol = TokenSession(http, realm_url, CLIENT_ID)
        carol.login("carol", USERS["carol"])
        response = http.get(f"{api}/api/orders", headers=bearer(carol.access_token()))
        expect_status(response, 401)
        expect("not issued for this API" in response.headers.get("www-authenticate", ""), "audience check")
        expect_status(carol.logout(), 204)

    def a_token_of_another_client_is_401() -> None:
        other = TokenSession(http, realm_url, "reports-cli")
        other.login("alice", USERS["alice"])
        response = http.get(f"{api}/api/orders", headers=bearer(other.access_token()))
        expect_status(response, 401)
        expect("does not accept" in response.headers.get("www-authenticate", ""), "azp check")
        expect_status(other.logout(), 204)

    def an_id_token_is_not_an_access_token() -> None:
        response = http.get(f"{api}/api/orders", headers=bearer(alice.tokens["id_token"]))
        expect_status(response, 401)

    def alice_logs_out_and_her_refresh_token_is_dead() -> None:
        expect_status(alice.logout(), 204)
        form = {"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": alice.tokens["refresh_token"]}
        response = http.post(f"{realm_url}/protocol/openid-connect/token", data=form)
        expect_status(response, 400)
        expect(response.json().get("error") == "invalid_grant", f"invalid_grant, got {response.text}")

    steps: list[tuple[str, Callable[[], None]]] = [
        ("the API refuses a request without a token (401)", no_token_is_401),
        ("alice logs in with the password grant", alice_logs_in),
        ("alice reads her orders with the access token", alice_reads_her_orders),
        ("the API refuses a token with a forged signature (401)", a_tampered_token_is_401),
        ("the API refuses the access token once it expired (401)", the_expired_access_token_is_401),
        ("the client refreshes (grant_type=refresh_token, rotated) and reads again", the_client_refreshes_and_reads_again),
        ("bob, without realm role customer, is refused (403)", bob_without_the_realm_role_is_403),
        ("carol, without a role on orders-api (not in aud), is refused (401)", carol_without_the_api_audience_is_401),
        ("a token issued to another client (azp reports-cli) is refused (401)", a_token_of_another_client_is_401),
        ("an ID token is refused as an access token (401)", an_id_token_is_not_an_access_token),
        ("alice logs out; her refresh token no longer works", alice_logs_out_and_her_refresh_token_is_dead),
    ]
    passed = 0
    for index, (name, run) in enumerate(steps):
        try:
            run()
        except Exception as error:  # report the step and stop: later steps build on it
            print(f"FAIL {name}: {error}")
            for skipped, _ in steps[index + 1:]:
                print(f"skip {skipped}")
            print(f"{passed} passed, {len(steps) - passed} failed")
            return 1
        passed += 1
        print(f"ok   {name}")
    print(f"{passed} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
