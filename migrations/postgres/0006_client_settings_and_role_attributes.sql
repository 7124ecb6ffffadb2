-- Issue 14 item 5. ClientRepresentation fields that are stored and returned as Keycloak returns
-- them (description, rootUrl, baseUrl, adminUrl, implicitFlowEnabled, frontchannelLogout,
-- notBefore, nodeReRegistrationTimeout, ...; README says which have no behaviour yet), as one
-- JSON object: none is ever filtered on, so columns of their own would buy nothing. Existing
-- clients read '{}' as Keycloak's defaults. Role attributes are a JSON object of string arrays,
-- as Keycloak's RoleRepresentation carries them.
ALTER TABLE clients ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE roles ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
