//! One SMTP delivery over lettre (tokio, rustls): the realm's `smtpServer` map read as Keycloak's
//! `DefaultEmailSenderProvider` reads it (host, port, from, fromDisplayName, replyTo,
//! replyToDisplayName, envelopeFrom, ssl, starttls, auth, user, password), a multipart/alternative
//! message (plain text and HTML), and hard connect and total deadlines. No queueing here (that is
//! `super::Mailer`), and never the password in an error or a log line.

use std::collections::BTreeMap;
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::MailError;
use crate::crypto::SecretString;

/// Deadline for each network step (connect, TLS, every SMTP command), as Keycloak's 10 s
/// `mail.smtp.connectiontimeout` and `mail.smtp.timeout`, but shorter: a worker stuck on a dead
/// server delays the mails behind it.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(5);
/// Deadline for one whole delivery, however many steps it takes.
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(15);

/// A mail to one recipient: Keycloak's subject, plain-text and HTML bodies.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The realm's SMTP settings, checked. `Debug` never shows the password.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub envelope_from: Option<Address>,
    pub ssl: bool,
    pub starttls: bool,
    pub credentials: Option<(String, SecretString)>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from.email.to_string())
            .field("ssl", &self.ssl)
            .field("starttls", &self.starttls)
            .field("auth", &self.credentials.as_ref().map(|(user, _)| user.as_str()))
            .finish()
    }
}

fn flag(map: &BTreeMap<String, String>, key: &str) -> bool {
    map.get(key).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn text<'a>(map: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    map.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn address(value: &str) -> Result<Address, MailError> {
    value.parse::<Address>().map_err(|_| MailError::InvalidAddress(value.chars().take(320).collect()))
}

fn mailbox(address_value: &str, display: Option<&str>) -> Result<Mailbox, MailError> {
    Ok(Mailbox::new(display.map(str::to_string), address(address_value)?))
}

impl SmtpConfig {
    /// Reads `smtpServer` with the password given apart (it is sealed at rest). Keycloak's
    /// errors where it has one: no `from` is "No sender address configured in the realm
    /// settings for emails".
    pub fn from_map(map: &BTreeMap<String, String>, password: Option<SecretString>) -> Result<SmtpConfig, MailError> {
        let from = text(map, "from").ok_or(MailError::NoSender)?;
        let host = text(map, "host").ok_or(MailError::NoHost)?.to_string();
        let ssl = flag(map, "ssl");
        let port = match text(map, "port") {
            Some(port) => port.parse::<u16>().map_err(|_| MailError::InvalidPort(port.chars().take(20).collect()))?,
            None if ssl => 465,
            None => 25,
        };
        let credentials = if flag(map, "auth") {
            let user = text(map, "user").unwrap_or_default().to_string();
            Some((user, password.unwrap_or_else(|| SecretString::new(""))))
        } else {
            None
        };
        Ok(SmtpConfig {
            host,
            port,
            from: mailbox(from, text(map, "fromDisplayName"))?,
            reply_to: text(map, "replyTo").map(|r| mailbox(r, text(map, "replyToDisplayName"))).transpose()?,
            envelope_from: text(map, "envelopeFrom").map(address).transpose()?,
            ssl,
            starttls: flag(map, "starttls"),
            credentials,
        })
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.as_str())
            .port(self.port)
            .timeout(Some(STEP_TIMEOUT));
        if self.ssl || self.starttls {
            let tls = TlsParameters::new(self.host.clone()).map_err(|e| MailError::Send(e.to_string()))?;
            builder = builder.tls(if self.ssl { Tls::Wrapper(tls) } else { Tls::Required(tls) });
        }
        if let Some((user, password)) = &self.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
        }
        Ok(builder.build())
    }
}

/// Builds the MIME message (multipart/alternative, UTF-8) without sending it.
pub fn message(config: &SmtpConfig, mail: &Mail) -> Result<Message, MailError> {
    let mut builder = Message::builder().from(config.from.clone()).to(mailbox(&mail.to, None)?).subject(mail.subject.clone());
    if let Some(reply_to) = &config.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    builder
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| MailError::Send(e.to_string()))
}

/// Delivers one mail, within `TOTAL_TIMEOUT`.
pub async fn send(config: &SmtpConfig, mail: &Mail) -> Result<(), MailError> {
    let message = message(config, mail)?;
    let transport = config.transport()?;
    let delivery = async {
        match &config.envelope_from {
            Some(envelope_from) => {
                let to = address(&mail.to)?;
                let envelope = Envelope::new(Some(envelope_from.clone()), vec![to]).map_err(|e| MailError::Send(e.to_string()))?;
                transport.send_raw(&envelope, &message.formatted()).await.map_err(|e| MailError::Send(e.to_string()))?;
            }
            None => {
                transport.send(message).await.map_err(|e| MailError::Send(e.to_string()))?;
            }
        }
        Ok::<(), MailError>(())
    };
    match tokio::time::timeout(TOTAL_TIMEOUT, delivery).await {
        Ok(result) => result,
        Err(_) => Err(MailError::Timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn keycloaks_settings_are_read_with_its_defaults_and_the_password_never_shows() {
        let config = SmtpConfig::from_map(
            &map(&[("host", "mail.example"), ("from", "idp@example.com"), ("fromDisplayName", "IdP"), ("auth", "true"), ("user", "u")]),
            Some(SecretString::new("pw-secret")),
        )
        .unwrap();
        assert_eq!(config.port, 25);
        assert_eq!(config.from.to_string(), "IdP <idp@example.com>");
        assert!(!format!("{config:?}").contains("pw-secret"));
        let ssl = SmtpConfig::from_map(&map(&[("host", "h"), ("from", "a@b.c"), ("ssl", "true")]), None).unwrap();
        assert_eq!(ssl.port, 465);
        assert!(matches!(SmtpConfig::from_map(&map(&[("host", "h")]), None), Err(MailError::NoSender)));
        assert!(matches!(SmtpConfig::from_map(&map(&[("from", "a@b.c")]), None), Err(MailError::NoHost)));
        assert!(matches!(
            SmtpConfig::from_map(&map(&[("host", "h"), ("from", "not an address")]), None),
            Err(MailError::InvalidAddress(_))
        ));
    }
}
