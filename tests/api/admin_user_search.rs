//! Keycloak's user search beyond the field parameters (issue 14 item 6): `q=name:value` over
//! attributes, multi-term `search`, `id:`, `emailVerified`, `briefRepresentation`, and the
//! searches Portcullis cannot serve (`idpAlias`, `idpUserId`), which find nobody, never everyone.

use serde_json::{json, Value};

use crate::admin_support::{vault, Admin};
use crate::backend_tests;

fn usernames(users: &Value) -> Vec<&str> {
    users.as_array().unwrap_or_else(|| panic!("{users}")).iter().map(|u| u["username"].as_str().unwrap()).collect()
}

async fn seed(admin: &Admin<'_>) {
    let path = "/admin/realms/vault/users/profile";
    let mut profile = admin.ok(path).await;
    profile["unmanagedAttributePolicy"] = json!("ENABLED");
    assert_eq!(admin.put(path, profile).await.status, 200);
    for (username, first, last, verified, attributes) in [
        ("ada", "Ada", "Lovelace", true, json!({"dept": ["eng", "math"], "city": "London"})),
        ("alan", "Alan", "Turing", false, json!({"dept": "eng", "city": "Wilmslow"})),
        ("grace", "Grace", "Hopper", true, json!({"dept": "navy", "full name": "Grace B. Hopper"})),
    ] {
        admin.post("/admin/realms/vault/users", json!({
            "username": username, "firstName": first, "lastName": last, "enabled": true,
            "emailVerified": verified, "email": format!("{username}@example.org"), "attributes": attributes
        })).await.created_id();
    }
}

backend_tests! {
    async fn q_searches_attributes_with_and_of_pairs(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        seed(&admin).await;
        let found = |query: &'static str| {
            let admin = &admin;
            async move { admin.ok(&format!("/admin/realms/vault/users?{query}")).await }
        };
        assert_eq!(usernames(&found("q=dept:eng").await), ["ada", "alan"]);
        assert_eq!(usernames(&found("q=dept:ENG").await), ["ada", "alan"], "values ignore case");
        assert_eq!(usernames(&found("q=dept:en").await), Vec::<&str>::new(), "values compare whole");
        assert_eq!(usernames(&found("q=dept:eng%20city:london").await), ["ada"], "pairs are AND-ed");
        assert_eq!(usernames(&found("q=dept:math%20dept:eng").await), ["ada"], "two values of one attribute");
        assert_eq!(usernames(&found("q=%22full%20name%22:%22Grace%20B.%20Hopper%22").await), ["grace"], "quoted");
        assert_eq!(usernames(&found("q=dept:eng&emailVerified=false").await), ["alan"]);
        assert_eq!(admin.ok("/admin/realms/vault/users/count?q=dept:eng").await, 2);
        assert_eq!(admin.ok("/admin/realms/vault/users/count?q=nothing:here").await, 0);
        for bad in ["q=garbage", "q=:v", "q=k:%22open"] {
            let reply = admin.get(&format!("/admin/realms/vault/users?{bad}")).await;
            assert_eq!(reply.status, 400, "{bad} must not answer every user: {reply:?}");
            assert_eq!(admin.get(&format!("/admin/realms/vault/users/count?{bad}")).await.status, 400);
        }
    }

    async fn search_terms_ids_flags_and_brief_representation(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        seed(&admin).await;
        let found = |query: String| {
            let admin = &admin;
            async move { admin.ok(&format!("/admin/realms/vault/users?{query}")).await }
        };
        assert_eq!(usernames(&found("search=a%20*ing".into()).await), ["alan"], "every term must match");
        assert_eq!(usernames(&found("search=*love*".into()).await), ["ada"]);
        let ada = admin.user_id("vault", "ada").await;
        assert_eq!(usernames(&found(format!("search=id:{ada}")).await), ["ada"]);
        assert_eq!(usernames(&found("search=id:nobody".into()).await), Vec::<&str>::new());
        assert_eq!(usernames(&found("emailVerified=true".into()).await), ["ada", "grace"]);

        let full = found("username=ada&exact=true".into()).await;
        assert_eq!(full[0]["attributes"]["dept"], json!(["eng", "math"]));
        let brief = found("username=ada&exact=true&briefRepresentation=true".into()).await;
        assert_eq!(brief[0]["username"], "ada");
        assert_eq!(brief[0]["emailVerified"], true);
        assert!(brief[0].get("attributes").is_none() && brief[0].get("requiredActions").is_none(), "{brief}");

        // as in Keycloak, field searches include service accounts; search and the plain list do not
        assert_eq!(usernames(&found("username=service-account".into()).await), ["service-account-backend"]);
        assert_eq!(usernames(&found("search=service-account".into()).await), Vec::<&str>::new());
        assert_eq!(admin.ok("/admin/realms/vault/users/count?username=service-account").await, 0, "counts never do");
        assert_eq!(found("max=-1".into()).await.as_array().unwrap().len(), 4, "carol, ada, alan, grace");
    }

    async fn identity_provider_searches_find_nobody_never_everyone(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        seed(&admin).await;
        for query in ["idpAlias=github", "idpUserId=12345", "idpAlias=github&idpUserId=1&username=ada", "idpAlias="] {
            let users = admin.ok(&format!("/admin/realms/vault/users?{query}")).await;
            assert_eq!(users, json!([]), "{query}");
        }
    }
}
