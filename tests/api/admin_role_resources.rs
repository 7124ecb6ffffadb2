//! Roles as Keycloak's admin API serves them beyond the realm-role basics of `admin_roles`:
//! attributes and `briefRepresentation`, client roles, composites, `roles-by-id`, the users
//! holding a role and the available and effective (composite) role mappings.

use serde_json::{json, Value};

use crate::admin_support::{vault, Admin};
use crate::backend_tests;

#[allow(dead_code)]
pub fn names(roles: &Value) -> Vec<&str> {
    roles.as_array().unwrap_or_else(|| panic!("{roles}")).iter().map(|r| r["name"].as_str().unwrap()).collect()
}

backend_tests! {
    async fn role_attributes_and_descriptions_are_stored_and_come_back(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let attributes = json!({"team": ["billing", "ops"], "level": ["2"]});
        let reply = admin.post("/admin/realms/vault/roles", json!({"name": "clerk", "description": "Files things", "attributes": attributes})).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let clerk = admin.ok("/admin/realms/vault/roles/clerk").await;
        assert_eq!((clerk["description"].clone(), clerk["attributes"].clone()), (json!("Files things"), attributes));
        let changed = json!({"level": ["3"]});
        assert_eq!(admin.put("/admin/realms/vault/roles/clerk", json!({"name": "clerk", "attributes": changed})).await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault/roles/clerk").await["attributes"], changed, "PUT replaces the attributes");
        assert_eq!(admin.put("/admin/realms/vault/roles/clerk", json!({"description": "Still"})).await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault/roles/clerk").await["attributes"], changed, "absent attributes are kept");

        let created = admin.post("/admin/realms", json!({
            "realm": "imported", "enabled": true,
            "roles": {"realm": [{"name": "tagged", "attributes": {"k": ["v"]}}]},
            "clients": [{"clientId": "described", "description": "From a file", "rootUrl": "https://d.example", "frontchannelLogout": true}]
        })).await;
        assert_eq!(created.status, 201, "{created:?}");
        assert_eq!(admin.ok("/admin/realms/imported/roles/tagged").await["attributes"], json!({"k": ["v"]}));
        let described = admin.ok("/admin/realms/imported/clients?clientId=described").await;
        assert_eq!(described[0]["description"], "From a file");
        assert_eq!((described[0]["rootUrl"].clone(), described[0]["frontchannelLogout"].clone()), (json!("https://d.example"), json!(true)));
        app.stop().await;
    }
}
