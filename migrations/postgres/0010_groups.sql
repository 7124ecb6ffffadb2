-- Issue 15: Keycloak's groups. A group has a parent (NULL: top level) and a name unique among its
-- siblings; its path (`/a/b`) is computed from its ancestors, never stored, so a rename or move
-- touches one row. `group_closure` holds every (ancestor, descendant) pair, the group itself at
-- depth 0: the roles a member inherits from all ancestors are one join, with no recursion on the
-- token path. Deleting a group deletes its subtree (parent_id cascades), and with it memberships,
-- role mappings, attributes and closure rows.
CREATE TABLE realm_groups (
    id             TEXT PRIMARY KEY,
    realm_id       TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    parent_id      TEXT REFERENCES realm_groups (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT,
    -- a realm default group: users created later join it (Keycloak's defaultGroups)
    default_group  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX realm_groups_sibling_name_key ON realm_groups (realm_id, COALESCE(parent_id, ''), name);
CREATE INDEX realm_groups_parent ON realm_groups (parent_id);

-- One row per value, so `q=key:value` is an index lookup on both backends.
CREATE TABLE group_attributes (
    group_id  TEXT NOT NULL REFERENCES realm_groups (id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    position  BIGINT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (group_id, name, position)
);
CREATE INDEX group_attributes_name_value ON group_attributes (name, value);

CREATE TABLE group_closure (
    ancestor_id    TEXT NOT NULL REFERENCES realm_groups (id) ON DELETE CASCADE,
    descendant_id  TEXT NOT NULL REFERENCES realm_groups (id) ON DELETE CASCADE,
    depth          BIGINT NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX group_closure_descendant ON group_closure (descendant_id);

CREATE TABLE group_role_mappings (
    group_id  TEXT NOT NULL REFERENCES realm_groups (id) ON DELETE CASCADE,
    role_id   TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, role_id)
);
CREATE INDEX group_role_mappings_role ON group_role_mappings (role_id);

CREATE TABLE user_group_membership (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id  TEXT NOT NULL REFERENCES realm_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_group_membership_group ON user_group_membership (group_id);
