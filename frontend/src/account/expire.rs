//! The server's `EXPIRE` (RFC 2449 section 6.7: how long it keeps messages once retrieved)
//! against the account's policy: a server that deletes retrieved mail itself makes "Leave on
//! the server" a promise Postbag cannot keep, and the user must hear it, since the copy here
//! may then be the only one.

use postbag_protocol::pop3::Expire;

use crate::store::ServerPolicy;

/// What the user is told when `expire` undoes `policy`; `None` when they agree.
pub fn expire_warning(policy: &ServerPolicy, expire: Option<Expire>) -> Option<String> {
    // "Keep at most N" leaves mail on the server with no time limit of its own.
    let after_days = match policy {
        ServerPolicy::DeleteAfterDownload => return None,
        ServerPolicy::Leave { after_days, .. } => *after_days,
        ServerPolicy::KeepNewest { .. } => None,
    };
    match (expire?, after_days) {
        (Expire::Never, _) => None,
        (Expire::Days(0), _) => Some(
            "This server deletes messages once they are downloaded (EXPIRE 0): they cannot be \
             left on the server, and the copy here is the only one."
                .into(),
        ),
        (Expire::Days(n), None) => Some(format!(
            "This server deletes downloaded messages after {n} days (EXPIRE {n}), whatever \
             \"Leave on the server\" says."
        )),
        (Expire::Days(n), Some(d)) if n < d => Some(format!(
            "This server deletes downloaded messages after {n} days (EXPIRE {n}), before the \
             {d} days chosen here."
        )),
        (Expire::Days(_), Some(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn leave(after_days: Option<u32>) -> ServerPolicy {
        ServerPolicy::Leave {
            after_days,
            mirror_deletes: false,
        }
    }

    #[test]
    fn leave_on_the_server_against_expire_0_is_warned_about() {
        let w = expire_warning(&leave(None), Some(Expire::Days(0)));
        assert!(w.is_some_and(|w| w.contains("EXPIRE 0")));
        let w = expire_warning(&leave(Some(14)), Some(Expire::Days(0)));
        assert!(w.is_some_and(|w| w.contains("EXPIRE 0")));
        let keep = ServerPolicy::KeepNewest {
            count: 50,
            mirror_deletes: false,
        };
        let w = expire_warning(&keep, Some(Expire::Days(0)));
        assert!(w.is_some_and(|w| w.contains("EXPIRE 0")));
        assert!(expire_warning(&keep, Some(Expire::Days(30))).is_some());
        assert_eq!(expire_warning(&keep, Some(Expire::Never)), None);
    }

    #[test]
    fn a_shorter_expiry_than_the_days_chosen_is_warned_about() {
        assert!(expire_warning(&leave(Some(30)), Some(Expire::Days(7))).is_some());
        assert!(expire_warning(&leave(None), Some(Expire::Days(7))).is_some());
        assert_eq!(
            expire_warning(&leave(Some(7)), Some(Expire::Days(30))),
            None
        );
    }

    #[test]
    fn nothing_to_say_when_they_agree() {
        let delete = ServerPolicy::DeleteAfterDownload;
        assert_eq!(expire_warning(&delete, Some(Expire::Days(0))), None);
        assert_eq!(expire_warning(&leave(None), Some(Expire::Never)), None);
        assert_eq!(expire_warning(&leave(None), None), None);
    }
}
