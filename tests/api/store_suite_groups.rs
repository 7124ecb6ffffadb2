//! The group storage contracts (`portcullis::store::groups`) on both backends: the tree and its
//! paths, unique sibling names, moves with their subtree, cascading deletes, attributes and their
//! search, membership, default groups, the roles members inherit from every ancestor, and the
//! groups' part of a realm bundle.

use std::collections::BTreeMap;
use std::sync::Arc;

use portcullis::crypto::MasterKey;
use portcullis::domain::{new_id, Group, RealmSettings, Role};
use portcullis::realm::defaults::new_realm_bundle;
use portcullis::store::groups::{GroupFilter, GroupLevel, MoveOutcome};
use portcullis::store::{Store, StoreError};

use crate::backend_tests;
use crate::store_suite::{fresh_store, user};

/// A realm with users alice and bob and a realm role `reader`; (realm id, alice, bob, reader).
async fn realm(store: &Arc<dyn Store>) -> (String, String, String, String) {
    let mut b = new_realm_bundle("g", RealmSettings::default(), &MasterKey::generate(), 100).unwrap();
    let realm_id = b.realm.as_ref().unwrap().id.clone();
    let alice = user(&realm_id, "alice");
    let bob = user(&realm_id, "bob");
    let reader = Role::realm_role(&realm_id, "reader", None);
    let ids = (realm_id, alice.id.clone(), bob.id.clone(), reader.id.clone());
    b.users.push(alice);
    b.users.push(bob);
    b.roles.push(reader);
    store.create_realms(&[b], false).await.unwrap();
    ids
}

/// A group named `name` under `parent` (top level: `None`), not yet stored.
pub(crate) fn group(realm_id: &str, parent: Option<&str>, name: &str) -> Group {
    Group {
        id: new_id(),
        realm_id: realm_id.into(),
        parent_id: parent.map(str::to_string),
        name: name.into(),
        description: None,
        attributes: BTreeMap::new(),
        created_at: 10,
    }
}

fn filter(level: GroupLevel) -> GroupFilter {
    GroupFilter { level, ..GroupFilter::default() }
}

/// Creates top-level `a`, `a/b` and `a/b/c`.
async fn tree(store: &Arc<dyn Store>, realm_id: &str) -> (Group, Group, Group) {
    let a = group(realm_id, None, "a");
    let b = group(realm_id, Some(&a.id), "b");
    let c = group(realm_id, Some(&b.id), "c");
    for g in [&a, &b, &c] {
        store.create_group(g).await.unwrap();
    }
    (a, b, c)
}

backend_tests! {
    async fn groups_form_a_tree_with_computed_paths_and_unique_sibling_names(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, ..) = realm(&store).await;
        let (a, b, c) = tree(&store, &realm_id).await;

        let view = store.group_by_id(&realm_id, &c.id).await.unwrap().expect("c is stored");
        assert_eq!(view.path, "/a/b/c");
        assert_eq!(view.ancestor_ids, vec![a.id.clone(), b.id.clone()]);
        assert_eq!(view.group, c);
        let top = store.list_groups(&realm_id, &filter(GroupLevel::Top)).await.unwrap();
        assert_eq!(top.iter().map(|g| (g.path.as_str(), g.sub_group_count)).collect::<Vec<_>>(), vec![("/a", 1)]);
        let children = store.list_groups(&realm_id, &filter(GroupLevel::ChildrenOf(a.id.clone()))).await.unwrap();
        assert_eq!(children.len(), 1);
        assert_eq!(children[0].group.id, b.id);
        assert_eq!(store.count_groups(&realm_id, &filter(GroupLevel::Any)).await.unwrap(), 3);
        assert_eq!(store.count_groups(&realm_id, &filter(GroupLevel::Top)).await.unwrap(), 1);
        let by_path = store.group_by_path(&realm_id, &["a".into(), "b".into()]).await.unwrap().unwrap();
        assert_eq!(by_path.group.id, b.id);
        assert!(store.group_by_path(&realm_id, &["a".into(), "c".into()]).await.unwrap().is_none());

        let twin = store.create_group(&group(&realm_id, Some(&a.id), "b")).await.unwrap_err();
        assert!(matches!(twin, StoreError::Conflict(_)), "{twin:?}");
        let top_twin = store.create_group(&group(&realm_id, None, "a")).await.unwrap_err();
        assert!(matches!(top_twin, StoreError::Conflict(_)), "{top_twin:?}");
        store.create_group(&group(&realm_id, Some(&b.id), "a")).await.expect("one name may repeat at other levels");
        let orphan = store.create_group(&group(&realm_id, Some("missing"), "x")).await.unwrap_err();
        assert!(matches!(orphan, StoreError::NotFound(_)), "{orphan:?}");

        let search = GroupFilter { name_like: Some("%b%".into()), ..GroupFilter::default() };
        let found = store.list_groups(&realm_id, &search).await.unwrap();
        assert_eq!(found.iter().map(|g| g.path.as_str()).collect::<Vec<_>>(), vec!["/a/b"]);
        let page = GroupFilter { first: 2, max: 1, ..GroupFilter::default() };
        assert_eq!(store.list_groups(&realm_id, &page).await.unwrap()[0].path, "/a/b", "ordered by name: a, a, b, c");
    }

    async fn a_move_carries_the_subtree_and_refuses_cycles_and_taken_names(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, ..) = realm(&store).await;
        let (a, b, c) = tree(&store, &realm_id).await;

        assert_eq!(store.move_group(&realm_id, &b.id, None).await.unwrap(), MoveOutcome::Moved);
        assert_eq!(store.group_by_id(&realm_id, &c.id).await.unwrap().unwrap().path, "/b/c");
        assert_eq!(store.group_by_id(&realm_id, &a.id).await.unwrap().unwrap().sub_group_count, 0);
        assert_eq!(store.move_group(&realm_id, &b.id, Some(&c.id)).await.unwrap(), MoveOutcome::IntoOwnSubtree);
        assert_eq!(store.move_group(&realm_id, &b.id, Some(&b.id)).await.unwrap(), MoveOutcome::IntoOwnSubtree);
        assert_eq!(store.move_group(&realm_id, &b.id, Some("missing")).await.unwrap(), MoveOutcome::ParentNotFound);
        assert_eq!(store.move_group(&realm_id, "missing", None).await.unwrap(), MoveOutcome::GroupNotFound);

        assert_eq!(store.move_group(&realm_id, &a.id, Some(&c.id)).await.unwrap(), MoveOutcome::Moved);
        let view = store.group_by_id(&realm_id, &a.id).await.unwrap().unwrap();
        assert_eq!(view.path, "/b/c/a");
        assert_eq!(view.ancestor_ids, vec![b.id.clone(), c.id.clone()]);

        store.create_group(&group(&realm_id, None, "a")).await.unwrap();
        let taken = store.move_group(&realm_id, &a.id, None).await.unwrap_err();
        assert!(matches!(taken, StoreError::Conflict(_)), "{taken:?}");
        assert_eq!(store.group_by_id(&realm_id, &a.id).await.unwrap().unwrap().path, "/b/c/a", "nothing changed");
    }

    async fn members_inherit_the_roles_of_their_groups_and_every_ancestor(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, alice, bob, reader) = realm(&store).await;
        let (a, b, c) = tree(&store, &realm_id).await;
        let direct = store.mapped_role_ids(&alice).await.unwrap();

        store.add_group_roles(&a.id, std::slice::from_ref(&reader)).await.unwrap();
        assert!(store.join_group(&alice, &c.id).await.unwrap());
        assert!(!store.join_group(&alice, &c.id).await.unwrap(), "already a member");
        let mapped = store.mapped_role_ids(&alice).await.unwrap();
        assert!(mapped.contains(&reader), "{mapped:?}");
        assert_eq!(mapped.len(), direct.len() + 1);
        assert_eq!(store.user_role_ids(&alice).await.unwrap(), direct, "direct mappings stay direct");
        assert_eq!(store.inherited_group_role_ids(&c.id).await.unwrap(), vec![reader.clone()]);
        assert!(store.group_role_ids(&c.id).await.unwrap().is_empty());
        assert!(!store.mapped_role_ids(&bob).await.unwrap().contains(&reader));

        let members = store.group_members(&c.id, 0, 10).await.unwrap();
        assert_eq!(members.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), vec!["alice"]);
        let of_alice = GroupFilter { member: Some(alice.clone()), ..GroupFilter::default() };
        assert_eq!(store.list_groups(&realm_id, &of_alice).await.unwrap()[0].path, "/a/b/c");

        assert_eq!(store.move_group(&realm_id, &c.id, None).await.unwrap(), MoveOutcome::Moved);
        assert!(!store.mapped_role_ids(&alice).await.unwrap().contains(&reader), "moved out from under a");
        store.move_group(&realm_id, &c.id, Some(&b.id)).await.unwrap();
        assert!(store.mapped_role_ids(&alice).await.unwrap().contains(&reader));
        store.remove_group_roles(&a.id, std::slice::from_ref(&reader)).await.unwrap();
        assert!(!store.mapped_role_ids(&alice).await.unwrap().contains(&reader));
        assert!(store.leave_group(&alice, &c.id).await.unwrap());
        assert!(!store.leave_group(&alice, &c.id).await.unwrap());
    }

    async fn deleting_a_group_deletes_its_subgroups_and_memberships(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, alice, _, reader) = realm(&store).await;
        let (a, b, c) = tree(&store, &realm_id).await;
        store.add_group_roles(&c.id, std::slice::from_ref(&reader)).await.unwrap();
        store.join_group(&alice, &c.id).await.unwrap();

        assert!(store.delete_group(&realm_id, &b.id).await.unwrap());
        assert!(store.group_by_id(&realm_id, &c.id).await.unwrap().is_none());
        assert!(!store.mapped_role_ids(&alice).await.unwrap().contains(&reader));
        assert_eq!(store.count_groups(&realm_id, &filter(GroupLevel::Any)).await.unwrap(), 1);
        assert!(!store.delete_group(&realm_id, &b.id).await.unwrap());
        assert!(!store.delete_group("other-realm", &a.id).await.unwrap(), "only within its realm");
        assert!(store.delete_realm(&realm_id).await.unwrap());
        assert!(store.group_by_id(&realm_id, &a.id).await.unwrap().is_none(), "a realm takes its groups along");
    }

    async fn attributes_are_replaced_on_update_and_searchable_by_value(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, ..) = realm(&store).await;
        let mut a = group(&realm_id, None, "a");
        a.attributes.insert("tier".into(), vec!["gold".into(), "silver".into()]);
        store.create_group(&a).await.unwrap();
        store.create_group(&group(&realm_id, None, "z")).await.unwrap();
        assert_eq!(store.group_by_id(&realm_id, &a.id).await.unwrap().unwrap().group.attributes, a.attributes);

        let by = |value: &str| GroupFilter { attributes: vec![("tier".into(), value.into())], ..GroupFilter::default() };
        assert_eq!(store.list_groups(&realm_id, &by("silver")).await.unwrap().len(), 1);
        assert!(store.list_groups(&realm_id, &by("bronze")).await.unwrap().is_empty());

        a.name = "renamed".into();
        a.description = Some("about".into());
        a.attributes = BTreeMap::from([("region".into(), vec!["eu".into()])]);
        assert!(store.update_group(&a).await.unwrap());
        let read = store.group_by_id(&realm_id, &a.id).await.unwrap().unwrap();
        assert_eq!((read.group.clone(), read.path.as_str()), (a.clone(), "/renamed"));
        assert!(store.list_groups(&realm_id, &by("silver")).await.unwrap().is_empty());
        a.name = "z".into();
        assert!(matches!(store.update_group(&a).await.unwrap_err(), StoreError::Conflict(_)));
        let mut ghost = group(&realm_id, None, "ghost");
        ghost.id = "missing".into();
        assert!(!store.update_group(&ghost).await.unwrap());
    }

    async fn new_users_join_default_groups_and_a_bundle_carries_the_groups(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, alice, _, reader) = realm(&store).await;
        let (a, _b, c) = tree(&store, &realm_id).await;
        assert!(store.set_default_group(&realm_id, &c.id, true).await.unwrap());
        store.add_group_roles(&a.id, std::slice::from_ref(&reader)).await.unwrap();
        store.join_group(&alice, &a.id).await.unwrap();
        let carol = user(&realm_id, "carol");
        store.create_user(&carol, &[], &[]).await.unwrap();
        let of_carol = GroupFilter { member: Some(carol.id.clone()), ..GroupFilter::default() };
        assert_eq!(store.list_groups(&realm_id, &of_carol).await.unwrap()[0].group.id, c.id);
        let defaults = GroupFilter { defaults_only: true, ..GroupFilter::default() };
        assert_eq!(store.list_groups(&realm_id, &defaults).await.unwrap().len(), 1);

        let bundle = store.realm_bundle(&realm_id).await.unwrap();
        assert_eq!(bundle.groups.groups.len(), 3);
        assert_eq!(bundle.groups.groups[0].id, a.id, "parents first");
        assert_eq!(bundle.groups.default_groups, vec![c.id.clone()]);
        assert_eq!(bundle.groups.role_mappings, vec![(a.id.clone(), reader.clone())]);
        assert_eq!(bundle.groups.memberships.len(), 2);

        store.create_realms(std::slice::from_ref(&bundle), true).await.unwrap();
        let again = store.realm_bundle(&realm_id).await.unwrap();
        assert_eq!(again.groups, bundle.groups);
        assert!(store.mapped_role_ids(&alice).await.unwrap().contains(&reader));
    }
}
