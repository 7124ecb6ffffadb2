//! The storage conformance suite: every contract of `portcullis::store` checked against both
//! backends through the same code.

use std::collections::BTreeMap;
use std::sync::Arc;

use portcullis::crypto::MasterKey;
use portcullis::domain::{new_id, Client, Credential, RealmSettings, User};
use portcullis::realm::defaults::new_realm_bundle;
use portcullis::store::{KeyStatus, RealmBundle, Store, StoreError};
use tempfile::TempDir;

use crate::backend_tests;
use crate::helpers::{fresh_database, open_store, Backend};

pub async fn fresh_store(backend: Backend) -> (Arc<dyn Store>, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, &dir).await;
    (open_store(&url).await, dir)
}

pub fn client(realm_id: &str, client_id: &str) -> Client {
    Client {
        id: new_id(),
        realm_id: realm_id.into(),
        client_id: client_id.into(),
        name: None,
        enabled: true,
        public_client: false,
        bearer_only: false,
        secret_sealed: Some(vec![1, 2, 3]),
        redirect_uris: vec!["https://app.example/cb".into()],
        web_origins: vec!["+".into()],
        standard_flow_enabled: true,
        direct_access_grants_enabled: true,
        service_accounts_enabled: false,
        consent_required: false,
        full_scope_allowed: true,
        attributes: BTreeMap::from([("pkce.code.challenge.method".into(), "S256".into())]),
        settings: portcullis::domain::ClientSettings::default(),
        created_at: 10,
    }
}

pub fn user(realm_id: &str, username: &str) -> User {
    User {
        id: new_id(),
        realm_id: realm_id.into(),
        username: username.into(),
        email: Some(format!("{username}@example.com")),
        first_name: Some("Ada".into()),
        last_name: None,
        enabled: true,
        email_verified: true,
        service_account_client_id: None,
        created_at: 10,
        required_actions: Vec::new(),
        attributes: [("dept".to_string(), vec!["eng".to_string(), "ops".to_string()])].into(),
    }
}

fn bundle(name: &str) -> RealmBundle {
    let mut b = new_realm_bundle(name, RealmSettings::default(), &MasterKey::generate(), 100).unwrap();
    let realm_id = b.realm.as_ref().unwrap().id.clone();
    b.clients.push(client(&realm_id, "app"));
    let u = user(&realm_id, "alice");
    b.role_mappings.push((u.id.clone(), b.roles[0].id.clone()));
    b.credentials.push(Credential {
        id: new_id(),
        user_id: u.id.clone(),
        kind: "password".into(),
        secret_data: "$argon2id$fake".into(),
        credential_data: "{}".into(),
        created_at: 10,
        user_label: Some("main".into()),
        priority: 10,
    });
    b.users.push(u);
    b
}

backend_tests! {
    async fn a_created_realm_reads_back_whole(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let mut settings = RealmSettings::default();
        settings.sso_session_idle_timeout = 77;
        let mut b = bundle("shop");
        b.realm.as_mut().unwrap().settings = settings.clone();
        store.create_realms(&[b.clone()], false).await.unwrap();

        let realm = store.realm_by_name("shop").await.unwrap().expect("realm exists");
        assert_eq!(realm.settings, settings);
        let read = store.realm_bundle(&realm.id).await.unwrap();
        assert_eq!(read.clients, b.clients);
        assert_eq!(read.users, b.users);
        assert_eq!(read.credentials, b.credentials);
        assert_eq!(read.role_mappings, b.role_mappings);
        assert_eq!(read.keys.len(), 4);
        let default_roles = read.roles.iter().find(|r| r.name == "default-roles-shop").unwrap();
        assert_eq!(default_roles.composites.len(), 2);
        assert_eq!(store.list_realms().await.unwrap().len(), 1);
        assert!(store.realm_by_name("other").await.unwrap().is_none());
    }

    async fn an_existing_realm_conflicts_unless_replaced(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        store.create_realms(&[bundle("shop")], false).await.unwrap();
        let err = store.create_realms(&[bundle("shop")], false).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

        let mut replacement = bundle("shop");
        replacement.clients.clear();
        replacement.users.clear();
        replacement.credentials.clear();
        replacement.role_mappings.clear();
        store.create_realms(&[replacement.clone()], true).await.unwrap();
        let realm = store.realm_by_name("shop").await.unwrap().unwrap();
        assert_eq!(realm.id, replacement.realm.unwrap().id);
        assert!(store.list_clients(&realm.id).await.unwrap().is_empty());
        assert_eq!(store.list_realms().await.unwrap().len(), 1);
    }

    async fn a_failing_import_writes_nothing(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let good = bundle("first");
        let mut bad = bundle("second");
        let realm_id = bad.realm.as_ref().unwrap().id.clone();
        bad.clients.push(client(&realm_id, "app")); // duplicate clientId in one realm
        assert!(store.create_realms(&[good, bad], false).await.is_err());
        assert!(store.list_realms().await.unwrap().is_empty());
    }

    async fn users_are_found_by_lower_cased_username(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let b = bundle("shop");
        store.create_realms(&[b.clone()], false).await.unwrap();
        let realm_id = &b.realm.as_ref().unwrap().id;
        let alice = store.user_by_username(realm_id, "ALICE").await.unwrap().expect("found");
        assert_eq!(alice, b.users[0]);
        assert_eq!(store.user_by_id(realm_id, &alice.id).await.unwrap(), Some(alice.clone()));
        assert!(store.user_by_id("other-realm", &alice.id).await.unwrap().is_none());
        assert_eq!(store.password_credential(&alice.id).await.unwrap(), Some(b.credentials[0].clone()));
        assert_eq!(store.user_role_ids(&alice.id).await.unwrap(), vec![b.roles[0].id.clone()]);

        let mut bob = user(realm_id, "bob");
        bob.username = "alice".into();
        let err = store.create_user(&bob, &[], &[]).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        bob.username = "bob".into();
        store.create_user(&bob, &[], &[b.roles[1].id.clone()]).await.unwrap();
        assert_eq!(store.user_role_ids(&bob.id).await.unwrap(), vec![b.roles[1].id.clone()]);
    }

    async fn clients_are_found_by_client_id_within_their_realm(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (a, b) = (bundle("a"), bundle("b"));
        store.create_realms(&[a.clone(), b.clone()], false).await.unwrap();
        let realm_a = &a.realm.as_ref().unwrap().id;
        let found = store.client_by_client_id(realm_a, "app").await.unwrap().unwrap();
        assert_eq!(found, a.clients[0]);
        assert!(store.client_by_client_id(realm_a, "nope").await.unwrap().is_none());
        assert_eq!(store.list_clients(realm_a).await.unwrap().len(), 1);
    }

    async fn key_rotation_demotes_and_expiry_deletes(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let master = MasterKey::generate();
        let b = new_realm_bundle("k", RealmSettings::default(), &master, 100).unwrap();
        store.create_realms(&[b.clone()], false).await.unwrap();
        let realm_id = b.realm.as_ref().unwrap().id.clone();
        let new_key = portcullis::oauth::tokens::keys::generate_signing_key(
            &realm_id, portcullis::domain::SignatureAlgorithm::ES256, &master, 200).unwrap();
        store.rotate_keys(&realm_id, &[new_key.clone()], 500).await.unwrap();
        let keys = store.signing_keys(&realm_id).await.unwrap();
        assert_eq!(keys.len(), 5);
        let es: Vec<_> = keys.iter().filter(|k| k.algorithm == "ES256").collect();
        assert_eq!(es.iter().filter(|k| k.status == KeyStatus::Active).count(), 1);
        let old = es.iter().find(|k| k.kid != new_key.kid).unwrap();
        assert_eq!((old.status, old.publish_until), (KeyStatus::Passive, Some(500)));
        assert_eq!(store.delete_expired_keys(499).await.unwrap(), 0);
        assert_eq!(store.delete_expired_keys(500).await.unwrap(), 1);
        assert_eq!(store.signing_keys(&realm_id).await.unwrap().len(), 4);
    }

    async fn deleting_a_realm_removes_everything_it_owns(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let b = bundle("gone");
        store.create_realms(&[b.clone()], false).await.unwrap();
        let realm_id = b.realm.as_ref().unwrap().id.clone();
        assert!(store.delete_realm(&realm_id).await.unwrap());
        assert!(!store.delete_realm(&realm_id).await.unwrap());
        assert!(store.list_clients(&realm_id).await.unwrap().is_empty());
        assert!(store.signing_keys(&realm_id).await.unwrap().is_empty());
        assert!(store.password_credential(&b.users[0].id).await.unwrap().is_none());
        assert!(store.realm_roles(&realm_id).await.unwrap().is_empty());
    }

    async fn ping_answers_while_the_database_is_up(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        store.ping().await.unwrap();
        assert!(store.pool_usage().0 >= 1);
    }
}

pub(crate) mod sessions {
    use portcullis::domain::new_id;
    use portcullis::store::{FamilyGeneration, NewGrant, PresentedToken, RotateOutcome, RotateRequest, UserSessionRecord};

    use super::*;

    pub(crate) async fn realm_with_user(store: &Arc<dyn Store>) -> (String, String, String) {
        let b = bundle("s");
        store.create_realms(&[b.clone()], false).await.unwrap();
        (b.realm.unwrap().id, b.clients[0].id.clone(), b.users[0].id.clone())
    }

    pub(crate) fn session(realm_id: &str, user_id: &str, now: i64, expires_at: i64) -> UserSessionRecord {
        UserSessionRecord {
            id: new_id(),
            realm_id: realm_id.into(),
            user_id: user_id.into(),
            offline: false,
            started_at: now,
            last_access_at: now,
            auth_time: now,
            remember_me: false,
            ip: Some("127.0.0.1".into()),
            user_agent: None,
            expires_at,
            browser_session_id: None,
        }
    }

    async fn token_state(
        store: &Arc<dyn Store>,
        realm_id: &str,
        user_id: &str,
        family_id: Option<&str>,
        session_id: Option<&str>,
        jti: [u8; 32],
    ) -> portcullis::store::AccessTokenState {
        let lookup = portcullis::store::AccessTokenLookup { realm_id, family_id, session_id, user_id, jti: &jti };
        store.access_token_state(&lookup).await.unwrap()
    }

    pub(crate) fn grant(s: UserSessionRecord, client_id: &str, hash: [u8; 32]) -> NewGrant {
        NewGrant {
            new_session: Some(s),
            existing_session_id: None,
            joined_expires_at: 0,
            client_id: client_id.into(),
            family_id: new_id(),
            scope: "openid".into(),
            now: 100,
            refresh_hash: Some(hash),
            from_code: None,
        }
    }

    /// A shell of `family` at `generation` whose jti hashes to `hash`.
    pub(crate) fn shell(family: &str, generation: i64, hash: [u8; 32]) -> PresentedToken {
        PresentedToken { hash, generation: Some(FamilyGeneration { family_id: family.into(), generation }) }
    }

    pub(crate) fn rotate(realm_id: &str, client_id: &str, presented: PresentedToken, successor: [u8; 32], max_reuse: i64) -> RotateRequest {
        RotateRequest {
            realm_id: realm_id.into(),
            client_id: client_id.into(),
            presented,
            successor,
            now: 200,
            rotate: true,
            max_reuse,
            requires_any_role: None,
            // alive at 200 for a session last touched at 100, then bounded by 200 + 4800
            timeouts: portcullis::session::TimeoutTable {
                sso: (4800, None),
                sso_remember_me: (4800, None),
                offline: (4800, None),
                client: (None, None),
                client_offline: (None, None),
            },
        }
    }

    backend_tests! {
        async fn rotation_consumes_once_and_a_reuse_revokes_the_family(backend: Backend) {
            let (store, _dir) = fresh_store(backend).await;
            let (realm_id, client_id, user_id) = realm_with_user(&store).await;
            let g = grant(session(&realm_id, &user_id, 100, 9999), &client_id, [1; 32]);
            let started = store.start_grant(&g).await.unwrap();
            assert_eq!(started.client_session.client_id, client_id);
            let fam = g.family_id.as_str();
            let first = store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(fam, 1, [1; 32]), [2; 32], 0)).await.unwrap();
            let RotateOutcome::Rotated(rotated) = first else { panic!("{first:?}") };
            assert_eq!(rotated.session.last_access_at, 200);
            assert_eq!(rotated.session.expires_at, 5000);
            assert_eq!(rotated.user.id, user_id);
            assert_eq!(rotated.role_ids.len(), 1);
            assert_eq!((rotated.family_id.as_str(), rotated.generation), (fam, 2), "the successor is the next generation");
            let reuse = store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(fam, 1, [1; 32]), [3; 32], 0)).await.unwrap();
            assert!(matches!(reuse, RotateOutcome::ReuseDetected { .. }), "{reuse:?}");
            let successor = store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(fam, 2, [2; 32]), [4; 32], 0)).await.unwrap();
            assert_eq!(successor, RotateOutcome::FamilyRevoked);
            let unknown = store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell("no-such-family", 1, [9; 32]), [5; 32], 0)).await.unwrap();
            assert_eq!(unknown, RotateOutcome::Unknown);
            let unknown = store.rotate_refresh_token(&rotate(&realm_id, &client_id, PresentedToken::legacy([9; 32]), [5; 32], 0)).await.unwrap();
            assert_eq!(unknown, RotateOutcome::Unknown, "no pre-upgrade row either");
        }

        async fn a_rotation_reads_every_role_id_whatever_characters_it_holds(backend: Backend) {
            // The hot path aggregates role ids in SQL; imported ids are free text, so separators
            // and quotes must survive, and a user without roles must read as none.
            let (store, _dir) = fresh_store(backend).await;
            let (realm_id, client_id, user_id) = realm_with_user(&store).await;
            let mut expected = store.user_role_ids(&user_id).await.unwrap();
            let odd = ["a,b", "quote\"d", "[x]", "back\\slash", "ünïcode"];
            for (i, id) in odd.iter().enumerate() {
                let role = portcullis::domain::Role {
                    id: id.to_string(),
                    realm_id: realm_id.clone(),
                    container_id: realm_id.clone(),
                    client_role: false,
                    name: format!("odd-{i}"),
                    description: None,
                    composites: Vec::new(),
                    attributes: Default::default(),
                };
                store.create_role(&role).await.unwrap();
            }
            let odd_ids: Vec<String> = odd.iter().map(|s| s.to_string()).collect();
            store.add_user_roles(&user_id, &odd_ids).await.unwrap();
            expected.extend(odd_ids);
            expected.sort();
            let g = grant(session(&realm_id, &user_id, 100, 9999), &client_id, [1; 32]);
            store.start_grant(&g).await.unwrap();
            let outcome = store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(&g.family_id, 1, [1; 32]), [2; 32], 0)).await.unwrap();
            let RotateOutcome::Rotated(rotated) = outcome else { panic!("{outcome:?}") };
            let mut got = rotated.role_ids.clone();
            got.sort();
            assert_eq!(got, expected);

            let lonely = user(&realm_id, "lonely");
            store.create_user(&lonely, &[], &[]).await.unwrap();
            let g = grant(session(&realm_id, &lonely.id, 100, 9999), &client_id, [3; 32]);
            store.start_grant(&g).await.unwrap();
            let outcome = store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(&g.family_id, 1, [3; 32]), [4; 32], 0)).await.unwrap();
            let RotateOutcome::Rotated(rotated) = outcome else { panic!("{outcome:?}") };
            assert_eq!(rotated.user.username, "lonely");
            assert!(rotated.role_ids.is_empty(), "{:?}", rotated.role_ids);
        }

        async fn an_access_tokens_grant_session_user_and_revocation_read_in_one_call(backend: Backend) {
            let (store, _dir) = fresh_store(backend).await;
            let (realm_id, client_id, user_id) = realm_with_user(&store).await;
            let s = session(&realm_id, &user_id, 100, 9999);
            let g = grant(s.clone(), &client_id, [1; 32]);
            store.start_grant(&g).await.unwrap();
            let (realm, user, fam, sid) = (realm_id.as_str(), user_id.as_str(), Some(g.family_id.as_str()), Some(s.id.as_str()));
            // by grant: its session, live and unrevoked
            let by_family = token_state(&store, realm, user, fam, None, [7; 32]).await;
            assert_eq!(by_family.session.as_ref().map(|x| x.id.as_str()), sid);
            assert!(by_family.user_enabled && !by_family.family_revoked && !by_family.jti_revoked);
            // by session (a token without `fam`) and by user alone (a token of no session)
            assert_eq!(token_state(&store, realm, user, None, sid, [7; 32]).await.session.map(|x| x.id), Some(s.id.clone()));
            let by_user = token_state(&store, realm, user, None, None, [7; 32]).await;
            assert!(by_user.user_enabled && by_user.session.is_none());
            // another realm finds nothing
            let foreign = token_state(&store, "other-realm", user, fam, None, [7; 32]).await;
            assert!(foreign.session.is_none() && !foreign.user_enabled);
            assert!(!token_state(&store, "other-realm", user, None, None, [7; 32]).await.user_enabled);
            // revoking the jti, then the grant
            store.revoke_access_token(&realm_id, &[7; 32], 9999).await.unwrap();
            assert!(token_state(&store, realm, user, fam, None, [7; 32]).await.jti_revoked);
            assert!(!token_state(&store, realm, user, fam, None, [8; 32]).await.jti_revoked, "only that jti is revoked");
            assert!(token_state(&store, realm, user, None, None, [7; 32]).await.jti_revoked);
            assert!(store.revoke_refresh_family(&realm_id, &client_id, &shell(&g.family_id, 1, [1; 32]), 200).await.unwrap());
            assert!(token_state(&store, realm, user, fam, None, [8; 32]).await.family_revoked, "a revoked grant shows in its access tokens");
            // a disabled user, then a deleted session
            let mut disabled = store.user_by_id(&realm_id, &user_id).await.unwrap().unwrap();
            disabled.enabled = false;
            assert!(store.update_user(&disabled).await.unwrap());
            assert!(!token_state(&store, realm, user, fam, None, [8; 32]).await.user_enabled);
            assert!(!token_state(&store, realm, user, None, None, [8; 32]).await.user_enabled);
            assert!(store.delete_user_session(&realm_id, &s.id).await.unwrap().is_some());
            assert!(token_state(&store, realm, user, fam, None, [8; 32]).await.session.is_none());
            assert!(token_state(&store, realm, user, None, sid, [8; 32]).await.session.is_none());
        }

        async fn a_dead_session_or_a_foreign_client_stores_no_successor(backend: Backend) {
            let (store, _dir) = fresh_store(backend).await;
            let (realm_id, client_id, user_id) = realm_with_user(&store).await;
            let g = grant(session(&realm_id, &user_id, 100, 9999), &client_id, [1; 32]);
            store.start_grant(&g).await.unwrap();
            let fam = g.family_id.as_str();
            let mut dead = rotate(&realm_id, &client_id, shell(fam, 1, [1; 32]), [2; 32], 0);
            dead.timeouts.sso = (100, None); // idle since 100: dead at 200
            let outcome = store.rotate_refresh_token(&dead).await.unwrap();
            assert_eq!(outcome, RotateOutcome::SessionInactive);
            assert!(store.session_of_refresh_token(&shell(fam, 2, [2; 32]), None).await.unwrap().is_none());
            let foreign = store.rotate_refresh_token(&rotate(&realm_id, "other-client", shell(fam, 1, [1; 32]), [2; 32], 0)).await.unwrap();
            assert_eq!(foreign, RotateOutcome::Unknown);
            assert!(store.session_of_refresh_token(&shell(fam, 1, [1; 32]), Some(0)).await.unwrap().is_some(), "nothing was consumed");
        }

        async fn a_cleanup_pass_drains_a_backlog_of_several_batches(backend: Backend) {
            let (store, _dir) = fresh_store(backend).await;
            let (realm_id, _, user_id) = realm_with_user(&store).await;
            let backlog = portcullis::ops::cleanup::BATCH as usize * 2 + 50;
            for _ in 0..backlog {
                store.create_user_session(&session(&realm_id, &user_id, 100, 150)).await.unwrap();
            }
            store.create_user_session(&session(&realm_id, &user_id, 100, 10_000)).await.unwrap();
            let clock = portcullis::clock::TestClock::at(200);
            let deleted = portcullis::ops::cleanup::run_once(store.as_ref(), &clock, 1_000_000).await;
            assert_eq!(deleted, backlog as u64, "three batches in one pass, not one");
            assert_eq!(store.sessions_of_user(&user_id).await.unwrap().len(), 1, "the live session stays");
        }

        async fn expired_rows_are_deleted_in_bounded_batches(backend: Backend) {
            let (store, _dir) = fresh_store(backend).await;
            let (realm_id, client_id, user_id) = realm_with_user(&store).await;
            let mut families = Vec::new();
            for (i, expires) in [(1u8, 150), (2, 160), (3, 10_000)] {
                let g = grant(session(&realm_id, &user_id, 100, expires), &client_id, [i; 32]);
                store.start_grant(&g).await.unwrap();
                families.push(g.family_id);
            }
            let events: Vec<portcullis::store::EventRecord> = (0..3)
                .map(|i| portcullis::store::EventRecord {
                    id: new_id(), realm_id: realm_id.clone(), time: 100 + i, kind: "LOGIN".into(), ..Default::default()
                })
                .collect();
            store.insert_events(&events).await.unwrap();
            assert_eq!(store.delete_expired(200, 102, 1).await.unwrap(), 2, "one session and one event per batch");
            assert_eq!(store.delete_expired(200, 102, 1000).await.unwrap(), 2);
            assert_eq!(store.delete_expired(200, 102, 1000).await.unwrap(), 0);
            assert!(store.session_of_refresh_token(&shell(&families[0], 1, [1; 32]), None).await.unwrap().is_none());
            assert!(store.session_of_refresh_token(&shell(&families[2], 1, [3; 32]), None).await.unwrap().is_some());
            assert_eq!(store.list_events(&realm_id, &Default::default()).await.unwrap().len(), 1);
        }
    }
}
