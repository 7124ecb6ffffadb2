-- Issue 17 (e-mail): action tokens (the links of execute-actions, verify-email and
-- forgot-password mails) are single use across nodes. A token itself is a self-contained HS256
-- JWT under the realm's HMAC key; the database keeps only the SHA-256 (hex) of the jti of each
-- token already used, until the token's own expiry, after which the cleanup task deletes it in
-- batches (a used token past its `exp` is refused by its signature check anyway). The first
-- INSERT wins; a second use of the link finds the row and is refused.
CREATE TABLE used_action_tokens (
    jti_hash   TEXT PRIMARY KEY,
    realm_id   TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX used_action_tokens_expires_at ON used_action_tokens (expires_at);
