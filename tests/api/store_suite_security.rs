//! The storage contracts issue 13 added, on both backends: a code is found only by the realm and
//! client it was issued to; a rotation the user may no longer have writes nothing; an offline
//! session keeps the browser session id its tokens name; credentials are listed, deleted and set
//! together with the user's required actions.

use portcullis::domain::{new_id, Credential};
use portcullis::store::{AuthCodeRecord, CodeOutcome, RotateOutcome};

use crate::backend_tests;
use crate::store_suite::fresh_store;
use crate::store_suite::sessions::{grant, realm_with_user, rotate, session, shell};

fn code(realm_id: &str, client_id: &str, session_id: &str) -> AuthCodeRecord {
    AuthCodeRecord {
        code_hash: [5; 32],
        realm_id: realm_id.into(),
        client_id: client_id.into(),
        user_session_id: session_id.into(),
        redirect_uri: "https://app.example/cb".into(),
        scope: "openid".into(),
        nonce: None,
        code_challenge: None,
        code_challenge_method: None,
        dpop_jkt: None,
        created_at: 100,
        expires_at: 160,
    }
}

fn credential(user_id: &str, kind: &str, created_at: i64) -> Credential {
    Credential {
        id: new_id(),
        user_id: user_id.into(),
        kind: kind.into(),
        secret_data: format!("{kind}-secret"),
        credential_data: "{}".into(),
        created_at,
        user_label: None,
        priority: 0,
    }
}

backend_tests! {
    async fn a_code_is_found_only_by_the_realm_and_client_it_was_issued_to(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, client_id, user_id) = realm_with_user(&store).await;
        let s = session(&realm_id, &user_id, 100, 9999);
        store.create_user_session(&s).await.unwrap();
        store.insert_auth_code(&code(&realm_id, &client_id, &s.id)).await.unwrap();
        for (realm, client) in [(realm_id.as_str(), "another-client"), ("another-realm", client_id.as_str())] {
            assert_eq!(store.consume_auth_code(realm, client, &[5; 32], 110).await.unwrap(), CodeOutcome::Unknown);
        }
        assert!(matches!(store.consume_auth_code(&realm_id, &client_id, &[5; 32], 110).await.unwrap(), CodeOutcome::Fresh(_)),
            "the foreign attempts neither spent nor burnt it");
        assert_eq!(store.consume_auth_code(&realm_id, &client_id, &[5; 32], 111).await.unwrap(), CodeOutcome::Replayed);
        assert_eq!(store.consume_auth_code(&realm_id, "another-client", &[5; 32], 112).await.unwrap(), CodeOutcome::Unknown,
            "nor can another client replay it");
    }

    async fn a_rotation_the_user_is_not_permitted_writes_nothing(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, client_id, user_id) = realm_with_user(&store).await;
        let g = grant(session(&realm_id, &user_id, 100, 9999), &client_id, [1; 32]);
        store.start_grant(&g).await.unwrap();
        let held = store.user_role_ids(&user_id).await.unwrap();
        let mut refused = rotate(&realm_id, &client_id, shell(&g.family_id, 1, [1; 32]), [2; 32], 0);
        refused.requires_any_role = Some(vec!["a-role-nobody-holds".into()]);
        assert_eq!(store.rotate_refresh_token(&refused).await.unwrap(), RotateOutcome::NotPermitted);
        assert!(store.session_of_refresh_token(&shell(&g.family_id, 2, [2; 32]), None).await.unwrap().is_none(), "no successor");
        let mut allowed = rotate(&realm_id, &client_id, shell(&g.family_id, 1, [1; 32]), [3; 32], 0);
        allowed.requires_any_role = Some(held);
        let outcome = store.rotate_refresh_token(&allowed).await.unwrap();
        assert!(matches!(outcome, RotateOutcome::Rotated(_)), "the refused one consumed nothing: {outcome:?}");
    }

    async fn an_offline_session_keeps_the_browser_session_id_its_tokens_name(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, client_id, user_id) = realm_with_user(&store).await;
        let browser = session(&realm_id, &user_id, 100, 9999);
        store.create_user_session(&browser).await.unwrap();
        let mut offline = session(&realm_id, &user_id, 100, 99999);
        offline.offline = true;
        offline.browser_session_id = Some(browser.id.clone());
        let started = store.start_grant(&grant(offline.clone(), &client_id, [1; 32])).await.unwrap();
        assert_eq!(started.session.sid(), browser.id);
        let read = store.user_session(&realm_id, &offline.id).await.unwrap().expect("the offline session");
        assert_eq!((read.browser_session_id.as_deref(), read.sid()), (Some(browser.id.as_str()), browser.id.as_str()));
        assert_eq!(store.user_session(&realm_id, &browser.id).await.unwrap().unwrap().sid(), browser.id, "a session of its own");
        assert!(store.delete_user_session(&realm_id, &browser.id).await.unwrap().is_some());
        assert!(store.user_session(&realm_id, &offline.id).await.unwrap().is_some(), "the offline session outlives the browser's");
    }

    async fn credentials_are_listed_in_priority_order_deleted_and_set_with_required_actions(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, _, _) = realm_with_user(&store).await;
        let user = crate::store_suite::user(&realm_id, "otto");
        let (password, otp) = (credential(&user.id, "password", 10), credential(&user.id, "otp", 20));
        store.create_user(&user, &[password.clone(), otp.clone()], &[]).await.unwrap();
        // priority 0 means "after the others": 10, 20, ... in the order given
        let with = |c: &Credential, priority: i64| Credential { priority, ..c.clone() };
        let (password, otp) = (with(&password, 10), with(&otp, 20));
        let listed = store.credentials_of_user(&user.id).await.unwrap();
        assert_eq!(listed, vec![password.clone(), otp.clone()]);
        assert_eq!(store.password_credential(&user.id).await.unwrap(), Some(password.clone()));
        assert!(!store.delete_credential("someone-else", &otp.id).await.unwrap(), "only the user's own");
        assert!(store.delete_credential(&user.id, &otp.id).await.unwrap());
        assert_eq!(store.credentials_of_user(&user.id).await.unwrap(), vec![password]);
        let new = credential(&user.id, "password", 30);
        store.set_password(&new, &["UPDATE_PASSWORD".to_string()], 0).await.unwrap();
        assert_eq!(
            store.credentials_of_user(&user.id).await.unwrap(),
            vec![with(&new, 10)],
            "the old password is replaced, its place kept"
        );
        let read = store.user_by_id(&realm_id, &user.id).await.unwrap().unwrap();
        assert_eq!(read.required_actions, vec!["UPDATE_PASSWORD".to_string()]);
        store.set_password(&credential(&user.id, "password", 40), &[], 0).await.unwrap();
        assert!(store.user_by_id(&realm_id, &user.id).await.unwrap().unwrap().required_actions.is_empty());
    }
}
