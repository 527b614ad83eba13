//! One SMTP session for one message, over a [`Transport`]: the protocol crate's client driven
//! to the commit point, the durable "may have been sent" mark, the final `.`, and the answer.
//!
//! The commit point is the rule this module exists for: the client holds the final `.` back
//! ([`Event::ReadyToCommit`]) until the driver calls `commit`. Before that call the caller's
//! `before_commit` must have recorded, durably, that the message may have been sent; if it
//! cannot, the session ends without the `.` and nothing is delivered. After it, any cut leaves
//! the message in doubt ([`Outcome::InDoubt`]), which the outbox never resolves by itself.

use postbag_protocol::smtp::{
    Client, ClientConfig, Envelope, Event, Recipient, RecipientStatus, SmtpError,
};
use postbag_protocol::tunnel::TlsInfo;

use crate::store::{RecipientRefusal, StoreError};
use crate::tunnel::{Transport, TransportError, within};

/// What one attempt came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The server took the message (`reply`: its 250, usually with a queue id). `refused`
    /// lists the recipients it would not take, the others will get it.
    Sent {
        reply: String,
        refused: Vec<RecipientRefusal>,
    },
    /// The server refused it for good; sending it again as it is would be refused again.
    Failed {
        error: SendError,
        refused: Vec<RecipientRefusal>,
    },
    /// Not sent, and nothing of it can have been delivered: it may go again later.
    Retry(SendError),
    /// The session was refused before the message was offered (a wrong password, no
    /// STARTTLS, a refused sender domain...): not the message's fault, it stays queued until
    /// the account's settings or password change. Nothing was delivered.
    Blocked(SendError),
    /// The final `.` went out and no answer came back: the server may have taken it.
    InDoubt(SendError),
}

/// Why an attempt did not send a message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// The tunnel to the submission server (proxy unreachable, refused target, TLS, a cut).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The SMTP session: a refusal, a protocol fault, or a message this server cannot take.
    #[error(transparent)]
    Smtp(#[from] SmtpError),
    /// The durable "may have been sent" mark could not be written: the `.` was held back.
    #[error("local storage failed before sending: {0}")]
    Store(#[from] StoreError),
    /// The server sent nothing for `secs` while a reply was owed.
    #[error("the server did not answer within {secs} s")]
    Silent { secs: u32 },
    /// The server closed the connection while a reply was owed.
    #[error("the server closed the connection")]
    Closed,
}

/// How long the driver waits for a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Any reply before the final `.`.
    pub reply_ms: u32,
    /// The reply to the final `.`: RFC 5321 §4.5.3.2.6 asks clients to wait 10 minutes, as the
    /// server may be scanning the message. Waiting less only makes a message "in doubt" sooner.
    pub commit_ms: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            reply_ms: 120_000,
            commit_ms: 600_000,
        }
    }
}

/// A message and its envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

/// Sends `message` over `sock` (already open to the submission server; `tls` says whether the
/// proxy did implicit TLS). `before_commit` runs once, at the commit point, and must resolve
/// only once "may have been sent" is durable.
pub async fn submit<T: Transport>(
    sock: &mut T,
    config: ClientConfig,
    message: &Submission,
    limits: Limits,
    before_commit: impl AsyncFnOnce() -> Result<(), StoreError>,
) -> Outcome {
    let mut client = Client::new(config);
    let mut before_commit = Some(before_commit);
    let mut decided: Option<Outcome> = None;
    // The final `.` was handed to the transport: from here a cut leaves the message in doubt.
    let mut dot_sent = false;
    let outcome = 'session: loop {
        loop {
            let event = match client.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(e) => break 'session decided.unwrap_or_else(|| refused(dot_sent, e)),
            };
            match event {
                Event::Greeting { .. } | Event::Capabilities(_) | Event::Authenticated { .. } => {}
                Event::StartTls => {
                    if let Err(e) = flush(&mut client, sock).await {
                        break 'session Outcome::Retry(e.into());
                    }
                    let upgraded: Result<Option<TlsInfo>, TransportError> = sock.start_tls().await;
                    if let Err(e) = upgraded {
                        break 'session Outcome::Retry(e.into());
                    }
                    if let Err(e) = client.tls_started() {
                        break 'session Outcome::Retry(e.into());
                    }
                }
                Event::Ready { .. } => {
                    let envelope = Envelope::new(message.from.clone(), message.to.clone());
                    if let Err(e) = client.send(envelope, message.raw.clone()) {
                        // Unsendable here (too large for SIZE, 8-bit without 8BITMIME, ...).
                        let _ = client.quit();
                        let _ = flush(&mut client, sock).await;
                        break 'session Outcome::Failed {
                            error: e.into(),
                            refused: Vec::new(),
                        };
                    }
                }
                Event::ReadyToCommit { message: id, .. } => {
                    // The body first: a connection that breaks under it ends the attempt
                    // before anything is marked.
                    if let Err(e) = flush(&mut client, sock).await {
                        break 'session Outcome::Retry(e.into());
                    }
                    let mark = before_commit.take().expect("one message, one commit point");
                    if let Err(e) = mark().await {
                        // No `.`: the server discards the transaction when the connection ends.
                        break 'session Outcome::Retry(e.into());
                    }
                    if let Err(e) = client.commit(id) {
                        break 'session Outcome::Retry(e.into());
                    }
                    // A send that fails did not leave this side (the WebSocket refuses it
                    // whole): the `.` never reached the server, nothing can be delivered.
                    if let Err(e) = flush(&mut client, sock).await {
                        break 'session Outcome::Retry(e.into());
                    }
                    dot_sent = true;
                }
                Event::Accepted {
                    reply, recipients, ..
                } => {
                    decided = Some(Outcome::Sent {
                        reply: reply.to_string(),
                        refused: refusals(&recipients),
                    });
                    let _ = client.quit();
                }
                Event::Rejected {
                    reply, recipients, ..
                } => {
                    let refused = refusals(&recipients);
                    let temporary = reply.is_temporary();
                    let error = SendError::Smtp(SmtpError::Server(reply));
                    decided = Some(if temporary {
                        Outcome::Retry(error)
                    } else {
                        Outcome::Failed { error, refused }
                    });
                    let _ = client.quit();
                }
                Event::Closed => {
                    break 'session decided.unwrap_or(Outcome::Retry(SendError::Closed));
                }
            }
        }
        if let Err(e) = flush(&mut client, sock).await {
            break 'session decided.unwrap_or_else(|| lost(&mut client, dot_sent, e.into()));
        }
        let committed = client.in_doubt().is_some();
        let wait = if committed {
            limits.commit_ms
        } else {
            limits.reply_ms
        };
        match within(wait, sock.recv()).await {
            Some(Ok(Some(bytes))) => client.receive(&bytes),
            // Once the answer came, a QUIT left unanswered changes nothing.
            Some(Ok(None)) => {
                break 'session decided
                    .unwrap_or_else(|| lost(&mut client, dot_sent, SendError::Closed));
            }
            Some(Err(e)) => {
                break 'session decided.unwrap_or_else(|| lost(&mut client, dot_sent, e.into()));
            }
            None => {
                break 'session decided.unwrap_or_else(|| {
                    lost(
                        &mut client,
                        dot_sent,
                        SendError::Silent { secs: wait / 1000 },
                    )
                });
            }
        }
    };
    sock.close();
    outcome
}

/// Writes what the client has queued.
async fn flush<T: Transport>(client: &mut Client, sock: &mut T) -> Result<(), TransportError> {
    while let Some(bytes) = client.take_outgoing() {
        sock.send(&bytes).await?;
    }
    Ok(())
}

/// The connection ended (or went silent) before the answer: in doubt once the `.` went out,
/// else safe to send again.
fn lost(client: &mut Client, dot_sent: bool, cause: SendError) -> Outcome {
    let _ = client.connection_lost();
    if dot_sent {
        Outcome::InDoubt(cause)
    } else {
        Outcome::Retry(cause)
    }
}

/// The session ended with an error (refusals inside the mail transaction are events, not
/// errors): a refusal of the session itself, or a fault.
fn refused(dot_sent: bool, e: SmtpError) -> Outcome {
    if dot_sent {
        return Outcome::InDoubt(e.into());
    }
    match &e {
        SmtpError::Server(s) if s.is_temporary() => Outcome::Retry(e.into()),
        SmtpError::ConnectionLost { .. } | SmtpError::Protocol(_) => Outcome::Retry(e.into()),
        _ => Outcome::Blocked(e.into()),
    }
}

fn refusals(recipients: &[Recipient]) -> Vec<RecipientRefusal> {
    recipients
        .iter()
        .filter_map(|r| match &r.status {
            RecipientStatus::Refused(e) => Some(RecipientRefusal {
                address: r.address.clone(),
                reply: e.reply.to_string(),
            }),
            RecipientStatus::Accepted(_) => None,
        })
        .collect()
}
