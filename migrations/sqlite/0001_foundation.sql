-- Foundation schema: realms, keys, clients, users, roles, plus the session, token and event tables
-- the token lifecycle fills. Timestamps are integer seconds since the epoch (DESIGN.md §4).
-- Secrets are never stored in plain text: private keys and client secrets are AES-GCM sealed
-- under the master key, passwords are argon2id hashes, tokens are stored as SHA-256 only.

CREATE TABLE realms (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    enabled     BOOLEAN NOT NULL,
    not_before  INTEGER NOT NULL DEFAULT 0,
    -- every Keycloak token/session setting as one JSON document: new settings need no migration
    settings    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    realm_id        TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    algorithm       TEXT NOT NULL,           -- RS256 | ES256 | EdDSA | HS256
    status          TEXT NOT NULL,           -- active signs; passive only verifies
    public_jwk      TEXT,                    -- NULL for the HMAC key, which is never published
    private_sealed  BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    -- a passive key stays in JWKS until every token it signed has expired
    publish_until   INTEGER
);
CREATE INDEX signing_keys_realm ON signing_keys (realm_id);

CREATE TABLE clients (
    id                            TEXT PRIMARY KEY,
    realm_id                      TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    client_id                     TEXT NOT NULL,
    name                          TEXT,
    enabled                       BOOLEAN NOT NULL,
    public_client                 BOOLEAN NOT NULL,
    bearer_only                   BOOLEAN NOT NULL,
    secret_sealed                 BLOB,
    redirect_uris                 TEXT NOT NULL,  -- JSON array
    web_origins                   TEXT NOT NULL,  -- JSON array
    standard_flow_enabled         BOOLEAN NOT NULL,
    direct_access_grants_enabled  BOOLEAN NOT NULL,
    service_accounts_enabled      BOOLEAN NOT NULL,
    consent_required              BOOLEAN NOT NULL,
    attributes                    TEXT NOT NULL,  -- JSON object of strings
    created_at                    INTEGER NOT NULL,
    CONSTRAINT clients_realm_client_id_key UNIQUE (realm_id, client_id)
);

CREATE TABLE users (
    id                         TEXT PRIMARY KEY,
    realm_id                   TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    username                   TEXT NOT NULL,
    email                      TEXT,
    first_name                 TEXT,
    last_name                  TEXT,
    enabled                    BOOLEAN NOT NULL,
    email_verified             BOOLEAN NOT NULL,
    service_account_client_id  TEXT REFERENCES clients (id) ON DELETE CASCADE,
    created_at                 INTEGER NOT NULL,
    CONSTRAINT users_realm_username_key UNIQUE (realm_id, username)
);
CREATE INDEX users_realm_email ON users (realm_id, email);

CREATE TABLE credentials (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type             TEXT NOT NULL,
    secret_data      TEXT NOT NULL,
    credential_data  TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX credentials_user ON credentials (user_id);

CREATE TABLE roles (
    id            TEXT PRIMARY KEY,
    realm_id      TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    container_id  TEXT NOT NULL,   -- realm id for realm roles, client id for client roles
    client_role   BOOLEAN NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT,
    CONSTRAINT roles_container_name_key UNIQUE (container_id, name)
);
CREATE INDEX roles_realm ON roles (realm_id);

CREATE TABLE role_composites (
    parent_id  TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    child_id   TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, child_id)
);

CREATE TABLE user_role_mappings (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id  TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

-- Sessions: liveness is computed from these timestamps at read time (DESIGN.md §3);
-- expires_at is only an upper bound for the cleanup task.
CREATE TABLE user_sessions (
    id              TEXT PRIMARY KEY,
    realm_id        TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    offline         BOOLEAN NOT NULL,
    started_at      INTEGER NOT NULL,
    last_access_at  INTEGER NOT NULL,
    auth_time       INTEGER NOT NULL,
    remember_me     BOOLEAN NOT NULL,
    ip              TEXT,
    user_agent      TEXT,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expiry ON user_sessions (expires_at);

CREATE TABLE client_sessions (
    id               TEXT PRIMARY KEY,
    user_session_id  TEXT NOT NULL REFERENCES user_sessions (id) ON DELETE CASCADE,
    client_id        TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    started_at       INTEGER NOT NULL,
    last_access_at   INTEGER NOT NULL,
    CONSTRAINT client_sessions_session_client_key UNIQUE (user_session_id, client_id)
);

-- A family is the chain of refresh tokens descending from one grant (DESIGN.md §2).
-- Families live as long as their session, so a late reuse of a consumed token is still detected.
CREATE TABLE token_families (
    id                 TEXT PRIMARY KEY,
    client_session_id  TEXT NOT NULL REFERENCES client_sessions (id) ON DELETE CASCADE,
    scope              TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    revoked_at         INTEGER
);
CREATE INDEX token_families_client_session ON token_families (client_session_id);

CREATE TABLE refresh_tokens (
    token_hash   BLOB PRIMARY KEY,     -- SHA-256 of the jti; the token itself is never stored
    family_id    TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    issued_at    INTEGER NOT NULL,
    consumed_at  INTEGER,
    reuse_count  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Authorization codes, stored hashed, single use. After the exchange they keep the family and
-- access token they produced so a replay can revoke both (RFC 6749 §4.1.2).
CREATE TABLE auth_codes (
    code_hash              BLOB PRIMARY KEY,
    realm_id               TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    client_id              TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_session_id        TEXT NOT NULL REFERENCES user_sessions (id) ON DELETE CASCADE,
    redirect_uri           TEXT NOT NULL,
    scope                  TEXT NOT NULL,
    nonce                  TEXT,
    code_challenge         TEXT,
    code_challenge_method  TEXT,
    created_at             INTEGER NOT NULL,
    expires_at             INTEGER NOT NULL,
    consumed_at            INTEGER,
    replayed_at            INTEGER,
    family_id              TEXT,
    access_jti_hash        BLOB,
    access_expires_at      INTEGER
);
CREATE INDEX auth_codes_expiry ON auth_codes (expires_at);

CREATE TABLE revoked_access_tokens (
    jti_hash    BLOB PRIMARY KEY,
    realm_id    TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX revoked_access_tokens_expiry ON revoked_access_tokens (expires_at);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    realm_id    TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    time        INTEGER NOT NULL,
    type        TEXT NOT NULL,
    client_id   TEXT,
    user_id     TEXT,
    session_id  TEXT,
    ip          TEXT,
    error       TEXT,
    details     TEXT
);
CREATE INDEX events_realm_time ON events (realm_id, time);
CREATE INDEX events_time ON events (time);

-- Consents a user granted a client (OIDC Core §11 for offline_access, and consentRequired clients).
CREATE TABLE consents (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- Brute-force detection state per user (Keycloak's bruteForceProtected settings).
CREATE TABLE login_failures (
    user_id          TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    failures         INTEGER NOT NULL,
    last_failure_at  INTEGER NOT NULL,
    locked_until     INTEGER,
    locked_forever   BOOLEAN NOT NULL DEFAULT FALSE
);

-- Admin events: every write through the admin API (representations without secrets).
CREATE TABLE admin_events (
    id              TEXT PRIMARY KEY,
    realm_id        TEXT NOT NULL,
    time            INTEGER NOT NULL,
    operation       TEXT NOT NULL,
    resource_type   TEXT NOT NULL,
    resource_path   TEXT NOT NULL,
    representation  TEXT,
    auth_realm_id   TEXT,
    auth_user_id    TEXT,
    ip              TEXT
);
CREATE INDEX admin_events_realm_time ON admin_events (realm_id, time);
