//! The EHLO reply (RFC 5321 section 4.1.1.1): the server's name, then one extension per line.

use super::reply::Reply;

/// What the server announced in its EHLO reply. After a HELO fallback nothing is announced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The server's name, the first word of the reply.
    pub domain: String,
    /// The server answered EHLO (false after the HELO fallback: no extension can be used).
    pub extended: bool,
    /// `SIZE` (RFC 1870): `Some(0)` announces SIZE without a fixed limit, `Some(n)` a limit of
    /// `n` octets.
    pub size: Option<u64>,
    /// `PIPELINING` (RFC 2920).
    pub pipelining: bool,
    /// `8BITMIME` (RFC 6152).
    pub eight_bit_mime: bool,
    /// `SMTPUTF8` (RFC 6531).
    pub smtp_utf8: bool,
    /// `ENHANCEDSTATUSCODES` (RFC 2034).
    pub enhanced_status_codes: bool,
    /// `STARTTLS` (RFC 3207).
    pub starttls: bool,
    /// `CHUNKING` (RFC 3030). Recorded only: the client always sends with DATA.
    pub chunking: bool,
    /// The SASL mechanisms of `AUTH` (RFC 4954), upper-cased, in the server's order.
    pub auth: Vec<String>,
}

impl Capabilities {
    /// Reads an EHLO reply. Unknown keywords are ignored, as are malformed parameters (a SIZE
    /// that is not a number counts as SIZE without a limit).
    pub fn parse(reply: &Reply) -> Capabilities {
        let mut caps = Capabilities {
            extended: true,
            ..Capabilities::default()
        };
        let mut lines = reply.lines.iter();
        if let Some(first) = lines.next() {
            caps.domain = first.split(' ').next().unwrap_or_default().to_string();
        }
        for line in lines {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            let keyword = keyword.to_ascii_uppercase();
            // Some old servers write `AUTH=LOGIN PLAIN` (a pre-RFC 2554 draft).
            let (keyword, first_param) = match keyword.split_once('=') {
                Some((k, p)) => (k.to_string(), Some(p.to_string())),
                None => (keyword, None),
            };
            let params = first_param
                .into_iter()
                .chain(words.map(str::to_string))
                .filter(|p| !p.is_empty());
            match keyword.as_str() {
                "SIZE" => {
                    caps.size = Some(params.take(1).find_map(|p| p.parse().ok()).unwrap_or(0))
                }
                "PIPELINING" => caps.pipelining = true,
                "8BITMIME" => caps.eight_bit_mime = true,
                "SMTPUTF8" => caps.smtp_utf8 = true,
                "ENHANCEDSTATUSCODES" => caps.enhanced_status_codes = true,
                "STARTTLS" => caps.starttls = true,
                "CHUNKING" => caps.chunking = true,
                "AUTH" => {
                    for mechanism in params {
                        let mechanism = mechanism.to_ascii_uppercase();
                        if !caps.auth.contains(&mechanism) {
                            caps.auth.push(mechanism);
                        }
                    }
                }
                _ => {}
            }
        }
        caps
    }

    /// What a HELO reply tells: the server's name and no extension.
    pub(crate) fn helo(reply: &Reply) -> Capabilities {
        Capabilities {
            extended: false,
            ..Capabilities::parse(&Reply {
                lines: reply.lines.iter().take(1).cloned().collect(),
                ..reply.clone()
            })
        }
    }

    /// The largest message the server takes, when it announced a fixed limit.
    pub fn max_size(&self) -> Option<u64> {
        self.size.filter(|n| *n > 0)
    }

    /// Whether `AUTH` lists this SASL mechanism.
    pub fn offers_auth(&self, name: &str) -> bool {
        self.auth.iter().any(|m| m.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&str]) -> Capabilities {
        Capabilities::parse(&Reply {
            code: 250,
            enhanced: None,
            lines: lines.iter().map(|l| l.to_string()).collect(),
        })
    }

    #[test]
    fn postfix_submission() {
        let caps = parse(&[
            "mail.example.org",
            "PIPELINING",
            "SIZE 10240000",
            "ETRN",
            "AUTH PLAIN LOGIN",
            "AUTH=PLAIN LOGIN",
            "ENHANCEDSTATUSCODES",
            "8BITMIME",
            "DSN",
            "SMTPUTF8",
            "CHUNKING",
        ]);
        assert_eq!(
            caps,
            Capabilities {
                domain: "mail.example.org".into(),
                extended: true,
                size: Some(10_240_000),
                pipelining: true,
                eight_bit_mime: true,
                smtp_utf8: true,
                enhanced_status_codes: true,
                starttls: false,
                chunking: true,
                auth: vec!["PLAIN".into(), "LOGIN".into()],
            }
        );
        assert_eq!(caps.max_size(), Some(10_240_000));
        assert!(caps.offers_auth("login"));
    }

    #[test]
    fn size_without_limit_and_case() {
        let caps = parse(&["x", "size", "starttls", "auth cram-md5"]);
        assert_eq!(caps.size, Some(0));
        assert_eq!(caps.max_size(), None);
        assert!(caps.starttls);
        assert_eq!(caps.auth, vec!["CRAM-MD5".to_string()]);
        assert_eq!(parse(&["x", "SIZE lots"]).size, Some(0));
        assert_eq!(parse(&["x"]).size, None);
    }

    #[test]
    fn helo_announces_nothing() {
        let reply = Reply {
            code: 250,
            enhanced: None,
            lines: vec!["foo.com".into(), "STARTTLS".into()],
        };
        let caps = Capabilities::helo(&reply);
        assert_eq!(caps.domain, "foo.com");
        assert!(!caps.extended && !caps.starttls);
    }
}
