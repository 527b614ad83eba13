//! Errors, one enum per layer: what the server refused, how the server misbehaved, how the
//! caller misused the API. "Need more input" is not an error: `next_event` returns `Ok(None)`.

use std::fmt;

use super::command::{Command, CommandId};
use super::response_code::ResponseCode;
use crate::sasl::{ScramError, ScramSetupError};

/// A `-ERR` reply: the server understood and refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerError {
    /// What the refusal means for a user interface (wrong password, mailbox locked, ...).
    pub kind: ServerErrorKind,
    /// The extended response code, if the server sent one.
    pub code: Option<ResponseCode>,
    /// The human-readable text after the code, as sent by the server.
    pub text: String,
}

/// A classification of a `-ERR` that a UI can act on without parsing text.
///
/// The response code wins when there is one (RFC 2449/3206); otherwise the step that failed
/// decides (a `-ERR` to `PASS` without a code is most likely a wrong password).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerErrorKind {
    /// Wrong user name or password (`[AUTH]`, or no code during authentication).
    AuthFailed,
    /// `[IN-USE]`: another session has the mailbox locked.
    InUse,
    /// `[LOGIN-DELAY]`: logged in too recently; see the `LOGIN-DELAY` capability.
    LoginDelay,
    /// `[SYS/TEMP]`: temporary server trouble; try again later.
    TemporaryFailure,
    /// `[SYS/PERM]`: permanent server trouble; do not retry automatically.
    PermanentFailure,
    /// The greeting was `-ERR`: the server does not serve us.
    GreetingRejected,
    /// `STLS` was refused.
    StartTlsRejected,
    /// A transaction command (`RETR`, `DELE`, ...) was refused, e.g. "no such message".
    CommandRejected,
}

/// The step of the session a server error happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    Greeting,
    StartTls,
    Authentication,
    Command,
}

impl ServerError {
    /// Builds the error from the text after `-ERR ` and the step that failed.
    pub(crate) fn new(stage: Stage, code: Option<ResponseCode>, text: &str) -> ServerError {
        let by_code = match &code {
            Some(ResponseCode::InUse) => Some(ServerErrorKind::InUse),
            Some(ResponseCode::LoginDelay) => Some(ServerErrorKind::LoginDelay),
            Some(ResponseCode::SysTemp) => Some(ServerErrorKind::TemporaryFailure),
            Some(ResponseCode::SysPerm) => Some(ServerErrorKind::PermanentFailure),
            Some(ResponseCode::Auth) => Some(ServerErrorKind::AuthFailed),
            _ => None,
        };
        let kind = by_code.unwrap_or(match stage {
            Stage::Greeting => ServerErrorKind::GreetingRejected,
            Stage::StartTls => ServerErrorKind::StartTlsRejected,
            Stage::Authentication => ServerErrorKind::AuthFailed,
            Stage::Command => ServerErrorKind::CommandRejected,
        });
        ServerError {
            kind,
            code,
            text: text.to_string(),
        }
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{:?}: -ERR {code} {}", self.kind, self.text),
            None => write!(f, "{:?}: -ERR {}", self.kind, self.text),
        }
    }
}

impl std::error::Error for ServerError {}

/// The server broke the protocol. The session cannot continue.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A line grew past `max_line` bytes without a line end.
    #[error("server sent a line longer than {limit} bytes")]
    LineTooLong { limit: usize },
    /// A collected multi-line reply (CAPA, LIST, UIDL) grew past `max_reply` bytes.
    #[error("server sent a multi-line reply larger than {limit} bytes")]
    ReplyTooLarge { limit: usize },
    /// A line that should start with `+OK` or `-ERR` did not.
    #[error("malformed status line from server")]
    MalformedStatus,
    /// A reply line did not have the expected shape (e.g. `LIST` without a size).
    #[error("malformed {what} from server")]
    Malformed { what: &'static str },
    /// A SASL challenge (`+ ...`) was not valid base64 or arrived outside authentication.
    #[error("invalid SASL challenge from server")]
    BadSaslChallenge,
    /// SCRAM failed on the server's side: a bad nonce, an absurd iteration count, or a server
    /// that could not prove it knows the password. The exchange was cancelled.
    #[error(transparent)]
    Scram(#[from] ScramError),
    /// The server sent bytes after `+OK` to `STLS` before the TLS handshake. Those bytes could
    /// be injected by an attacker in the path, so they are never interpreted.
    #[error("server sent data after accepting STLS, before the TLS handshake")]
    DataAfterStartTls,
    /// The server sent data while no reply was expected.
    #[error("server sent unsolicited data")]
    Unsolicited,
}

/// The caller used the API wrongly. Nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// Commands can only be enqueued after [`Event::Ready`](super::Event::Ready).
    #[error("the session is not in the transaction state")]
    NotReady,
    /// `QUIT` was already enqueued, or the session has ended.
    #[error("the session is closing or closed")]
    Closed,
    /// Message numbers start at 1.
    #[error("message number 0 is not valid (they start at 1)")]
    InvalidMessageNumber,
    /// `tls_started` was called although the client did not ask for TLS.
    #[error("tls_started called but no STLS upgrade was requested")]
    UnexpectedTlsStarted,
    /// The user name or password contains CR, LF or NUL and cannot be sent as a command argument.
    #[error("user name or password contains a line break or NUL")]
    InvalidCredentials,
    /// SCRAM could not start: no or a bad `scram_nonce`, or credentials SaslPrep refuses.
    #[error(transparent)]
    Scram(#[from] ScramSetupError),
}

/// Everything that can end a POP3 session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Pop3Error {
    /// The server refused the greeting, STLS or the login; see [`ServerError::kind`].
    #[error("server refused: {0}")]
    Server(ServerError),
    /// The server broke the protocol.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The API was misused.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// A password-revealing mechanism was the only choice, the connection is not encrypted and
    /// `allow_plaintext_password` is false. Nothing secret was sent.
    #[error("refusing to send a password over an unencrypted connection")]
    PlaintextRefused,
    /// None of the mechanisms the server offers is allowed by the configured [`AuthPolicy`].
    ///
    /// [`AuthPolicy`]: super::AuthPolicy
    #[error("no acceptable authentication mechanism (server offers: {offered:?})")]
    NoAcceptableAuth { offered: Vec<String> },
    /// STARTTLS was requested but the server does not offer STLS. The client never falls back
    /// to an unencrypted session silently.
    #[error("the server does not offer STLS")]
    StartTlsUnavailable,
    /// The connection ended while the session was not finished.
    #[error("connection lost during {during}; {} command(s) unanswered", in_flight.len())]
    ConnectionLost {
        during: &'static str,
        in_flight: Vec<(CommandId, Command)>,
    },
}

impl Pop3Error {
    /// The server's classification, if this error is a `-ERR` from the server.
    pub fn server_kind(&self) -> Option<ServerErrorKind> {
        match self {
            Pop3Error::Server(e) => Some(e.kind),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_wins_over_stage() {
        let e = ServerError::new(Stage::Authentication, Some(ResponseCode::InUse), "locked");
        assert_eq!(e.kind, ServerErrorKind::InUse);
        let e = ServerError::new(Stage::Authentication, None, "bad");
        assert_eq!(e.kind, ServerErrorKind::AuthFailed);
        let e = ServerError::new(Stage::Command, Some(ResponseCode::SysTemp), "x");
        assert_eq!(e.kind, ServerErrorKind::TemporaryFailure);
        let e = ServerError::new(Stage::Command, Some(ResponseCode::Other("X".into())), "x");
        assert_eq!(e.kind, ServerErrorKind::CommandRejected);
        assert_eq!(
            Pop3Error::Server(e).server_kind(),
            Some(ServerErrorKind::CommandRejected)
        );
    }
}
