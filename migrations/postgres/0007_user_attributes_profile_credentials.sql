-- Issue 14 items 5 and 9, user credentials; issue 15 user attributes.
-- User attributes, one row per value (Keycloak's USER_ATTRIBUTE), so that `q=name:value` can
-- search them. `position` keeps the order of a multi-valued attribute. Keycloak's attribute
-- search is an exact name and a case-insensitive exact value; the index covers the first 255
-- characters of the lower-cased value (a btree entry must stay small), the query rechecks it whole.
CREATE TABLE user_attributes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    position  INTEGER NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (user_id, name, position)
);
CREATE INDEX user_attributes_search ON user_attributes (name, LOWER(SUBSTR(value, 1, 255)));

-- The realm's declarative user profile (Keycloak 24+ UPConfig JSON); absent: Keycloak's default.
CREATE TABLE user_profiles (
    realm_id  TEXT PRIMARY KEY REFERENCES realms (id) ON DELETE CASCADE,
    config    TEXT NOT NULL
);

-- Keycloak's credential label and order (lower priority first; new credentials go last).
ALTER TABLE credentials ADD COLUMN user_label TEXT;
ALTER TABLE credentials ADD COLUMN priority BIGINT NOT NULL DEFAULT 0;
