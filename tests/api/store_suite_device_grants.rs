//! The storage contract of device authorizations (RFC 8628), on both backends: a user code is
//! unique per realm while its grant lives; a decision applies once, only to a pending grant
//! before its expiry; a poll is recorded only once the interval has passed; an approved grant is
//! redeemed once and only by its client; expired grants are deleted in bounded batches.

use portcullis::store::device_grants::HashBytes;
use portcullis::store::{DeviceGrantRecord, DevicePoll, StoreError};

use crate::backend_tests;
use crate::store_suite::fresh_store;
use crate::store_suite::sessions::{realm_with_user, session};

fn grant(realm_id: &str, client_id: &str, device: u8, user: u8, expires_at: i64) -> DeviceGrantRecord {
    DeviceGrantRecord {
        device_code_hash: HashBytes([device; 32]),
        user_code_hash: HashBytes([user; 32]),
        realm_id: realm_id.to_string(),
        client_id: client_id.to_string(),
        scope: "openid profile".into(),
        nonce: Some("n".into()),
        created_at: 100,
        expires_at,
        poll_interval: 5,
        last_poll_at: None,
        user_session_id: None,
        denied: false,
    }
}

backend_tests! {
    async fn device_grants_are_decided_once_polled_at_their_pace_and_redeemed_once(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, client_id, user_id) = realm_with_user(&store).await;
        let g = grant(&realm_id, &client_id, 1, 1, 700);
        store.insert_device_grant(&g).await.unwrap();
        assert!(matches!(store.insert_device_grant(&grant(&realm_id, &client_id, 2, 1, 700)).await, Err(StoreError::Conflict(_))),
            "a live user code is unique in its realm");
        assert_eq!(store.device_grant_by_user_code(&realm_id, &[1; 32]).await.unwrap(), Some(g.clone()));
        assert_eq!(store.device_grant_by_user_code("other-realm", &[1; 32]).await.unwrap(), None);

        // polls: the first is recorded, one within the interval is not, one after it is
        let DevicePoll::Polled(polled) = store.poll_device_grant(&realm_id, &client_id, &[1; 32], 200).await.unwrap() else { panic!("first poll") };
        assert_eq!(polled.last_poll_at, Some(200));
        assert!(matches!(store.poll_device_grant(&realm_id, &client_id, &[1; 32], 204).await.unwrap(), DevicePoll::TooSoon(g) if g.last_poll_at == Some(200)));
        assert!(matches!(store.poll_device_grant(&realm_id, &client_id, &[1; 32], 205).await.unwrap(), DevicePoll::Polled(_)));
        assert_eq!(store.poll_device_grant(&realm_id, "another-client", &[1; 32], 300).await.unwrap(), DevicePoll::Unknown);
        assert_eq!(store.poll_device_grant(&realm_id, &client_id, &[9; 32], 300).await.unwrap(), DevicePoll::Unknown);

        // pending: nothing to redeem; a decision after the expiry is refused
        assert_eq!(store.redeem_device_grant(&realm_id, &client_id, &[1; 32]).await.unwrap(), None);
        let s = session(&realm_id, &user_id, 100, 9999);
        store.create_user_session(&s).await.unwrap();
        assert!(!store.decide_device_grant(&realm_id, &[1; 32], Some(&s.id), 700).await.unwrap(), "expired");
        assert!(store.decide_device_grant(&realm_id, &[1; 32], Some(&s.id), 699).await.unwrap());
        assert!(!store.decide_device_grant(&realm_id, &[1; 32], None, 699).await.unwrap(), "decided once");

        assert_eq!(store.redeem_device_grant(&realm_id, "another-client", &[1; 32]).await.unwrap(), None);
        let redeemed = store.redeem_device_grant(&realm_id, &client_id, &[1; 32]).await.unwrap().expect("approved");
        assert_eq!(redeemed.user_session_id.as_deref(), Some(s.id.as_str()));
        assert_eq!(redeemed.scope, "openid profile");
        assert_eq!(store.redeem_device_grant(&realm_id, &client_id, &[1; 32]).await.unwrap(), None, "once");

        // a denied grant stays denied and cannot be redeemed; its user code can be drawn again once it is gone
        store.insert_device_grant(&grant(&realm_id, &client_id, 3, 3, 700)).await.unwrap();
        assert!(store.decide_device_grant(&realm_id, &[3; 32], None, 150).await.unwrap());
        assert!(store.device_grant_by_user_code(&realm_id, &[3; 32]).await.unwrap().unwrap().denied);
        assert_eq!(store.redeem_device_grant(&realm_id, &client_id, &[3; 32]).await.unwrap(), None);
        store.insert_device_grant(&grant(&realm_id, &client_id, 1, 1, 800)).await.unwrap();

        // cleanup: only the expired, at most `limit` at a time
        for i in 10..15u8 {
            store.insert_device_grant(&grant(&realm_id, &client_id, i, i, 50)).await.unwrap();
        }
        assert_eq!(store.delete_expired_device_grants(60, 3).await.unwrap(), 3);
        assert_eq!(store.delete_expired_device_grants(60, 1000).await.unwrap(), 2);
        assert_eq!(store.delete_expired_device_grants(60, 1000).await.unwrap(), 0);
        assert!(store.device_grant_by_user_code(&realm_id, &[1; 32]).await.unwrap().is_some());
        assert_eq!(store.delete_expired_device_grants(800, 1000).await.unwrap(), 2, "the denied one and the new one");
    }
}
