//! The conformance suite for `UserAdminStore` (store/users.rs): the user profile's storage,
//! credential labels and order, and clearing a realm's brute-force state, on both backends.

use portcullis::domain::{new_id, Credential};
use portcullis::store::LoginFailureRecord;

use crate::backend_tests;
use crate::store_suite::fresh_store;
use crate::store_suite::sessions::realm_with_user;

fn credential(user_id: &str, kind: &str, created_at: i64) -> Credential {
    Credential {
        id: new_id(),
        user_id: user_id.into(),
        kind: kind.into(),
        secret_data: "s".into(),
        credential_data: "{}".into(),
        created_at,
        user_label: None,
        priority: 0,
    }
}

backend_tests! {
    async fn a_user_profile_is_stored_replaced_and_kept_per_realm(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, _, _) = realm_with_user(&store).await;
        assert_eq!(store.user_profile_config(&realm_id).await.unwrap(), None, "never set");
        store.set_user_profile_config(&realm_id, r#"{"attributes":[]}"#).await.unwrap();
        store.set_user_profile_config(&realm_id, r#"{"attributes":[{"name":"x"}]}"#).await.unwrap();
        assert_eq!(store.user_profile_config(&realm_id).await.unwrap().as_deref(), Some(r#"{"attributes":[{"name":"x"}]}"#));
        assert_eq!(store.user_profile_config("other").await.unwrap(), None);
        assert!(store.delete_realm(&realm_id).await.unwrap());
        assert_eq!(store.user_profile_config(&realm_id).await.unwrap(), None, "goes with its realm");
    }

    async fn credentials_are_labelled_and_reordered_only_as_a_whole(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, _, _) = realm_with_user(&store).await;
        let user = crate::store_suite::user(&realm_id, "olga");
        let (a, b, c) = (credential(&user.id, "password", 1), credential(&user.id, "otp", 2), credential(&user.id, "webauthn", 3));
        store.create_user(&user, &[a.clone(), b.clone(), c.clone()], &[]).await.unwrap();
        let ids = |list: Vec<Credential>| list.into_iter().map(|c| (c.id, c.priority)).collect::<Vec<_>>();
        assert_eq!(ids(store.credentials_of_user(&user.id).await.unwrap()),
            [(a.id.clone(), 10), (b.id.clone(), 20), (c.id.clone(), 30)]);

        assert!(store.set_credential_label(&user.id, &b.id, Some("phone")).await.unwrap());
        assert!(!store.set_credential_label("someone-else", &b.id, Some("x")).await.unwrap(), "only the user's own");
        assert!(!store.set_credential_label(&user.id, "nope", Some("x")).await.unwrap());
        let listed = store.credentials_of_user(&user.id).await.unwrap();
        assert_eq!(listed[1].user_label.as_deref(), Some("phone"));
        assert!(store.set_credential_label(&user.id, &b.id, None).await.unwrap());
        assert_eq!(store.credentials_of_user(&user.id).await.unwrap()[1].user_label, None);

        let order = vec![c.id.clone(), a.id.clone(), b.id.clone()];
        assert!(store.reorder_credentials(&user.id, &order).await.unwrap());
        assert_eq!(ids(store.credentials_of_user(&user.id).await.unwrap()),
            [(c.id.clone(), 10), (a.id.clone(), 20), (b.id.clone(), 30)]);
        for partial in [vec![a.id.clone(), b.id.clone()], vec![a.id.clone(), b.id.clone(), "nope".into()], vec![]] {
            assert!(!store.reorder_credentials(&user.id, &partial).await.unwrap(), "{partial:?}");
        }
        assert_eq!(store.credentials_of_user(&user.id).await.unwrap()[0].id, c.id, "a refused order writes nothing");
        let d = credential(&user.id, "otp", 4);
        store.replace_password(&Credential { kind: "password".into(), ..d }).await.unwrap();
        let listed = store.credentials_of_user(&user.id).await.unwrap();
        assert_eq!(listed.iter().find(|c| c.kind == "password").unwrap().priority, 20, "a new password takes the old one's place");
    }

    async fn a_realms_login_failures_are_cleared_and_no_other(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (one, _, alice) = realm_with_user(&store).await;
        let record = LoginFailureRecord { failures: 3, last_failure_at: 100, locked_until: Some(200), locked_forever: false };
        store.set_login_failures(&alice, &record).await.unwrap();
        let b = {
            let mut b = portcullis::realm::defaults::new_realm_bundle(
                "t", Default::default(), &portcullis::crypto::MasterKey::generate(), 100).unwrap();
            let realm_id = b.realm.as_ref().unwrap().id.clone();
            b.users.push(crate::store_suite::user(&realm_id, "bob"));
            b
        };
        store.create_realms(&[b.clone()], false).await.unwrap();
        let bob = b.users[0].id.clone();
        store.set_login_failures(&bob, &record).await.unwrap();
        assert_eq!(store.clear_realm_login_failures(&one).await.unwrap(), 1);
        assert_eq!(store.login_failures(&alice).await.unwrap(), LoginFailureRecord::default());
        assert_eq!(store.login_failures(&bob).await.unwrap(), record, "another realm's user keeps them");
    }
}
