//! Choosing a SASL mechanism: what the server offers in EHLO, what the user allows, and
//! whether the connection is encrypted.

use super::capabilities::Capabilities;
use super::error::SmtpError;
use crate::sasl::SaslMechanism;

/// Which authentication method the user allows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthPolicy {
    /// The strongest password mechanism the server offers: SCRAM-SHA-256 and SCRAM-SHA-1 (when
    /// the configuration has a `scram_nonce`), CRAM-MD5, PLAIN, LOGIN. Never an OAuth
    /// mechanism, since a password is not a token.
    #[default]
    Auto,
    /// Only `PLAIN`. Each policy below accepts exactly its mechanism, or the session fails
    /// with [`SmtpError::NoAcceptableAuth`] (not offered) or [`SmtpError::PlaintextRefused`].
    Plain,
    /// Only `LOGIN`.
    Login,
    /// Only `CRAM-MD5`.
    CramMd5,
    /// Only `SCRAM-SHA-1`; needs a `scram_nonce`.
    ScramSha1,
    /// Only `SCRAM-SHA-256`; needs a `scram_nonce`.
    ScramSha256,
    /// Only `XOAUTH2`; the configured password is the access token.
    XOAuth2,
    /// Only `OAUTHBEARER`; the configured password is the access token.
    OAuthBearer,
    /// An OAuth 2 access token (the configured password) by the mechanism the server offers:
    /// `OAUTHBEARER` (RFC 7628) where offered, else `XOAUTH2`.
    OAuth,
}

impl AuthPolicy {
    /// The one mechanism this policy allows, or `None` for `Auto` and `OAuth` (which allow
    /// several).
    pub fn mechanism(self) -> Option<SaslMechanism> {
        Some(match self {
            AuthPolicy::Auto | AuthPolicy::OAuth => return None,
            AuthPolicy::Plain => SaslMechanism::Plain,
            AuthPolicy::Login => SaslMechanism::Login,
            AuthPolicy::CramMd5 => SaslMechanism::CramMd5,
            AuthPolicy::ScramSha1 => SaslMechanism::ScramSha1,
            AuthPolicy::ScramSha256 => SaslMechanism::ScramSha256,
            AuthPolicy::XOAuth2 => SaslMechanism::XOAuth2,
            AuthPolicy::OAuthBearer => SaslMechanism::OAuthBearer,
        })
    }
}

/// The order `Auto` tries: the mechanisms that keep the password off the wire first, SCRAM
/// (where the server proves itself too) before CRAM-MD5.
const AUTO_ORDER: [SaslMechanism; 5] = [
    SaslMechanism::ScramSha256,
    SaslMechanism::ScramSha1,
    SaslMechanism::CramMd5,
    SaslMechanism::Plain,
    SaslMechanism::Login,
];

/// Picks the mechanism, or says why none can be used.
pub(crate) fn choose(
    caps: &Capabilities,
    policy: AuthPolicy,
    encrypted: bool,
    allow_plaintext_password: bool,
    scram_usable: bool,
) -> Result<SaslMechanism, SmtpError> {
    let offered = |m: &SaslMechanism| caps.offers_auth(m.name());
    let candidates: Vec<SaslMechanism> = match policy.mechanism() {
        None if policy == AuthPolicy::OAuth => [SaslMechanism::OAuthBearer, SaslMechanism::XOAuth2]
            .into_iter()
            .filter(offered)
            .collect(),
        None => AUTO_ORDER
            .iter()
            .copied()
            .filter(offered)
            .filter(|m| scram_usable || !m.needs_nonce())
            .collect(),
        Some(m) => Some(m).into_iter().filter(offered).collect(),
    };
    if candidates.is_empty() {
        return Err(SmtpError::NoAcceptableAuth {
            offered: caps.auth.clone(),
        });
    }
    let secret_ok = encrypted || allow_plaintext_password;
    candidates
        .into_iter()
        .find(|m| secret_ok || !m.reveals_secret())
        .ok_or(SmtpError::PlaintextRefused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SaslMechanism::*;

    fn check(
        auth: &[&str],
        policy: AuthPolicy,
        encrypted: bool,
        allow: bool,
        expected: Result<SaslMechanism, SmtpError>,
    ) {
        check_nonce(auth, policy, encrypted, allow, false, expected);
    }

    fn check_nonce(
        auth: &[&str],
        policy: AuthPolicy,
        encrypted: bool,
        allow: bool,
        nonce: bool,
        expected: Result<SaslMechanism, SmtpError>,
    ) {
        let caps = Capabilities {
            auth: auth.iter().map(|a| a.to_string()).collect(),
            ..Capabilities::default()
        };
        assert_eq!(
            choose(&caps, policy, encrypted, allow, nonce),
            expected,
            "{auth:?} {policy:?} encrypted={encrypted} allow={allow}"
        );
    }

    #[test]
    fn oauth_takes_oauthbearer_where_offered_else_xoauth2() {
        check(
            &["XOAUTH2", "OAUTHBEARER"],
            AuthPolicy::OAuth,
            true,
            false,
            Ok(OAuthBearer),
        );
        check(
            &["PLAIN", "XOAUTH2"],
            AuthPolicy::OAuth,
            true,
            false,
            Ok(XOAuth2),
        );
        check(
            &["PLAIN"],
            AuthPolicy::OAuth,
            true,
            false,
            Err(SmtpError::NoAcceptableAuth {
                offered: vec!["PLAIN".into()],
            }),
        );
        check(
            &["OAUTHBEARER"],
            AuthPolicy::OAuth,
            false,
            false,
            Err(SmtpError::PlaintextRefused),
        );
    }

    #[test]
    fn auto_picks_the_strongest_offered() {
        check(
            &["PLAIN", "LOGIN", "CRAM-MD5"],
            AuthPolicy::Auto,
            true,
            false,
            Ok(CramMd5),
        );
        check(
            &["LOGIN", "PLAIN"],
            AuthPolicy::Auto,
            true,
            false,
            Ok(Plain),
        );
        check(&["LOGIN"], AuthPolicy::Auto, true, false, Ok(Login));
        // A password is not a token.
        check(
            &["XOAUTH2"],
            AuthPolicy::Auto,
            true,
            false,
            Err(SmtpError::NoAcceptableAuth {
                offered: vec!["XOAUTH2".into()],
            }),
        );
        check(
            &[],
            AuthPolicy::Auto,
            true,
            false,
            Err(SmtpError::NoAcceptableAuth { offered: vec![] }),
        );
    }

    #[test]
    fn auto_prefers_scram_when_a_nonce_is_given() {
        let all = &["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"];
        check_nonce(all, AuthPolicy::Auto, true, false, true, Ok(ScramSha256));
        check_nonce(
            &["CRAM-MD5", "SCRAM-SHA-1"],
            AuthPolicy::Auto,
            false,
            false,
            true,
            Ok(ScramSha1),
        );
        check_nonce(all, AuthPolicy::Auto, true, false, false, Ok(CramMd5));
    }

    #[test]
    fn no_secret_in_the_clear_unless_allowed() {
        check(
            &["PLAIN", "LOGIN"],
            AuthPolicy::Auto,
            false,
            false,
            Err(SmtpError::PlaintextRefused),
        );
        check(
            &["PLAIN", "CRAM-MD5"],
            AuthPolicy::Auto,
            false,
            false,
            Ok(CramMd5),
        );
        check(&["PLAIN"], AuthPolicy::Auto, false, true, Ok(Plain));
        check(
            &["XOAUTH2"],
            AuthPolicy::XOAuth2,
            false,
            false,
            Err(SmtpError::PlaintextRefused),
        );
        check(
            &["OAUTHBEARER"],
            AuthPolicy::OAuthBearer,
            true,
            false,
            Ok(OAuthBearer),
        );
    }

    #[test]
    fn an_explicit_policy_must_be_offered() {
        check(
            &["PLAIN"],
            AuthPolicy::Login,
            true,
            false,
            Err(SmtpError::NoAcceptableAuth {
                offered: vec!["PLAIN".into()],
            }),
        );
    }
}
