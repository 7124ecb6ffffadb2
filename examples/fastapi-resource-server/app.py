"""Orders API: a FastAPI resource server that accepts Portcullis (or Keycloak) access tokens.

Every protected request must carry `Authorization: Bearer <access token>`. The token is checked
here, without a call to the server per request:

- signature: against the realm's JWKS, fetched once and cached; a token signed by a key we have
  not seen (the server rotated its keys) triggers one refetch, rate-limited so that garbage `kid`s
  cannot make us hammer the server. The algorithm comes from the key, never from the token;
- `iss`: exactly the realm's issuer, as discovery announces it;
- `aud`: must contain this API's client id (Keycloak/Portcullis put a client in `aud` when the user
  holds one of its client roles), and `azp`, the client the token was issued to, must be one we
  accept: an access token obtained by some other app is not valid here;
- `exp`, `iat`: present, and not expired (no leeway by default: keep clocks in sync with NTP);
- `typ`: `Bearer`, so an ID token (signed by the same key) is not accepted as an access token;
- authorization: `/api/orders` needs the realm role `customer` (`realm_access.roles`).

Configuration (environment): PORTCULLIS_URL (default http://127.0.0.1:8080), REALM (orders),
API_AUDIENCE (orders-api), ALLOWED_CLIENTS (comma-separated; orders-cli), REQUIRED_REALM_ROLE
(customer), CLOCK_LEEWAY_SECONDS (0).

Run: uvicorn app:app --port 8000
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

PORTCULLIS_URL = os.environ.get("PORTCULLIS_URL", "http://127.0.0.1:8080").rstrip("/")
REALM = os.environ.get("REALM", "orders")
ISSUER = f"{PORTCULLIS_URL}/realms/{REALM}"
AUDIENCE = os.environ.get("API_AUDIENCE", "orders-api")
ALLOWED_CLIENTS = {c.strip() for c in os.environ.get("ALLOWED_CLIENTS", "orders-cli").split(",") if c.strip()}
REQUIRED_ROLE = os.environ.get("REQUIRED_REALM_ROLE", "customer")
LEEWAY = float(os.environ.get("CLOCK_LEEWAY_SECONDS", "0"))

logging.basicConfig(level=logging.INFO, format="%(levelname)s:     [orders-api] %(message)s")
log = logging.getLogger("orders-api")


class JwksCache:
    """The issuer's signing keys by `kid`.

    Fetched on first use, again when older than `max_age`, and again when a token names an
    unknown `kid`, at most once per `min_interval` seconds for that reason.
    """

    def __init__(self, jwks_uri: str, max_age: float = 300.0, min_interval: float = 5.0) -> None:
        self._uri = jwks_uri
        self._max_age = max_age
        self._min_interval = min_interval
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK | None:
        if self._fetched_at is None or time.monotonic() - self._fetched_at > self._max_age:
            await self._refresh(None)
        elif kid not in self._keys and time.monotonic() - self._fetched_at >= self._min_interval:
            await self._refresh(kid)
        return self._keys.get(kid)

    async def _refresh(self, unknown_kid: str | None) -> None:
        async with self._lock:
            # another request may have refreshed while this one waited for the lock
            fresh = self._fetched_at is not None and time.monotonic() - self._fetched_at <= self._max_age
            if fresh and (unknown_kid is None or unknown_kid in self._keys):
                return
            async with httpx.AsyncClient(timeout=5.0) as http:
                response = await http.get(self._uri)
                response.raise_for_status()
                document = response.json()
            keys: dict[str, jwt.PyJWK] = {}
            for jwk in document.get("keys", []):
                if not isinstance(jwk, dict) or "kid" not in jwk or jwk.get("use", "sig") != "sig":
                    continue
                try:
                    keys[jwk["kid"]] = jwt.PyJWK(jwk)
                except jwt.PyJWTError:
                    continue  # a key type or algorithm this library cannot verify with
            self._keys = keys
            self._fetched_at = time.monotonic()
            reason = f"unknown kid {unknown_kid}" if unknown_kid else "initial fetch or cache expired"
            log.info("JWKS fetched (%s): %d keys", reason, len(keys))


jwks: JwksCache | None = None


@asynccontextmanager
async def lifespan(_: FastAPI):
    """Reads the realm's discovery document once: fails at start-up, not at the first request."""
    global jwks
    async with httpx.AsyncClient(timeout=5.0) as http:
        response = await http.get(f"{ISSUER}/.well-known/openid-configuration")
        response.raise_for_status()
        discovery = response.json()
    if discovery.get("issuer") != ISSUER:
        raise RuntimeError(f"discovery announces issuer {discovery.get('issuer')!r}, expected {ISSUER!r}")
    jwks = JwksCache(discovery["jwks_uri"])
    log.info("protecting the API with tokens of %s (audience %s)", ISSUER, AUDIENCE)
    yield


app = FastAPI(title="Orders API", lifespan=lifespan)
bearer_scheme = HTTPBearer(auto_error=False)


def unauthorized(description: str | None) -> HTTPException:
    """401 with RFC 6750 section 3's challenge; no error code when no token was sent at all."""
    challenge = f'Bearer realm="{AUDIENCE}"'
    if description is not None:
        challenge += f', error="invalid_token", error_description="{description}"'
    return HTTPException(status.HTTP_401_UNAUTHORIZED, description or "missing bearer token", {"WWW-Authenticate": challenge})


async def verify(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise unauthorized("malformed token") from None
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise unauthorized("token has no key id")
    if jwks is None:  # set by the lifespan handler before the first request
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "not started")
    try:
        key = await jwks.key(kid)
    except httpx.HTTPError as error:
        log.error("cannot fetch the JWKS: %s", error)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "cannot verify tokens right now") from None
    if key is None:
        raise unauthorized("unknown signing key")
    try:
        claims = jwt.decode(
            token,
            key=key.key,
            algorithms=[key.algorithm_name],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("token expired") from None
    except jwt.InvalidAudienceError:
        raise unauthorized("token not issued for this API") from None
    except jwt.MissingRequiredClaimError as error:
        # no `aud` at all: the user holds no role of this API, so the server named no audience
        raise unauthorized("token not issued for this API" if error.claim == "aud" else "invalid token") from None
    except jwt.InvalidIssuerError:
        raise unauthorized("token from another issuer") from None
    except jwt.PyJWTError:
        raise unauthorized("invalid token") from None
    if claims.get("typ") != "Bearer":
        raise unauthorized("not an access token")
    if ALLOWED_CLIENTS and claims.get("azp") not in ALLOWED_CLIENTS:
        raise unauthorized("token issued to a client this API does not accept")
    return claims


async def current_claims(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
) -> dict[str, Any]:
    if credentials is None:
        raise unauthorized(None)
    return await verify(credentials.credentials)


def realm_roles(claims: dict[str, Any]) -> list[str]:
    roles = (claims.get("realm_access") or {}).get("roles") or []
    return [r for r in roles if isinstance(r, str)]


def require_realm_role(role: str):
    async def dependency(claims: dict[str, Any] = Depends(current_claims)) -> dict[str, Any]:
        if role not in realm_roles(claims):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"realm role {role!r} required")
        return claims

    return dependency


ORDERS = {
    "alice": [{"id": "A-1001", "item": "portcullis winch", "quantity": 1}, {"id": "A-1002", "item": "chain", "quantity": 3}],
}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/me")
async def me(claims: dict[str, Any] = Depends(current_claims)) -> dict[str, Any]:
    return {
        "sub": claims["sub"],
        "username": claims.get("preferred_username"),
        "client": claims.get("azp"),
        "realm_roles": realm_roles(claims),
    }


@app.get("/api/orders")
async def orders(claims: dict[str, Any] = Depends(require_realm_role(REQUIRED_ROLE))) -> dict[str, Any]:
    username = claims.get("preferred_username", "")
    return {"username": username, "orders": ORDERS.get(username, [])}
