//! Helpers for the admin API tests: an admin token from realm master (the harness bootstraps
//! admin/admin), JSON calls that return status, Location and body, and token grants against
//! the imported `vault` realm (tests/fixtures/secrets-realm.json).

use serde_json::{json, Value};

use crate::helpers::{fixture, Backend, Spawn, TestApp};

pub const VAULT_SECRET: &str = "s3cr3t-client-value-0123456789";
pub const CAROL_PASSWORD: &str = "correct-horse-battery-staple";

/// A server with realm `vault` imported: confidential client `backend` (direct grants, service
/// account), public client `frontend`, user carol (role offline_access).
pub async fn vault(backend: Backend) -> TestApp {
    Spawn::new(backend).import(fixture("secrets-realm.json")).start().await
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub www_authenticate: Option<String>,
    pub cache_control: Option<String>,
    pub body: Value,
}

impl Reply {
    /// The last path segment of the Location header: the new resource's id or name.
    pub fn created_id(&self) -> String {
        assert_eq!(self.status, 201, "{self:?}");
        let location = self.location.as_deref().unwrap_or_else(|| panic!("201 without Location: {self:?}"));
        location.rsplit('/').next().unwrap().to_string()
    }

    /// The message of an error body in either of Keycloak's dialects: `{"errorMessage": ...}`
    /// (validation, conflicts) or `{"error": ..., "error_description": ...}` (not found, JAX-RS
    /// exceptions, unparsable bodies).
    pub fn error_message(&self) -> &str {
        self.body["errorMessage"]
            .as_str()
            .or_else(|| self.body["error"].as_str())
            .unwrap_or_else(|| panic!("no errorMessage or error in {self:?}"))
    }
}

/// Sends an admin request with `token` (or none) and an optional JSON body.
pub async fn call(
    app: &TestApp,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.http.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("admin request");
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (location, www_authenticate, cache_control) =
        (header("location"), header("www-authenticate"), header("cache-control"));
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply { status, location, www_authenticate, cache_control, body }
}

/// An admin session: a bearer token and the server it works on.
pub struct Admin<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl<'a> Admin<'a> {
    /// The bootstrap admin of realm master, through admin-cli's password grant.
    pub async fn login(app: &'a TestApp) -> Admin<'a> {
        let tokens = password_grant(app, "master", "admin-cli", None, "admin", "admin", None).await;
        Admin { app, token: tokens["access_token"].as_str().expect("admin access token").to_string() }
    }

    pub fn with_token(app: &'a TestApp, token: &str) -> Admin<'a> {
        Admin { app, token: token.to_string() }
    }

    pub async fn get(&self, path: &str) -> Reply {
        call(self.app, Some(&self.token), "GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        call(self.app, Some(&self.token), "POST", path, Some(body)).await
    }

    pub async fn post_empty(&self, path: &str) -> Reply {
        call(self.app, Some(&self.token), "POST", path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        call(self.app, Some(&self.token), "PUT", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        call(self.app, Some(&self.token), "DELETE", path, None).await
    }

    pub async fn delete_with(&self, path: &str, body: Value) -> Reply {
        call(self.app, Some(&self.token), "DELETE", path, Some(body)).await
    }

    /// GET that must answer 200; the body.
    pub async fn ok(&self, path: &str) -> Value {
        let reply = self.get(path).await;
        assert_eq!(reply.status, 200, "GET {path}: {reply:?}");
        reply.body
    }

    /// The internal id of a user by username.
    pub async fn user_id(&self, realm: &str, username: &str) -> String {
        let users = self.ok(&format!("/admin/realms/{realm}/users?username={username}&exact=true")).await;
        users[0]["id"].as_str().unwrap_or_else(|| panic!("no user {username} in {users}")).to_string()
    }

    /// The internal id of a client by clientId.
    pub async fn client_uuid(&self, realm: &str, client_id: &str) -> String {
        let clients = self.ok(&format!("/admin/realms/{realm}/clients?clientId={client_id}")).await;
        clients[0]["id"].as_str().unwrap_or_else(|| panic!("no client {client_id} in {clients}")).to_string()
    }
}

/// POSTs to a realm's token endpoint; status and body.
pub async fn token_request(app: &TestApp, realm: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let url = app.url(&format!("/realms/{realm}/protocol/openid-connect/token"));
    let response = app.http.post(url).form(form).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A password grant that must succeed.
pub async fn password_grant(
    app: &TestApp,
    realm: &str,
    client: &str,
    secret: Option<&str>,
    username: &str,
    password: &str,
    scope: Option<&str>,
) -> Value {
    let mut form = vec![
        ("grant_type", "password"),
        ("client_id", client),
        ("username", username),
        ("password", password),
    ];
    if let Some(secret) = secret {
        form.push(("client_secret", secret));
    }
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let (status, body) = token_request(app, realm, &form).await;
    assert_eq!(status, 200, "password grant for {username} in {realm}: {body}");
    body
}

/// carol's tokens from client `backend` of realm vault.
pub async fn carol(app: &TestApp, scope: &str) -> Value {
    password_grant(app, "vault", "backend", Some(VAULT_SECRET), "carol", CAROL_PASSWORD, Some(scope)).await
}

/// A refresh with client `backend`: the status.
pub async fn refresh(app: &TestApp, refresh_token: &str) -> u16 {
    refresh_tokens(app, refresh_token).await.0
}

/// A refresh with client `backend`: status and body (the rotated tokens on success).
pub async fn refresh_tokens(app: &TestApp, refresh_token: &str) -> (u16, Value) {
    token_request(
        app,
        "vault",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "backend"),
            ("client_secret", VAULT_SECRET),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// Introspection by client `backend`: is the token active?
pub async fn active(app: &TestApp, token: &str) -> bool {
    let url = app.url("/realms/vault/protocol/openid-connect/token/introspect");
    let response = app
        .http
        .post(url)
        .form(&[("client_id", "backend"), ("client_secret", VAULT_SECRET), ("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["active"] == json!(true)
}

pub fn field<'v>(body: &'v Value, name: &str) -> &'v str {
    body[name].as_str().unwrap_or_else(|| panic!("{name} in {body}"))
}

/// `SELECT COUNT(*) ...` with one bound text parameter, straight on the test's database.
pub async fn count(app: &TestApp, sql: &str, param: &str) -> i64 {
    match app.backend {
        Backend::Sqlite => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
            let (n,): (i64,) = sqlx::query_as(sql)
                .bind(param)
                .fetch_one(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            n
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&app.db_url).await.unwrap();
            let (n,): (i64,) = sqlx::query_as(sql)
                .bind(param)
                .fetch_one(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            n
        }
    }
}
