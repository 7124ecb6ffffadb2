//! Groups over HTTP as Keycloak 26 serves them (issue 15): the tree, search and pagination,
//! moves, members, a user's groups, default groups, role mappings, and the roles members of a
//! subgroup receive in their tokens from every ancestor.

use serde_json::{json, Value};

use crate::admin_support::{field, refresh_tokens, token_request, vault, Admin, VAULT_SECRET};
use crate::backend_tests;
use crate::browser_flows::claims;

const GROUPS: &str = "/admin/realms/vault/groups";

fn names(list: &Value) -> Vec<&str> {
    list.as_array().unwrap_or_else(|| panic!("{list}")).iter().map(|g| g["name"].as_str().unwrap()).collect()
}

async fn create(admin: &Admin<'_>, parent: Option<&str>, name: &str) -> String {
    match parent {
        None => admin.post(GROUPS, json!({ "name": name })).await.created_id(),
        Some(parent) => {
            let reply = admin.post(&format!("{GROUPS}/{parent}/children"), json!({ "name": name })).await;
            assert_eq!(reply.status, 201, "{reply:?}");
            reply.body["id"].as_str().unwrap().to_string()
        }
    }
}

fn realm_roles(tokens: &Value) -> Vec<String> {
    let access = claims(field(tokens, "access_token"));
    access["realm_access"]["roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()
}

backend_tests! {
    async fn groups_form_a_tree_listed_counted_paged_and_found_by_path_as_in_keycloak(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        assert_eq!(admin.ok(GROUPS).await, json!([]));
        let main = create(&admin, None, "main-group").await;
        let taken = admin.post(GROUPS, json!({ "name": "main-group" })).await;
        assert_eq!((taken.status, taken.body.clone()), (409, json!({ "errorMessage": "Top level group named 'main-group' already exists." })));
        let sub1 = create(&admin, Some(&main), "subgroup-1").await;
        let sub2 = create(&admin, Some(&main), "subgroup-2").await;
        let twin = admin.post(&format!("{GROUPS}/{main}/children"), json!({ "name": "subgroup-1" })).await;
        assert_eq!((twin.status, twin.body.clone()), (409, json!({ "errorMessage": "Sibling group named 'subgroup-1' already exists." })));
        let deep = create(&admin, Some(&sub2), "subsubgroup-1").await;
        let nameless = admin.post(GROUPS, json!({ "description": "x" })).await;
        assert_eq!((nameless.status, nameless.error_message()), (400, "Group name is missing"));
        let unknown = admin.post(GROUPS, json!({ "name": "x", "color": "red" })).await;
        assert_eq!(unknown.status, 400);
        assert!(unknown.error_message().starts_with("Unrecognized field \"color\""), "{unknown:?}");

        let top = admin.ok(GROUPS).await;
        assert_eq!(names(&top), ["main-group"]);
        assert_eq!((top[0]["subGroupCount"].as_i64(), top[0]["subGroups"].clone()), (Some(2), json!([])), "{top}");
        assert_eq!(top[0]["path"], "/main-group");
        assert_eq!(admin.ok(&format!("{GROUPS}/count")).await, json!({ "count": 4 }));
        assert_eq!(admin.ok(&format!("{GROUPS}/count?top=true")).await, json!({ "count": 1 }));
        assert_eq!(admin.ok(&format!("{GROUPS}/count?search=notpresent")).await, json!({ "count": 0 }));

        let group = admin.ok(&format!("{GROUPS}/{sub1}")).await;
        assert_eq!((group["name"].as_str(), group["path"].as_str(), group["parentId"].as_str()), (Some("subgroup-1"), Some("/main-group/subgroup-1"), Some(main.as_str())));
        assert_eq!((group["attributes"].clone(), group["realmRoles"].clone(), group["access"]["manage"].clone()), (json!({}), json!([]), json!(true)));
        let missing = admin.get(&format!("{GROUPS}/does-not-exist")).await;
        assert_eq!((missing.status, missing.body["error"].as_str()), (404, Some("Could not find group by id")));

        let children = admin.ok(&format!("{GROUPS}/{main}/children")).await;
        assert_eq!(names(&children), ["subgroup-1", "subgroup-2"]);
        assert_eq!(children[1]["subGroupCount"], 1);
        assert_eq!(names(&admin.ok(&format!("{GROUPS}/{main}/children?first=1&max=1")).await), ["subgroup-2"]);

        let found = admin.ok("/admin/realms/vault/group-by-path//main-group/subgroup-2/subsubgroup-1").await;
        assert_eq!(found["id"].as_str(), Some(deep.as_str()));
        assert_eq!(admin.ok("/admin/realms/vault/group-by-path/main-group").await["id"].as_str(), Some(main.as_str()));
        let no_path = admin.get("/admin/realms/vault/group-by-path/main-group/nope").await;
        assert_eq!((no_path.status, no_path.body["error"].as_str()), (404, Some("Group path does not exist")));

        // a search answers the matches inside their ancestors' branches only
        let searched = admin.ok(&format!("{GROUPS}?search=subsub")).await;
        assert_eq!(names(&searched), ["main-group"]);
        let branch = &searched[0]["subGroups"];
        assert_eq!(names(branch), ["subgroup-2"]);
        assert_eq!(names(&branch[0]["subGroups"]), ["subsubgroup-1"]);
        let flat = admin.ok(&format!("{GROUPS}?search=subsub&populateHierarchy=false")).await;
        assert_eq!(names(&flat), ["subsubgroup-1"]);
        assert_eq!(names(&admin.ok(&format!("{GROUPS}?search=SUBGROUP-2&exact=false")).await[0]["subGroups"]), ["subgroup-2"]);
        assert!(admin.ok(&format!("{GROUPS}?search=subgroup&exact=true")).await.as_array().unwrap().is_empty());
        app.stop().await;
    }

    async fn groups_are_renamed_given_attributes_moved_and_deleted_with_their_subtree(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let a = create(&admin, None, "a").await;
        let b = create(&admin, Some(&a), "b").await;
        let c = create(&admin, Some(&b), "c").await;
        let z = create(&admin, None, "z").await;

        let put = admin.put(&format!("{GROUPS}/{b}"), json!({ "name": "bee", "description": "d", "attributes": { "tier": ["gold"] } })).await;
        assert_eq!(put.status, 204, "{put:?}");
        let read = admin.ok(&format!("{GROUPS}/{c}")).await;
        assert_eq!(read["path"], "/a/bee/c");
        assert_eq!(admin.ok(&format!("{GROUPS}/{b}")).await["attributes"], json!({ "tier": ["gold"] }));
        let by_attribute = admin.ok(&format!("{GROUPS}?q=tier:gold")).await;
        assert_eq!(names(&by_attribute), ["a"]);
        assert_eq!(names(&by_attribute[0]["subGroups"]), ["bee"]);
        assert!(admin.ok(&format!("{GROUPS}?q=tier:silver")).await.as_array().unwrap().is_empty());
        let sibling = admin.put(&format!("{GROUPS}/{c}"), json!({ "name": "z" })).await;
        assert_eq!(sibling.status, 204, "only siblings must differ");
        let clash = admin.put(&format!("{GROUPS}/{z}"), json!({ "name": "a" })).await;
        assert_eq!((clash.status, clash.error_message()), (409, "Sibling group named 'a' already exists."));
        let wrong_id = admin.put(&format!("{GROUPS}/{z}"), json!({ "id": a, "name": "q" })).await;
        assert_eq!((wrong_id.status, wrong_id.error_message()), (400, "Invalid group id"));
        let gone = admin.put(&format!("{GROUPS}/does-not-exist"), json!({ "name": "q" })).await;
        assert_eq!((gone.status, gone.error_message()), (404, "Could not find group by id"));

        // POST children with an existing id moves it (and its subtree); POST groups moves it to the top
        let moved = admin.post(&format!("{GROUPS}/{z}/children"), json!({ "id": b, "name": "bee" })).await;
        assert_eq!(moved.status, 204, "{moved:?}");
        assert_eq!(admin.ok(&format!("{GROUPS}/{c}")).await["path"], "/z/bee/z");
        let cycle = admin.post(&format!("{GROUPS}/{c}/children"), json!({ "id": b, "name": "bee" })).await;
        assert_eq!(cycle.status, 400, "{cycle:?}");
        let to_top = admin.post(GROUPS, json!({ "id": b, "name": "bee" })).await;
        assert_eq!(to_top.status, 204, "{to_top:?}");
        assert_eq!(names(&admin.ok(GROUPS).await), ["a", "bee", "z"]);
        let unknown_child = admin.post(GROUPS, json!({ "id": "nope", "name": "x" })).await;
        assert_eq!((unknown_child.status, unknown_child.error_message()), (404, "Could not find child by id"));

        assert_eq!(admin.delete(&format!("{GROUPS}/{b}")).await.status, 204);
        assert_eq!(admin.get(&format!("{GROUPS}/{c}")).await.status, 404, "subgroups go with their parent");
        let again = admin.delete(&format!("{GROUPS}/{b}")).await;
        assert_eq!((again.status, again.error_message()), (404, "Could not find group by id"));
        app.stop().await;
    }

    async fn users_join_and_leave_groups_and_new_users_join_default_groups(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let carol = admin.user_id("vault", "carol").await;
        let staff = create(&admin, None, "staff").await;
        let ops = create(&admin, Some(&staff), "ops").await;

        assert_eq!(admin.ok(&format!("{GROUPS}/{ops}/members")).await, json!([]));
        assert_eq!(admin.put(&format!("/admin/realms/vault/users/{carol}/groups/{ops}"), json!({})).await.status, 204);
        let members = admin.ok(&format!("{GROUPS}/{ops}/members?max=10")).await;
        assert_eq!(members.as_array().unwrap().len(), 1);
        assert_eq!(members[0]["username"], "carol");
        let of_carol = admin.ok(&format!("/admin/realms/vault/users/{carol}/groups")).await;
        assert_eq!((names(&of_carol), of_carol[0]["path"].as_str()), (vec!["ops"], Some("/staff/ops")));
        assert_eq!(admin.ok(&format!("/admin/realms/vault/users/{carol}/groups/count")).await, json!({ "count": 1 }));
        assert!(admin.ok(&format!("/admin/realms/vault/users/{carol}/groups?search=zzz")).await.as_array().unwrap().is_empty());
        let no_user = admin.delete(&format!("/admin/realms/vault/users/does-not-exist/groups/{ops}")).await;
        assert_eq!((no_user.status, no_user.error_message()), (404, "User not found"));
        let no_group = admin.put(&format!("/admin/realms/vault/users/{carol}/groups/nope"), json!({})).await;
        assert_eq!((no_group.status, no_group.error_message()), (404, "Group not found"));
        let no_members = admin.get(&format!("{GROUPS}/does-not-exist/members")).await;
        assert_eq!((no_members.status, no_members.error_message()), (404, "Could not find group by id"));
        assert_eq!(admin.delete(&format!("/admin/realms/vault/users/{carol}/groups/{ops}")).await.status, 204);
        assert_eq!(admin.ok(&format!("{GROUPS}/{ops}/members")).await, json!([]));

        assert_eq!(admin.put(&format!("/admin/realms/vault/default-groups/{ops}"), json!({})).await.status, 204);
        assert_eq!(names(&admin.ok("/admin/realms/vault/default-groups").await), ["ops"]);
        let dave = admin.post("/admin/realms/vault/users", json!({ "username": "dave", "enabled": true })).await.created_id();
        assert_eq!(names(&admin.ok(&format!("/admin/realms/vault/users/{dave}/groups")).await), ["ops"]);
        assert_eq!(admin.delete(&format!("/admin/realms/vault/default-groups/{ops}")).await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault/default-groups").await, json!([]));
        let unknown = admin.put("/admin/realms/vault/default-groups/nope", json!({})).await;
        assert_eq!((unknown.status, unknown.error_message()), (404, "Group not found"));
        app.stop().await;
    }

    async fn a_member_of_a_subgroup_holds_the_parent_groups_roles_in_every_token(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        assert_eq!(admin.post("/admin/realms/vault/roles", json!({ "name": "auditor" })).await.status, 201);
        assert_eq!(admin.post("/admin/realms/vault/roles", json!({ "name": "reader" })).await.status, 201);
        let auditor = admin.ok("/admin/realms/vault/roles/auditor").await;
        let reader = admin.ok("/admin/realms/vault/roles/reader").await;
        let staff = create(&admin, None, "staff").await;
        let ops = create(&admin, Some(&staff), "ops").await;
        let mapped = admin.post(&format!("{GROUPS}/{staff}/role-mappings/realm"), json!([auditor])).await;
        assert_eq!(mapped.status, 204, "{mapped:?}");
        let carol = admin.user_id("vault", "carol").await;
        admin.put(&format!("/admin/realms/vault/users/{carol}/groups/{ops}"), json!({})).await;

        let tokens = crate::admin_support::carol(&app, "openid").await;
        assert!(realm_roles(&tokens).contains(&"auditor".to_string()), "password grant: {:?}", realm_roles(&tokens));
        admin.post(&format!("{GROUPS}/{ops}/role-mappings/realm"), json!([{ "name": "reader" }])).await;
        let (status, refreshed) = refresh_tokens(&app, field(&tokens, "refresh_token")).await;
        assert_eq!(status, 200, "{refreshed}");
        let roles = realm_roles(&refreshed);
        assert!(roles.contains(&"auditor".to_string()) && roles.contains(&"reader".to_string()), "refresh: {roles:?}");

        // what the admin API shows of the same
        assert_eq!(names(&admin.ok(&format!("{GROUPS}/{ops}/role-mappings/realm")).await), ["reader"]);
        let composite = names(&admin.ok(&format!("{GROUPS}/{ops}/role-mappings/realm/composite")).await).join(",");
        assert_eq!(composite, "auditor,reader");
        let of_member = admin.ok(&format!("/admin/realms/vault/users/{carol}/role-mappings/realm/composite")).await;
        let of_member = names(&of_member);
        assert!(of_member.contains(&"auditor") && of_member.contains(&"reader"), "a member's effective roles include her groups': {of_member:?}");
        let direct = admin.ok(&format!("/admin/realms/vault/users/{carol}/role-mappings/realm")).await;
        let direct = names(&direct);
        assert!(!direct.contains(&"auditor"), "direct mappings stay direct: {direct:?}");
        assert!(!names(&admin.ok(&format!("{GROUPS}/{ops}/role-mappings/realm/available")).await).contains(&"reader"));
        assert_eq!(admin.ok(&format!("{GROUPS}/{ops}/role-mappings")).await["realmMappings"][0]["id"], reader["id"]);
        assert_eq!(admin.ok(&format!("{GROUPS}/{staff}")).await["realmRoles"], json!(["auditor"]));
        assert_eq!(names(&admin.ok("/admin/realms/vault/roles/auditor/groups").await), ["staff"]);
        assert_eq!(names(&admin.ok("/admin/realms/vault/roles/reader/groups?max=1").await), ["ops"]);
        let no_role = admin.get("/admin/realms/vault/roles/non-existent-role/groups").await;
        assert_eq!((no_role.status, no_role.error_message()), (404, "Could not find role"));

        // client roles and the client_credentials grant's service account
        let backend_id = admin.client_uuid("vault", "backend").await;
        let frontend_id = admin.client_uuid("vault", "frontend").await;
        let created = admin.post(&format!("/admin/realms/vault/clients/{frontend_id}/roles"), json!({ "name": "viewer" })).await;
        assert_eq!(created.status, 201, "{created:?}");
        {
            admin.post(&format!("{GROUPS}/{staff}/role-mappings/clients/{frontend_id}"), json!([{ "name": "viewer" }])).await;
            let by_client = admin.ok(&format!("{GROUPS}/{ops}/role-mappings/clients/{frontend_id}/composite")).await;
            assert_eq!(names(&by_client), ["viewer"]);
            let holders = admin.ok(&format!("/admin/realms/vault/clients/{frontend_id}/roles/viewer/groups")).await;
            assert_eq!(names(&holders), ["staff"]);
            let bad = admin.get(&format!("{GROUPS}/{staff}/role-mappings/clients/bad")).await;
            assert_eq!((bad.status, bad.error_message()), (404, "Client not found"), "Keycloak's RoleMapperResource text");
            let bad = admin.get("/admin/realms/vault/clients/bad/roles/viewer/groups").await;
            assert_eq!((bad.status, bad.error_message()), (404, "Could not find client"));
        }
        let service = admin.ok(&format!("/admin/realms/vault/clients/{backend_id}/service-account-user")).await;
        let service_id = service["id"].as_str().unwrap();
        admin.put(&format!("/admin/realms/vault/users/{service_id}/groups/{ops}"), json!({})).await;
        let (status, body) = token_request(
            &app,
            "vault",
            &[("grant_type", "client_credentials"), ("client_id", "backend"), ("client_secret", VAULT_SECRET)],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(realm_roles(&body).contains(&"auditor".to_string()), "service account: {:?}", realm_roles(&body));

        // leaving the group takes the roles away from the next token
        admin.delete(&format!("/admin/realms/vault/users/{carol}/groups/{ops}")).await;
        assert!(!realm_roles(&crate::admin_support::carol(&app, "openid").await).contains(&"auditor".to_string()));
        let removed = admin.delete_with(&format!("{GROUPS}/{staff}/role-mappings/realm"), json!([auditor])).await;
        assert_eq!(removed.status, 204);
        assert!(admin.ok(&format!("{GROUPS}/{staff}/role-mappings/realm")).await.as_array().unwrap().is_empty());
        let unknown_role = admin.post(&format!("{GROUPS}/{staff}/role-mappings/realm"), json!([{ "name": "nope" }])).await;
        assert_eq!((unknown_role.status, unknown_role.error_message()), (404, "Role not found"));
        app.stop().await;
    }
}
