//! Choosing an authentication method: what the server offers, what the user allows, and
//! whether the connection is encrypted.

use super::capabilities::Capabilities;
use super::error::Pop3Error;
use crate::sasl::SaslMechanism;

/// An authentication method the client can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMechanism {
    /// `USER`/`PASS` (RFC 1939): the password crosses the wire as is.
    User,
    /// `APOP` (RFC 1939): an MD5 digest of the greeting timestamp and the password.
    Apop,
    /// SASL `PLAIN` (RFC 4616): the password crosses the wire base64-encoded.
    Plain,
    /// SASL `LOGIN` (draft-murchison-sasl-login): user name and password, base64-encoded.
    Login,
    /// SASL `CRAM-MD5` (RFC 2195): an HMAC-MD5 of a server challenge.
    CramMd5,
    /// SASL `SCRAM-SHA-1` (RFC 5802): salted challenge-response; the server proves itself too.
    ScramSha1,
    /// SASL `SCRAM-SHA-256` (RFC 7677).
    ScramSha256,
    /// SASL `XOAUTH2` (Google/Microsoft): the password field holds an OAuth 2 access token.
    XOAuth2,
    /// SASL `OAUTHBEARER` (RFC 7628): the password field holds an OAuth 2 access token.
    OAuthBearer,
}

impl AuthMechanism {
    /// The SASL mechanism, or `None` for USER/PASS and APOP.
    pub fn sasl(self) -> Option<SaslMechanism> {
        match self {
            AuthMechanism::User | AuthMechanism::Apop => None,
            AuthMechanism::Plain => Some(SaslMechanism::Plain),
            AuthMechanism::Login => Some(SaslMechanism::Login),
            AuthMechanism::CramMd5 => Some(SaslMechanism::CramMd5),
            AuthMechanism::ScramSha1 => Some(SaslMechanism::ScramSha1),
            AuthMechanism::ScramSha256 => Some(SaslMechanism::ScramSha256),
            AuthMechanism::XOAuth2 => Some(SaslMechanism::XOAuth2),
            AuthMechanism::OAuthBearer => Some(SaslMechanism::OAuthBearer),
        }
    }

    /// The SASL name, or `None` for USER/PASS and APOP.
    pub fn sasl_name(self) -> Option<&'static str> {
        self.sasl().map(SaslMechanism::name)
    }

    /// Whether the secret itself (password or bearer token) crosses the wire, so that anyone
    /// reading an unencrypted connection could reuse it.
    pub fn reveals_secret(self) -> bool {
        match self.sasl() {
            Some(sasl) => sasl.reveals_secret(),
            None => self == AuthMechanism::User,
        }
    }
}

/// Which authentication method the user allows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthPolicy {
    /// The strongest password method the server offers: SCRAM-SHA-256 and SCRAM-SHA-1 (when
    /// the configuration has a `scram_nonce`), CRAM-MD5, APOP, PLAIN, LOGIN, USER. Never picks
    /// the OAuth mechanisms, since a password is not a token.
    #[default]
    Auto,
    /// Only `USER`/`PASS`. Each policy below accepts exactly its method, or the session fails
    /// with [`Pop3Error::NoAcceptableAuth`] (not offered) or [`Pop3Error::PlaintextRefused`].
    User,
    /// Only `APOP`.
    Apop,
    /// Only SASL `PLAIN`.
    Plain,
    /// Only SASL `LOGIN`.
    Login,
    /// Only SASL `CRAM-MD5`.
    CramMd5,
    /// Only SASL `SCRAM-SHA-1`; needs a `scram_nonce`.
    ScramSha1,
    /// Only SASL `SCRAM-SHA-256`; needs a `scram_nonce`.
    ScramSha256,
    /// Only SASL `XOAUTH2`; the configured password is the access token.
    XOAuth2,
    /// Only SASL `OAUTHBEARER`; the configured password is the access token.
    OAuthBearer,
    /// An OAuth 2 access token (the configured password) by the mechanism the server offers:
    /// `OAUTHBEARER` (RFC 7628, the standard) where offered, else `XOAUTH2`. Without CAPA,
    /// `OAUTHBEARER`.
    OAuth,
}

impl AuthPolicy {
    /// The one mechanism this policy allows, or `None` for `Auto` and `OAuth` (which allow
    /// several).
    pub fn mechanism(self) -> Option<AuthMechanism> {
        Some(match self {
            AuthPolicy::Auto | AuthPolicy::OAuth => return None,
            AuthPolicy::User => AuthMechanism::User,
            AuthPolicy::Apop => AuthMechanism::Apop,
            AuthPolicy::Plain => AuthMechanism::Plain,
            AuthPolicy::Login => AuthMechanism::Login,
            AuthPolicy::CramMd5 => AuthMechanism::CramMd5,
            AuthPolicy::ScramSha1 => AuthMechanism::ScramSha1,
            AuthPolicy::ScramSha256 => AuthMechanism::ScramSha256,
            AuthPolicy::XOAuth2 => AuthMechanism::XOAuth2,
            AuthPolicy::OAuthBearer => AuthMechanism::OAuthBearer,
        })
    }
}

/// The order `Auto` tries: methods that do not reveal the password first (SCRAM, where the
/// server proves itself too and stores no reusable secret, before CRAM-MD5 and APOP), then SASL
/// before USER/PASS (SASL gives the server a single command to rate-limit and log).
const AUTO_ORDER: [AuthMechanism; 7] = [
    AuthMechanism::ScramSha256,
    AuthMechanism::ScramSha1,
    AuthMechanism::CramMd5,
    AuthMechanism::Apop,
    AuthMechanism::Plain,
    AuthMechanism::Login,
    AuthMechanism::User,
];

/// What the choice depends on.
#[derive(Debug)]
pub(crate) struct AuthContext<'a> {
    /// `None` when the server does not support CAPA: then USER and any explicitly chosen SASL
    /// mechanism are tried, since there is no way to know.
    pub caps: Option<&'a Capabilities>,
    pub has_apop_timestamp: bool,
    pub encrypted: bool,
    pub allow_plaintext_password: bool,
    /// Whether SCRAM can run: the caller gave a nonce and SaslPrep takes the credentials.
    /// Otherwise `Auto` skips SCRAM.
    pub scram_usable: bool,
}

impl AuthContext<'_> {
    fn offered(&self, m: AuthMechanism) -> bool {
        match (m, self.caps) {
            (AuthMechanism::Apop, _) => self.has_apop_timestamp,
            (AuthMechanism::User, Some(caps)) => caps.user,
            (_, Some(caps)) => m.sasl_name().is_some_and(|n| caps.offers_sasl(n)),
            // Without CAPA: USER is in RFC 1939 itself; SASL is only tried when asked for.
            (AuthMechanism::User, None) => true,
            (_, None) => false,
        }
    }

    fn offered_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.offered(AuthMechanism::User) {
            names.push("USER".to_string());
        }
        if self.has_apop_timestamp {
            names.push("APOP".to_string());
        }
        if let Some(caps) = self.caps {
            names.extend(caps.sasl.iter().map(|m| format!("SASL {m}")));
        }
        names
    }

    /// Picks the mechanism, or says why none can be used.
    pub(crate) fn choose(&self, policy: AuthPolicy) -> Result<AuthMechanism, Pop3Error> {
        let secret_ok = self.encrypted || self.allow_plaintext_password;
        let candidates: Vec<AuthMechanism> = match policy.mechanism() {
            None if policy == AuthPolicy::OAuth => {
                let offered: Vec<AuthMechanism> =
                    [AuthMechanism::OAuthBearer, AuthMechanism::XOAuth2]
                        .into_iter()
                        .filter(|m| self.offered(*m))
                        .collect();
                // Without CAPA there is no knowing: the standard mechanism is tried.
                if offered.is_empty() && self.caps.is_none() {
                    vec![AuthMechanism::OAuthBearer]
                } else {
                    offered
                }
            }
            None => AUTO_ORDER
                .iter()
                .copied()
                .filter(|m| self.offered(*m))
                .filter(|m| self.scram_usable || !m.sasl().is_some_and(SaslMechanism::needs_nonce))
                .collect(),
            Some(m) if self.offered(m) || (self.caps.is_none() && m.sasl_name().is_some()) => {
                vec![m]
            }
            Some(_) => vec![],
        };
        if candidates.is_empty() {
            return Err(Pop3Error::NoAcceptableAuth {
                offered: self.offered_names(),
            });
        }
        candidates
            .into_iter()
            .find(|m| secret_ok || !m.reveals_secret())
            .ok_or(Pop3Error::PlaintextRefused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AuthMechanism::*;

    fn check(
        caps: Option<&[&str]>,
        apop: bool,
        encrypted: bool,
        allow: bool,
        policy: AuthPolicy,
        expected: Result<AuthMechanism, Pop3Error>,
    ) {
        check_nonce(caps, apop, encrypted, allow, false, policy, expected);
    }

    fn check_nonce(
        caps: Option<&[&str]>,
        apop: bool,
        encrypted: bool,
        allow: bool,
        nonce: bool,
        policy: AuthPolicy,
        expected: Result<AuthMechanism, Pop3Error>,
    ) {
        let parsed = caps.map(Capabilities::parse);
        let ctx = AuthContext {
            caps: parsed.as_ref(),
            has_apop_timestamp: apop,
            encrypted,
            allow_plaintext_password: allow,
            scram_usable: nonce,
        };
        assert_eq!(
            ctx.choose(policy),
            expected,
            "{caps:?} apop={apop} enc={encrypted} allow={allow} {policy:?}"
        );
    }

    const DOVECOT: &[&str] = &["USER", "SASL PLAIN LOGIN CRAM-MD5"];

    #[test]
    fn auto_picks_strongest() {
        check(
            Some(DOVECOT),
            true,
            false,
            false,
            AuthPolicy::Auto,
            Ok(CramMd5),
        );
        check(
            Some(&["USER", "SASL PLAIN LOGIN"]),
            true,
            false,
            false,
            AuthPolicy::Auto,
            Ok(Apop),
        );
        check(
            Some(&["USER", "SASL PLAIN LOGIN"]),
            false,
            true,
            false,
            AuthPolicy::Auto,
            Ok(Plain),
        );
        check(
            Some(&["USER", "SASL LOGIN"]),
            false,
            true,
            false,
            AuthPolicy::Auto,
            Ok(Login),
        );
        check(
            Some(&["USER"]),
            false,
            true,
            false,
            AuthPolicy::Auto,
            Ok(User),
        );
        // OAuth takes OAUTHBEARER where offered, else XOAUTH2, never a password method.
        for (offered, expected) in [
            (&["SASL XOAUTH2 OAUTHBEARER"][..], Ok(OAuthBearer)),
            (&["SASL PLAIN XOAUTH2"][..], Ok(XOAuth2)),
            (
                &["USER", "SASL PLAIN"][..],
                Err(Pop3Error::NoAcceptableAuth {
                    offered: vec!["USER".into(), "SASL PLAIN".into()],
                }),
            ),
        ] {
            check(
                Some(offered),
                false,
                true,
                false,
                AuthPolicy::OAuth,
                expected,
            );
        }
        check(None, false, true, false, AuthPolicy::OAuth, Ok(OAuthBearer));
        check(
            Some(&["SASL OAUTHBEARER"]),
            false,
            false,
            false,
            AuthPolicy::OAuth,
            Err(Pop3Error::PlaintextRefused),
        );
        // Auto never uses an OAuth mechanism with a password.
        check(
            Some(&["SASL XOAUTH2 OAUTHBEARER"]),
            false,
            true,
            false,
            AuthPolicy::Auto,
            Err(Pop3Error::NoAcceptableAuth {
                offered: vec!["SASL XOAUTH2".into(), "SASL OAUTHBEARER".into()],
            }),
        );
    }

    /// Cyrus and Dovecot (with SCRAM enabled) offer SCRAM beside CRAM-MD5.
    #[test]
    fn auto_prefers_scram_when_a_nonce_is_given() {
        let cyrus: &[&str] = &["USER", "SASL PLAIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256"];
        check_nonce(
            Some(cyrus),
            true,
            false,
            false,
            true,
            AuthPolicy::Auto,
            Ok(ScramSha256),
        );
        check_nonce(
            Some(&["SASL PLAIN SCRAM-SHA-1 CRAM-MD5"]),
            false,
            true,
            false,
            true,
            AuthPolicy::Auto,
            Ok(ScramSha1),
        );
        // Without a nonce there is no SCRAM: the next strongest.
        check_nonce(
            Some(cyrus),
            true,
            false,
            false,
            false,
            AuthPolicy::Auto,
            Ok(CramMd5),
        );
        // An explicit SCRAM policy is chosen; starting it without a nonce is the usage error.
        check_nonce(
            Some(cyrus),
            false,
            false,
            false,
            false,
            AuthPolicy::ScramSha1,
            Ok(ScramSha1),
        );
    }

    #[test]
    fn plaintext_refused_without_tls_unless_allowed() {
        check(
            Some(&["USER", "SASL PLAIN"]),
            false,
            false,
            false,
            AuthPolicy::Auto,
            Err(Pop3Error::PlaintextRefused),
        );
        check(
            Some(&["USER", "SASL PLAIN"]),
            false,
            false,
            true,
            AuthPolicy::Auto,
            Ok(Plain),
        );
        check(
            Some(DOVECOT),
            false,
            false,
            false,
            AuthPolicy::User,
            Err(Pop3Error::PlaintextRefused),
        );
        check(
            Some(DOVECOT),
            false,
            false,
            true,
            AuthPolicy::User,
            Ok(User),
        );
        check(
            Some(&["SASL XOAUTH2"]),
            false,
            false,
            false,
            AuthPolicy::XOAuth2,
            Err(Pop3Error::PlaintextRefused),
        );
        check(
            Some(&["SASL XOAUTH2"]),
            false,
            true,
            false,
            AuthPolicy::XOAuth2,
            Ok(XOAuth2),
        );
    }

    #[test]
    fn explicit_policy_must_be_offered() {
        check(
            Some(DOVECOT),
            false,
            true,
            false,
            AuthPolicy::Apop,
            Err(Pop3Error::NoAcceptableAuth {
                offered: vec![
                    "USER".into(),
                    "SASL PLAIN".into(),
                    "SASL LOGIN".into(),
                    "SASL CRAM-MD5".into(),
                ],
            }),
        );
        check(
            Some(DOVECOT),
            true,
            false,
            false,
            AuthPolicy::Apop,
            Ok(Apop),
        );
        check(
            Some(&["USER"]),
            false,
            true,
            false,
            AuthPolicy::Plain,
            Err(Pop3Error::NoAcceptableAuth {
                offered: vec!["USER".into()],
            }),
        );
    }

    #[test]
    fn without_capa_fall_back_to_user_apop_or_asked_sasl() {
        check(None, true, false, false, AuthPolicy::Auto, Ok(Apop));
        check(None, false, true, false, AuthPolicy::Auto, Ok(User));
        check(
            None,
            false,
            false,
            false,
            AuthPolicy::Auto,
            Err(Pop3Error::PlaintextRefused),
        );
        check(None, false, true, false, AuthPolicy::Plain, Ok(Plain));
    }
}
