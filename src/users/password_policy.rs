//! Keycloak's password policy (the realm's `passwordPolicy` string, e.g.
//! `length(12) and digits(1) and notUsername(undefined)`): parsed with Keycloak's names and
//! defaults, and checked wherever a password is set (admin create and reset, the account page)
//! with Keycloak's message keys and English texts. `passwordHistory` is checked by
//! `crate::users::set_password` against the stored history and `forceExpiredPasswordChange`
//! adds UPDATE_PASSWORD at login (`crate::users::actions::triggered`); `hashAlgorithm` and `hashIterations` are accepted without effect (Portcullis hashes with
//! argon2id, DESIGN.md §5). README lists what each does here.

use regex::Regex;

use crate::domain::User;

/// One rule of the policy.
#[derive(Debug, Clone)]
enum Rule {
    Length(usize),
    MaxLength(usize),
    Digits(usize),
    LowerCase(usize),
    UpperCase(usize),
    SpecialChars(usize),
    NotUsername,
    NotEmail,
    Regex(Regex, String),
    /// `passwordHistory(n)`: not one of the last n passwords (the current one included).
    History(usize),
    /// `forceExpiredPasswordChange(days)`: UPDATE_PASSWORD once the password is this old.
    ExpireDays(i64),
    /// Accepted, not enforced (see the module doc).
    Inert,
}

/// A realm's parsed policy; the empty policy allows every non-empty password.
#[derive(Debug, Clone, Default)]
pub struct PasswordPolicy {
    rules: Vec<Rule>,
    /// The policies named that Portcullis accepts without enforcing, for README's honesty and logs.
    pub inert: Vec<String>,
}

/// A password the policy refuses: Keycloak's message key and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub key: &'static str,
    pub params: Vec<String>,
}

impl Violation {
    fn new(key: &'static str, params: &[&dyn ToString]) -> Self {
        Self { key, params: params.iter().map(|p| p.to_string()).collect() }
    }

    /// `passwordHistory(n)` refused the password.
    pub fn history(n: usize) -> Self {
        Self::new("invalidPasswordHistoryMessage", &[&n])
    }

    /// Keycloak's English message (`messages_en.properties`).
    pub fn message(&self) -> String {
        let p = |i: usize| self.params.get(i).cloned().unwrap_or_default();
        match self.key {
            "invalidPasswordMinLengthMessage" => format!("Invalid password: minimum length {}.", p(0)),
            "invalidPasswordMaxLengthMessage" => format!("Invalid password: maximum length {}.", p(0)),
            "invalidPasswordMinDigitsMessage" => format!("Invalid password: must contain at least {} numerical digits.", p(0)),
            "invalidPasswordMinLowerCaseCharsMessage" => format!("Invalid password: must contain at least {} lower case characters.", p(0)),
            "invalidPasswordMinUpperCaseCharsMessage" => format!("Invalid password: must contain at least {} upper case characters.", p(0)),
            "invalidPasswordMinSpecialCharsMessage" => format!("Invalid password: must contain at least {} special characters.", p(0)),
            "invalidPasswordNotUsernameMessage" => "Invalid password: must not be equal to the username.".into(),
            "invalidPasswordNotEmailMessage" => "Invalid password: must not be equal to the email.".into(),
            "invalidPasswordHistoryMessage" => format!("Invalid password: must not be equal to any of last {} passwords.", p(0)),
            _ => "Invalid password: fails to match regex pattern(s).".into(),
        }
    }
}

/// Keycloak's default value of a policy written without one (`digits` is `digits(1)`).
fn count(value: Option<&str>, default: usize, name: &str) -> Result<usize, String> {
    match value {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| format!("Invalid config for {name}: {v:?} is not a number")),
    }
}

impl PasswordPolicy {
    /// Parses Keycloak's syntax: policies joined by ` and `, each `name` or `name(value)`.
    /// An unknown name is refused as Keycloak refuses it ("Password policy not found").
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut policy = PasswordPolicy::default();
        for part in text.split(" and ").map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = match part.split_once('(') {
                Some((name, rest)) => {
                    let value = rest.strip_suffix(')').ok_or_else(|| format!("Invalid password policy: {part:?}"))?;
                    (name.trim(), Some(value).filter(|v| *v != "undefined" && !v.is_empty()))
                }
                None => (part, None),
            };
            let rule = match name {
                "length" => Rule::Length(count(value, 8, name)?),
                "maxLength" => Rule::MaxLength(count(value, 64, name)?),
                "digits" => Rule::Digits(count(value, 1, name)?),
                "lowerCase" => Rule::LowerCase(count(value, 1, name)?),
                "upperCase" => Rule::UpperCase(count(value, 1, name)?),
                "specialChars" => Rule::SpecialChars(count(value, 1, name)?),
                "notUsername" => Rule::NotUsername,
                "notEmail" => Rule::NotEmail,
                "regexPattern" => {
                    let pattern = value.ok_or("Invalid config for regexPattern: a pattern is required")?;
                    let compiled = regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|e| format!("Invalid config for regexPattern: {e}"))?;
                    Rule::Regex(compiled, pattern.to_string())
                }
                "passwordHistory" => Rule::History(count(value, 3, name)?),
                "forceExpiredPasswordChange" => Rule::ExpireDays(count(value, 365, name)? as i64),
                "hashIterations" | "hashAlgorithm"
                | "passwordBlacklist" | "maxAuthAge" | "notContainsUsername" | "recoveryCodesWarningThreshold" => {
                    policy.inert.push(name.to_string());
                    Rule::Inert
                }
                other => return Err(format!("Password policy not found: {other}")),
            };
            policy.rules.push(rule);
        }
        Ok(policy)
    }

    /// The realm's policy; a stored one that no longer parses (it was validated when set) is
    /// logged and applies no rule rather than locking everyone out.
    pub fn of(text: Option<&str>) -> Self {
        match text.map(Self::parse) {
            None => Self::default(),
            Some(Ok(policy)) => policy,
            Some(Err(e)) => {
                tracing::error!(error = %e, "stored password policy does not parse; no rule applied");
                Self::default()
            }
        }
    }

    /// `passwordHistory`'s n: how many of the user's latest passwords (the current one
    /// included) a new one must differ from; 0 without the policy.
    pub fn history(&self) -> usize {
        self.rules.iter().find_map(|r| match r { Rule::History(n) => Some(*n), _ => None }).unwrap_or(0)
    }

    /// `forceExpiredPasswordChange`'s days, when the policy has it.
    pub fn expire_days(&self) -> Option<i64> {
        self.rules.iter().find_map(|r| match r { Rule::ExpireDays(d) => Some(*d), _ => None })
    }

    /// The first rule `password` breaks for `user`, in the policy's order.
    pub fn check(&self, password: &str, user: &User) -> Result<(), Violation> {
        let chars = || password.chars();
        let at_least = |n: usize, found: usize, key| if found < n { Err(Violation::new(key, &[&n])) } else { Ok(()) };
        for rule in &self.rules {
            match rule {
                Rule::Length(n) => at_least(*n, chars().count(), "invalidPasswordMinLengthMessage")?,
                Rule::MaxLength(n) if chars().count() > *n => return Err(Violation::new("invalidPasswordMaxLengthMessage", &[n])),
                Rule::Digits(n) => at_least(*n, chars().filter(|c| c.is_numeric()).count(), "invalidPasswordMinDigitsMessage")?,
                Rule::LowerCase(n) => at_least(*n, chars().filter(|c| c.is_lowercase()).count(), "invalidPasswordMinLowerCaseCharsMessage")?,
                Rule::UpperCase(n) => at_least(*n, chars().filter(|c| c.is_uppercase()).count(), "invalidPasswordMinUpperCaseCharsMessage")?,
                Rule::SpecialChars(n) => {
                    at_least(*n, chars().filter(|c| !c.is_alphanumeric()).count(), "invalidPasswordMinSpecialCharsMessage")?
                }
                Rule::NotUsername if password == user.username => return Err(Violation::new("invalidPasswordNotUsernameMessage", &[])),
                Rule::NotEmail if user.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(password)) => {
                    return Err(Violation::new("invalidPasswordNotEmailMessage", &[]))
                }
                Rule::Regex(regex, pattern) if !regex.is_match(password) => {
                    return Err(Violation::new("invalidPasswordRegexPatternMessage", &[pattern]))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: "u".into(),
            realm_id: "r".into(),
            username: "dora".into(),
            email: Some("dora@example.com".into()),
            first_name: None,
            last_name: None,
            enabled: true,
            email_verified: false,
            service_account_client_id: None,
            created_at: 0,
            required_actions: Vec::new(),
            attributes: Default::default(),
        }
    }

    #[test]
    fn keycloaks_syntax_defaults_and_messages() {
        let policy = PasswordPolicy::parse("length(10) and digits and upperCase(2) and specialChars and notUsername(undefined) and notEmail").unwrap();
        let refused = |pw: &str| policy.check(pw, &user()).unwrap_err();
        assert_eq!(refused("short").message(), "Invalid password: minimum length 10.");
        assert_eq!(refused("longenoughpw").key, "invalidPasswordMinDigitsMessage");
        assert_eq!(refused("longenough1pw").message(), "Invalid password: must contain at least 2 upper case characters.");
        assert_eq!(refused("LongEnough1pw").params, ["1"]);
        assert!(policy.check("Long Enough1pw", &user()).is_ok(), "a space is a special character, as in Keycloak");
        let only_names = PasswordPolicy::parse("notUsername and notEmail").unwrap();
        assert_eq!(only_names.check("dora", &user()).unwrap_err().key, "invalidPasswordNotUsernameMessage");
        assert_eq!(only_names.check("DORA@example.com", &user()).unwrap_err().key, "invalidPasswordNotEmailMessage");
        let bounded = PasswordPolicy::parse("maxLength(4) and regexPattern([a-z]+)").unwrap();
        assert_eq!(bounded.check("abcde", &user()).unwrap_err().message(), "Invalid password: maximum length 4.");
        assert_eq!(bounded.check("ab1", &user()).unwrap_err().key, "invalidPasswordRegexPatternMessage", "the whole password must match");
        assert!(bounded.check("abc", &user()).is_ok());
    }

    #[test]
    fn unknown_or_malformed_policies_are_refused_and_inert_ones_named() {
        assert_eq!(PasswordPolicy::parse("length(8) and sparkles(2)").unwrap_err(), "Password policy not found: sparkles");
        assert!(PasswordPolicy::parse("length(eight)").is_err());
        assert!(PasswordPolicy::parse("regexPattern").is_err());
        assert!(PasswordPolicy::parse("regexPattern([)").is_err());
        let policy = PasswordPolicy::parse("hashIterations(27500) and passwordHistory(4) and forceExpiredPasswordChange and length").unwrap();
        assert_eq!(policy.inert, ["hashIterations"]);
        assert_eq!((policy.history(), policy.expire_days()), (4, Some(365)));
        assert_eq!(PasswordPolicy::parse("passwordHistory").unwrap().history(), 3, "Keycloak's default");
        assert!(PasswordPolicy::parse("").unwrap().check("x", &user()).is_ok());
    }
}
