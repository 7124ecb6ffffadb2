//! The refresh-family contract (`FamilyStore`, issue 16) on both backends: the generation rules
//! (reuse counts, replay, generations never reached) and liveness decided from the realm's
//! `TimeoutTable`, which both backends evaluate in SQL on their fast path (Postgres' single
//! statement, SQLite's script) and in Rust on the general path: both must agree with
//! `TimeoutTable::refresh` for every kind of session.

use portcullis::domain::Role;
use portcullis::session::TimeoutTable;
use portcullis::store::{ReuseInterval, RotateOutcome};

use crate::backend_tests;
use crate::store_suite::fresh_store;
use crate::store_suite_groups::group;
use crate::store_suite::sessions::{grant, realm_with_user, rotate, session, shell};

const NONE: (Option<i64>, Option<i64>) = (None, None);

fn table(sso: (i64, Option<i64>), remember_me: (i64, Option<i64>), offline: (i64, Option<i64>)) -> TimeoutTable {
    TimeoutTable { sso, sso_remember_me: remember_me, offline, client: NONE, client_offline: NONE }
}

backend_tests! {
    async fn a_refresh_decides_liveness_exactly_as_the_timeout_table(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, client_id, user_id) = realm_with_user(&store).await;
        let long = (10_000, Some(20_000));
        // (what, timeouts, offline, remember-me): sessions start and were last touched at 100
        // (their client session too); the refresh comes at 200
        let cases = [
            ("idle passed", table((50, Some(20_000)), long, long), false, false),
            ("max caps the new bound", table((500, Some(150)), long, long), false, false),
            ("max passed", table((500, Some(90)), long, long), false, false),
            ("remember-me timeouts", table((50, Some(60)), (500, Some(700)), long), false, true),
            ("offline without max", table((50, Some(60)), long, (500, None)), true, false),
            ("offline max passed", table(long, long, (500, Some(90))), true, false),
            ("client idle passed", TimeoutTable { client: (Some(50), None), ..table(long, long, long) }, false, false),
            ("client max alive", TimeoutTable { client: (None, Some(300)), ..table(long, long, long) }, false, false),
            ("client max passed", TimeoutTable { client: (Some(5_000), Some(60)), ..table(long, long, long) }, false, false),
            ("client offline idle passed", TimeoutTable { client_offline: (Some(50), None), ..table(long, long, long) }, true, false),
            ("client timeouts are the online ones", TimeoutTable { client_offline: (Some(50), None), ..table(long, long, long) }, false, false),
        ];
        for (i, (what, timeouts, offline, remember_me)) in cases.into_iter().enumerate() {
            let mut s = session(&realm_id, &user_id, 100, 99_999);
            (s.offline, s.remember_me) = (offline, remember_me);
            let hash = [i as u8 + 1; 32];
            let g = grant(s, &client_id, hash);
            let started = store.start_grant(&g).await.unwrap();
            let mut request = rotate(&realm_id, &client_id, shell(&g.family_id, 1, hash), [200 + i as u8; 32], 0);
            request.timeouts = timeouts;
            let expected = timeouts.refresh(&started.session, &started.client_session, request.now);

            let outcome = store.rotate_refresh_token(&request).await.unwrap();

            match (expected, outcome) {
                (Some(bound), RotateOutcome::Rotated(rotated)) => assert_eq!(rotated.session.expires_at, bound, "{what}"),
                (None, RotateOutcome::SessionInactive) => {}
                (expected, outcome) => panic!("{what}: expected {expected:?}, got {outcome:?}"),
            }
        }
    }

    async fn a_plain_refresh_takes_the_single_statement_and_a_reuse_the_general_path(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, client_id, user_id) = realm_with_user(&store).await;
        let g = grant(session(&realm_id, &user_id, 100, 9999), &client_id, [1; 32]);
        store.start_grant(&g).await.unwrap();
        let fam = g.family_id.as_str();

        let first = store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(fam, 1, [1; 32]), [2; 32], 0)).await.unwrap();
        let second = store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(fam, 2, [2; 32]), [3; 32], 0)).await.unwrap();
        assert!(matches!((&first, &second), (RotateOutcome::Rotated(_), RotateOutcome::Rotated(_))), "{first:?} {second:?}");
        assert_eq!(store.single_statement_rotations(), 2, "both rotations in one statement (SQLite: one script)");

        let reuse = store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(fam, 1, [1; 32]), [4; 32], 0)).await.unwrap();
        assert!(matches!(reuse, RotateOutcome::ReuseDetected { .. }), "{reuse:?}");
        assert_eq!(store.single_statement_rotations(), 2, "a reuse is decided on the general path");
    }

    async fn an_offline_refresh_checks_its_roles_in_the_single_statement_and_reads_each_role_once(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, client_id, user_id) = realm_with_user(&store).await;
        // a role the user holds twice over: mapped directly and through a group
        let twice = Role::realm_role(&realm_id, "twice", None);
        store.create_role(&twice).await.unwrap();
        store.add_user_roles(&user_id, std::slice::from_ref(&twice.id)).await.unwrap();
        let group = group(&realm_id, None, "holders");
        store.create_group(&group).await.unwrap();
        store.add_group_roles(&group.id, std::slice::from_ref(&twice.id)).await.unwrap();
        store.join_group(&user_id, &group.id).await.unwrap();
        let mut offline = session(&realm_id, &user_id, 100, 9999);
        offline.offline = true;
        let g = grant(offline, &client_id, [1; 32]);
        store.start_grant(&g).await.unwrap();

        let mut permitted = rotate(&realm_id, &client_id, shell(&g.family_id, 1, [1; 32]), [2; 32], 0);
        permitted.requires_any_role = Some(vec!["a-role-nobody-holds".into(), twice.id.clone()]);
        let RotateOutcome::Rotated(rotated) = store.rotate_refresh_token(&permitted).await.unwrap() else {
            panic!("the user holds one of the roles")
        };
        assert_eq!(store.single_statement_rotations(), 1, "the offline statement rotated it");
        assert_eq!(rotated.role_ids.iter().filter(|id| **id == twice.id).count(), 1, "{:?}", rotated.role_ids);
        let mut sorted = rotated.role_ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, rotated.role_ids, "sorted and without repeats");

        let mut refused = rotate(&realm_id, &client_id, shell(&g.family_id, 2, [2; 32]), [3; 32], 0);
        refused.requires_any_role = Some(vec!["a-role-nobody-holds".into()]);
        assert_eq!(store.rotate_refresh_token(&refused).await.unwrap(), RotateOutcome::NotPermitted);
        assert_eq!(store.single_statement_rotations(), 1, "a refusal is decided on the general path");
    }

    async fn further_uses_of_the_previous_generation_count_against_max_reuse(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, client_id, user_id) = realm_with_user(&store).await;
        let g = grant(session(&realm_id, &user_id, 100, 9999), &client_id, [1; 32]);
        store.start_grant(&g).await.unwrap();
        let fam = g.family_id.as_str();
        let generation = |outcome: RotateOutcome| match outcome {
            RotateOutcome::Rotated(rotated) => rotated.generation,
            other => panic!("{other:?}"),
        };

        let first = generation(store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(fam, 1, [1; 32]), [2; 32], 1)).await.unwrap());
        let again = generation(store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(fam, 1, [1; 32]), [3; 32], 1)).await.unwrap());
        let third = store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(fam, 1, [1; 32]), [4; 32], 1)).await.unwrap();

        assert_eq!((first, again), (2, 2), "a further use mints another token of the current generation");
        assert!(matches!(third, RotateOutcome::ReuseDetected { .. }), "{third:?}");
    }

    async fn a_generation_the_family_never_reached_is_unknown_and_changes_nothing(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, client_id, user_id) = realm_with_user(&store).await;
        let g = grant(session(&realm_id, &user_id, 100, 9999), &client_id, [1; 32]);
        store.start_grant(&g).await.unwrap();

        let ahead = store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(&g.family_id, 7, [1; 32]), [2; 32], 0)).await.unwrap();
        let current = store.rotate_refresh_token(&rotate(&realm_id, &client_id, shell(&g.family_id, 1, [1; 32]), [3; 32], 0)).await.unwrap();

        assert_eq!(ahead, RotateOutcome::Unknown);
        assert!(matches!(current, RotateOutcome::Rotated(_)), "{current:?}");
    }

    async fn within_the_interval_the_previous_generation_gets_the_recorded_successor(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let (realm_id, client_id, user_id) = realm_with_user(&store).await;
        let g = grant(session(&realm_id, &user_id, 100, 9999), &client_id, [1; 32]);
        store.start_grant(&g).await.unwrap();
        let fam = g.family_id.as_str();
        let interval = ReuseInterval { seconds: 30, successor_sealed: b"sealed successor".to_vec() };
        let not_recorded = ReuseInterval { seconds: 30, successor_sealed: b"another".to_vec() };

        let rotated = store.rotate_refresh_token_within(&rotate(&realm_id, &client_id, shell(fam, 1, [1; 32]), [2; 32], 0), Some(&interval)).await.unwrap();
        let mut late = rotate(&realm_id, &client_id, shell(fam, 1, [1; 32]), [3; 32], 0);
        late.now = 229;
        let replayed = store.rotate_refresh_token_within(&late, Some(&not_recorded)).await.unwrap();
        let successor = store.rotate_refresh_token_within(&rotate(&realm_id, &client_id, shell(fam, 2, [2; 32]), [4; 32], 0), Some(&interval)).await.unwrap();
        let after_use = store.rotate_refresh_token_within(&late, Some(&not_recorded)).await.unwrap();

        assert!(matches!(rotated, RotateOutcome::Rotated(_)), "{rotated:?}");
        let RotateOutcome::Replayed(replayed) = replayed else { panic!("{replayed:?}") };
        assert_eq!(replayed.successor_hash, [2; 32]);
        assert_eq!(replayed.successor_sealed, b"sealed successor");
        assert_eq!((replayed.successor_issued_at, replayed.grant.generation), (200, 2));
        let RotateOutcome::Rotated(successor) = successor else { panic!("{successor:?}") };
        assert_eq!(successor.generation, 3);
        assert!(matches!(after_use, RotateOutcome::ReuseDetected { .. }), "once the successor was used: {after_use:?}");
    }
}
