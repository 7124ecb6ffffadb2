//! The storage contract back-channel logout relies on, on both backends: every call that ends
//! sessions returns exactly the sessions it ended, each with the clients that had joined it, so
//! the notifier tells every client and no other; a session of another realm, or one already
//! gone, ends nothing and is not returned.

use portcullis::store::{NewGrant, SessionWithClients, UserSessionRecord};

use crate::backend_tests;
use crate::store_suite::fresh_store;
use crate::store_suite::sessions::{grant, realm_with_user, session};

fn ids(ended: &[SessionWithClients]) -> Vec<String> {
    let mut ids: Vec<String> = ended.iter().map(|e| e.session.id.clone()).collect();
    ids.sort();
    ids
}

fn offline(mut s: UserSessionRecord) -> UserSessionRecord {
    s.offline = true;
    s
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

backend_tests! {
    async fn ending_sessions_returns_each_with_the_clients_that_joined_it(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, client_id, user_id) = realm_with_user(&store).await;

        // one session, joined twice by the client (two grants): the client is named once per join
        let a = session(&realm_id, &user_id, 100, 9999);
        store.start_grant(&grant(a.clone(), &client_id, [1; 32])).await.unwrap();
        let join = NewGrant { new_session: None, existing_session_id: Some(a.id.clone()), joined_expires_at: 9999, ..grant(a.clone(), &client_id, [2; 32]) };
        store.start_grant(&join).await.unwrap();
        assert_eq!(store.delete_user_session("another-realm", &a.id).await.unwrap(), None, "another realm's session is not ended");
        let ended = store.delete_user_session(&realm_id, &a.id).await.unwrap().expect("ended");
        assert_eq!(ended.session, a);
        assert!(!ended.client_ids.is_empty() && ended.client_ids.iter().all(|c| *c == client_id), "{:?}", ended.client_ids);
        assert_eq!(store.delete_user_session(&realm_id, &a.id).await.unwrap(), None, "gone: nothing to end twice");

        // a session no client joined yet (a browser login) is returned with no clients
        let bare = session(&realm_id, &user_id, 100, 9999);
        store.create_user_session(&bare).await.unwrap();
        let keep = session(&realm_id, &user_id, 100, 9999);
        store.start_grant(&grant(keep.clone(), &client_id, [3; 32])).await.unwrap();
        let off = offline(session(&realm_id, &user_id, 100, 9999));
        store.start_grant(&grant(off.clone(), &client_id, [4; 32])).await.unwrap();
        let others = store.delete_other_sessions(&user_id, &keep.id, false).await.unwrap();
        assert_eq!(ids(&others), vec![bare.id.clone()], "online others only");
        assert!(others[0].client_ids.is_empty());

        // the client's offline sessions, consent kept
        let ended = store.delete_offline_sessions_of_client(&user_id, &client_id).await.unwrap();
        assert_eq!(ids(&ended), vec![off.id.clone()]);
        assert_eq!(ended[0].client_ids, vec![client_id.clone()]);
        assert!(store.delete_offline_sessions_of_client(&user_id, &client_id).await.unwrap().is_empty());

        // revoking a consent returns the offline sessions it ended; None when there was nothing
        let off2 = offline(session(&realm_id, &user_id, 100, 9999));
        store.start_grant(&grant(off2.clone(), &client_id, [5; 32])).await.unwrap();
        let revoked = store.revoke_consent(&user_id, &client_id).await.unwrap().expect("an offline session was there");
        assert_eq!(ids(&revoked), vec![off2.id.clone()]);
        assert_eq!(store.revoke_consent(&user_id, &client_id).await.unwrap(), None);

        // every session of the user, offline ones when asked
        let off3 = offline(session(&realm_id, &user_id, 100, 9999));
        store.start_grant(&grant(off3.clone(), &client_id, [6; 32])).await.unwrap();
        let online = store.delete_user_sessions(&user_id, false).await.unwrap();
        assert_eq!(ids(&online), vec![keep.id.clone()]);
        let all = store.delete_user_sessions(&user_id, true).await.unwrap();
        assert_eq!(ids(&all), vec![off3.id.clone()]);
        assert_eq!(sorted(all[0].client_ids.clone()), vec![client_id.clone()]);
        assert!(store.sessions_of_user(&user_id).await.unwrap().is_empty());
    }
}
