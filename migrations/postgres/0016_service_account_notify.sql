-- Issue 16: the client_credentials grant reads each client's service-account user, its role ids
-- and its group paths from the realm cache (src/realm/service_accounts.rs) instead of the
-- database. Any committed write to them, by any node or tool (admin API, `portcullis import`,
-- plain SQL), notifies channel portcullis_realm_changed with 'sa:' and the realm's id; every node
-- then drops that realm's cached service accounts and keeps the rest of the realm cached.
-- Only rows of service-account users notify, so logins, registrations and the admin of ordinary
-- users cost one primary-key lookup and no notification. Group changes notify their realm
-- whoever the members are: groups change rarely. (SQLite has no feed: one node, and the realm
-- cache's TTL covers other processes; so no SQLite counterpart, as for 0003.)
CREATE FUNCTION portcullis_notify_service_account_changed(realm TEXT) RETURNS void AS $$
BEGIN
    IF realm IS NOT NULL THEN
        PERFORM pg_notify('portcullis_realm_changed', 'sa:' || realm);
    END IF;
END;
$$ LANGUAGE plpgsql;

-- users: the row itself (enabled, attributes' owner, deletion)
CREATE FUNCTION portcullis_notify_service_account_user_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.service_account_client_id IS NOT NULL THEN
        PERFORM portcullis_notify_service_account_changed(OLD.realm_id);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.service_account_client_id IS NOT NULL THEN
        PERFORM portcullis_notify_service_account_changed(NEW.realm_id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- rows keyed by user_id: role mappings, group memberships, attributes
CREATE FUNCTION portcullis_notify_service_account_of_user_changed() RETURNS trigger AS $$
DECLARE
    realm TEXT;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        SELECT u.realm_id INTO realm FROM users u WHERE u.id = OLD.user_id AND u.service_account_client_id IS NOT NULL;
        PERFORM portcullis_notify_service_account_changed(realm);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        SELECT u.realm_id INTO realm FROM users u WHERE u.id = NEW.user_id AND u.service_account_client_id IS NOT NULL;
        PERFORM portcullis_notify_service_account_changed(realm);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- groups: a rename or move changes members' paths, a deletion their roles
CREATE FUNCTION portcullis_notify_service_account_group_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM portcullis_notify_service_account_changed(OLD.realm_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM portcullis_notify_service_account_changed(NEW.realm_id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- a group's role mappings: what its members hold through it
CREATE FUNCTION portcullis_notify_service_account_group_roles_changed() RETURNS trigger AS $$
DECLARE
    realm TEXT;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        SELECT g.realm_id INTO realm FROM realm_groups g WHERE g.id = OLD.group_id;
        PERFORM portcullis_notify_service_account_changed(realm);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        SELECT g.realm_id INTO realm FROM realm_groups g WHERE g.id = NEW.group_id;
        PERFORM portcullis_notify_service_account_changed(realm);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_service_account_changed AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_service_account_user_changed();
CREATE TRIGGER user_role_mappings_service_account_changed AFTER INSERT OR UPDATE OR DELETE ON user_role_mappings
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_service_account_of_user_changed();
CREATE TRIGGER user_group_membership_service_account_changed AFTER INSERT OR UPDATE OR DELETE ON user_group_membership
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_service_account_of_user_changed();
CREATE TRIGGER user_attributes_service_account_changed AFTER INSERT OR UPDATE OR DELETE ON user_attributes
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_service_account_of_user_changed();
CREATE TRIGGER realm_groups_service_account_changed AFTER INSERT OR UPDATE OR DELETE ON realm_groups
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_service_account_group_changed();
CREATE TRIGGER group_role_mappings_service_account_changed AFTER INSERT OR UPDATE OR DELETE ON group_role_mappings
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_service_account_group_roles_changed();
