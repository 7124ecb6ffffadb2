//! The conformance suite for `OtpStore` (store/otp.rs), on both backends: an OTP credential's
//! replay state (one winner among concurrent uses of one code, no use of an older factor), the
//! HOTP counter stored with it, and the start-up sealing's listing and compare-and-set.

use std::sync::Arc;

use portcullis::domain::{new_id, Credential};
use portcullis::store::{Store, StoreError};

use crate::backend_tests;
use crate::store_suite::fresh_store;
use crate::store_suite::sessions::realm_with_user;

fn otp(user_id: &str, secret_data: &str) -> Credential {
    Credential {
        id: new_id(),
        user_id: user_id.into(),
        kind: "otp".into(),
        secret_data: secret_data.into(),
        credential_data: r#"{"subType":"hotp","digits":6,"counter":0,"period":30,"algorithm":"HmacSHA1"}"#.into(),
        created_at: 100,
        user_label: Some("phone".into()),
        priority: 0,
    }
}

backend_tests! {
    async fn an_otp_credential_is_added_last_and_listed_with_its_replay_state(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (_, _, user_id) = realm_with_user(&store).await;
        assert!(store.otp_credentials(&user_id).await.unwrap().is_empty());
        let first = otp(&user_id, r#"{"sealed":"x"}"#);
        store.add_otp_credential(&first, None).await.unwrap();
        let second = otp(&user_id, r#"{"sealed":"y"}"#);
        store.add_otp_credential(&second, Some(42)).await.unwrap();
        let held = store.otp_credentials(&user_id).await.unwrap();
        assert_eq!(held.iter().map(|s| (s.credential.id.as_str(), s.next)).collect::<Vec<_>>(),
            [(first.id.as_str(), None), (second.id.as_str(), Some(42))]);
        assert_eq!(held[0].credential.user_label.as_deref(), Some("phone"));
        let all = store.credentials_of_user(&user_id).await.unwrap();
        assert_eq!(all.last().unwrap().id, second.id, "new credentials go last");
        assert!(matches!(store.add_otp_credential(&first, None).await, Err(StoreError::Conflict(_))), "same id");
        let stray = otp("no-such-user", "{}");
        assert!(matches!(store.add_otp_credential(&stray, None).await, Err(StoreError::NotFound(_))));
    }

    async fn a_factor_is_consumed_once_and_no_older_one_after_it(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (_, _, user_id) = realm_with_user(&store).await;
        let c = otp(&user_id, "{}");
        store.add_otp_credential(&c, None).await.unwrap();
        assert!(store.consume_otp(&c.id, 10, None).await.unwrap(), "first use");
        assert!(!store.consume_otp(&c.id, 10, None).await.unwrap(), "the same factor again");
        assert!(!store.consume_otp(&c.id, 9, None).await.unwrap(), "an older factor");
        let data = r#"{"subType":"hotp","digits":6,"counter":12,"period":30,"algorithm":"HmacSHA1"}"#;
        assert!(store.consume_otp(&c.id, 11, Some(data)).await.unwrap(), "the next one");
        let held = store.otp_credentials(&user_id).await.unwrap();
        assert_eq!((held[0].next, held[0].credential.credential_data.as_str()), (Some(12), data));
        assert!(!store.consume_otp("gone", 1, None).await.unwrap(), "no such credential");
        assert!(store.delete_credential(&user_id, &c.id).await.unwrap());
        assert!(!store.consume_otp(&c.id, 20, None).await.unwrap(), "deleted meanwhile");
    }

    async fn of_concurrent_uses_of_one_factor_exactly_one_wins(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (_, _, user_id) = realm_with_user(&store).await;
        let c = otp(&user_id, "{}");
        store.add_otp_credential(&c, Some(5)).await.unwrap();
        for round in 0..3i64 {
            let factor = 100 + round;
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let (store, id): (Arc<dyn Store>, String) = (store.clone(), c.id.clone());
                    tokio::spawn(async move { store.consume_otp(&id, factor, None).await.unwrap() })
                })
                .collect();
            let mut winners = 0;
            for task in tasks {
                winners += usize::from(task.await.unwrap());
            }
            assert_eq!(winners, 1, "round {round}");
        }
    }

    async fn plain_text_secrets_are_listed_and_replaced_only_if_unchanged(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (_, _, user_id) = realm_with_user(&store).await;
        let plain = otp(&user_id, r#"{"value":"JBSWY3DPEHPK3PXP"}"#);
        let sealed = otp(&user_id, r#"{"sealed":"AAAA"}"#);
        store.add_otp_credential(&plain, None).await.unwrap();
        store.add_otp_credential(&sealed, None).await.unwrap();
        let listed = store.unsealed_otp_credentials(10).await.unwrap();
        assert_eq!(listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [plain.id.as_str()]);
        assert!(!store.replace_otp_secret(&plain.id, "{}", r#"{"sealed":"B"}"#).await.unwrap(), "changed meanwhile");
        assert!(store.replace_otp_secret(&plain.id, &plain.secret_data, r#"{"sealed":"B"}"#).await.unwrap());
        assert!(store.unsealed_otp_credentials(10).await.unwrap().is_empty());
        assert_eq!(store.unsealed_otp_credentials(0).await.unwrap().len(), 0, "bounded by the limit");
    }
}
