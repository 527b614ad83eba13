//! Transaction-state commands, their handles and their wire encoding.

use std::fmt;

/// A transaction-state command the caller can enqueue once the session is
/// [`Ready`](super::Event::Ready). Authentication commands are sent by the client itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `STAT`: message count and mailbox size.
    Stat,
    /// `LIST` (all messages, multi-line) or `LIST n` (one message, single line).
    List(Option<u32>),
    /// `UIDL` (all messages, multi-line) or `UIDL n` (one message, single line).
    Uidl(Option<u32>),
    /// `TOP msg lines`: the header and the first `lines` body lines, streamed like `RETR`.
    Top { msg: u32, lines: u32 },
    /// `RETR n`: the whole message, streamed as chunks.
    Retr(u32),
    /// `DELE n`: mark for deletion; committed only by a successful `QUIT`.
    Dele(u32),
    /// `NOOP`.
    Noop,
    /// `RSET`: unmark all deletions.
    Rset,
    /// `QUIT`: enter the UPDATE state and close; nothing can be enqueued after it.
    Quit,
}

/// The handle of an enqueued command; every reply event carries the id of its command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommandId(pub u64);

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// How the reply to a command is read (RFC 1939: multi-line depends on the command *and* its
/// arguments, which is why the client keeps a queue of pending commands).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplyShape {
    /// One status line.
    Single,
    /// Status line then lines collected into memory (bounded by `max_reply`).
    Collected,
    /// Status line then a body streamed as chunks (RETR, TOP).
    Streamed,
}

impl Command {
    pub(crate) fn message_number(&self) -> Option<u32> {
        match *self {
            Command::List(n) | Command::Uidl(n) => n,
            Command::Top { msg, .. } | Command::Retr(msg) | Command::Dele(msg) => Some(msg),
            Command::Stat | Command::Noop | Command::Rset | Command::Quit => None,
        }
    }

    pub(crate) fn reply_shape(&self) -> ReplyShape {
        match self {
            Command::List(None) | Command::Uidl(None) => ReplyShape::Collected,
            Command::Top { .. } | Command::Retr(_) => ReplyShape::Streamed,
            _ => ReplyShape::Single,
        }
    }

    /// Appends the command line, CRLF included, to `out`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let line = match self {
            Command::Stat => "STAT".to_string(),
            Command::List(None) => "LIST".to_string(),
            Command::List(Some(n)) => format!("LIST {n}"),
            Command::Uidl(None) => "UIDL".to_string(),
            Command::Uidl(Some(n)) => format!("UIDL {n}"),
            Command::Top { msg, lines } => format!("TOP {msg} {lines}"),
            Command::Retr(n) => format!("RETR {n}"),
            Command::Dele(n) => format!("DELE {n}"),
            Command::Noop => "NOOP".to_string(),
            Command::Rset => "RSET".to_string(),
            Command::Quit => "QUIT".to_string(),
        };
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cmd: Command, wire: &str, shape: ReplyShape) {
        let mut out = Vec::new();
        cmd.encode(&mut out);
        assert_eq!(String::from_utf8(out).unwrap(), wire);
        assert_eq!(cmd.reply_shape(), shape);
    }

    #[test]
    fn encodes_rfc1939_commands() {
        use ReplyShape::*;
        check(Command::Stat, "STAT\r\n", Single);
        check(Command::List(None), "LIST\r\n", Collected);
        check(Command::List(Some(2)), "LIST 2\r\n", Single);
        check(Command::Uidl(None), "UIDL\r\n", Collected);
        check(Command::Uidl(Some(2)), "UIDL 2\r\n", Single);
        check(Command::Top { msg: 1, lines: 10 }, "TOP 1 10\r\n", Streamed);
        check(Command::Retr(1), "RETR 1\r\n", Streamed);
        check(Command::Dele(1), "DELE 1\r\n", Single);
        check(Command::Noop, "NOOP\r\n", Single);
        check(Command::Rset, "RSET\r\n", Single);
        check(Command::Quit, "QUIT\r\n", Single);
    }
}
