//! The client_credentials grant's cache of service-account users (issue 16,
//! `realm::service_accounts`): a change made through the admin API to the service-account user,
//! its role mappings, its groups or its client takes effect on the very next grant on this
//! node, on both backends; on Postgres a change made in plain SQL by another process reaches
//! the cache through the change feed (migration 0016) well inside the realm cache's 5 s TTL.

use serde_json::{json, Value};

use crate::admin_support::{token_request, vault, Admin, VAULT_SECRET};
use crate::backend_tests;
use crate::browser_flows::claims;
use crate::hardening_nodes::within_a_second;
use crate::helpers::Backend;

const REALM: &str = "/admin/realms/vault";

async fn client_credentials(app: &crate::helpers::TestApp) -> (u16, Value) {
    token_request(app, "vault", &[("grant_type", "client_credentials"), ("client_id", "backend"), ("client_secret", VAULT_SECRET)])
        .await
}

/// The access token's claims; panics with the body unless the grant succeeded.
async fn granted(app: &crate::helpers::TestApp) -> Value {
    let (status, body) = client_credentials(app).await;
    assert_eq!(status, 200, "{body}");
    claims(body["access_token"].as_str().unwrap())
}

fn has_realm_role(access: &Value, role: &str) -> bool {
    access["realm_access"]["roles"].as_array().is_some_and(|roles| roles.contains(&json!(role)))
}

/// No `groups` claim, or an empty one (Keycloak leaves the claim out).
fn no_groups(access: &Value) -> bool {
    access["groups"].as_array().is_none_or(|groups| groups.is_empty())
}

/// The `reporter` realm role, and the id of the `backend` client and of its service account.
async fn arrange(admin: &Admin<'_>) -> (Value, String, String) {
    assert_eq!(admin.post(&format!("{REALM}/roles"), json!({ "name": "reporter" })).await.status, 201);
    let role = admin.ok(&format!("{REALM}/roles/reporter")).await;
    let client = admin.client_uuid("vault", "backend").await;
    let service = admin.ok(&format!("{REALM}/clients/{client}/service-account-user")).await;
    (role, client, service["id"].as_str().unwrap().to_string())
}

backend_tests! {
    async fn admin_changes_to_the_service_account_take_effect_on_the_next_grant(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let (role, client, service) = arrange(&admin).await;
        let mappings = format!("{REALM}/users/{service}/role-mappings/realm");
        assert!(!has_realm_role(&granted(&app).await, "reporter"), "the service account is cached without the role");

        // a direct role mapping, added then removed
        assert_eq!(admin.post(&mappings, json!([role])).await.status, 204);
        assert!(has_realm_role(&granted(&app).await, "reporter"), "mapped: the next grant carries it");
        assert!(has_realm_role(&granted(&app).await, "reporter"), "and the one after, from the cache");
        assert_eq!(admin.delete_with(&mappings, json!([role])).await.status, 204);
        assert!(!has_realm_role(&granted(&app).await, "reporter"), "unmapped: the next grant lacks it");

        // a role through a group, and the group's path through a group-membership mapper
        let group = admin.post(&format!("{REALM}/groups"), json!({ "name": "reports" })).await.created_id();
        assert_eq!(admin.post(&format!("{REALM}/groups/{group}/role-mappings/realm"), json!([role])).await.status, 204);
        let mapper = json!({ "name": "groups", "protocol": "openid-connect", "protocolMapper": "oidc-group-membership-mapper",
            "config": { "claim.name": "groups", "full.path": "true", "access.token.claim": "true" } });
        assert_eq!(admin.post(&format!("{REALM}/clients/{client}/protocol-mappers/models"), mapper).await.status, 201);
        assert!(no_groups(&granted(&app).await), "no member of any group yet");
        assert_eq!(admin.put(&format!("{REALM}/users/{service}/groups/{group}"), json!({})).await.status, 204);
        let access = granted(&app).await;
        assert_eq!((access["groups"].clone(), has_realm_role(&access, "reporter")), (json!(["/reports"]), true), "joined: {access}");
        assert_eq!(granted(&app).await["groups"], json!(["/reports"]), "cached groups");
        let renamed = admin.put(&format!("{REALM}/groups/{group}"), json!({ "name": "audit" })).await;
        assert_eq!(renamed.status, 204, "{renamed:?}");
        assert_eq!(granted(&app).await["groups"], json!(["/audit"]), "a renamed group renames the claim at once");
        assert_eq!(admin.delete(&format!("{REALM}/users/{service}/groups/{group}")).await.status, 204);
        let access = granted(&app).await;
        assert!(no_groups(&access) && !has_realm_role(&access, "reporter"), "left: {access}");

        // the service-account user disabled, then enabled again
        let mut user = admin.ok(&format!("{REALM}/users/{service}")).await;
        user["enabled"] = json!(false);
        assert_eq!(admin.put(&format!("{REALM}/users/{service}"), user.clone()).await.status, 204);
        let (status, body) = client_credentials(&app).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")), "disabled: {body}");
        user["enabled"] = json!(true);
        assert_eq!(admin.put(&format!("{REALM}/users/{service}"), user).await.status, 204);
        granted(&app).await;

        // the client deleted
        assert_eq!(admin.delete(&format!("{REALM}/clients/{client}")).await.status, 204);
        let (status, body) = client_credentials(&app).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "deleted: {body}");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_change_in_plain_sql_reaches_the_cached_service_account_through_the_feed() {
    use sqlx::Connection;
    let app = vault(Backend::Postgres).await;
    let admin = Admin::login(&app).await;
    let (role, _, service) = arrange(&admin).await;
    let role_id = role["id"].as_str().unwrap().to_string();
    assert_eq!(admin.post(&format!("{REALM}/users/{service}/role-mappings/realm"), json!([role])).await.status, 204);
    assert!(has_realm_role(&granted(&app).await, "reporter"), "cached with the role");
    let mut conn = sqlx::PgConnection::connect(&app.db_url).await.unwrap();

    // as another node or an operator would: the mapping removed, then the user disabled
    sqlx::query("DELETE FROM user_role_mappings WHERE user_id = $1 AND role_id = $2")
        .bind(&service)
        .bind(&role_id)
        .execute(&mut conn)
        .await
        .unwrap();
    let took = within_a_second("role mapping removed", || async { !has_realm_role(&granted(&app).await, "reporter") }).await;
    println!("role mapping removal seen after {took:?}");
    sqlx::query("INSERT INTO user_role_mappings (user_id, role_id) VALUES ($1, $2)")
        .bind(&service)
        .bind(&role_id)
        .execute(&mut conn)
        .await
        .unwrap();
    let took = within_a_second("role mapping added", || async { has_realm_role(&granted(&app).await, "reporter") }).await;
    println!("role mapping seen after {took:?}");
    sqlx::query("UPDATE users SET enabled = FALSE WHERE id = $1").bind(&service).execute(&mut conn).await.unwrap();
    let took = within_a_second("service account disabled", || async {
        let (status, body) = client_credentials(&app).await;
        status == 400 && body["error"] == "unauthorized_client"
    })
    .await;
    println!("disabled service account seen after {took:?}");
    app.stop().await;
}
