//! The test command runs the load tool once, briefly, against a real server: every scenario has
//! zero errors and the refresh chain keeps rotating. A smoke test, not a timing assertion.

use std::time::Duration;

use portcullis_bench::scenario::{run, Scenario, Target};
use portcullis_bench::server;

fn portcullis_binary() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/portcullis");
    assert!(
        dir.exists(),
        "the portcullis binary is built by `cargo test --workspace` (it is the root package); missing at {}",
        dir.display()
    );
    dir.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_without_errors_and_refreshes_chain() {
    let users = server::users(4);
    let spawned = server::spawn(&portcullis_binary(), None, &users, "ES256").expect("server starts");
    println!("start-up {} ms, RSS {:?} KiB", spawned.startup.as_millis(), spawned.rss_kib());
    let http = reqwest::Client::new();
    let mut target = Target::discover(&http, "portcullis", &spawned.issuer()).await.unwrap();
    target.client_id = server::CLIENT_ID.into();
    target.client_secret = server::CLIENT_SECRET.into();
    target.users = users;
    for scenario in [Scenario::Refresh, Scenario::ClientCredentials, Scenario::Introspect, Scenario::Userinfo, Scenario::Jwks] {
        let result = run(&target, scenario, 4, Duration::from_millis(700), None).await.unwrap();
        println!("{scenario:?}: {} requests, {:.0}/s", result.requests, result.throughput);
        assert!(result.errors.is_empty(), "{scenario:?} errors: {:?}", result.errors);
        assert!(result.requests > 4, "{scenario:?} made progress");
    }
}
