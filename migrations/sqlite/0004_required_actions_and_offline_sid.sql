-- Issue 13 items 24 and 6.
-- Keycloak's required actions per user (a JSON array of provider ids such as "UPDATE_PASSWORD"):
-- a user with any pending is refused at login until Portcullis can run them, never let through.
ALTER TABLE users ADD COLUMN required_actions TEXT NOT NULL DEFAULT '[]';
-- An offline session created from a browser login carries that browser (SSO) session's id here:
-- its tokens name it as `sid` / `session_state`, as Keycloak's do (Keycloak keys the offline
-- session by the browser session's id), so RP-initiated logout with such an ID token ends the
-- session the browser holds. NULL for sessions that are their own (online, password grant).
ALTER TABLE user_sessions ADD COLUMN browser_session_id TEXT;
