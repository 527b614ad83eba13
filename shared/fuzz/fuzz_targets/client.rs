//! The whole client fed arbitrary server bytes after a valid greeting: it must never panic,
//! never buffer more than its limits, keep returning the same error once failed, and produce
//! the same events whether the bytes arrive whole or one at a time.

#![no_main]

#[path = "common/feed.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use postbag_protocol::pop3::{AuthPolicy, Client, ClientConfig, Command, Event, Pop3Error, Secret};

fuzzed!(Client, Event, Pop3Error);

/// The commands enqueued on `Ready`: the same script the recorded seed transcripts used.
fn script() -> Vec<Command> {
    postbag_protocol::pop3::replay::seed_script()
}

fn config(selector: u8) -> ClientConfig {
    let mut c = ClientConfig::new("user0", Secret::new("pw-0".to_string()));
    c.auth = match selector % 8 {
        0 => AuthPolicy::Auto,
        1 => AuthPolicy::Apop,
        2 => AuthPolicy::User,
        3 => AuthPolicy::Plain,
        4 => AuthPolicy::Login,
        5 => AuthPolicy::CramMd5,
        6 => AuthPolicy::XOAuth2,
        _ => AuthPolicy::OAuthBearer,
    };
    c.allow_plaintext_password = true;
    c.want_starttls = selector & 0x10 != 0;
    c.pipeline_window = if selector & 0x20 != 0 { 1 } else { 16 };
    // Small limits so that the fuzzer reaches them.
    c.max_line = 256;
    c.max_reply = 4096;
    c.max_chunk = 100;
    c
}

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    error: Option<Pop3Error>,
    sent: Vec<u8>,
}

fn run(selector: u8, stream: &[u8], step: usize) -> Outcome {
    let mut client = Client::new(config(selector));
    let fed = common::feed(&mut client, stream, step, |client, events, ev| {
        match &ev {
            Event::Ready { .. } => {
                for c in script() {
                    let _ = client.enqueue(c);
                }
            }
            Event::StartTls => {
                let _ = client.tls_started();
            }
            Event::MessageChunk { bytes, .. } => assert!(!bytes.is_empty() && bytes.len() <= 100),
            _ => {}
        }
        postbag_protocol::pop3::replay::push_merged(events, ev);
    });
    Outcome {
        events: fed.events,
        error: fed.error,
        sent: fed.sent,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    // A valid greeting comes first (with an APOP timestamp); the fuzzer controls the rest.
    let greeting = b"+OK ready <1.2@fuzz>\r\n";
    let mut stream = greeting.to_vec();
    stream.extend_from_slice(rest);
    let whole = run(selector, &stream, stream.len().max(1));
    // STLS makes chunking observable on purpose (bytes buffered before the handshake are
    // refused), so the differential check is for sessions without it.
    if !whole.events.contains(&Event::StartTls) {
        let bytewise = run(selector, &stream, 1);
        assert_eq!(whole, bytewise);
    }
});
