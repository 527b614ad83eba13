//! The setup form as a plain value: what the user typed (text stays text until it is checked)
//! and the choices as enums. [`AccountForm::to_account`] is the one place it becomes an
//! [`Account`]; the view only binds fields to it. The `<select>` values are spelled here too,
//! so no other code compares strings like `"tls"`.

use crate::store::{Account, DEFAULT_CHECK_MINUTES, Security, ServerPolicy};

/// "After download" in the form: [`ServerPolicy`] without its numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterDownload {
    Delete,
    Leave,
    LeaveForDays,
    /// Keep at most some number of messages on the server.
    KeepNewest,
}

impl AfterDownload {
    /// The `<option>` value.
    pub fn value(self) -> &'static str {
        match self {
            AfterDownload::Delete => "delete",
            AfterDownload::Leave => "leave",
            AfterDownload::LeaveForDays => "days",
            AfterDownload::KeepNewest => "newest",
        }
    }

    /// The choice a new account starts with. POP's own default, delete after download, only
    /// where the browser promised to keep this site's storage: otherwise the copy here would
    /// be the only one, in a store the browser may clear, and the user's mail must not be the
    /// price of a default. Unknown counts as not promised.
    pub fn default_for(durable: Option<bool>) -> AfterDownload {
        if durable == Some(true) {
            AfterDownload::Delete
        } else {
            AfterDownload::Leave
        }
    }

    pub fn from_value(value: &str) -> Option<AfterDownload> {
        [
            Self::Delete,
            Self::Leave,
            Self::LeaveForDays,
            Self::KeepNewest,
        ]
        .into_iter()
        .find(|a| a.value() == value)
    }
}

/// The `<option>` value of a [`Security`].
pub fn security_value(security: Security) -> &'static str {
    match security {
        Security::Tls => "tls",
        Security::StartTls => "starttls",
        Security::None => "none",
    }
}

pub fn security_from_value(value: &str) -> Option<Security> {
    [Security::Tls, Security::StartTls, Security::None]
        .into_iter()
        .find(|s| security_value(*s) == value)
}

/// Why the form is not an account yet, in the words the form shows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("Enter an e-mail address.")]
    NoAddress,
    #[error("Enter the POP3 server name.")]
    NoServer,
    #[error("The port must be a number from 1 to 65535.")]
    BadPort,
    #[error("Days must be a number.")]
    BadDays,
    #[error("Messages to keep on the server: a number from 1 to 1000000.")]
    BadKeepCount,
    #[error("Check every: the minutes must be a number from 1 to 1440, or empty for never.")]
    BadCheckMinutes,
    #[error("Size limit: a number of MB from 0.01 to 128, or empty for no limit.")]
    BadSizeLimit,
}

/// The days offered when the user first picks "delete after some days".
const DEFAULT_DAYS: u32 = 14;
/// The count offered when the user first picks "keep at most".
const DEFAULT_KEEP: u32 = 500;
/// The most the form takes (a typo of extra zeros is caught, not a policy that never acts).
const MAX_KEEP: u32 = 1_000_000;

#[derive(Clone, Debug, PartialEq)]
pub struct AccountForm {
    pub email: String,
    pub host: String,
    pub port: String,
    pub security: Security,
    /// Empty: the address is the login name.
    pub username: String,
    pub after_download: AfterDownload,
    pub days: String,
    /// How many messages "keep at most" leaves on the server.
    pub keep: String,
    pub mirror_deletes: bool,
    pub pinned_sha256: Option<String>,
    /// Minutes between automatic checks; empty: only when the user presses Sync.
    pub check_minutes: String,
    /// Slow links: MB (1,000,000 bytes, as the app writes sizes) above which a message comes
    /// headers-first; empty: no limit.
    pub size_limit_mb: String,
}

/// The smallest size limit the form takes (10 KB: a limit below a message's headers would
/// make every message headers-first for nothing).
const MIN_LIMIT_BYTES: u64 = 10_000;
/// The largest: above the hard cap every message is whole or skipped anyway.
const MAX_LIMIT_BYTES: u64 = 128 * 1_000_000;

/// Bytes as MB for the form ("1", "2.5"), without trailing zeros.
fn mb_text(bytes: u64) -> String {
    let text = format!("{:.2}", bytes as f64 / 1_000_000.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The longest interval the form takes: once a day.
const MAX_CHECK_MINUTES: u32 = 24 * 60;

impl AccountForm {
    /// The form for `existing`, or an empty one (implicit TLS on 995, delete after download).
    pub fn new(existing: Option<&Account>) -> AccountForm {
        let Some(a) = existing else {
            return AccountForm {
                email: String::new(),
                host: String::new(),
                port: Security::Tls.default_port().to_string(),
                security: Security::Tls,
                username: String::new(),
                after_download: AfterDownload::Delete,
                days: DEFAULT_DAYS.to_string(),
                keep: DEFAULT_KEEP.to_string(),
                mirror_deletes: false,
                pinned_sha256: None,
                check_minutes: DEFAULT_CHECK_MINUTES.to_string(),
                size_limit_mb: String::new(),
            };
        };
        let (after_download, days, keep) = match a.policy {
            ServerPolicy::DeleteAfterDownload => {
                (AfterDownload::Delete, DEFAULT_DAYS, DEFAULT_KEEP)
            }
            ServerPolicy::Leave {
                after_days: None, ..
            } => (AfterDownload::Leave, DEFAULT_DAYS, DEFAULT_KEEP),
            ServerPolicy::Leave {
                after_days: Some(d),
                ..
            } => (AfterDownload::LeaveForDays, d, DEFAULT_KEEP),
            ServerPolicy::KeepNewest { count, .. } => {
                (AfterDownload::KeepNewest, DEFAULT_DAYS, count)
            }
        };
        let mirror_deletes = a.policy.mirrors_deletes();
        AccountForm {
            email: a.email.clone(),
            host: a.host.clone(),
            port: a.port.to_string(),
            security: a.security,
            username: a.username.clone(),
            after_download,
            days: days.to_string(),
            keep: keep.to_string(),
            mirror_deletes,
            pinned_sha256: a.pinned_sha256.clone(),
            check_minutes: a.check_minutes.map(|m| m.to_string()).unwrap_or_default(),
            size_limit_mb: a.headers_first_above.map(mb_text).unwrap_or_default(),
        }
    }

    /// The account the form describes. An existing account keeps its id and everything the
    /// form does not show (its sealed password, ...); a new one is known by its address.
    pub fn to_account(&self, existing: Option<&Account>) -> Result<Account, FormError> {
        let email = self.email.trim().to_string();
        if !email.contains('@') {
            return Err(FormError::NoAddress);
        }
        let host = self.host.trim().to_string();
        if host.is_empty() {
            return Err(FormError::NoServer);
        }
        let port = match self.port.trim().parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(FormError::BadPort),
        };
        let policy = match self.after_download {
            AfterDownload::Delete => ServerPolicy::DeleteAfterDownload,
            AfterDownload::Leave => ServerPolicy::Leave {
                after_days: None,
                mirror_deletes: self.mirror_deletes,
            },
            AfterDownload::LeaveForDays => ServerPolicy::Leave {
                after_days: Some(self.days.trim().parse().map_err(|_| FormError::BadDays)?),
                mirror_deletes: self.mirror_deletes,
            },
            AfterDownload::KeepNewest => ServerPolicy::KeepNewest {
                count: match self.keep.trim().parse::<u32>() {
                    Ok(n) if (1..=MAX_KEEP).contains(&n) => n,
                    _ => return Err(FormError::BadKeepCount),
                },
                mirror_deletes: self.mirror_deletes,
            },
        };
        let check_minutes = match self.check_minutes.trim() {
            "" => None,
            typed => match typed.parse::<u32>() {
                Ok(m) if (1..=MAX_CHECK_MINUTES).contains(&m) => Some(m),
                _ => return Err(FormError::BadCheckMinutes),
            },
        };
        let headers_first_above = match self.size_limit_mb.trim() {
            "" => None,
            typed => match typed.replace(',', ".").parse::<f64>() {
                Ok(mb) if mb.is_finite() => {
                    let bytes = (mb * 1_000_000.0).round() as u64;
                    if !(MIN_LIMIT_BYTES..=MAX_LIMIT_BYTES).contains(&bytes) {
                        return Err(FormError::BadSizeLimit);
                    }
                    Some(bytes)
                }
                _ => return Err(FormError::BadSizeLimit),
            },
        };
        let username = match self.username.trim() {
            "" => email.clone(),
            typed => typed.to_string(),
        };
        let mut account = match existing {
            Some(a) => a.clone(),
            None => Account {
                id: email.to_lowercase(),
                email: String::new(),
                host: String::new(),
                port: 0,
                security: Security::Tls,
                username: String::new(),
                policy: ServerPolicy::default(),
                pinned_sha256: None,
                sealed_password: None,
                sending: None,
                check_minutes: None,
                oauth: None,
                headers_first_above: None,
            },
        };
        account.email = email;
        account.host = host;
        account.port = port;
        account.security = self.security;
        account.username = username;
        account.policy = policy;
        account.pinned_sha256 = self.pinned_sha256.clone();
        account.check_minutes = check_minutes;
        account.headers_first_above = headers_first_above;
        Ok(account)
    }

    /// The port after the user picked `security`: a default port follows the choice, a port
    /// the user typed stays.
    pub fn port_after(&self, security: Security) -> String {
        match self.port.trim() {
            "" | "995" | "110" => security.default_port().to_string(),
            typed => typed.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn filled() -> AccountForm {
        AccountForm {
            email: " Me@Example.org ".into(),
            host: " pop.example.org ".into(),
            port: "995".into(),
            ..AccountForm::new(None)
        }
    }

    fn check(form: &AccountForm, existing: Option<&Account>, expected: Result<Account, FormError>) {
        assert_eq!(form.to_account(existing), expected, "{form:?}");
    }

    fn account() -> Account {
        Account {
            id: "me@example.org".into(),
            email: "Me@Example.org".into(),
            host: "pop.example.org".into(),
            port: 995,
            security: Security::Tls,
            username: "Me@Example.org".into(),
            policy: ServerPolicy::DeleteAfterDownload,
            pinned_sha256: None,
            sealed_password: None,
            sending: None,
            check_minutes: Some(DEFAULT_CHECK_MINUTES),
            oauth: None,
            headers_first_above: None,
        }
    }

    #[test]
    fn a_new_account_is_known_by_its_address() {
        check(&filled(), None, Ok(account()));
        let typed = AccountForm {
            username: " me ".into(),
            security: Security::StartTls,
            port: "110".into(),
            after_download: AfterDownload::LeaveForDays,
            days: " 30 ".into(),
            mirror_deletes: true,
            ..filled()
        };
        check(
            &typed,
            None,
            Ok(Account {
                username: "me".into(),
                security: Security::StartTls,
                port: 110,
                policy: ServerPolicy::Leave {
                    after_days: Some(30),
                    mirror_deletes: true,
                },
                ..account()
            }),
        );
    }

    #[test]
    fn an_edited_account_keeps_its_id_and_what_the_form_does_not_show() {
        let sealed = crate::store::SealedSecret {
            salt: "s".into(),
            iv: "i".into(),
            ciphertext: "c".into(),
            iterations: 1,
        };
        let existing = Account {
            id: "first@example.org".into(),
            sealed_password: Some(sealed),
            ..account()
        };
        let form = AccountForm {
            after_download: AfterDownload::Leave,
            ..AccountForm::new(Some(&existing))
        };
        check(
            &form,
            Some(&existing),
            Ok(Account {
                policy: ServerPolicy::Leave {
                    after_days: None,
                    mirror_deletes: false,
                },
                ..existing.clone()
            }),
        );
        // The form of an account gives that account back.
        assert_eq!(
            AccountForm::new(Some(&existing)).to_account(Some(&existing)),
            Ok(existing.clone())
        );
        let keeping = Account {
            policy: ServerPolicy::KeepNewest {
                count: 40,
                mirror_deletes: true,
            },
            ..existing
        };
        let form = AccountForm::new(Some(&keeping));
        assert_eq!((form.keep.as_str(), form.mirror_deletes), ("40", true));
        assert_eq!(form.to_account(Some(&keeping)), Ok(keeping));
    }

    #[test]
    fn what_is_missing_or_malformed_is_named() {
        check(
            &AccountForm {
                email: "me".into(),
                ..filled()
            },
            None,
            Err(FormError::NoAddress),
        );
        check(
            &AccountForm {
                host: "  ".into(),
                ..filled()
            },
            None,
            Err(FormError::NoServer),
        );
        for port in ["", "0", "65536", "x"] {
            check(
                &AccountForm {
                    port: port.into(),
                    ..filled()
                },
                None,
                Err(FormError::BadPort),
            );
        }
        for minutes in ["0", "1441", "often"] {
            check(
                &AccountForm {
                    check_minutes: minutes.into(),
                    ..filled()
                },
                None,
                Err(FormError::BadCheckMinutes),
            );
        }
        let manual = AccountForm {
            check_minutes: " ".into(),
            ..filled()
        };
        assert_eq!(manual.to_account(None).map(|a| a.check_minutes), Ok(None));
        let days = AccountForm {
            after_download: AfterDownload::LeaveForDays,
            days: "a week".into(),
            ..filled()
        };
        check(&days, None, Err(FormError::BadDays));
        // Days only count when they are asked for.
        let leave = AccountForm {
            after_download: AfterDownload::Leave,
            ..days
        };
        assert!(leave.to_account(None).is_ok());
        for keep in ["", "0", "-3", "1000001", "many"] {
            check(
                &AccountForm {
                    after_download: AfterDownload::KeepNewest,
                    keep: keep.into(),
                    ..filled()
                },
                None,
                Err(FormError::BadKeepCount),
            );
        }
    }

    /// The size limit: MB in the form, bytes in the account, empty for none (the default),
    /// and the form of an account with a limit gives the limit back.
    #[test]
    fn the_size_limit_is_typed_in_mb_and_kept_in_bytes() {
        assert_eq!(AccountForm::new(None).size_limit_mb, "");
        assert_eq!(filled().to_account(None).unwrap().headers_first_above, None);
        for (typed, bytes) in [("1", 1_000_000), (" 2.5 ", 2_500_000), ("0,5", 500_000)] {
            let form = AccountForm {
                size_limit_mb: typed.into(),
                ..filled()
            };
            let a = form.to_account(None).unwrap();
            assert_eq!(a.headers_first_above, Some(bytes), "{typed}");
            let again = AccountForm::new(Some(&a));
            assert_eq!(again.to_account(Some(&a)), Ok(a.clone()));
        }
        assert_eq!(
            AccountForm::new(Some(&Account {
                headers_first_above: Some(1_000_000),
                ..account()
            }))
            .size_limit_mb,
            "1"
        );
        for typed in ["0", "0.001", "129", "-1", "big", "NaN", "inf"] {
            check(
                &AccountForm {
                    size_limit_mb: typed.into(),
                    ..filled()
                },
                None,
                Err(FormError::BadSizeLimit),
            );
        }
    }

    #[test]
    fn choices_round_trip_through_their_option_values() {
        for s in [Security::Tls, Security::StartTls, Security::None] {
            assert_eq!(security_from_value(security_value(s)), Some(s));
        }
        for a in [
            AfterDownload::Delete,
            AfterDownload::Leave,
            AfterDownload::LeaveForDays,
            AfterDownload::KeepNewest,
        ] {
            assert_eq!(AfterDownload::from_value(a.value()), Some(a));
        }
        assert_eq!(security_from_value("ssl"), None);
    }

    #[test]
    fn a_default_port_follows_the_security_a_typed_one_stays() {
        let form = filled();
        assert_eq!(form.port_after(Security::StartTls), "110");
        let typed = AccountForm {
            port: "1995".into(),
            ..filled()
        };
        assert_eq!(typed.port_after(Security::StartTls), "1995");
    }

    #[test]
    fn a_new_account_deletes_on_the_server_only_where_storage_is_durable() {
        assert_eq!(
            AfterDownload::default_for(Some(true)),
            AfterDownload::Delete
        );
        assert_eq!(
            AfterDownload::default_for(Some(false)),
            AfterDownload::Leave
        );
        assert_eq!(AfterDownload::default_for(None), AfterDownload::Leave);
    }
}
