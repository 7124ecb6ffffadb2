//! The store's contracts for roles and clients beyond the shared suite, on both backends: role
//! attributes and client settings round-trip, composites change one by one (idempotently), and
//! a role's direct members page by username.

use std::collections::BTreeMap;

use portcullis::crypto::MasterKey;
use portcullis::domain::{ClientSettings, RealmSettings};
use portcullis::realm::defaults::new_realm_bundle;

use crate::backend_tests;
use crate::store_suite::{client, fresh_store, user};

backend_tests! {
    async fn role_attributes_client_settings_composites_and_members_keep_their_contracts(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let mut bundle = new_realm_bundle("roles", RealmSettings::default(), &MasterKey::generate(), 100).unwrap();
        let realm_id = bundle.realm.as_ref().unwrap().id.clone();
        let mut app = client(&realm_id, "app");
        app.settings = ClientSettings {
            description: Some("described".into()),
            root_url: Some("https://app.example".into()),
            frontchannel_logout: true,
            not_before: 42,
            ..ClientSettings::default()
        };
        bundle.clients.push(app.clone());
        bundle.roles[0].attributes = BTreeMap::from([("k".to_string(), vec!["a".to_string(), "b".to_string()])]);
        let (bob, alice) = (user(&realm_id, "bob"), user(&realm_id, "alice"));
        let offline = bundle.roles.iter().find(|r| r.name == "offline_access").unwrap().id.clone();
        let uma = bundle.roles.iter().find(|r| r.name == "uma_authorization").unwrap().id.clone();
        bundle.role_mappings.extend([(bob.id.clone(), offline.clone()), (alice.id.clone(), offline.clone())]);
        bundle.users.extend([bob.clone(), alice.clone()]);
        store.create_realms(&[bundle.clone()], false).await.unwrap();

        assert_eq!(store.client_by_client_id(&realm_id, "app").await.unwrap().unwrap().settings, app.settings);
        let roles = store.realm_roles(&realm_id).await.unwrap();
        let first = roles.iter().find(|r| r.id == bundle.roles[0].id).unwrap();
        assert_eq!(first.attributes, bundle.roles[0].attributes);

        store.add_role_composites(&uma, std::slice::from_ref(&offline)).await.unwrap();
        store.add_role_composites(&uma, std::slice::from_ref(&offline)).await.unwrap();
        let composites = |roles: Vec<portcullis::domain::Role>| roles.into_iter().find(|r| r.id == uma).unwrap().composites;
        assert_eq!(composites(store.realm_roles(&realm_id).await.unwrap()), vec![offline.clone()], "added once");
        store.remove_role_composites(&uma, &[offline.clone(), "absent".into()]).await.unwrap();
        assert!(composites(store.realm_roles(&realm_id).await.unwrap()).is_empty());

        assert_eq!(store.users_in_role(&realm_id, &offline, 0, 10).await.unwrap(), vec![alice.id.clone(), bob.id.clone()]);
        assert_eq!(store.users_in_role(&realm_id, &offline, 1, 10).await.unwrap(), vec![bob.id.clone()]);
        assert!(store.users_in_role(&realm_id, &offline, 0, 0).await.unwrap().is_empty(), "max 0: none");
        assert!(store.users_in_role(&realm_id, &uma, 0, 10).await.unwrap().is_empty());
        assert!(store.users_in_role("other-realm", &offline, 0, 10).await.unwrap().is_empty());
    }
}
