//! The admin part of the storage conformance suite: `AdminStore`'s contracts on both backends,
//! where the HTTP tests cannot reach them directly (client roles, filter composition, purges).

use portcullis::crypto::MasterKey;
use portcullis::domain::{new_id, RealmSettings, Role, User};
use portcullis::realm::defaults::new_realm_bundle;
use portcullis::store::admin::{AdminEventFilter, AdminEventRecord, NewServiceAccount, UserFilter};
use portcullis::store::{RealmBundle, StoreError};

use crate::backend_tests;
use crate::store_suite::{client, fresh_store, user};

fn realm(name: &str) -> (RealmBundle, String) {
    let b = new_realm_bundle(name, RealmSettings::default(), &MasterKey::generate(), 100).unwrap();
    let id = b.realm.as_ref().unwrap().id.clone();
    (b, id)
}

fn event(realm_id: &str, time: i64, operation: &str, kind: &str, path: &str) -> AdminEventRecord {
    AdminEventRecord {
        id: new_id(),
        realm_id: realm_id.into(),
        time,
        operation: operation.into(),
        resource_type: kind.into(),
        resource_path: path.into(),
        representation: None,
        auth_realm_id: Some("m".into()),
        auth_user_id: Some("admin".into()),
        ip: None,
    }
}

backend_tests! {
    async fn deleting_a_client_takes_its_roles_and_service_account_with_it(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (mut b, realm_id) = realm("shop");
        let app = client(&realm_id, "app");
        let mut reader = Role::realm_role(&realm_id, "reader", None);
        reader.client_role = true;
        reader.container_id = app.id.clone();
        let alice = user(&realm_id, "alice");
        b.role_mappings.push((alice.id.clone(), reader.id.clone()));
        b.users.push(alice.clone());
        b.clients.push(app.clone());
        b.roles.push(reader.clone());
        store.create_realms(&[b], false).await.unwrap();
        let mut worker = client(&realm_id, "worker");
        worker.service_accounts_enabled = true;
        let mut account = user(&realm_id, "service-account-worker");
        account.service_account_client_id = Some(worker.id.clone());
        let mut worker_role = Role::realm_role(&realm_id, "run", None);
        worker_role.client_role = true;
        worker_role.container_id = worker.id.clone();
        let new_account = NewServiceAccount { user: account.clone(), role_ids: vec![] };
        store.create_client(&worker, &[worker_role.clone()], Some(&new_account)).await.unwrap();
        assert_eq!(store.service_account_user(&worker.id).await.unwrap(), Some(account.clone()));
        let again = store.create_client(&client(&realm_id, "worker"), &[], None).await.unwrap_err();
        assert!(matches!(again, StoreError::Conflict(_)), "{again:?}");

        assert!(!store.delete_client("other-realm", &app.id).await.unwrap(), "only within its realm");
        assert!(store.delete_client(&realm_id, &app.id).await.unwrap());
        assert!(store.delete_client(&realm_id, &worker.id).await.unwrap());
        assert!(!store.delete_client(&realm_id, &app.id).await.unwrap());
        let roles = store.realm_roles(&realm_id).await.unwrap();
        assert!(roles.iter().all(|r| !r.client_role), "client roles go with their client: {roles:?}");
        assert!(store.user_role_ids(&alice.id).await.unwrap().is_empty());
        assert!(store.user_by_id(&realm_id, &account.id).await.unwrap().is_none(), "the service account too");
        assert!(store.user_by_id(&realm_id, &alice.id).await.unwrap().is_some());
    }

    async fn user_filters_compose_page_and_leave_out_service_accounts(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (mut b, realm_id) = realm("shop");
        let worker = client(&realm_id, "worker");
        let mut account = user(&realm_id, "service-account-worker");
        account.service_account_client_id = Some(worker.id.clone());
        b.clients.push(worker);
        for (name, enabled) in [("ann", true), ("anna", false), ("bert", true), ("a_b", true)] {
            let mut u: User = user(&realm_id, name);
            u.enabled = enabled;
            b.users.push(u);
        }
        b.users.push(account);
        store.create_realms(&[b], false).await.unwrap();
        let names = |users: Vec<User>| users.into_iter().map(|u| u.username).collect::<Vec<_>>();
        let all = UserFilter::default();
        assert_eq!(names(store.search_users(&realm_id, &all).await.unwrap()), ["a_b", "ann", "anna", "bert"]);
        assert_eq!(store.count_users(&realm_id, &all).await.unwrap(), 4);
        let ann = UserFilter { any: vec!["ann%".into()], enabled: Some(true), ..UserFilter::default() };
        assert_eq!(names(store.search_users(&realm_id, &ann).await.unwrap()), ["ann"]);
        let literal = UserFilter { username: Some("a\\_%".into()), ..UserFilter::default() };
        assert_eq!(names(store.search_users(&realm_id, &literal).await.unwrap()), ["a_b"], "an escaped _ is literal");
        let by_mail = UserFilter { email: Some("%@example.com".into()), first: 1, max: 2, ..UserFilter::default() };
        assert_eq!(names(store.search_users(&realm_id, &by_mail).await.unwrap()), ["ann", "anna"]);
        assert_eq!(store.count_users(&realm_id, &by_mail).await.unwrap(), 4, "counts ignore paging");
        assert_eq!(store.count_users("other", &all).await.unwrap(), 0);
        let first = UserFilter { first_name: Some("ada".into()), last_name: Some("%".into()), ..UserFilter::default() };
        assert_eq!(store.count_users(&realm_id, &first).await.unwrap(), 4, "a missing last name matches %");
        let attr = |name: &str, value: &str| UserFilter { attributes: vec![(name.into(), value.into())], ..UserFilter::default() };
        assert_eq!(store.count_users(&realm_id, &attr("dept", "ENG")).await.unwrap(), 4, "values compare ignoring case");
        assert_eq!(store.count_users(&realm_id, &attr("dept", "en")).await.unwrap(), 0, "values compare whole");
        assert_eq!(store.count_users(&realm_id, &attr("Dept", "eng")).await.unwrap(), 0, "names compare exactly");
        let both = UserFilter { attributes: vec![("dept".into(), "eng".into()), ("dept".into(), "ops".into())], ..UserFilter::default() };
        assert_eq!(store.count_users(&realm_id, &both).await.unwrap(), 4, "AND of pairs");
        let neither = UserFilter { attributes: vec![("dept".into(), "eng".into()), ("dept".into(), "hr".into())], ..UserFilter::default() };
        assert_eq!(store.count_users(&realm_id, &neither).await.unwrap(), 0, "AND of pairs");
        let terms = UserFilter { any: vec!["ann%".into(), "%na".into()], ..UserFilter::default() };
        assert_eq!(names(store.search_users(&realm_id, &terms).await.unwrap()), ["anna"], "every term must match");
        let with_accounts = UserFilter { include_service_accounts: true, ..UserFilter::default() };
        assert_eq!(store.count_users(&realm_id, &with_accounts).await.unwrap(), 5);
        let verified = UserFilter { email_verified: Some(false), ..UserFilter::default() };
        assert_eq!(store.count_users(&realm_id, &verified).await.unwrap(), 0);
    }

    async fn admin_events_are_listed_per_realm_and_purged_with_it(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (one, one_id) = realm("one");
        let (two, two_id) = realm("two");
        store.create_realms(&[one, two], false).await.unwrap();
        for e in [
            event(&one_id, 10, "CREATE", "USER", "users/a"),
            event(&one_id, 20, "UPDATE", "USER", "users/a"),
            event(&one_id, 30, "DELETE", "CLIENT", "clients/c_1"),
            event(&two_id, 40, "CREATE", "USER", "users/b"),
        ] {
            store.insert_admin_event(&e).await.unwrap();
        }
        let paths = |events: Vec<AdminEventRecord>| events.into_iter().map(|e| (e.time, e.resource_path)).collect::<Vec<_>>();
        let all = AdminEventFilter::default();
        assert_eq!(paths(store.list_admin_events(&one_id, &all).await.unwrap()),
            [(30, "clients/c_1".into()), (20, "users/a".into()), (10, "users/a".into())]);
        let users = AdminEventFilter { resource_types: vec!["USER".into()], operations: vec!["UPDATE".into()], ..all.clone() };
        assert_eq!(paths(store.list_admin_events(&one_id, &users).await.unwrap()), [(20, "users/a".into())]);
        let like = AdminEventFilter { resource_path: Some("clients/c\\_%".into()), from: Some(25), to: Some(30), ..all.clone() };
        assert_eq!(store.list_admin_events(&one_id, &like).await.unwrap().len(), 1);
        let page = AdminEventFilter { first: 1, max: 1, auth_user_id: Some("admin".into()), ..all.clone() };
        assert_eq!(paths(store.list_admin_events(&one_id, &page).await.unwrap()), [(20, "users/a".into())]);

        assert!(store.purge_realm(&one_id).await.unwrap());
        assert!(!store.purge_realm(&one_id).await.unwrap());
        assert!(store.list_admin_events(&one_id, &all).await.unwrap().is_empty());
        assert_eq!(store.list_admin_events(&two_id, &all).await.unwrap().len(), 1, "other realms keep theirs");
        assert!(store.realm_by_name("one").await.unwrap().is_none());
    }
}
