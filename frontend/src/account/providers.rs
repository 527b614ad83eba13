//! Server settings guessed from an e-mail address: a small table of well-known providers,
//! else `pop.<domain>` on 995 with implicit TLS.

use crate::store::Security;

#[derive(Clone, Debug, PartialEq)]
pub struct Guess {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The login name: the whole address for every provider in the table.
    pub username: String,
    /// Provider-specific advice (app passwords, enabling POP), if any.
    pub note: Option<&'static str>,
}

/// (domains, host, note)
const PROVIDERS: &[(&[&str], &str, Option<&str>)] = &[
    (
        &["gmail.com", "googlemail.com"],
        "pop.gmail.com",
        Some("Gmail: enable POP in Gmail settings and use an app password."),
    ),
    (
        &["outlook.com", "hotmail.com", "live.com", "msn.com"],
        "outlook.office365.com",
        // Microsoft turned basic authentication off for POP and SMTP: OAuth 2 only.
        Some(
            "Outlook.com and Hotmail take no password on POP and SMTP, only Microsoft's own \
             sign-in (OAuth 2): use \"Sign in with Microsoft\" where this Postbag offers it.",
        ),
    ),
    (
        &["yahoo.com", "ymail.com"],
        "pop.mail.yahoo.com",
        Some("Yahoo: create an app password in account security."),
    ),
    (
        &["icloud.com", "me.com", "mac.com"],
        "pop.mail.me.com",
        Some("iCloud does not offer POP; consider IMAP."),
    ),
    (
        &["gmx.de", "gmx.net", "gmx.com", "gmx.at", "gmx.ch"],
        "pop.gmx.net",
        Some("GMX: enable POP3 access in the GMX settings first."),
    ),
    (
        &["web.de"],
        "pop3.web.de",
        Some("WEB.DE: enable POP3 access in the settings first."),
    ),
    (
        &["fastmail.com", "fastmail.fm"],
        "pop.fastmail.com",
        Some("Fastmail: use an app password."),
    ),
    (&["posteo.de", "posteo.net"], "posteo.de", None),
    (&["mailbox.org"], "pop3.mailbox.org", None),
    (
        &["aol.com"],
        "pop.aol.com",
        Some("AOL: use an app password."),
    ),
    (
        &["zoho.com"],
        "pop.zoho.com",
        Some("Zoho: enable POP access in settings."),
    ),
    (&["t-online.de"], "securepop.t-online.de", None),
    (&["yandex.com", "yandex.ru"], "pop.yandex.com", None),
];

/// Defaults for `email`; `None` until the address has a domain.
pub fn guess(email: &str) -> Option<Guess> {
    let email = email.trim();
    let (_, domain) = email.rsplit_once('@')?;
    let domain = domain.to_ascii_lowercase();
    if domain.is_empty() || !domain.contains('.') {
        return None;
    }
    let (host, note) = PROVIDERS
        .iter()
        .find(|(domains, ..)| domains.contains(&domain.as_str()))
        .map(|(_, host, note)| (host.to_string(), *note))
        .unwrap_or_else(|| (format!("pop.{domain}"), None));
    Some(Guess {
        host,
        port: 995,
        security: Security::Tls,
        username: email.to_string(),
        note,
    })
}

/// (domains, submission host, port; 465 is implicit TLS, 587 STARTTLS), beside the POP3 table.
const SUBMISSION: &[(&[&str], &str, u16)] = &[
    (&["gmail.com", "googlemail.com"], "smtp.gmail.com", 465),
    (
        &["outlook.com", "hotmail.com", "live.com", "msn.com"],
        "smtp-mail.outlook.com",
        587,
    ),
    (&["yahoo.com", "ymail.com"], "smtp.mail.yahoo.com", 465),
    (
        &["icloud.com", "me.com", "mac.com"],
        "smtp.mail.me.com",
        587,
    ),
    (
        &["gmx.de", "gmx.net", "gmx.com", "gmx.at", "gmx.ch"],
        "mail.gmx.net",
        465,
    ),
    (&["web.de"], "smtp.web.de", 587),
    (&["fastmail.com", "fastmail.fm"], "smtp.fastmail.com", 465),
    (&["posteo.de", "posteo.net"], "posteo.de", 465),
    (&["mailbox.org"], "smtp.mailbox.org", 465),
    (&["aol.com"], "smtp.aol.com", 465),
    (&["zoho.com"], "smtp.zoho.com", 465),
    (&["t-online.de"], "securesmtp.t-online.de", 465),
    (&["yandex.com", "yandex.ru"], "smtp.yandex.com", 465),
];

/// The submission server for `account`: the provider's, else the POP3 host with `pop.` or
/// `pop3.` turned into `smtp.`, on the port that matches the POP3 security (implicit TLS on
/// 465, else 587).
pub fn submission_guess(account: &crate::store::Account) -> (String, u16, Security) {
    let domain = account
        .email
        .rsplit_once('@')
        .map(|(_, d)| d.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if let Some((_, host, port)) = SUBMISSION
        .iter()
        .find(|(domains, ..)| domains.contains(&domain.as_str()))
    {
        let security = if *port == 465 {
            Security::Tls
        } else {
            Security::StartTls
        };
        return (host.to_string(), *port, security);
    }
    let host = ["pop3.", "pop."]
        .iter()
        .find_map(|p| account.host.strip_prefix(p))
        .map(|rest| format!("smtp.{rest}"))
        .unwrap_or_else(|| account.host.clone());
    (host, account.security.submission_port(), account.security)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn outlook_says_passwords_are_refused() {
        for address in ["me@outlook.com", "me@Hotmail.com", "me@live.com"] {
            let g = guess(address).unwrap();
            assert_eq!(g.host, "outlook.office365.com");
            let note = g.note.unwrap();
            assert!(
                note.contains("no password") && note.contains("OAuth 2"),
                "{note}"
            );
        }
        assert_eq!(guess("me@example.org").unwrap().note, None);
    }
}
