#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/: a few valid inputs and a few classic
hostile ones per target. The keys are the fixed fuzzing keys of fuzz/src/lib.rs (public, never
used by a server), so the valid seed tokens verify there. Rerun after changing those keys:

    python3 fuzz/make_seeds.py        (needs the `cryptography` package for Ed25519)
"""

import base64
import hashlib
import hmac
import json
import pathlib
import shutil

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

HERE = pathlib.Path(__file__).resolve().parent
ISSUER = "http://localhost:8080/realms/fuzz"
HMAC_SECRET = b"portcullis-fuzz-hmac-secret-0001"
OTHER_HMAC_SECRET = b"portcullis-fuzz-hmac-secret-0002"
ED25519 = Ed25519PrivateKey.from_private_bytes(b"portcullis-fuzz-ed25519-seed-001")
EXP, IAT = 4_000_000_000, 1_699_999_000


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def part(value: dict) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def hs256(header: dict, claims: dict, secret: bytes) -> str:
    signed = f"{part(header)}.{part(claims)}"
    return f"{signed}.{b64(hmac.new(secret, signed.encode(), hashlib.sha256).digest())}"


def eddsa(header: dict, claims: dict) -> str:
    signed = f"{part(header)}.{part(claims)}"
    return f"{signed}.{b64(ED25519.sign(signed.encode()))}"


def refresh_claims(typ: str) -> dict:
    return {
        "exp": EXP, "iat": IAT, "jti": "j" * 43, "iss": ISSUER, "aud": ISSUER, "sub": "user-1",
        "typ": typ, "azp": "app", "sid": "sid-1", "session_state": "sid-1", "scope": "openid profile",
    }


def access_claims(**changes) -> dict:
    claims = {
        "exp": EXP, "iat": IAT, "jti": "a" * 22, "iss": ISSUER, "aud": "account", "sub": "user-1",
        "typ": "Bearer", "azp": "app", "sid": "sid-1", "realm_access": {"roles": ["user"]},
        "scope": "openid", "preferred_username": "alice",
    }
    claims.update(changes)
    return claims


def tokens() -> dict:
    hs = {"alg": "HS256", "typ": "JWT", "kid": "fuzz-hmac"}
    ed = {"alg": "EdDSA", "typ": "JWT", "kid": "fuzz-eddsa"}
    public = ED25519.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    id_claims = access_claims(typ="ID", aud="app", at_hash="x", acr="1")
    return {
        "refresh": hs256(hs, refresh_claims("Refresh"), HMAC_SECRET),
        "offline": hs256(hs, refresh_claims("Offline"), HMAC_SECRET),
        "refresh-other-realm": hs256(hs, refresh_claims("Refresh"), OTHER_HMAC_SECRET),
        "refresh-typ-bearer": hs256(hs, refresh_claims("Bearer"), HMAC_SECRET),
        "access": eddsa(ed, access_claims()),
        "access-expired": eddsa(ed, access_claims(exp=IAT)),
        "access-other-issuer": eddsa(ed, access_claims(iss="http://evil/realms/fuzz")),
        "id-token": eddsa(ed, id_claims),
        "alg-none": f"{part({'alg': 'none', 'kid': 'fuzz-eddsa'})}.{part(access_claims())}.",
        "alg-confusion": hs256({"alg": "HS256", "kid": "fuzz-eddsa"}, access_claims(), public),
        "jku-header": eddsa({**ed, "jku": "http://evil/jwks", "x5u": "http://evil/x5"}, access_claims()),
        "kid-injection": eddsa({**ed, "kid": "../../etc/passwd' OR 1=1--"}, access_claims()),
    }


FORMS = {
    "password-grant": b"grant_type=password&username=alice&password=p%40ss+w%C3%B6rd&client_id=app&scope=openid",
    "refresh-grant": b"grant_type=refresh_token&refresh_token=eyJ.eyJ.sig&client_id=app&client_secret=s%26x",
    "empty-values": b"grant_type=password&code=&redirect_uri=&username=a%2Bb",
    "repeated": b"grant_type=password&grant_type=refresh_token",
    "nul": b"username=a%00b",
    "basic": b"Basic YXBwOnNlY3JldA==",
    "basic-encoded": b"basic bXklMjBhcHA6cyUzQWNyZXQ=",
    "basic-lone-percent": b"BASIC YSUyOmI=",
    "content-type": b"application/x-www-form-urlencoded; charset=UTF-8",
    "id-newline-secret": b"my app\ns3cr:et&x=y",
    # crashes found by fuzzing, kept as seeds (each also has a unit test next to its parser)
    "regression-basic-ampersand": b"BASIC YSZyOmI=",
}

REALMS = {
    "minimal.json": {"realm": "demo"},
    "array.json": [{"realm": "one"}, {"realm": "two", "unknownField": 1}],
    "settings.json": {
        "realm": "settings", "enabled": True, "notBefore": 5, "defaultSignatureAlgorithm": "ES256",
        "accessTokenLifespan": 300, "ssoSessionIdleTimeout": 1800, "revokeRefreshToken": True,
        "refreshTokenMaxReuse": 0, "refreshTokenReuseIntervalSeconds": 10, "sslRequired": "external",
        "bruteForceProtected": True, "failureFactor": 30, "eventsEnabled": False,
    },
    "full.json": {
        "realm": "shop", "displayName": "Shop",
        "roles": {
            "realm": [{"name": "user", "composites": {"realm": ["offline_access"], "client": {"app": ["view"]}}},
                      {"name": "offline_access", "attributes": {"a": ["b"]}}],
            "client": {"app": [{"name": "view", "description": "d"}]},
        },
        "defaultRole": {"name": "default-roles-shop"},
        "clients": [
            {"clientId": "app", "secret": "app-secret", "redirectUris": ["https://app.example/*"],
             "webOrigins": ["+"], "directAccessGrantsEnabled": True, "serviceAccountsEnabled": True,
             "attributes": {"pkce.code.challenge.method": "S256", "n": 300, "b": True, "z": None},
             "protocol": "openid-connect", "protocolMappers": [{"name": "x"}]},
            {"clientId": "spa", "publicClient": True, "secret": "**********"},
        ],
        "users": [
            {"username": "Alice", "email": "a@example.org", "enabled": True, "realmRoles": ["user"],
             "clientRoles": {"app": ["view"]},
             "credentials": [{"type": "password", "value": "pw", "temporary": True}]},
            {"username": "bob", "credentials": [{"type": "password", "hashedSaltedValue": "aGFzaA==",
             "salt": "c2FsdA==", "hashIterations": 27500, "algorithm": "pbkdf2-sha256"}]},
        ],
    },
}


def write(target: str, name: str, data: bytes) -> None:
    (HERE / "corpus" / target / name).write_bytes(data)


def main() -> None:
    for target in ("token_verify", "form_basic", "realm_import"):
        shutil.rmtree(HERE / "corpus" / target, ignore_errors=True)
        (HERE / "corpus" / target).mkdir(parents=True)
    for name, token in tokens().items():
        write("token_verify", name, token.encode())
    for name, data in FORMS.items():
        write("form_basic", name, data)
    for name, realm in REALMS.items():
        write("realm_import", name, json.dumps(realm, indent=1).encode())
    write("realm_import", "bom.json", "\ufeff{\"realm\":\"bom\"}".encode())
    write("realm_import", "bad-name.json", b'{"realm":"../etc"}')


if __name__ == "__main__":
    main()
