//! authlib (Python, pinned in tests/python/requirements.txt and installed into `.venv` by
//! scripts/test.sh) as the client of JWT client authentication (RFC 7523), on both backends:
//! tests/python/authlib_jwt_client.py creates a `client-secret-jwt` and a `client-jwt` client
//! through the admin API and uses authlib's `ClientSecretJWT` and `PrivateKeyJWT` at the token,
//! introspection and revocation endpoints. authlib has no client for the device grant, DPoP or
//! PAR, which openid-client covers (`interop_openid_client.rs`). A missing `.venv` fails the test.

use std::time::Duration;

use serde_json::Value;

use crate::backend_tests;
use crate::browser_flows::web;
use crate::processes::{python_command, repo, run_to_completion, venv_python};

backend_tests! {
    async fn authlib_authenticates_with_client_secret_jwt_and_private_key_jwt_at_every_endpoint(backend: Backend) {
        let app = web(backend).await;
        let python = venv_python();
        let base = app.base.clone();
        let finished = tokio::task::spawn_blocking(move || {
            let mut command = python_command(&python, repo());
            command.arg(repo().join("tests/python/authlib_jwt_client.py")).arg(&base).arg("web");
            run_to_completion(&mut command, Duration::from_secs(60))
        })
        .await
        .unwrap();
        assert!(finished.status.is_some_and(|s| s.success()), "authlib script failed:\n{}\n{}", finished.stdout, finished.stderr);
        let results: Value = serde_json::from_str(finished.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", finished.stdout));
        for (method, client) in [("client_secret_jwt", "authlib-hs"), ("private_key_jwt", "authlib-pk")] {
            let got = &results[method];
            assert_eq!(got["token_type"], "Bearer", "{method}: {got}");
            assert_eq!((got["active_before"].as_bool(), got["client_id"].as_str()), (Some(true), Some(client)), "{method}: {got}");
            assert_eq!(got["revoke_status"], 200, "{method}: {got}");
            assert_eq!(got["active_after"], false, "{method}: the revoked token is inactive: {got}");
        }
        app.stop().await;
    }
}
