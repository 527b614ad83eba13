//! Scripted sessions: a server transcript is fed to the client whole, byte by byte and in
//! odd-sized chunks; the events, the bytes the client sent and the final error must be the
//! same every time.

use super::*;

mod login;
mod scram;
mod transaction;

/// A scripted session. `server` is split into segments: the TLS upgrade, if asked for, runs
/// between them (see `crate::transcript::feed`).
struct Script<'a> {
    config: ClientConfig,
    server: &'a [&'a [u8]],
    /// Enqueued when `Ready` arrives.
    on_ready: &'a [Command],
}

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    sent: String,
    error: Option<Pop3Error>,
}

fn config() -> ClientConfig {
    let mut c = ClientConfig::new("mrose", Secret::new("tanstaaf".to_string()));
    c.want_starttls = false;
    c.allow_plaintext_password = true;
    c
}

fn run(script: &Script, step: usize) -> Outcome {
    let mut client = Client::new(script.config.clone());
    let fed = crate::transcript::feed(&mut client, script.server, step, |client, events, ev| {
        if matches!(ev, Event::Ready { .. }) {
            for c in script.on_ready {
                client.enqueue(c.clone()).unwrap();
            }
        }
        crate::pop3::replay::push_merged(events, ev);
    });
    Outcome {
        events: fed.events,
        sent: fed.sent,
        error: fed.error,
    }
}

/// Runs the script with several chunkings and checks they agree with `expected_sent`,
/// `expected_events` (if given) and `expected_error`.
fn check(
    script: Script,
    expected_sent: &str,
    expected_events: Option<&[Event]>,
    expected_error: Option<Pop3Error>,
) -> Outcome {
    let whole = crate::transcript::same_in_every_chunking(|step| run(&script, step));
    assert_eq!(whole.sent, expected_sent);
    if let Some(events) = expected_events {
        assert_eq!(whole.events, events);
    }
    assert_eq!(whole.error, expected_error);
    whole
}

fn id(n: u64) -> CommandId {
    CommandId(n)
}

const DOVECOT_CAPA: &str = "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n";

fn server_error(
    kind: ServerErrorKind,
    code: Option<ResponseCode>,
    text: &str,
) -> Option<Pop3Error> {
    Some(Pop3Error::Server(ServerError {
        kind,
        code,
        text: text.into(),
    }))
}
