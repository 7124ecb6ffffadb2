//! `portcullis admin ...`: user and session helpers for scripts, working on the database
//! directly (useful when the server is down). They go through the same admin functions as the
//! REST API, as a caller with full rights, so the rules and admin events are the same.

use std::sync::Arc;

use super::auth::Caller;
use super::context::AdminContext;
use super::error::AdminError;
use crate::clock::{Clock, SystemClock};
use crate::crypto::password::PasswordHasher;
use crate::crypto::{MasterKey, SecretString};
use crate::realm::cache::{RealmCache, DEFAULT_TTL};
use crate::realm::representation::{CredentialRepresentation, UserRepresentation};
use crate::store::Store;

#[derive(Debug, Clone)]
pub enum AdminCommand {
    CreateUser { realm: String, username: String, email: Option<String>, password: Option<SecretString> },
    Sessions { realm: String, user: String },
    Logout { realm: String, user: String },
}

async fn user_id(store: &dyn Store, realm: &str, username: &str) -> Result<String, AdminError> {
    let realm = store.realm_by_name(realm).await?.ok_or_else(|| AdminError::not_found("Realm not found."))?;
    let user = store
        .user_by_username(&realm.id, username)
        .await?
        .ok_or_else(|| AdminError::not_found("User not found"))?;
    Ok(user.id)
}

/// Runs one command and returns what to print.
pub async fn run(store: Arc<dyn Store>, master: MasterKey, command: AdminCommand) -> Result<String, AdminError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let realms = RealmCache::new(store.clone(), master.clone(), clock.clone(), DEFAULT_TTL);
    let hasher = PasswordHasher::new(2);
    let caller = Caller::full("", "portcullis-cli");
    let ctx = AdminContext {
        store: store.as_ref(),
        realms: &realms,
        master: &master,
        hasher: &hasher,
        caller: &caller,
        now: clock.now(),
        logout: None,
    };
    match command {
        AdminCommand::CreateUser { realm, username, email, password } => {
            let rep = UserRepresentation {
                username: Some(username.clone()),
                email,
                enabled: Some(true),
                credentials: password.map(|p| {
                    vec![CredentialRepresentation {
                        kind: Some("password".into()),
                        value: Some(p),
                        temporary: Some(false),
                        ..CredentialRepresentation::default()
                    }]
                }),
                ..UserRepresentation::default()
            };
            let id = super::users::create(&ctx, &realm, rep).await?;
            Ok(format!("created user {username} in realm {realm} with id {id}"))
        }
        AdminCommand::Sessions { realm, user } => {
            let id = user_id(store.as_ref(), &realm, &user).await?;
            let sessions = super::users::sessions(&ctx, &realm, &id).await?;
            serde_json::to_string_pretty(&sessions).map_err(|e| AdminError::Internal(e.to_string()))
        }
        AdminCommand::Logout { realm, user } => {
            let id = user_id(store.as_ref(), &realm, &user).await?;
            let ended = super::users::logout(&ctx, &realm, &id).await?;
            Ok(format!("ended {ended} sessions of {user} in realm {realm}"))
        }
    }
}
