//! The test command runs the load tool once, briefly, against a real server: every scenario has
//! zero errors and the refresh chain keeps rotating; a four-second soak passes. A smoke test, not
//! a timing assertion.

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

/// The soak (`portcullis-bench soak`) for four seconds, so that it cannot rot: every kind of
/// request of its cycle runs and nothing unexpected is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_passes() {
    use portcullis_bench::soak::{self, Soak};
    let users = server::users(4);
    let spawned = server::spawn(&portcullis_binary(), None, &users, "ES256").expect("server starts");
    let http = reqwest::Client::new();
    let mut target = Target::discover(&http, "portcullis", &spawned.issuer()).await.unwrap();
    target.client_id = server::CLIENT_ID.into();
    target.client_secret = server::CLIENT_SECRET.into();
    target.users = users;
    let soak = Soak { duration: Duration::from_secs(4), interval: Duration::from_secs(1), concurrency: 4, max_rss_growth_kib: 64 * 1024 };
    let sampler = || spawned.rss_kib();
    let report = soak::run(&target, &soak, Some(&sampler)).await.unwrap();
    println!("{}", report.summary());
    assert!(report.failures().is_empty(), "{:?}", report.failures());
    assert!(report.intervals.len() >= 3 && report.rss_end_kib.is_some(), "{report:?}");
    for op in ["login", "refresh", "introspect", "revoke", "refresh-revoked"] {
        assert!(report.by_op.get(op).is_some_and(|(n, _)| *n > 0), "{op} ran: {:?}", report.by_op);
    }
}
