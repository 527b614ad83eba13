//! Scripted sessions: a server transcript is fed to the client whole, byte by byte and in
//! odd-sized chunks; the events, the bytes the client sent and the final error must be the
//! same every time.

use super::*;

mod auth;
mod commit;
mod handshake;
mod mail;
mod rfc;
mod scram;

/// A scripted session. `server` is split into segments: the TLS upgrade, if asked for, runs
/// between them (see `crate::transcript::feed`).
struct Script<'a> {
    config: ClientConfig,
    server: &'a [&'a [u8]],
    /// Sent when `Ready` arrives.
    messages: &'a [(Envelope, &'a [u8])],
    /// Commit at every `ReadyToCommit` (else the driver never commits).
    commit: bool,
    /// `quit` after the messages were given.
    quit: bool,
}

impl<'a> Script<'a> {
    fn new(config: ClientConfig, server: &'a [&'a [u8]]) -> Script<'a> {
        Script {
            config,
            server,
            messages: &[],
            commit: true,
            quit: true,
        }
    }

    fn sending(mut self, messages: &'a [(Envelope, &'a [u8])]) -> Script<'a> {
        self.messages = messages;
        self
    }
}

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    /// What `send` returned for each message.
    sends: Vec<Result<MessageId, SmtpError>>,
    sent: String,
    error: Option<SmtpError>,
}

/// A login over a plain connection that allows the password in the clear (the transcripts
/// are not encrypted) and does not ask for STARTTLS.
fn config() -> ClientConfig {
    let mut c = ClientConfig::new("alice", Secret::new("wonderland".to_string()));
    c.want_starttls = false;
    c.allow_plaintext_password = true;
    c.client_domain = "client.example".into();
    c
}

/// No login, no STARTTLS: a server that relays by address (the RFC 5321 examples).
fn anonymous(domain: &str) -> ClientConfig {
    let mut c = ClientConfig::without_auth();
    c.want_starttls = false;
    c.client_domain = domain.into();
    c
}

fn run(script: &Script, step: usize) -> Outcome {
    let mut client = Client::new(script.config.clone());
    let mut sends = Vec::new();
    let fed = crate::transcript::feed(&mut client, script.server, step, |client, events, ev| {
        match &ev {
            Event::Ready { .. } => {
                for (envelope, body) in script.messages {
                    sends.push(client.send(envelope.clone(), body.to_vec()));
                }
                if script.quit {
                    client.quit().unwrap();
                }
            }
            Event::ReadyToCommit { message, .. } if script.commit => {
                client.commit(*message).unwrap();
            }
            _ => {}
        }
        events.push(ev);
    });
    Outcome {
        events: fed.events,
        sends,
        sent: fed.sent,
        error: fed.error,
    }
}

/// Runs the script with several chunkings and checks they agree with `expected_sent` and
/// `expected_error`; returns the outcome for further checks.
fn check(script: Script, expected_sent: &str, expected_error: Option<SmtpError>) -> Outcome {
    let whole = crate::transcript::same_in_every_chunking(|step| run(&script, step));
    assert_eq!(whole.sent, expected_sent);
    assert_eq!(whole.error, expected_error);
    whole
}

fn reply(code: u16, enhanced: Option<(u8, u16, u16)>, text: &str) -> Reply {
    Reply {
        code,
        enhanced: enhanced.map(|(class, subject, detail)| EnhancedCode {
            class,
            subject,
            detail,
        }),
        lines: text.split('\n').map(str::to_string).collect(),
    }
}

fn server_error(
    kind: ServerErrorKind,
    code: u16,
    enhanced: Option<(u8, u16, u16)>,
    text: &str,
    address: Option<&str>,
) -> ServerError {
    ServerError {
        kind,
        reply: reply(code, enhanced, text),
        address: address.map(str::to_string),
    }
}

fn accepted(address: &str, reply: Reply) -> Recipient {
    Recipient {
        address: address.into(),
        status: RecipientStatus::Accepted(reply),
    }
}

fn refused(address: &str, error: ServerError) -> Recipient {
    Recipient {
        address: address.into(),
        status: RecipientStatus::Refused(error),
    }
}

/// The events of kinds a test is about, leaving out greeting, capabilities and the like.
fn outcomes(events: &[Event]) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::ReadyToCommit { .. } | Event::Accepted { .. } | Event::Rejected { .. }
            )
        })
        .collect()
}

const POSTFIX_EHLO: &str = "250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n";
const LOCKSTEP_EHLO: &str =
    "250-mail.example.org\r\n250-SIZE 10240000\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n";
