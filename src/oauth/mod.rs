//! OAuth 2.0 / OpenID Connect protocol logic with no axum types: parsed input and `now` in,
//! domain results out. The HTTP edge lives in `crate::http`.

pub mod authorize;
pub mod backchannel_logout;
pub mod brute_force;
pub mod client_scopes;
pub mod client_assertion;
pub mod client_auth;
pub mod client_keys;
pub mod device;
pub mod dpop;
pub mod dpop_nonce;
pub mod discovery;
pub mod error;
pub mod events;
pub mod frontchannel_logout;
pub mod grants;
pub mod introspect;
pub mod issue;
pub mod login;
pub mod logout;
pub mod mappers;
pub mod par;
pub mod pkce;
pub mod request;
pub mod revoke;
pub mod roles;
pub mod scope;
pub mod shaping;
pub mod token_check;
pub mod tokens;
pub mod userinfo;

pub use error::OAuthError;
