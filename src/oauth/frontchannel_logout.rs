//! OIDC Front-Channel Logout 1.0: after a browser's session ends at the logout endpoint, the
//! signed-out page loads each of its clients' `frontchannel.logout.url` (clients with
//! `frontchannelLogout` on) in an iframe, with `iss` and `sid` (§2) unless the client's
//! `frontchannel.logout.session.required` is false, before it redirects. This module only says
//! which URLs and which origins the page's `frame-src` must allow; the page is `http::logout`.

use url::Url;

use crate::realm::cache::RealmContext;
use crate::store::sessions::SessionWithClients;

/// The front-channel logout URLs of the clients of `ended`, one per client, in join order.
pub fn logout_uris(realm: &RealmContext, issuer: &str, ended: &SessionWithClients) -> Vec<Url> {
    let mut uris: Vec<Url> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for id in &ended.client_ids {
        if seen.contains(&id.as_str()) {
            continue;
        }
        seen.push(id);
        let Some(client) = realm.client_by_internal_id(id) else { continue };
        let Some(mut uri) = client.frontchannel_logout_url() else { continue };
        if client.frontchannel_logout_session_required() {
            uri.query_pairs_mut().append_pair("iss", issuer).append_pair("sid", ended.session.sid());
        }
        uris.push(uri);
    }
    uris
}

/// The distinct origins of `uris`, for the page's `frame-src`.
pub fn frame_origins(uris: &[Url]) -> Vec<String> {
    let mut origins: Vec<String> = Vec::new();
    for origin in uris.iter().map(|u| u.origin().ascii_serialization()) {
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    origins
}
