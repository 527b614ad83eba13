//! The whole SMTP client fed arbitrary server bytes after a valid greeting: it must never
//! panic, never buffer more than its limits, keep returning the same error once failed, give
//! every message at most one outcome, name a message in doubt only between its commit and its
//! outcome, and produce the same events whether the bytes arrive whole or one at a time.

#![no_main]

#[path = "common/feed.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use postbag_protocol::smtp::{
    AuthPolicy, Client, ClientConfig, Envelope, Event, MessageId, Secret, SmtpError,
};

fuzzed!(Client, Event, SmtpError);

/// Byte 0 of the input: the login policy (bits 0-2), STARTTLS wanted (0x10), no login at all
/// (0x20), a driver that never commits (0x40).
fn config(selector: u8) -> ClientConfig {
    let mut c = if selector & 0x20 != 0 {
        ClientConfig::without_auth()
    } else {
        ClientConfig::new("user0", Secret::new("pw-0".to_string()))
    };
    c.auth = match selector % 8 {
        0 | 6 | 7 => AuthPolicy::Auto,
        1 => AuthPolicy::Plain,
        2 => AuthPolicy::Login,
        3 => AuthPolicy::CramMd5,
        4 => AuthPolicy::XOAuth2,
        _ => AuthPolicy::OAuthBearer,
    };
    c.allow_plaintext_password = true;
    c.want_starttls = selector & 0x10 != 0;
    // Small limits so that the fuzzer reaches them.
    c.max_line = 128;
    c.max_reply_lines = 8;
    c.max_reply = 512;
    c
}

/// The messages given on `Ready`: a pipelined-size one with two recipients, one that needs
/// SMTPUTF8, and one with 8-bit content and dot lines.
fn messages() -> Vec<(Envelope, Vec<u8>)> {
    vec![
        (
            Envelope::new("a@x", ["b@y", "c@y"]),
            b"Subject: one\r\n\r\n.\r\nbody\n".to_vec(),
        ),
        (Envelope::new("a@x", ["d\u{e9}@y"]), b"two\r\n".to_vec()),
        (
            Envelope::new("", ["e@y"]),
            "Subject: dr\u{e9}i\n\n..\n".as_bytes().to_vec(),
        ),
    ]
}

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    sends: Vec<Result<MessageId, SmtpError>>,
    error: Option<SmtpError>,
    sent: Vec<u8>,
    in_doubt: Option<MessageId>,
}

fn run(selector: u8, stream: &[u8], step: usize) -> Outcome {
    let commit = selector & 0x40 == 0;
    let mut client = Client::new(config(selector));
    let mut sends = Vec::new();
    let mut committed: Vec<MessageId> = Vec::new();
    let mut finished: Vec<MessageId> = Vec::new();
    let fed = common::feed(&mut client, stream, step, |client, events, ev| {
        match &ev {
            Event::Ready { .. } => {
                for (envelope, body) in messages() {
                    sends.push(client.send(envelope, body));
                }
                client.quit().expect("quit after Ready");
            }
            Event::StartTls => {
                let _ = client.tls_started();
            }
            Event::ReadyToCommit { message, .. } => {
                assert!(!finished.contains(message) && !committed.contains(message));
                assert_eq!(client.in_doubt(), None);
                if commit {
                    client.commit(*message).expect("commit at the commit point");
                    assert_eq!(client.in_doubt(), Some(*message));
                    committed.push(*message);
                }
            }
            Event::Accepted { message, .. } | Event::Rejected { message, .. } => {
                // One outcome per message; an acceptance only after a commit.
                assert!(!finished.contains(message));
                if matches!(ev, Event::Accepted { .. }) {
                    assert!(committed.contains(message));
                }
                finished.push(*message);
                assert_eq!(client.in_doubt(), None);
            }
            _ => {}
        }
        events.push(ev);
    });
    let in_doubt = client.in_doubt();
    if let Some(m) = in_doubt {
        assert!(committed.contains(&m) && !finished.contains(&m));
    }
    if !client.is_closed()
        && let SmtpError::ConnectionLost {
            in_doubt: lost,
            unsent,
            ..
        } = client.connection_lost()
    {
        assert_eq!(lost, in_doubt);
        assert!(
            unsent
                .iter()
                .all(|m| !finished.contains(m) && !committed.contains(m))
        );
    }
    Outcome {
        events: fed.events,
        sends,
        error: fed.error,
        sent: fed.sent,
        in_doubt,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    // A valid greeting comes first; the fuzzer controls the rest.
    let mut stream = b"220 fuzz ESMTP\r\n".to_vec();
    stream.extend_from_slice(rest);
    let whole = run(selector, &stream, stream.len());
    // STARTTLS makes chunking observable on purpose (bytes buffered before the handshake are
    // refused), so the differential check is for sessions without it.
    if !whole.events.contains(&Event::StartTls) {
        assert_eq!(whole, run(selector, &stream, 1));
    }
});
