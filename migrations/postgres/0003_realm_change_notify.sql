-- Several nodes over one database (DESIGN.md §4, issue 7 item 8): each node caches realms,
-- clients, roles and keys in memory. Any write to them, by any node or tool (admin API,
-- `portcullis import`, `portcullis keys rotate`, plain SQL), notifies channel
-- portcullis_realm_changed with the realm's id; every node LISTENs and drops that realm from
-- its cache. NOTIFY is transactional: listeners hear of a change only once it is committed, and
-- identical notifications of one transaction arrive once. '*' asks for the whole cache.
CREATE FUNCTION portcullis_notify_realm_changed() RETURNS trigger AS $$
DECLARE
    row_changed RECORD;
    changed TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_changed := OLD;
    ELSE
        row_changed := NEW;
    END IF;
    IF TG_TABLE_NAME = 'realms' THEN
        changed := row_changed.id;
    ELSE
        changed := row_changed.realm_id;
    END IF;
    PERFORM pg_notify('portcullis_realm_changed', changed);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION portcullis_notify_all_realms_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('portcullis_realm_changed', '*');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER realms_changed AFTER INSERT OR UPDATE OR DELETE ON realms
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_realm_changed();
CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE ON clients
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_realm_changed();
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_realm_changed();
CREATE TRIGGER roles_changed AFTER INSERT OR UPDATE OR DELETE ON roles
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_realm_changed();
-- composites carry no realm id (and may outlive their roles within a cascade): flush all
CREATE TRIGGER role_composites_changed AFTER INSERT OR UPDATE OR DELETE ON role_composites
    FOR EACH STATEMENT EXECUTE FUNCTION portcullis_notify_all_realms_changed();
