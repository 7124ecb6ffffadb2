//! The mails' words: Keycloak's English e-mail theme (`messages_en.properties`:
//! `emailVerification*`, `executeActions*`, `passwordReset*`, `emailTest*`) and its link
//! expiration formatting, so users moving from Keycloak read the mails they know. Plain text and
//! a simple HTML alternative; every value put into the HTML is escaped.

use super::smtp::Mail;

/// Keycloak's `linkExpirationFormatter`: whole days, else whole hours, else minutes.
pub fn expiration(lifespan_seconds: i64) -> String {
    let minutes = (lifespan_seconds / 60).max(0);
    let (value, unit) = if minutes > 0 && minutes % 1440 == 0 {
        (minutes / 1440, "day")
    } else if minutes > 0 && minutes % 60 == 0 {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    format!("{value} {unit}{}", if value == 1 { "" } else { "s" })
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html(paragraphs: &[String]) -> String {
    let mut out = String::from("<html><body>");
    for p in paragraphs {
        out.push_str("<p>");
        out.push_str(p);
        out.push_str("</p>");
    }
    out.push_str("</body></html>");
    out
}

/// Keycloak's `requiredAction.*` names, for the execute-actions mail.
pub fn action_name(action: &str) -> &str {
    match action {
        "CONFIGURE_TOTP" => "Configure OTP",
        "TERMS_AND_CONDITIONS" => "Terms and Conditions",
        "UPDATE_PASSWORD" => "Update Password",
        "UPDATE_PROFILE" => "Update Profile",
        "VERIFY_EMAIL" => "Verify Email",
        "CONFIGURE_RECOVERY_AUTHN_CODES" => "Generate Recovery Codes",
        other => other,
    }
}

/// `emailVerificationSubject` / `emailVerificationBody`.
pub fn verify_email(to: &str, realm: &str, link: &str, lifespan: i64) -> Mail {
    let within = expiration(lifespan);
    Mail {
        to: to.into(),
        subject: "Verify email".into(),
        text: format!(
            "Someone has created a {realm} account with this email address. If this was you, click the link below to verify your email address\n\n{link}\n\nThis link will expire within {within}.\n\nIf you didn't create this account, just ignore this message."
        ),
        html: html(&[
            format!("Someone has created a {} account with this email address. If this was you, click the link below to verify your email address", escape(realm)),
            format!("<a href=\"{}\">Link to e-mail address verification</a>", escape(link)),
            format!("This link will expire within {within}."),
            "If you didn&#39;t create this account, just ignore this message.".into(),
        ]),
    }
}

/// `executeActionsSubject` / `executeActionsBody`.
pub fn execute_actions(to: &str, realm: &str, link: &str, lifespan: i64, actions: &[String]) -> Mail {
    let within = expiration(lifespan);
    let names = actions.iter().map(|a| action_name(a)).collect::<Vec<_>>().join(", ");
    Mail {
        to: to.into(),
        subject: "Update Your Account".into(),
        text: format!(
            "Your administrator has just requested that you update your {realm} account by performing the following action(s): {names}. Click on the link below to start this process.\n\n{link}\n\nThis link will expire within {within}.\n\nIf you are unaware that your administrator has requested this, just ignore this message and nothing will be changed."
        ),
        html: html(&[
            format!(
                "Your administrator has just requested that you update your {} account by performing the following action(s): {}. Click on the link below to start this process.",
                escape(realm),
                escape(&names)
            ),
            format!("<a href=\"{}\">Link to account update</a>", escape(link)),
            format!("This link will expire within {within}."),
            "If you are unaware that your administrator has requested this, just ignore this message and nothing will be changed.".into(),
        ]),
    }
}

/// `passwordResetSubject` / `passwordResetBody`.
pub fn password_reset(to: &str, realm: &str, link: &str, lifespan: i64) -> Mail {
    let within = expiration(lifespan);
    Mail {
        to: to.into(),
        subject: "Reset password".into(),
        text: format!(
            "Someone just requested to change your {realm} account's credentials. If this was you, click on the link below to reset them.\n\n{link}\n\nThis link and code will expire within {within}.\n\nIf you don't want to reset your credentials, just ignore this message and nothing will be changed."
        ),
        html: html(&[
            format!(
                "Someone just requested to change your {} account&#39;s credentials. If this was you, click on the link below to reset them.",
                escape(realm)
            ),
            format!("<a href=\"{}\">Link to reset credentials</a>", escape(link)),
            format!("This link will expire within {within}."),
            "If you don&#39;t want to reset your credentials, just ignore this message and nothing will be changed.".into(),
        ]),
    }
}

/// `emailTestSubject` / `emailTestBody` (Keycloak's subject says `[KEYCLOAK]`).
pub fn smtp_test(to: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: "[Portcullis] - SMTP test message".into(),
        text: "This is a test message".into(),
        html: html(&["This is a test message".into()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifespans_read_as_keycloak_writes_them() {
        assert_eq!(expiration(43200), "12 hours");
        assert_eq!(expiration(300), "5 minutes");
        assert_eq!(expiration(86400), "1 day");
        assert_eq!(expiration(3600), "1 hour");
        assert_eq!(expiration(90), "1 minute");
    }

    #[test]
    fn the_html_alternative_escapes_the_realm_name() {
        let mail = verify_email("a@b.c", "<b>x</b>", "http://h/?a=1&b=2", 300);
        assert!(mail.html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(mail.html.contains("a=1&amp;b=2"));
        assert!(mail.text.contains("http://h/?a=1&b=2"));
    }
}
