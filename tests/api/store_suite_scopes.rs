//! The storage conformance suite for `ScopeStore` (issue 15): client scopes, protocol mappers,
//! realm default scopes, client links and scope mappings, on both backends.

use std::collections::BTreeMap;

use portcullis::domain::scopes::{ClientScope, MapperContainer, ProtocolMapper, RealmScopes, ScopeHolder};
use portcullis::domain::new_id;
use portcullis::crypto::MasterKey;
use portcullis::domain::RealmSettings;
use portcullis::realm::defaults::new_realm_bundle;
use portcullis::store::StoreError;

use crate::backend_tests;
use crate::store_suite::{client, fresh_store};

fn mapper(name: &str) -> ProtocolMapper {
    ProtocolMapper {
        id: new_id(),
        name: name.into(),
        protocol: "openid-connect".into(),
        protocol_mapper: "oidc-hardcoded-claim-mapper".into(),
        config: BTreeMap::from([("claim.name".into(), "x".into()), ("claim.value".into(), "1".into())]),
    }
}

fn scope(realm_id: &str, name: &str) -> ClientScope {
    ClientScope {
        id: new_id(),
        realm_id: realm_id.into(),
        name: name.into(),
        description: Some("a scope".into()),
        protocol: "openid-connect".into(),
        attributes: BTreeMap::from([("include.in.token.scope".into(), "true".into())]),
        mappers: vec![mapper("m1")],
    }
}

backend_tests! {
    async fn a_new_realm_stores_its_built_in_scopes_and_links_and_reads_them_in_one_call(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let mut b = new_realm_bundle("shop", RealmSettings::default(), &MasterKey::generate(), 100).unwrap();
        let realm_id = b.realm.as_ref().unwrap().id.clone();
        let app = client(&realm_id, "app");
        b.clients.push(app.clone());
        portcullis::realm::builtin_scopes::add_builtin_scopes(&mut b);
        store.create_realms(&[b.clone()], false).await.unwrap();

        let read = store.realm_scopes(&realm_id).await.unwrap();
        let names: Vec<&str> = read.client_scopes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["acr", "address", "basic", "email", "microprofile-jwt", "offline_access", "phone", "profile", "roles", "web-origins"]);
        let mut expected = b.scopes.client_scopes.clone();
        expected.sort_by(|x, y| x.name.cmp(&y.name));
        for s in &mut expected {
            s.mappers.sort_by(|x, y| x.name.cmp(&y.name));
        }
        assert_eq!(read.client_scopes, expected, "scopes and mappers read back whole");
        assert_eq!(read.realm_defaults.len(), 10);
        assert_eq!(read.client_links.iter().filter(|l| l.client_id == app.id).count(), 10);
        assert_eq!(read.scope_mappings.len(), 1, "offline_access");
        assert_eq!(store.realm_bundle(&realm_id).await.unwrap().scopes, read, "the bundle carries the same model");
        assert!(store.realm_bundle(&realm_id).await.unwrap().clients.iter().all(|c| c.full_scope_allowed));
    }

    async fn scopes_mappers_links_and_mappings_follow_their_contracts(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let b = new_realm_bundle("shop", RealmSettings::default(), &MasterKey::generate(), 100).unwrap();
        let realm_id = b.realm.as_ref().unwrap().id.clone();
        let role_id = b.roles[0].id.clone();
        store.create_realms(&[b], false).await.unwrap();
        let mut app = client(&realm_id, "app");
        app.full_scope_allowed = false;
        store.create_client(&app, &[], None).await.unwrap();
        assert!(!store.client_by_id(&realm_id, &app.id).await.unwrap().unwrap().full_scope_allowed);

        let custom = scope(&realm_id, "custom");
        store.create_client_scope(&custom).await.unwrap();
        let taken = ClientScope { id: new_id(), ..scope(&realm_id, "custom") };
        assert!(matches!(store.create_client_scope(&taken).await, Err(StoreError::Conflict(_))));
        let mut renamed = custom.clone();
        renamed.name = "profile".into();
        assert!(matches!(store.update_client_scope(&renamed).await, Err(StoreError::Conflict(_))), "profile is taken");
        renamed.name = "custom2".into();
        assert!(store.update_client_scope(&renamed).await.unwrap());

        let on_scope = MapperContainer::ClientScope(custom.id.clone());
        let on_client = MapperContainer::Client(app.id.clone());
        assert!(matches!(store.add_mappers(&realm_id, &on_scope, &[mapper("m1")]).await, Err(StoreError::Conflict(_))));
        store.add_mappers(&realm_id, &on_client, &[mapper("m1"), mapper("m2")]).await.unwrap();
        let elsewhere = MapperContainer::Client("no-such-client".into());
        assert!(matches!(store.add_mappers(&realm_id, &elsewhere, &[mapper("m3")]).await, Err(StoreError::NotFound(_))));
        let mut changed = custom.mappers[0].clone();
        changed.config.insert("claim.value".into(), "2".into());
        assert!(store.update_mapper(&realm_id, &on_scope, &changed).await.unwrap());
        assert!(!store.update_mapper(&realm_id, &on_client, &changed).await.unwrap(), "not that container's mapper");

        store.set_realm_default(&realm_id, &custom.id, Some(false)).await.unwrap();
        store.set_realm_default(&realm_id, &custom.id, Some(true)).await.unwrap();
        store.link_realm_defaults(&realm_id, &app.id, "openid-connect").await.unwrap();
        store.set_client_link(&realm_id, &app.id, &custom.id, Some(false)).await.unwrap();
        store.change_scope_mappings(&realm_id, &ScopeHolder::Client(app.id.clone()), &[role_id.clone()], true).await.unwrap();
        store.change_scope_mappings(&realm_id, &ScopeHolder::Client(app.id.clone()), &[role_id.clone()], true).await.unwrap();
        store.change_scope_mappings(&realm_id, &ScopeHolder::ClientScope(custom.id.clone()), &[role_id.clone()], true).await.unwrap();

        let read: RealmScopes = store.realm_scopes(&realm_id).await.unwrap();
        let got = read.client_scopes.iter().find(|s| s.id == custom.id).unwrap();
        assert_eq!(got.name, "custom2");
        assert_eq!(got.mappers, vec![changed]);
        assert_eq!(read.client_mappers.iter().filter(|(c, _)| *c == app.id).count(), 2);
        assert!(read.realm_defaults.contains(&(custom.id.clone(), true)));
        assert_eq!(read.client_links.iter().filter(|l| l.client_id == app.id).count(), 11, "one link per scope: 10 built-in, custom");
        let link = read.client_links.iter().find(|l| l.scope_id == custom.id).unwrap();
        assert!(!link.default_scope, "moved to optional");
        assert_eq!(read.scope_mappings.len(), 3, "offline_access, app, custom");

        store.change_scope_mappings(&realm_id, &ScopeHolder::Client(app.id.clone()), &[role_id.clone()], false).await.unwrap();
        assert!(store.delete_mapper(&realm_id, &on_client, &read.client_mappers[0].1.id).await.unwrap());
        assert!(!store.delete_mapper(&realm_id, &on_client, "nope").await.unwrap());
        assert!(store.delete_client_scope(&realm_id, &custom.id).await.unwrap());
        assert!(!store.delete_client_scope(&realm_id, &custom.id).await.unwrap());
        let read = store.realm_scopes(&realm_id).await.unwrap();
        assert!(read.client_links.iter().all(|l| l.scope_id != custom.id), "links go with the scope");
        assert_eq!(read.scope_mappings.len(), 1, "offline_access only");
        assert_eq!(read.client_mappers.len(), 1);
        store.delete_client(&realm_id, &app.id).await.unwrap();
        assert!(store.realm_scopes(&realm_id).await.unwrap().client_mappers.is_empty(), "mappers go with the client");
        assert!(store.scope_upgrades_pending().await.unwrap().is_empty(), "new realms are never pending");
        let extra = RealmScopes { client_scopes: vec![scope(&realm_id, "late")], ..RealmScopes::default() };
        assert!(!store.complete_scope_upgrade(&realm_id, &extra).await.unwrap(), "not pending: nothing written");
        assert!(store.realm_scopes(&realm_id).await.unwrap().client_scopes.iter().all(|s| s.name != "late"));
    }
}
