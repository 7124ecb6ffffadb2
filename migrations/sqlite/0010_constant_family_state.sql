-- Issue 16 items 1-2 (DESIGN.md §2 "Constant state per family", §4): a token family keeps a
-- constant amount of state however often it is refreshed. The family row holds its current
-- generation, the hash of its newest token, how often the generation before it was presented
-- again (refreshTokenMaxReuse), and the sealed successor for the reuse interval. Each refresh
-- shell carries its family id and generation under the realm's HMAC, so an older generation
-- presented later is detected as reuse without any row of its own.
--
-- The same schema as Postgres migration 0011, which explains the indexing (heap-only updates).
ALTER TABLE token_families ADD COLUMN generation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE token_families ADD COLUMN current_hash BLOB;          -- SHA-256 of the newest jti
ALTER TABLE token_families ADD COLUMN reuse_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE token_families ADD COLUMN rotated_at INTEGER;           -- when the newest token was issued
ALTER TABLE token_families ADD COLUMN successor_sealed BLOB;      -- newest jti, AES-256-GCM under the master key
ALTER TABLE token_families ADD COLUMN reuse_until INTEGER;
CREATE INDEX token_families_reuse_until ON token_families (reuse_until) WHERE successor_sealed IS NOT NULL;

-- Tokens live at the upgrade carry no family or generation. Their rows stay, frozen (nothing is
-- inserted or updated any more), as the lookup for such shells until their family rotates once:
-- an unconsumed row is generation 0 of its family, a consumed one generation -1, so the rules
-- for generations apply to them unchanged. The cascade from the family still deletes them.
ALTER TABLE refresh_tokens RENAME TO legacy_refresh_tokens;
UPDATE token_families SET
    generation = 0,
    current_hash = (SELECT t.token_hash FROM legacy_refresh_tokens t WHERE t.family_id = token_families.id
                    AND t.consumed_at IS NULL ORDER BY t.issued_at DESC, t.token_hash LIMIT 1),
    rotated_at = (SELECT t.issued_at FROM legacy_refresh_tokens t WHERE t.family_id = token_families.id
                  AND t.consumed_at IS NULL ORDER BY t.issued_at DESC, t.token_hash LIMIT 1)
WHERE EXISTS (SELECT 1 FROM legacy_refresh_tokens t WHERE t.family_id = token_families.id);
-- the sealed successor recorded by the rotation that issued the current token moves up too
UPDATE token_families SET
    successor_sealed = (SELECT t.successor_sealed FROM legacy_refresh_tokens t WHERE t.family_id = token_families.id
                        AND t.successor_hash = token_families.current_hash AND t.successor_sealed IS NOT NULL LIMIT 1),
    reuse_until = (SELECT t.reuse_until FROM legacy_refresh_tokens t WHERE t.family_id = token_families.id
                   AND t.successor_hash = token_families.current_hash AND t.successor_sealed IS NOT NULL LIMIT 1)
WHERE generation = 0 AND current_hash IS NOT NULL;
UPDATE legacy_refresh_tokens SET successor_hash = NULL, successor_sealed = NULL, reuse_until = NULL
WHERE successor_sealed IS NOT NULL;
DROP INDEX refresh_tokens_reuse_until;

-- Cleanup finds expired sessions by `cleanup_after`, never earlier than `expires_at`: equal to it
-- when the session starts, and when a touch moves `expires_at` past it, one hour beyond, so it
-- moves at most once an hour however often the session is refreshed and the touch of a refresh
-- leaves the indexed column alone (on Postgres: a heap-only update). A touched session may so be
-- deleted up to an hour after it expired; liveness never depends on cleanup (DESIGN.md §3).
ALTER TABLE user_sessions ADD COLUMN cleanup_after INTEGER NOT NULL DEFAULT 0;
UPDATE user_sessions SET cleanup_after = expires_at;
DROP INDEX user_sessions_expiry;
CREATE INDEX user_sessions_cleanup ON user_sessions (cleanup_after);
