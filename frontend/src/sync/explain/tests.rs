use super::*;
use crate::tunnel::Refusal;
use postbag_protocol::pop3::Pop3Error;
use postbag_protocol::tunnel::TunnelError;
// `#[test]` natively; in the browser the same tests run as wasm-bindgen tests.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// `err` is explained with `words` in the message, and with these flags.
fn check(err: TransportError, words: &str, offline: bool, asks_access_code: bool) {
    let ex = explain(&SyncError::Transport(err.clone()));
    assert!(ex.message.contains(words), "{err:?}: {}", ex.message);
    assert_eq!(
        (ex.offline, ex.asks_access_code),
        (offline, asks_access_code),
        "{err:?}"
    );
}

#[test]
fn handshake_refusals_say_what_to_do() {
    use Refusal::*;
    use TransportError::Refused;
    check(
        Refused(AccessCodeMissing),
        "needs an access code",
        false,
        true,
    );
    check(
        Refused(AccessCodeRefused),
        "the access code may be wrong (or this page's address is not allowed)",
        false,
        true,
    );
    check(
        Refused(OriginNotAllowed),
        "origin is not allowed",
        false,
        false,
    );
    check(
        Refused(UntrustedReverseProxy),
        "must set trust_forwarded_for",
        false,
        false,
    );
    check(
        Refused(Handshake { status: 400 }),
        "does not forward WebSocket upgrades",
        false,
        false,
    );
    check(
        TransportError::ProxyUnreachable,
        "cannot be reached",
        true,
        false,
    );
}

/// A connection that was up and then lost says where and who ended it, and is "offline"
/// only when the browser is (a killed proxy while online is not "offline").
#[test]
fn a_cut_says_where_and_who() {
    let cut = |cause, online| {
        explain(&SyncError::Cut {
            during: During::Message {
                k: 2,
                of: 5,
                msg: 7,
            },
            cause,
            online,
        })
    };
    let proxy_gone = cut(
        Some(TransportError::Closed {
            code: 1006,
            reason: String::new(),
        }),
        true,
    );
    assert!(!proxy_gone.offline);
    assert!(
        proxy_gone.message.starts_with(
            "Connected, then the connection was cut in the middle of message 2 of 5 \
             (number 7 on the server): the connection to the Postbag proxy was lost (code \
             1006)."
        ),
        "{}",
        proxy_gone.message
    );
    let stopping = cut(
        Some(TransportError::Tunnel(TunnelError::new(
            ErrorKind::ShuttingDown,
            "the proxy is shutting down",
        ))),
        true,
    );
    assert!(
        stopping
            .message
            .contains(": the Postbag proxy is shutting down (stopped or restarted)."),
        "{}",
        stopping.message
    );
    let offline = cut(None, false);
    assert!(offline.offline);
    assert!(
        offline.message.contains("your device went offline"),
        "{}",
        offline.message
    );
    let closed = explain(&SyncError::Transport(TransportError::Closed {
        code: 1006,
        reason: String::new(),
    }));
    assert!(!closed.offline, "{closed:?}");
    assert!(
        closed.message.contains("Postbag proxy was lost"),
        "{closed:?}"
    );
}

#[test]
fn server_text_is_escaped_and_truncated() {
    assert_eq!(peer_text("a\u{1b}[31mb\r\nc", 100), "a\\u{1b}[31mb\\r\\nc");
    assert_eq!(peer_text(&"x".repeat(300), 5), "xxxxx…");
}

#[test]
fn progress_never_says_downloading_1_of_0() {
    let p = |done, total, deleting| {
        Progress {
            done,
            total,
            deleting,
            ..Progress::default()
        }
        .describe()
    };
    assert_eq!(p(0, 0, 1), "Removing 1 message from the server…");
    assert_eq!(p(0, 0, 0), "Checking for new mail…");
    assert_eq!(p(3, 3, 3), "Removing 3 messages from the server…");
    assert_eq!(p(0, 2, 0), "Downloading 1 of 2 · 0 B of 0 B");
}

#[test]
fn notices_name_the_message_by_number_and_size() {
    let big = notice(&Notice::TooLarge {
        msg: 4,
        size: 200_000_000,
        limit: crate::sync::MAX_MESSAGE_BYTES,
    });
    assert_eq!(
        big,
        "message 4 on the server (200.0 MB) is larger than 128 MB, the most Postbag \
         downloads: it was skipped and stays on the server"
    );
    let refused = notice(&Notice::NotDownloaded {
        msg: 2,
        size: Some(1500),
        reason: "no such message".into(),
    });
    assert!(
        refused.starts_with(
            "message 2 on the server (1.5 KB) could not be downloaded, the server said \
             \"no such message\""
        ),
        "{refused}"
    );
}

/// A refused login reads by how the account logs in: a password account is told its password
/// is wrong; an OAuth account, whose token was refused after the one refresh, is told its
/// sign-in is gone and which account to sign in again, never asked for a password it has not got.
#[test]
fn a_refused_token_asks_to_sign_in_again_not_for_a_password() {
    use postbag_protocol::pop3::ServerError;
    let refused = SyncError::Pop3(Pop3Error::Server(ServerError {
        kind: ServerErrorKind::AuthFailed,
        code: None,
        text: "[AUTH] Authentication failed.".into(),
    }));
    let password = explain_for(&refused, Credential::Password);
    assert!(
        password.message.starts_with("Wrong user name or password"),
        "{}",
        password.message
    );
    assert_eq!(explain(&refused), password);
    let oauth = explain_for(
        &refused,
        Credential::SignIn {
            account: "ann@example.org",
        },
    );
    assert_eq!(
        oauth.message,
        "ann@example.org: the sign-in has expired or was revoked; sign in again."
    );
    assert!(!oauth.offline && !oauth.asks_access_code);
    // Other refusals read the same whichever the credential.
    let in_use = SyncError::Pop3(Pop3Error::Server(ServerError {
        kind: ServerErrorKind::InUse,
        code: None,
        text: "locked".into(),
    }));
    assert_eq!(
        explain_for(
            &in_use,
            Credential::SignIn {
                account: "ann@example.org"
            }
        ),
        explain(&in_use)
    );
}

/// A server that cannot prove it knows the password (SCRAM) is named as a possible impostor,
/// not as a protocol slip.
#[test]
fn a_server_without_the_password_is_named_as_such() {
    use postbag_protocol::pop3::ProtocolError;
    use postbag_protocol::scram::ScramError;
    for e in [
        ScramError::ServerSignatureMismatch,
        ScramError::MissingServerSignature,
    ] {
        let ex = explain(&SyncError::Pop3(Pop3Error::Protocol(ProtocolError::Scram(
            e,
        ))));
        assert!(
            ex.message
                .contains("could not prove that it knows your password")
                && ex.message.contains("it may not be your mail server"),
            "{}",
            ex.message
        );
    }
    let other = explain(&SyncError::Pop3(Pop3Error::Protocol(ProtocolError::Scram(
        ScramError::NonceMismatch,
    ))));
    assert!(
        other.message.contains("broke the POP3 protocol"),
        "{}",
        other.message
    );
}

#[test]
fn a_server_without_uidl_is_told_how_messages_are_told_apart() {
    let caps = |uidl, top| Capabilities {
        uidl,
        top,
        ..Capabilities::default()
    };
    assert_eq!(identity_note(&caps(true, false)), None);
    assert!(identity_note(&caps(false, true)).is_some_and(|t| t.contains("headers and size")));
    assert!(identity_note(&caps(false, false)).is_some_and(|t| t.contains("neither UIDL nor TOP")));
}
