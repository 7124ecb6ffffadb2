//! A login in progress, carried by the login and consent forms as a sealed blob instead of a
//! server-side row: the validated authorization request (or the account page as the target), a
//! CSRF token that must also come back in the login cookie, and an expiry of
//! `accessCodeLifespanLogin`.

use serde::{Deserialize, Serialize};

use super::cookies;
use crate::clock::UnixTime;
use crate::crypto::MasterKey;
use crate::oauth::authorize::AuthorizationRequest;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Target {
    Authorize(AuthorizationRequest),
    Account,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub target: Target,
    pub csrf: String,
    pub exp: UnixTime,
}

const PURPOSE: &str = "pending-login";

impl Pending {
    pub fn seal(&self, master: &MasterKey, realm: &str) -> String {
        cookies::seal(master, PURPOSE, realm, self)
    }

    /// Opens a blob when it is ours, for this realm, and not expired.
    pub fn open(master: &MasterKey, realm: &str, blob: &str, now: UnixTime) -> Option<Self> {
        cookies::open::<Pending>(master, PURPOSE, realm, blob).filter(|p| p.exp > now)
    }
}
