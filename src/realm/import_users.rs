//! The users of an imported realm and their credentials: usernames, ids and service-account
//! links checked for clashes, role mappings resolved (the realm's default role included), plain
//! passwords hashed with argon2id, Keycloak's password hashes kept after a bounds check, OTP
//! secrets sealed under the master key, and a warning for every credential no login can use.
//! A part of `realm::import`'s `Builder`, in a file of its own so each file holds one concept.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::{unique, Builder, ImportContext, ImportError, RoleIndex, ARGON2_PHC_CREDENTIAL_DATA};
use crate::crypto::hash_bounds::Phc;
use crate::crypto::keycloak_hash::{self, Unusable};
use crate::domain::{new_id, Credential, User, CHECKED_CREDENTIAL_TYPES};
use crate::realm::defaults::default_roles_name;
use crate::realm::representation::CredentialRepresentation;
use crate::store::RealmBundle;
use crate::users::otp::OTP_CREDENTIAL_TYPE;

impl Builder<'_> {
    pub(super) async fn users(
        &mut self,
        ctx: &ImportContext<'_>,
        index: &RoleIndex,
        bundle: &mut RealmBundle,
    ) -> Result<(), ImportError> {
        let (mut by_username, mut by_id, mut linked) = (HashMap::new(), HashMap::new(), HashMap::new());
        let parsed = self.parsed;
        let reps = parsed.representation.users.as_deref().unwrap_or_default();
        for (i, rep) in reps.iter().enumerate() {
            let path = format!("users[{i}]");
            let username = rep.username.as_deref().map(str::trim).filter(|u| !u.is_empty());
            let username = username
                .ok_or_else(|| self.scope.error(&format!("{path}.username"), "the username is missing"))?
                .to_lowercase();
            unique(&mut by_username, &username, format!("{path}.username"), "username", &self.scope)?;
            let id = rep.id.clone().unwrap_or_else(new_id);
            unique(&mut by_id, &id, format!("{path}.id"), "user id", &self.scope)?;
            let mut service_account_client_id = None;
            if let Some(client_id) = &rep.service_account_client_id {
                match bundle.clients.iter().find(|c| &c.client_id == client_id) {
                    Some(client) => {
                        let at = format!("{path}.serviceAccountClientId");
                        unique(&mut linked, &client.id, at, "service account of client", &self.scope)?;
                        service_account_client_id = Some(client.id.clone());
                    }
                    None => self.warn(format!(
                        "user {username:?}: serviceAccountClientId {client_id:?} names no client; \
                         imported as a regular user"
                    )),
                }
            }
            let mut user = User {
                id,
                realm_id: self.realm_id.clone(),
                username,
                email: rep.email.clone(),
                first_name: rep.first_name.clone(),
                last_name: rep.last_name.clone(),
                enabled: rep.enabled.unwrap_or(true),
                email_verified: rep.email_verified.unwrap_or(false),
                service_account_client_id,
                created_at: rep.created_timestamp.map_or(ctx.now, |ms| ms / 1000),
                required_actions: rep.required_actions.clone().unwrap_or_default(),
                attributes: rep.attributes.clone().unwrap_or_default(),
            };
            crate::domain::user::check_attributes(&user.attributes)
                .map_err(|e| self.scope.error(&format!("{path}.attributes"), e.to_string()))?;
            for (j, credential) in rep.credentials.iter().flatten().enumerate() {
                let at = format!("{path}.credentials[{j}]");
                if let Some(c) = self.credential(ctx, &user, credential, &at).await? {
                    if c.kind == "password" && credential.temporary == Some(true) {
                        user.set_temporary_password(true);
                    }
                    bundle.credentials.push(c);
                }
            }
            self.warn_unrunnable(&user, &bundle.credentials);
            let (role_ids, missing) =
                index.resolve(rep.realm_roles.iter().flatten(), rep.client_roles.iter().flatten());
            for name in missing {
                self.warn(format!("user {:?}: {name} not found; mapping skipped", user.username));
            }
            bundle.role_mappings.extend(role_ids.into_iter().map(|r| (user.id.clone(), r)));
            bundle.users.push(user);
        }
        // Keycloak makes a service-account user for every client with service accounts enabled.
        let default_role = index.realm.get(&default_roles_name(&self.parsed.name));
        for client in bundle.clients.iter().filter(|c| c.service_accounts_enabled) {
            if linked.contains_key(&client.id) {
                continue;
            }
            let username = format!("service-account-{}", client.client_id).to_lowercase();
            if let Some(at) = by_username.get(&username) {
                let client_id = &client.client_id;
                let message = format!(
                    "{username:?} is the service-account user of client {client_id:?}: \
                     add \"serviceAccountClientId\": {client_id:?} to it"
                );
                return Err(self.scope.error(at, message));
            }
            let user = User::service_account(&self.realm_id, &client.id, username, ctx.now);
            if let Some(role_id) = default_role {
                bundle.role_mappings.push((user.id.clone(), role_id.clone()));
            }
            bundle.users.push(user);
        }
        Ok(())
    }

    /// One credential in its stored form, or `None` (with a warning) when it cannot be used.
    async fn credential(
        &mut self,
        ctx: &ImportContext<'_>,
        user: &User,
        rep: &CredentialRepresentation,
        path: &str,
    ) -> Result<Option<Credential>, ImportError> {
        let kind = rep.kind.clone().unwrap_or_else(|| "password".into());
        let who = &user.username;
        let (secret_data, credential_data) = if let Some(value) = &rep.value {
            if kind != "password" {
                self.warn(format!("user {who:?}: a plain {kind:?} credential cannot be imported; skipped"));
                return Ok(None);
            }
            let phc = ctx.hasher.hash(value.clone()).await.map_err(|e| {
                self.scope.error(&format!("{path}.value"), format!("cannot hash the password: {e}"))
            })?;
            (phc, ARGON2_PHC_CREDENTIAL_DATA.to_string())
        } else if let Some(secret_data) = &rep.secret_data {
            (secret_data.clone(), rep.credential_data.clone().unwrap_or_else(|| "{}".into()))
        } else if let Some(hashed) = &rep.hashed_salted_value {
            // The pre-Keycloak-12 form, rewritten as the JSON Keycloak stores today.
            let salt = rep.salt.clone().unwrap_or_default();
            let secret = json!({"value": hashed, "salt": salt, "additionalParameters": {}});
            let mut data = Map::new();
            if let Some(iterations) = rep.hash_iterations {
                data.insert("hashIterations".into(), iterations.into());
            }
            if let Some(algorithm) = &rep.algorithm {
                data.insert("algorithm".into(), algorithm.clone().into());
            }
            data.insert("additionalParameters".into(), json!({}));
            (secret.to_string(), Value::Object(data).to_string())
        } else {
            self.warn(format!("user {who:?}: a {kind:?} credential has no value or hash; skipped"));
            return Ok(None);
        };
        if kind == "password" {
            self.check_password_hash(who, &secret_data, &credential_data, path)?;
        }
        let id = new_id();
        let secret_data = if kind == OTP_CREDENTIAL_TYPE {
            match self.otp_secret(who, &id, &secret_data, &credential_data, ctx) {
                Some(sealed) => sealed,
                None => return Ok(None),
            }
        } else {
            secret_data
        };
        Ok(Some(Credential {
            id,
            user_id: user.id.clone(),
            kind,
            secret_data,
            credential_data,
            created_at: rep.created_date.map_or(ctx.now, |ms| ms / 1000),
            user_label: rep.user_label.clone(),
            priority: rep.priority.filter(|p| *p > 0).unwrap_or(0),
        }))
    }

    /// An imported OTP credential's `secretData` sealed under the master key, bound to the new
    /// credential `id`; `None` (with a warning: the credential is skipped, so the user logs in
    /// with the password and can enrol again) when Keycloak's JSON is not there to be read.
    fn otp_secret(
        &mut self,
        who: &str,
        id: &str,
        secret_data: &str,
        credential_data: &str,
        ctx: &ImportContext<'_>,
    ) -> Option<String> {
        let value = crate::users::otp::credential::plain_value(secret_data);
        let data = crate::users::otp::OtpCredentialData::parse(credential_data);
        match (value, data) {
            (Some(value), Some(_)) => Some(crate::users::otp::credential::seal_secret(ctx.master, id, value.expose())),
            _ => {
                self.warn(format!(
                    "user {who:?}: an \"otp\" credential without Keycloak's secretData {{\"value\"}} and credentialData \
                     {{\"subType\", ...}}; skipped"
                ));
                None
            }
        }
    }

    /// Says loudly that a user will be refused at login: Portcullis cannot run some of Keycloak's
    /// required actions (WebAuthn registration, delete account, ...) or check some second factors
    /// a Keycloak export carries, and never drops them. The actions it runs need no warning.
    fn warn_unrunnable(&mut self, user: &User, credentials: &[Credential]) {
        let who = &user.username;
        let unrunnable: Vec<&String> = user
            .required_actions
            .iter()
            .filter(|a| !crate::users::actions::RUNNABLE.iter().any(|r| r.eq_ignore_ascii_case(a)))
            .collect();
        if !unrunnable.is_empty() {
            self.warn(format!(
                "user {who:?} has required actions {unrunnable:?}, which Portcullis cannot run: logins of this \
                 user are refused until an admin clears them (PUT .../users/{{id}} with \"requiredActions\")"
            ));
        }
        let mut factors: Vec<&str> = credentials
            .iter()
            .filter(|c| c.user_id == user.id && !CHECKED_CREDENTIAL_TYPES.contains(&c.kind.as_str()))
            .map(|c| c.kind.as_str())
            .collect();
        factors.dedup();
        if !factors.is_empty() {
            self.warn(format!(
                "user {who:?} has {factors:?} credentials, a second factor Portcullis cannot check yet: logins of \
                 this user are refused (never let through on the password alone) until an admin removes them \
                 (DELETE .../users/{{id}}/credentials/{{credentialId}})"
            ));
        }
    }

    /// Refuses a stored hash whose parameters are past `hash_bounds` (one login attempt would
    /// cost the server gigabytes or minutes: issue 13 item 1), and warns about one that can
    /// never verify here (the user must get a new password).
    fn check_password_hash(
        &mut self,
        who: &str,
        secret_data: &str,
        credential_data: &str,
        path: &str,
    ) -> Result<(), ImportError> {
        let refuse = |why: &str| {
            self.scope.error(path, format!("user {who:?}: {why}; refused, since verifying it would cost the server too much"))
        };
        if credential_data == ARGON2_PHC_CREDENTIAL_DATA {
            return Phc::parse(secret_data).map(|_| ()).map_err(|why| refuse(&why));
        }
        match keycloak_hash::check(secret_data, credential_data) {
            Ok(()) => Ok(()),
            Err(Unusable::OutOfBounds(why)) => Err(refuse(&why)),
            Err(unusable) => {
                self.warn(format!(
                    "user {who:?}: {unusable}: this user cannot log in with a password until an admin sets a new one"
                ));
                Ok(())
            }
        }
    }
}
