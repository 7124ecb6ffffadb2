-- Issue 15: client scopes, protocol mappers, realm default scopes, client scope links and scope
-- mappings (Keycloak's CLIENT_SCOPE, PROTOCOL_MAPPER, DEFAULT_CLIENT_SCOPE, CLIENT_SCOPE_CLIENT,
-- SCOPE_MAPPING and CLIENT_SCOPE_ROLE_MAPPING). Every table carries realm_id so a realm's whole
-- scope model is read with one key, cascades with the realm and notifies the realm cache.
ALTER TABLE clients ADD COLUMN full_scope_allowed BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE client_scopes (
    id           TEXT PRIMARY KEY,
    realm_id     TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT,
    protocol     TEXT NOT NULL,
    attributes   TEXT NOT NULL DEFAULT '{}',   -- JSON object of strings
    CONSTRAINT client_scopes_realm_name UNIQUE (realm_id, name)
);

-- A mapper lives on exactly one client scope or one client; names are unique per container.
CREATE TABLE protocol_mappers (
    id               TEXT PRIMARY KEY,
    realm_id         TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    client_scope_id  TEXT REFERENCES client_scopes (id) ON DELETE CASCADE,
    client_id        TEXT REFERENCES clients (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    protocol         TEXT NOT NULL,
    mapper_type      TEXT NOT NULL,
    config           TEXT NOT NULL DEFAULT '{}',   -- JSON object of strings
    CONSTRAINT protocol_mappers_one_container CHECK ((client_scope_id IS NULL) <> (client_id IS NULL)),
    CONSTRAINT protocol_mappers_scope_name UNIQUE (client_scope_id, name),
    CONSTRAINT protocol_mappers_client_name UNIQUE (client_id, name)
);
CREATE INDEX protocol_mappers_realm ON protocol_mappers (realm_id);

-- defaultDefaultClientScopes (default_scope) and defaultOptionalClientScopes.
CREATE TABLE realm_default_scopes (
    realm_id       TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    scope_id       TEXT NOT NULL REFERENCES client_scopes (id) ON DELETE CASCADE,
    default_scope  BOOLEAN NOT NULL,
    PRIMARY KEY (realm_id, scope_id)
);

-- A client's defaultClientScopes (default_scope) and optionalClientScopes.
CREATE TABLE client_scope_links (
    realm_id       TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope_id       TEXT NOT NULL REFERENCES client_scopes (id) ON DELETE CASCADE,
    default_scope  BOOLEAN NOT NULL,
    PRIMARY KEY (client_id, scope_id)
);
CREATE INDEX client_scope_links_realm ON client_scope_links (realm_id);

-- Roles a client (client scope) allows in its tokens when fullScopeAllowed is off.
CREATE TABLE client_scope_mappings (
    realm_id   TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    role_id    TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (client_id, role_id)
);
CREATE INDEX client_scope_mappings_realm ON client_scope_mappings (realm_id);

CREATE TABLE scope_role_mappings (
    realm_id   TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    scope_id   TEXT NOT NULL REFERENCES client_scopes (id) ON DELETE CASCADE,
    role_id    TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (scope_id, role_id)
);
CREATE INDEX scope_role_mappings_realm ON scope_role_mappings (realm_id);

-- Realms that existed before this migration get Keycloak's built-in client scopes at the next
-- start (`ScopeStore::upgrade_pending_realms`): the definitions live in code, not here.
CREATE TABLE scope_upgrades_pending (
    realm_id  TEXT PRIMARY KEY REFERENCES realms (id) ON DELETE CASCADE
);
INSERT INTO scope_upgrades_pending (realm_id) SELECT id FROM realms;

CREATE TRIGGER client_scopes_changed AFTER INSERT OR UPDATE OR DELETE ON client_scopes
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_realm_changed();
CREATE TRIGGER protocol_mappers_changed AFTER INSERT OR UPDATE OR DELETE ON protocol_mappers
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_realm_changed();
CREATE TRIGGER realm_default_scopes_changed AFTER INSERT OR UPDATE OR DELETE ON realm_default_scopes
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_realm_changed();
CREATE TRIGGER client_scope_links_changed AFTER INSERT OR UPDATE OR DELETE ON client_scope_links
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_realm_changed();
CREATE TRIGGER client_scope_mappings_changed AFTER INSERT OR UPDATE OR DELETE ON client_scope_mappings
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_realm_changed();
CREATE TRIGGER scope_role_mappings_changed AFTER INSERT OR UPDATE OR DELETE ON scope_role_mappings
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_realm_changed();
