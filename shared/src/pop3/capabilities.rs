//! The `CAPA` reply (RFC 2449) and what the client takes from it.

/// What the server announced in its `CAPA` reply. Unknown lines are kept in `other`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `TOP` is supported.
    pub top: bool,
    /// `USER`/`PASS` is supported.
    pub user: bool,
    /// SASL mechanisms offered by `AUTH` (upper case).
    pub sasl: Vec<String>,
    /// `RESP-CODES`: the server sends extended response codes.
    pub resp_codes: bool,
    /// `AUTH-RESP-CODE`: the server sends `[AUTH]` on credential failures (RFC 3206).
    pub auth_resp_code: bool,
    /// `LOGIN-DELAY n`: minimum seconds between logins.
    pub login_delay: Option<u32>,
    /// `PIPELINING`: the server accepts several commands in flight.
    pub pipelining: bool,
    /// `EXPIRE`: how long the server keeps retrieved messages.
    pub expire: Option<Expire>,
    /// `UIDL` is supported.
    pub uidl: bool,
    /// `IMPLEMENTATION text`.
    pub implementation: Option<String>,
    /// `STLS` (RFC 2595).
    pub stls: bool,
    /// `UTF8` (RFC 6856).
    pub utf8: bool,
    /// Capability lines this client does not interpret, verbatim.
    pub other: Vec<String>,
}

/// The `EXPIRE` capability (RFC 2449 section 6.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expire {
    /// `EXPIRE NEVER`: messages are kept.
    Never,
    /// `EXPIRE n`: retrieved messages may be deleted after n days (0: at the end of the session).
    Days(u32),
}

impl Capabilities {
    /// Parses the lines of a `CAPA` reply (without the status line and terminator).
    /// A malformed argument (`LOGIN-DELAY soon`) keeps the line in `other` instead of failing:
    /// capabilities are advice, not something worth dropping the session over.
    pub fn parse<S: AsRef<str>>(lines: &[S]) -> Capabilities {
        let mut caps = Capabilities::default();
        for line in lines {
            let line = line.as_ref().trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_ascii_whitespace();
            let tag = words.next().unwrap_or("").to_ascii_uppercase();
            let arg = words.next();
            let understood = match tag.as_str() {
                "TOP" => set(&mut caps.top),
                "USER" => set(&mut caps.user),
                "UIDL" => set(&mut caps.uidl),
                "PIPELINING" => set(&mut caps.pipelining),
                "RESP-CODES" => set(&mut caps.resp_codes),
                "AUTH-RESP-CODE" => set(&mut caps.auth_resp_code),
                "STLS" => set(&mut caps.stls),
                "UTF8" => set(&mut caps.utf8),
                "SASL" => {
                    caps.sasl = line
                        .split_ascii_whitespace()
                        .skip(1)
                        .map(|m| m.to_ascii_uppercase())
                        .collect();
                    true
                }
                // "LOGIN-DELAY 900" or, in the AUTHORIZATION state, "LOGIN-DELAY 900 USER".
                "LOGIN-DELAY" => match arg.and_then(|a| a.parse().ok()) {
                    Some(n) => {
                        caps.login_delay = Some(n);
                        true
                    }
                    None => false,
                },
                "EXPIRE" => match arg {
                    Some(a) if a.eq_ignore_ascii_case("NEVER") => {
                        caps.expire = Some(Expire::Never);
                        true
                    }
                    Some(a) => match a.parse() {
                        Ok(n) => {
                            caps.expire = Some(Expire::Days(n));
                            true
                        }
                        Err(_) => false,
                    },
                    None => false,
                },
                "IMPLEMENTATION" => {
                    caps.implementation = Some(line[tag.len()..].trim().to_string());
                    true
                }
                _ => false,
            };
            if !understood {
                caps.other.push(line.to_string());
            }
        }
        caps
    }

    /// Whether `AUTH` offers the SASL mechanism `name` (case-insensitive).
    pub fn offers_sasl(&self, name: &str) -> bool {
        self.sasl.iter().any(|m| m.eq_ignore_ascii_case(name))
    }
}

fn set(flag: &mut bool) -> bool {
    *flag = true;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(lines: &[&str], expected: Capabilities) {
        assert_eq!(Capabilities::parse(lines), expected);
    }

    #[test]
    fn rfc2449_capa_example() {
        // RFC 2449 section 5: the example CAPA reply.
        check(
            &[
                "TOP",
                "USER",
                "SASL CRAM-MD5 KERBEROS_V4",
                "RESP-CODES",
                "LOGIN-DELAY 900",
                "PIPELINING",
                "EXPIRE 60",
                "UIDL",
                "IMPLEMENTATION Shlemazle-Plotz-v302",
            ],
            Capabilities {
                top: true,
                user: true,
                sasl: vec!["CRAM-MD5".into(), "KERBEROS_V4".into()],
                resp_codes: true,
                login_delay: Some(900),
                pipelining: true,
                expire: Some(Expire::Days(60)),
                uidl: true,
                implementation: Some("Shlemazle-Plotz-v302".into()),
                ..Capabilities::default()
            },
        );
    }

    #[test]
    fn dovecot_style_and_oddities() {
        check(
            &[
                "CAPA",
                "TOP",
                "UIDL",
                "RESP-CODES",
                "PIPELINING",
                "AUTH-RESP-CODE",
                "STLS",
                "USER",
                "SASL PLAIN login cram-md5",
                "EXPIRE NEVER",
                "LOGIN-DELAY 900 USER",
                "LOGIN-DELAY soon",
            ],
            Capabilities {
                top: true,
                uidl: true,
                resp_codes: true,
                pipelining: true,
                auth_resp_code: true,
                stls: true,
                user: true,
                sasl: vec!["PLAIN".into(), "LOGIN".into(), "CRAM-MD5".into()],
                expire: Some(Expire::Never),
                login_delay: Some(900),
                other: vec!["CAPA".into(), "LOGIN-DELAY soon".into()],
                ..Capabilities::default()
            },
        );
        assert!(Capabilities::parse(&["SASL PLAIN"]).offers_sasl("plain"));
    }
}
