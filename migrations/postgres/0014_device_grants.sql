-- Issue 19, the device authorization grant (RFC 8628): one row per device authorization in
-- progress, keyed by the SHA-256 of its device code; the user code is kept only as its SHA-256
-- too (unique per realm while the row lives). `user_session_id` is set when the user approves
-- on the device page, `denied` when they refuse; neither while the grant is pending. Polling is
-- paced by `last_poll_at` and `poll_interval` (RFC 8628 §3.5 `slow_down`). The token request
-- deletes an approved row in one statement, so a device code is redeemed once on any node. The
-- cleanup task deletes rows some time after `expires_at` (until then a late poll still learns
-- `expired_token`).
CREATE TABLE device_grants (
    device_code_hash BYTEA PRIMARY KEY,
    user_code_hash   BYTEA NOT NULL,
    realm_id         TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    client_id        TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope            TEXT NOT NULL,
    nonce            TEXT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    poll_interval    BIGINT NOT NULL,
    last_poll_at     BIGINT,
    user_session_id  TEXT,
    denied           BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX device_grants_user_code ON device_grants (realm_id, user_code_hash);
CREATE INDEX device_grants_expires_at ON device_grants (expires_at);
