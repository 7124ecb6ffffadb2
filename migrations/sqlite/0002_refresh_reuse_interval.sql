-- Lost-response recovery (realm setting refreshTokenReuseIntervalSeconds, issue 7 item 6): for
-- that many seconds after a rotation, re-presenting the consumed token hands out the same
-- successor again instead of revoking the family. Only the successor's hash is stored as a key,
-- so to re-issue it the consumed row keeps the successor's jti sealed (AES-256-GCM under the
-- master key, bound to this row's hash), never in plain text; cleanup clears it once
-- reuse_until has passed. Rows rotated while the setting is 0 (the default) keep these NULL.
ALTER TABLE refresh_tokens ADD COLUMN successor_hash BLOB;
ALTER TABLE refresh_tokens ADD COLUMN successor_sealed BLOB;
ALTER TABLE refresh_tokens ADD COLUMN reuse_until INTEGER;
CREATE INDEX refresh_tokens_reuse_until ON refresh_tokens (reuse_until) WHERE successor_sealed IS NOT NULL;
