//! Mail transactions (RFC 5321 section 3.3), one message at a time from a queue: `MAIL FROM`,
//! one `RCPT TO` per recipient, `DATA`, the body, and the final `.` only once the driver
//! commits. With PIPELINING (RFC 2920) the envelope and DATA go as one group and the replies
//! are matched in order; without it each command waits for the previous reply.

use std::collections::VecDeque;

use super::Client;
use crate::smtp::envelope::{Envelope, Prepared};
use crate::smtp::error::{ProtocolError, ServerError, SmtpError, Stage, UsageError};
use crate::smtp::event::{Event, MessageId, Recipient, RecipientStatus};
use crate::smtp::reply::Reply;

/// The messages of the session and the replies still to come.
#[derive(Default)]
pub(super) struct Mail {
    last_id: u64,
    queue: VecDeque<Message>,
    current: Option<Current>,
    /// What each reply still to come answers, in order.
    expect: VecDeque<Expect>,
    /// The server may hold state of a failed transaction: `RSET` before the next one.
    needs_reset: bool,
    quit: Quit,
}

/// `Debug` without addresses or message bytes.
impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("queued", &self.queue.len())
            .field(
                "current",
                &self.current.as_ref().map(|c| (c.message.id, c.state)),
            )
            .field("expect", &self.expect)
            .field("needs_reset", &self.needs_reset)
            .field("quit", &self.quit)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Quit {
    #[default]
    NotAsked,
    Asked,
    Sent,
}

/// What a reply answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Reset,
    Mail,
    Rcpt(usize),
    Data,
    Dot,
    Quit,
}

impl Expect {
    fn name(self) -> &'static str {
        match self {
            Expect::Reset => "RSET",
            Expect::Mail => "MAIL FROM",
            Expect::Rcpt(_) => "RCPT TO",
            Expect::Data => "DATA",
            Expect::Dot => "the end of the message",
            Expect::Quit => "QUIT",
        }
    }
}

struct Message {
    id: MessageId,
    envelope: Envelope,
    prepared: Prepared,
}

/// The message of the transaction under way.
struct Current {
    message: Message,
    recipients: Vec<Recipient>,
    /// `MAIL FROM` was refused (with PIPELINING the rest of the group still answers).
    sender_refused: Option<ServerError>,
    state: State,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Envelope and DATA under way.
    Envelope,
    /// Body written; the final `.` waits for `commit`.
    AwaitCommit,
    /// The final `.` was sent: from here until its reply the message is in doubt.
    Committed,
    /// DATA was accepted although nothing can be delivered (RFC 2920 section 3.1: send a
    /// lone `.` then); the message is rejected whatever the server says to it.
    Abandoning,
}

impl Current {
    /// The refusal that explains a message nobody will receive: the sender's, else the first
    /// recipient's.
    fn why_undeliverable(&self) -> Option<ServerError> {
        self.sender_refused.clone().or_else(|| {
            self.recipients.iter().find_map(|r| match &r.status {
                RecipientStatus::Refused(e) => Some(e.clone()),
                RecipientStatus::Accepted(_) => None,
            })
        })
    }

    fn deliverable(&self) -> bool {
        self.sender_refused.is_none() && self.recipients.iter().any(Recipient::accepted)
    }
}

impl Mail {
    pub(super) fn enqueue(&mut self, envelope: Envelope, prepared: Prepared) -> MessageId {
        self.last_id += 1;
        let id = MessageId(self.last_id);
        self.queue.push_back(Message {
            id,
            envelope,
            prepared,
        });
        id
    }

    /// Moves `id` past the commit point; returns the bytes to send (the final `.`).
    pub(super) fn commit(&mut self, id: MessageId) -> Result<&'static [u8], SmtpError> {
        match &mut self.current {
            Some(c) if c.message.id == id && c.state == State::AwaitCommit => {
                c.state = State::Committed;
                self.expect.push_back(Expect::Dot);
                Ok(b".\r\n")
            }
            _ => Err(UsageError::NotAwaitingCommit(id).into()),
        }
    }

    pub(super) fn request_quit(&mut self) -> Result<(), SmtpError> {
        if self.quit != Quit::NotAsked {
            return Err(UsageError::Closed.into());
        }
        if self
            .current
            .as_ref()
            .is_some_and(|c| c.state == State::AwaitCommit)
        {
            return Err(UsageError::CommitPending.into());
        }
        self.quit = Quit::Asked;
        Ok(())
    }

    pub(super) fn quit_requested(&self) -> bool {
        self.quit != Quit::NotAsked
    }

    pub(super) fn in_doubt(&self) -> Option<MessageId> {
        self.current
            .as_ref()
            .filter(|c| c.state == State::Committed)
            .map(|c| c.message.id)
    }

    /// Every message without an outcome that was not committed.
    pub(super) fn unsent(&self) -> Vec<MessageId> {
        let current = self
            .current
            .as_ref()
            .filter(|c| c.state != State::Committed)
            .map(|c| c.message.id);
        current
            .into_iter()
            .chain(self.queue.iter().map(|m| m.id))
            .collect()
    }
}

impl Client {
    /// Starts the next transaction, or QUIT, when nothing is under way.
    pub(super) fn pump(&mut self) {
        if self.mail.current.is_some() || !self.mail.expect.is_empty() {
            return;
        }
        if let Some(message) = self.mail.queue.pop_front() {
            self.start(message);
        } else if self.mail.quit == Quit::Asked {
            self.put(b"QUIT\r\n");
            self.mail.expect.push_back(Expect::Quit);
            self.mail.quit = Quit::Sent;
        }
    }

    fn start(&mut self, message: Message) {
        let reset = std::mem::take(&mut self.mail.needs_reset);
        let recipients = message.envelope.to.len();
        let mail_from = message.prepared.mail_from.clone();
        self.mail.current = Some(Current {
            message,
            recipients: Vec::with_capacity(recipients),
            sender_refused: None,
            state: State::Envelope,
        });
        if reset {
            self.put(b"RSET\r\n");
            self.mail.expect.push_back(Expect::Reset);
            if !self.caps.pipelining {
                return;
            }
        }
        self.put(&mail_from);
        self.mail.expect.push_back(Expect::Mail);
        if self.caps.pipelining {
            for i in 0..recipients {
                self.send_rcpt(i);
            }
            self.put(b"DATA\r\n");
            self.mail.expect.push_back(Expect::Data);
        }
    }

    fn send_rcpt(&mut self, i: usize) {
        let current = self.mail.current.as_ref().expect("a transaction");
        let line = format!("RCPT TO:<{}>\r\n", current.message.envelope.to[i]);
        self.put(line.as_bytes());
        self.mail.expect.push_back(Expect::Rcpt(i));
    }

    pub(super) fn on_mail_reply(&mut self, reply: Reply) -> Result<(), SmtpError> {
        let closing = reply.code == 421;
        let Some(expect) = self.mail.expect.pop_front() else {
            return Err(if closing {
                self.closing(Stage::Quit, reply)
            } else {
                ProtocolError::Unsolicited.into()
            });
        };
        let closing_error = closing.then(|| self.closing(Stage::Quit, reply.clone()));
        self.on_expected_reply(expect, reply)?;
        match closing_error {
            // QUIT answered with 421 still closed the session normally.
            Some(err) if !self.is_closed() => Err(err),
            _ => {
                self.pump();
                Ok(())
            }
        }
    }

    fn on_expected_reply(&mut self, expect: Expect, reply: Reply) -> Result<(), SmtpError> {
        let unexpected = || -> SmtpError {
            ProtocolError::UnexpectedReply {
                code: reply.code,
                during: expect.name(),
            }
            .into()
        };
        let positive = reply.is_positive();
        if !positive && reply.code < 400 && !(expect == Expect::Data && reply.code == 354) {
            return Err(unexpected());
        }
        if expect == Expect::Data && positive {
            return Err(unexpected());
        }
        let lockstep = !self.caps.pipelining;
        let encrypted = self.encrypted;
        let refusal = |stage, reply: &Reply, address| {
            ServerError::new(stage, reply.clone(), encrypted, address)
        };
        if expect == Expect::Quit {
            self.phase = super::handshake::Phase::Closed;
            self.events.push_back(Event::Closed);
            return Ok(());
        }
        if expect == Expect::Reset {
            if !positive {
                return Err(SmtpError::Server(refusal(Stage::Reset, &reply, None)));
            }
            if lockstep {
                let mail_from = self.current().message.prepared.mail_from.clone();
                self.put(&mail_from);
                self.mail.expect.push_back(Expect::Mail);
            }
            return Ok(());
        }
        let Some(mut current) = self.mail.current.take() else {
            return Err(unexpected());
        };
        match expect {
            Expect::Mail if positive => {
                self.mail.current = Some(current);
                if lockstep {
                    self.send_rcpt(0);
                }
            }
            Expect::Mail => {
                current.sender_refused = Some(refusal(Stage::MailFrom, &reply, None));
                if lockstep {
                    let why = current.why_undeliverable().expect("the sender's refusal");
                    self.reject(current, why);
                } else {
                    // The rest of the group still answers.
                    self.mail.current = Some(current);
                }
            }
            Expect::Rcpt(i) => {
                let address = current.message.envelope.to[i].clone();
                let status = if positive {
                    RecipientStatus::Accepted(reply)
                } else {
                    let refused = refusal(Stage::Recipient, &reply, Some(address.clone()));
                    RecipientStatus::Refused(refused)
                };
                current.recipients.push(Recipient { address, status });
                let last = i + 1 == current.message.envelope.to.len();
                if lockstep && last && !current.deliverable() {
                    // Every recipient refused: no DATA; the server holds the sender.
                    self.mail.needs_reset = true;
                    let why = current.why_undeliverable().expect("a refused recipient");
                    self.reject(current, why);
                } else {
                    self.mail.current = Some(current);
                    if lockstep && !last {
                        self.send_rcpt(i + 1);
                    } else if lockstep {
                        self.put(b"DATA\r\n");
                        self.mail.expect.push_back(Expect::Data);
                    }
                }
            }
            Expect::Data if reply.code == 354 => {
                if current.deliverable() {
                    current.state = State::AwaitCommit;
                    let wire = std::mem::take(&mut current.message.prepared.wire);
                    self.events.push_back(Event::ReadyToCommit {
                        message: current.message.id,
                        recipients: current.recipients.clone(),
                    });
                    if self.outgoing.is_empty() {
                        self.outgoing = wire;
                    } else {
                        self.outgoing.extend_from_slice(&wire);
                    }
                } else {
                    current.state = State::Abandoning;
                    self.put(b".\r\n");
                    self.mail.expect.push_back(Expect::Dot);
                }
                self.mail.current = Some(current);
            }
            Expect::Data => {
                // The server holds the sender if it took it.
                self.mail.needs_reset = current.sender_refused.is_none();
                let why = if current.deliverable() {
                    refusal(Stage::Data, &reply, None)
                } else {
                    current.why_undeliverable().expect("a refusal")
                };
                self.reject(current, why);
            }
            Expect::Dot if current.state == State::Committed => {
                let message = current.message.id;
                let recipients = current.recipients;
                self.events.push_back(if positive {
                    Event::Accepted {
                        message,
                        reply,
                        recipients,
                    }
                } else {
                    Event::Rejected {
                        message,
                        reply: refusal(Stage::Message, &reply, None),
                        recipients,
                    }
                });
            }
            Expect::Dot => {
                let why = current
                    .why_undeliverable()
                    .unwrap_or_else(|| refusal(Stage::Message, &reply, None));
                self.reject(current, why);
            }
            Expect::Reset | Expect::Quit => unreachable!("handled above"),
        }
        Ok(())
    }

    fn current(&self) -> &Current {
        self.mail.current.as_ref().expect("a transaction")
    }

    /// Ends a transaction with `Rejected`.
    fn reject(&mut self, current: Current, reply: ServerError) {
        self.events.push_back(Event::Rejected {
            message: current.message.id,
            reply,
            recipients: current.recipients,
        });
    }
}
