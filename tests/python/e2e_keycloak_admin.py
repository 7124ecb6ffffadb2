#!/usr/bin/env python3
"""End to end with a real Keycloak admin client: python-keycloak's KeycloakAdmin, unchanged,
against a running Portcullis, logged in as the bootstrap admin of realm master through admin-cli.

Usage: e2e_keycloak_admin.py BASE_URL   (e.g. http://127.0.0.1:8080)

The server must run `start-dev` with the default admin/admin and have imported
tests/fixtures/secrets-realm.json (realm `vault`, user carol who is no admin). The script makes
its own realm `e2e`, drives realms, users, passwords, clients and secrets, sessions, roles,
consents and events through KeycloakAdmin's methods (and, where python-keycloak has no method,
through its authenticated connection, the way Terraform-style tools call the API), then deletes
the realm. Prints one line per passed step and ends with `N passed, M failed`; exits non-zero on
any failure. Steps within one scenario depend on each other, so a failure ends its scenario and
the next one starts.

tests/api/admin_python.rs runs this against `portcullis start-dev`; scripts/test.sh creates the
.venv it runs in from tests/python/requirements.txt.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any, Callable

from keycloak import KeycloakAdmin, KeycloakOpenID, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakError

REALM = "e2e"
USERNAME = "ivy"
PASSWORD = "ivy-first-password-123"
NEW_PASSWORD = "ivy-second-password-456"
CLIENT_ID = "e2e-app"


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

    def refused(self, call: Callable[[], Any], status: int) -> KeycloakError:
        """The call must raise a python-keycloak error with this HTTP status."""
        try:
            result = call()
        except KeycloakError as error:
            self.check(error.response_code == status, f"HTTP {status}", error)
            return error
        raise Failure(f"HTTP {status} (an error), not success", result)

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


def main() -> int:
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} BASE_URL", file=sys.stderr)
        return 2
    base = sys.argv[1].rstrip("/") + "/"
    connection = KeycloakOpenIDConnection(server_url=base, username="admin", password="admin",
                                          realm_name="master", user_realm_name="master",
                                          client_id="admin-cli", timeout=30)
    admin = KeycloakAdmin(connection=connection)
    steps = Steps()
    state: dict[str, Any] = {}

    def in_realm() -> None:
        admin.change_current_realm(REALM)

    def realms(s: Steps) -> None:
        s.begin("get_realms(): master and vault, with their settings")
        names = [r["realm"] for r in admin.get_realms()]
        s.check("master" in names and "vault" in names, "master and vault listed", names)
        s.done()

        s.begin("create_realm(): 201, then skip_exists=True tolerates the 409")
        admin.create_realm({"realm": REALM, "enabled": True, "accessTokenLifespan": 120,
                            "eventsEnabled": True, "adminEventsEnabled": True,
                            "adminEventsDetailsEnabled": True})
        admin.create_realm({"realm": REALM, "enabled": True}, skip_exists=True)
        s.refused(lambda: admin.create_realm({"realm": REALM, "enabled": True}), 409)
        s.done()

        s.begin("get_realm() / update_realm(): settings read back and written")
        realm = admin.get_realm(REALM)
        s.equal("accessTokenLifespan", realm.get("accessTokenLifespan"), 120)
        s.equal("revokeRefreshToken (secure default)", realm.get("revokeRefreshToken"), True)
        admin.update_realm(REALM, {"ssoSessionIdleTimeout": 900, "displayName": "End to end"})
        realm = admin.get_realm(REALM)
        s.equal("ssoSessionIdleTimeout", realm.get("ssoSessionIdleTimeout"), 900)
        s.equal("displayName", realm.get("displayName"), "End to end")
        s.refused(lambda: admin.get_realm("no-such-realm"), 404)
        s.done()

    def users(s: Steps) -> None:
        in_realm()
        s.begin("create_user() with a password: the id from the Location header")
        user_id = admin.create_user({"username": USERNAME, "email": "ivy@example.com", "enabled": True,
                                     "credentials": [{"type": "password", "value": PASSWORD,
                                                      "temporary": False}]})
        state["user_id"] = user_id
        s.equal("get_user_id(username)", admin.get_user_id(USERNAME), user_id)
        s.done()

        s.begin("the password works for a login to the new realm")
        # every realm gets a public admin-cli client, as in Keycloak
        state["openid"] = KeycloakOpenID(server_url=base, realm_name=REALM, client_id="admin-cli", timeout=30)
        tokens = state["openid"].token(USERNAME, PASSWORD)
        s.check(isinstance(tokens.get("access_token"), str), "an access token", tokens)
        s.equal("expires_in (the realm's accessTokenLifespan)", tokens.get("expires_in"), 120)
        s.done()

        s.begin("get_user(), get_users(search), users_count(), update_user()")
        user = admin.get_user(user_id)
        s.equal("username", user.get("username"), USERNAME)
        s.equal("email", user.get("email"), "ivy@example.com")
        s.check("credentials" not in user, "no credentials shown", user)
        s.equal("search", [u["username"] for u in admin.get_users({"search": "iv"})], [USERNAME])
        s.equal("users_count()", admin.users_count(), 1)
        admin.update_user(user_id, {"firstName": "Ivy", "lastName": "Example"})
        s.equal("firstName after update", admin.get_user(user_id).get("firstName"), "Ivy")
        s.done()

        s.begin("create_user() of a taken username: 409; get_user() of an unknown id: 404")
        s.refused(lambda: admin.create_user({"username": USERNAME}), 409)
        s.equal("create_user(exist_ok=True)", admin.create_user({"username": USERNAME}, exist_ok=True), user_id)
        s.refused(lambda: admin.get_user("no-such-user"), 404)
        s.done()

        s.begin("set_user_password(): the old password stops working, the new one works")
        admin.set_user_password(user_id, NEW_PASSWORD, temporary=False)
        s.refused(lambda: state["openid"].token(USERNAME, PASSWORD), 401)
        s.check("access_token" in state["openid"].token(USERNAME, NEW_PASSWORD), "a token", "no token")
        s.done()

    def clients(s: Steps) -> None:
        in_realm()
        s.begin("create_client() confidential with a service account; get_client_id()")
        uuid = admin.create_client({"clientId": CLIENT_ID, "publicClient": False, "directAccessGrantsEnabled": True,
                                    "serviceAccountsEnabled": True, "redirectUris": ["https://app.example/*"]})
        state["client_uuid"] = uuid
        s.equal("get_client_id()", admin.get_client_id(CLIENT_ID), uuid)
        s.equal("get_client()['clientId']", admin.get_client(uuid).get("clientId"), CLIENT_ID)
        s.refused(lambda: admin.create_client({"clientId": CLIENT_ID}), 409)
        s.done()

        s.begin("get_client_secrets(): the generated secret authenticates the client")
        secret = admin.get_client_secrets(uuid)
        s.equal("type", secret.get("type"), "secret")
        app = KeycloakOpenID(server_url=base, realm_name=REALM, client_id=CLIENT_ID,
                             client_secret_key=secret["value"], timeout=30)
        s.check("access_token" in app.token(grant_type="client_credentials"), "a client_credentials token", "none")
        s.equal("service account", admin.get_client_service_account_user(uuid).get("username"),
                f"service-account-{CLIENT_ID}")
        s.done()

        s.begin("generate_client_secrets(): the old secret fails at once, the new one works")
        fresh = admin.generate_client_secrets(uuid)
        s.check(fresh.get("value") and fresh["value"] != secret["value"], "a new secret", fresh)
        s.refused(lambda: app.token(grant_type="client_credentials"), 401)
        renewed = KeycloakOpenID(server_url=base, realm_name=REALM, client_id=CLIENT_ID,
                                 client_secret_key=fresh["value"], timeout=30)
        s.check("access_token" in renewed.token(grant_type="client_credentials"), "a token", "none")
        state["app"] = renewed
        s.done()

    def sessions(s: Steps) -> None:
        in_realm()
        app: KeycloakOpenID = state["app"]
        user_id = state["user_id"]
        s.begin("two logins: get_sessions(), get_client_all_sessions(), get_client_sessions_stats()")
        first = app.token(USERNAME, NEW_PASSWORD)
        second = app.token(USERNAME, NEW_PASSWORD)
        listed = [x for x in admin.get_sessions(user_id) if state["client_uuid"] in x.get("clients", {})]
        ids = sorted(x["id"] for x in listed)
        s.equal("session ids", ids, sorted([first["session_state"], second["session_state"]]))
        s.equal("clients of a session", listed[0].get("clients"), {state["client_uuid"]: CLIENT_ID})
        s.equal("client sessions", len(admin.get_client_all_sessions(state["client_uuid"])), 2)
        stats = {x["clientId"]: x for x in admin.get_client_sessions_stats()}
        s.equal("active sessions of the client", stats.get(CLIENT_ID, {}).get("active"), "2")
        s.done()

        s.begin("DELETE /sessions/{id}: that session's refresh token dies, the other's lives")
        url = f"admin/realms/{REALM}/sessions/{first['session_state']}"
        s.equal("status", admin.connection.raw_delete(url).status_code, 204)
        s.refused(lambda: app.refresh_token(first["refresh_token"]), 400)
        second = app.refresh_token(second["refresh_token"])
        s.check("access_token" in second, "the other session refreshes", second)
        s.done()

        s.begin("user_logout(): every session of the user ends")
        admin.user_logout(user_id)
        s.equal("sessions after logout", admin.get_sessions(user_id), [])
        s.refused(lambda: app.refresh_token(second["refresh_token"]), 400)
        s.done()

        s.begin("POST logout-all and push-revocation: Keycloak's GlobalRequestResult")
        again = app.token(USERNAME, NEW_PASSWORD)
        response = admin.connection.raw_post(f"admin/realms/{REALM}/logout-all", data=None)
        s.equal("logout-all status", response.status_code, 200)
        s.equal("logout-all body", response.json(), {"successRequests": [], "failedRequests": []})
        s.refused(lambda: app.refresh_token(again["refresh_token"]), 400)
        response = admin.connection.raw_post(f"admin/realms/{REALM}/push-revocation", data=None)
        s.equal("push-revocation status", response.status_code, 200)
        s.check("No adapters to notify" in response.json().get("message", ""), "says so", response.text)
        s.done()

    def roles(s: Steps) -> None:
        in_realm()
        user_id = state["user_id"]
        s.begin("create_realm_role(), get_realm_role(), get_realm_roles()")
        admin.create_realm_role({"name": "reader", "description": "Reads"})
        admin.create_realm_role({"name": "reader"}, skip_exists=True)
        role = admin.get_realm_role("reader")
        s.equal("description", role.get("description"), "Reads")
        names = [r["name"] for r in admin.get_realm_roles()]
        s.check("reader" in names and "offline_access" in names, "reader and offline_access", names)
        s.done()

        s.begin("assign_realm_roles(), get_realm_roles_of_user(), get_all_roles_of_user()")
        admin.assign_realm_roles(user_id, [role])
        names = [r["name"] for r in admin.get_realm_roles_of_user(user_id)]
        s.check("reader" in names, "reader mapped", names)
        mappings = admin.get_all_roles_of_user(user_id)
        s.check("reader" in [r["name"] for r in mappings.get("realmMappings", [])], "in realmMappings", mappings)
        s.done()

        s.begin("assign_client_role(realm-management view-users) makes a realm admin of the user")
        management = admin.get_client_id("realm-management")
        view_users = admin.get_client_role(management, "view-users")
        admin.assign_client_role(user_id, management, [view_users])
        granted = [r["name"] for r in admin.get_client_roles_of_user(user_id, management)]
        s.equal("client roles of the user", granted, ["view-users"])
        ivy = KeycloakAdmin(connection=KeycloakOpenIDConnection(
            server_url=base, username=USERNAME, password=NEW_PASSWORD, realm_name=REALM,
            client_id="admin-cli", timeout=30))
        s.equal("ivy lists her realm's users", [u["username"] for u in ivy.get_users()], [USERNAME])
        s.refused(lambda: ivy.get_clients(), 403)
        s.refused(lambda: ivy.create_user({"username": "intruder"}), 403)
        admin.delete_client_roles_of_user(user_id, management, [view_users])
        s.refused(lambda: ivy.get_users(), 403)
        s.done()

        s.begin("delete_realm_roles_of_user(), update_realm_role(), delete_realm_role()")
        admin.delete_realm_roles_of_user(user_id, [role])
        s.check("reader" not in [r["name"] for r in admin.get_realm_roles_of_user(user_id)], "unmapped", "mapped")
        admin.update_realm_role("reader", {"name": "reader", "description": "Reads more"})
        s.equal("description", admin.get_realm_role("reader").get("description"), "Reads more")
        admin.delete_realm_role("reader")
        s.refused(lambda: admin.get_realm_role("reader"), 404)
        s.done()

    def consents(s: Steps) -> None:
        in_realm()
        app: KeycloakOpenID = state["app"]
        user_id = state["user_id"]
        s.begin("an offline token shows in user_consents() as an Offline Token grant")
        offline = app.token(USERNAME, NEW_PASSWORD, scope="openid offline_access")
        listed = admin.user_consents(user_id)
        entry = next((c for c in listed if c.get("clientId") == CLIENT_ID), None)
        s.check(entry is not None, f"an entry for {CLIENT_ID}", listed)
        s.equal("additionalGrants", entry.get("additionalGrants"), [{"client": CLIENT_ID, "key": "Offline Token"}])
        s.done()

        s.begin("revoke_consent(): the offline token dies at once")
        admin.revoke_consent(user_id, CLIENT_ID)
        s.refused(lambda: app.refresh_token(offline["refresh_token"]), 400)
        s.refused(lambda: admin.revoke_consent(user_id, CLIENT_ID), 404)
        s.done()

    def events(s: Steps) -> None:
        in_realm()
        s.begin("get_events({'type': 'LOGIN'}) and get_admin_events()")
        login_events = admin.get_events({"type": "LOGIN"})
        s.check(len(login_events) >= 1 and all(e.get("type") == "LOGIN" for e in login_events),
                "LOGIN events only", login_events)
        admin_events = admin.get_admin_events({"resourceTypes": "USER", "operationTypes": "CREATE"})
        paths = [e.get("resourcePath") for e in admin_events]
        s.check(f"users/{state['user_id']}" in paths, "the user's creation recorded", admin_events)
        s.check(all(PASSWORD not in json.dumps(e) for e in admin_events), "no password in admin events",
                admin_events)
        s.done()

    def not_an_admin(s: Steps) -> None:
        s.begin("KeycloakAdmin as carol of realm vault (no admin role): 403")
        carol = KeycloakAdmin(connection=KeycloakOpenIDConnection(
            server_url=base, username="carol", password="correct-horse-battery-staple",
            realm_name="vault", client_id="frontend", timeout=30))
        s.refused(lambda: carol.get_users(), 403)
        s.done()

    def cleanup(s: Steps) -> None:
        in_realm()
        s.begin("delete_user(), delete_client(), then delete_realm(): everything is gone")
        admin.delete_user(state["user_id"])
        s.refused(lambda: admin.get_user(state["user_id"]), 404)
        admin.delete_client(state["client_uuid"])
        s.equal("get_client_id after delete", admin.get_client_id(CLIENT_ID), None)
        admin.change_current_realm("master")
        admin.delete_realm(REALM)
        s.refused(lambda: admin.get_realm(REALM), 404)
        s.check(REALM not in [r["realm"] for r in admin.get_realms()], "not listed", admin.get_realms())
        s.done()

    steps.scenario("realms", realms)
    steps.scenario("users and passwords", users)
    steps.scenario("clients and secrets", clients)
    steps.scenario("sessions", sessions)
    steps.scenario("roles", roles)
    steps.scenario("consents", consents)
    steps.scenario("events", events)
    steps.scenario("401/403", not_an_admin)
    steps.scenario("cleanup", cleanup)

    print(f"{steps.passed} passed, {steps.failed} failed", flush=True)
    return 0 if steps.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
