//! The TRANSACTION state: a queue of enqueued commands, the ones in flight, and how each
//! reply is read (single line, collected lines, or a streamed body).

use std::collections::VecDeque;

use super::Client;
use super::handshake::Phase;
use crate::pop3::command::{Command, CommandId, ReplyShape};
use crate::pop3::error::{Pop3Error, ProtocolError, ServerError, Stage, UsageError};
use crate::pop3::event::Event;
use crate::pop3::framer::{BodyPiece, Collector};
use crate::pop3::status::{Status, parse_status};

/// Commands waiting to be sent and commands sent but not fully answered.
#[derive(Debug, Default)]
pub(super) struct Transaction {
    next_id: u64,
    queued: VecDeque<(CommandId, Command)>,
    /// Replies arrive in order, so the front is the one being read.
    in_flight: VecDeque<InFlight>,
    quit_enqueued: bool,
}

#[derive(Debug)]
struct InFlight {
    id: CommandId,
    command: Command,
    read: Reading,
}

/// How far the reply of an in-flight command has been read.
#[derive(Debug)]
enum Reading {
    Status,
    Collecting(Collector),
    Body,
}

impl Transaction {
    pub(super) fn enqueue(&mut self, command: Command) -> Result<CommandId, Pop3Error> {
        if self.quit_enqueued {
            return Err(UsageError::Closed.into());
        }
        self.quit_enqueued = command == Command::Quit;
        self.next_id += 1;
        let id = CommandId(self.next_id);
        self.queued.push_back((id, command));
        Ok(id)
    }

    /// How many commands were sent and not fully answered.
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Every command that has not been fully answered, in order.
    pub(super) fn unanswered(&self) -> Vec<(CommandId, Command)> {
        self.in_flight
            .iter()
            .map(|f| (f.id, f.command.clone()))
            .chain(self.queued.iter().cloned())
            .collect()
    }
}

fn parse_u32(word: Option<&str>, what: &'static str) -> Result<u32, ProtocolError> {
    word.and_then(|w| w.parse().ok())
        .ok_or(ProtocolError::Malformed { what })
}

fn parse_u64(word: Option<&str>, what: &'static str) -> Result<u64, ProtocolError> {
    word.and_then(|w| w.parse().ok())
        .ok_or(ProtocolError::Malformed { what })
}

/// `msg size` (LIST).
fn list_entry(text: &str) -> Result<(u32, u64), ProtocolError> {
    let mut words = text.split_ascii_whitespace();
    Ok((
        parse_u32(words.next(), "LIST entry")?,
        parse_u64(words.next(), "LIST entry")?,
    ))
}

/// `msg uid` (UIDL). The UID is kept whole, whatever its length: RFC 1939 says at most 70
/// characters, but real servers send more.
fn uidl_entry(text: &str) -> Result<(u32, String), ProtocolError> {
    let mut words = text.split_ascii_whitespace();
    let msg = parse_u32(words.next(), "UIDL entry")?;
    let uid = words
        .next()
        .ok_or(ProtocolError::Malformed { what: "UIDL entry" })?;
    Ok((msg, uid.to_string()))
}

fn utf8_line(line: Vec<u8>, what: &'static str) -> Result<String, ProtocolError> {
    String::from_utf8(line).map_err(|_| ProtocolError::Malformed { what })
}

impl Client {
    /// Sends queued commands while the window allows: all of them up to `pipeline_window`
    /// with PIPELINING, one at a time without it (RFC 2449 section 6.6).
    pub(super) fn flush_commands(&mut self) {
        let window = if self.is_pipelining() {
            self.config.pipeline_window.max(1)
        } else {
            1
        };
        let t = &mut self.transaction;
        while t.in_flight.len() < window {
            let Some((id, command)) = t.queued.pop_front() else {
                break;
            };
            command.encode(&mut self.outgoing);
            t.in_flight.push_back(InFlight {
                id,
                command,
                read: Reading::Status,
            });
        }
    }

    pub(super) fn step_transaction(&mut self) -> Result<bool, Pop3Error> {
        let max_line = self.config.max_line;
        let Some(front) = self.transaction.in_flight.front_mut() else {
            return if self.framer.buffered() > 0 {
                Err(ProtocolError::Unsolicited.into())
            } else {
                Ok(false)
            };
        };
        let id = front.id;
        let event = match &mut front.read {
            Reading::Body => match self.framer.body(self.config.max_chunk) {
                None => return Ok(false),
                Some(BodyPiece::Data(bytes)) => {
                    self.events.push_back(Event::MessageChunk { id, bytes });
                    return Ok(true);
                }
                Some(BodyPiece::End) => Event::MessageEnd { id },
            },
            Reading::Collecting(collector) => {
                let Some(lines) =
                    collector.feed(&mut self.framer, max_line, self.config.max_reply)?
                else {
                    return Ok(false);
                };
                match front.command {
                    Command::List(None) => Event::List {
                        id,
                        entries: lines
                            .into_iter()
                            .map(|l| list_entry(&utf8_line(l, "LIST entry")?))
                            .collect::<Result<_, _>>()?,
                    },
                    _ => Event::Uidl {
                        id,
                        entries: lines
                            .into_iter()
                            .map(|l| uidl_entry(&utf8_line(l, "UIDL entry")?))
                            .collect::<Result<_, _>>()?,
                    },
                }
            }
            Reading::Status => {
                let Some(line) = self.framer.line(max_line)? else {
                    return Ok(false);
                };
                match parse_status(&line, false)? {
                    Status::Err { code, text } => {
                        let error = ServerError::new(Stage::Command, code, &text);
                        if front.command == Command::Quit {
                            Event::Closed { committed: false }
                        } else {
                            Event::CommandFailed { id, error }
                        }
                    }
                    Status::Ok { text, .. } => match front.command.reply_shape() {
                        ReplyShape::Collected => {
                            front.read = Reading::Collecting(Collector::default());
                            return Ok(true);
                        }
                        ReplyShape::Streamed => {
                            front.read = Reading::Body;
                            let msg = front.command.message_number().unwrap_or_default();
                            let size = text
                                .split_ascii_whitespace()
                                .next()
                                .and_then(|w| w.parse().ok());
                            self.events.push_back(Event::MessageStart { id, msg, size });
                            return Ok(true);
                        }
                        ReplyShape::Single => single_line_event(id, &front.command, &text)?,
                    },
                    Status::Continuation(_) => return Err(ProtocolError::MalformedStatus.into()),
                }
            }
        };
        // The reply is complete.
        let done = self.transaction.in_flight.pop_front();
        if matches!(event, Event::Closed { .. }) || done.is_some_and(|d| d.command == Command::Quit)
        {
            self.phase = Phase::Closed;
        }
        self.events.push_back(event);
        if !self.is_closed() {
            self.flush_commands();
        }
        Ok(true)
    }
}

/// The event for a `+OK` to a command whose reply is a single line.
fn single_line_event(id: CommandId, command: &Command, text: &str) -> Result<Event, ProtocolError> {
    Ok(match *command {
        Command::Stat => {
            let mut words = text.split_ascii_whitespace();
            Event::Stat {
                id,
                count: parse_u32(words.next(), "STAT reply")?,
                size: parse_u64(words.next(), "STAT reply")?,
            }
        }
        Command::List(Some(_)) => Event::List {
            id,
            entries: vec![list_entry(text)?],
        },
        Command::Uidl(Some(_)) => Event::Uidl {
            id,
            entries: vec![uidl_entry(text)?],
        },
        Command::Dele(msg) => Event::Deleted { id, msg },
        Command::Rset => Event::Reset { id },
        Command::Noop => Event::Noop { id },
        Command::Quit => Event::Closed { committed: true },
        // Multi-line commands never reach here (see `ReplyShape`).
        Command::List(None) | Command::Uidl(None) | Command::Top { .. } | Command::Retr(_) => {
            return Err(ProtocolError::MalformedStatus);
        }
    })
}
