"""authlib (pinned in tests/python/requirements.txt) as a client of Portcullis' JWT client
authentication (RFC 7523, issue 19 item 1): `client_secret_jwt` and `private_key_jwt` through
authlib's own `OAuth2Session` auth methods, at the token, introspection and revocation endpoints.

Usage: authlib_jwt_client.py <base-url> <realm>. Creates its two clients through the admin API (the
bootstrap admin `admin`/`admin`), and prints one JSON line with what each method got.
"""
import json
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey

base, realm = sys.argv[1:3]
oidc = f"{base}/realms/{realm}/protocol/openid-connect"
token_url = f"{oidc}/token"

admin = requests.post(
    f"{base}/realms/master/protocol/openid-connect/token",
    data={"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": "admin"},
    timeout=10,
).json()["access_token"]


def create(rep):
    reply = requests.post(f"{base}/admin/realms/{realm}/clients", json=rep, headers={"Authorization": f"Bearer {admin}"}, timeout=10)
    assert reply.status_code == 201, reply.text


secret = "authlib-client-secret-0123456789abcdef"
create({"clientId": "authlib-hs", "publicClient": False, "serviceAccountsEnabled": True,
        "clientAuthenticatorType": "client-secret-jwt", "secret": secret})
# authlib's PrivateKeyJWT signs RS256 by default
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
public = RSAKey.import_key(pem).as_dict(private=False)
create({"clientId": "authlib-pk", "publicClient": False, "serviceAccountsEnabled": True,
        "clientAuthenticatorType": "client-jwt",
        "attributes": {"use.jwks.string": "true", "jwks.string": json.dumps({"keys": [public]})}})

results = {}
for method, session in [
    # at revocation authlib's auth method without an endpoint: the assertion's aud is the revocation URL
    ("client_secret_jwt", OAuth2Session("authlib-hs", secret, token_endpoint_auth_method=ClientSecretJWT(token_url),
                                        revocation_endpoint_auth_method=ClientSecretJWT())),
    ("private_key_jwt", OAuth2Session("authlib-pk", pem, token_endpoint_auth_method=PrivateKeyJWT(token_url),
                                      revocation_endpoint_auth_method=PrivateKeyJWT())),
]:
    token = session.fetch_token(token_url, grant_type="client_credentials")
    access = token["access_token"]
    before = session.introspect_token(f"{oidc}/token/introspect", token=access).json()
    revoked = session.revoke_token(f"{oidc}/revoke", token=access)
    after = session.introspect_token(f"{oidc}/token/introspect", token=access).json()
    results[method] = {
        "token_type": token["token_type"],
        "active_before": before.get("active"),
        "client_id": before.get("client_id"),
        "revoke_status": revoked.status_code,
        "active_after": after.get("active"),
    }
print(json.dumps(results))
