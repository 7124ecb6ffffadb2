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

/// Where a login that has passed its first factor ends: the target the login form had (a new
/// session is then made), or, for actions an e-mail link started (execute-actions e-mail,
/// forgot password), a confirmation page without any session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Then {
    Login { target: Target, remember_me: bool },
    Done { redirect_uri: Option<String>, client_id: Option<String> },
}

/// What is still to be done before a login completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// The password was right; the one-time code is next.
    Otp,
    /// Every factor was checked; the user's required actions are next.
    Actions,
}

/// A login past its password, carried by the OTP and required-action forms like `Pending`:
/// whose it is, what is left (`step`, and `extra` actions an e-mail link asked for on top of the
/// user's own), where it ends, the login cookie's CSRF token and an expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Continuing {
    pub user_id: String,
    pub step: Step,
    pub extra: Vec<String>,
    pub then: Then,
    pub csrf: String,
    pub exp: UnixTime,
    /// The secret CONFIGURE_TOTP's page showed, kept sealed here until the first code proves the
    /// app holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
}

const CONTINUING: &str = "continuing-login";

impl Continuing {
    pub fn seal(&self, master: &MasterKey, realm: &str) -> String {
        cookies::seal(master, CONTINUING, realm, self)
    }

    pub fn open(master: &MasterKey, realm: &str, blob: &str, now: UnixTime) -> Option<Self> {
        cookies::open::<Continuing>(master, CONTINUING, realm, blob).filter(|p| p.exp > now)
    }
}
