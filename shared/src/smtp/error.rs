//! Errors, one enum per layer: what the server refused, how the server misbehaved, how the
//! caller misused the API, why a message cannot be sent to this server. "Need more input" is
//! not an error: `next_event` returns `Ok(None)`.

use std::fmt;

use super::event::MessageId;
use super::reply::Reply;
use crate::sasl::{ScramError, ScramSetupError};

/// A negative reply (4xx or 5xx): the server understood and refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerError {
    /// What the refusal means for a user interface.
    pub kind: ServerErrorKind,
    /// The reply, with its code, enhanced code and text.
    pub reply: Reply,
    /// The recipient refused, for a refusal of `RCPT TO`.
    pub address: Option<String>,
}

/// A classification of a negative reply that a UI can act on without parsing text.
///
/// A 4xx reply is `Temporary` (`ServiceUnavailable` for 421), whatever the step: the same
/// thing may work later. Otherwise the enhanced code decides when it is specific (RFC 3463,
/// e.g. 5.7.8 wrong credentials, 5.3.4 too large), then the reply code (535, 534, 538, 530,
/// 552), then the step that failed (a refused `RCPT TO` is a refused recipient).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerErrorKind {
    /// The greeting was negative (554): the server does not serve this client.
    GreetingRefused,
    /// 421: the server is closing the connection (shutting down, too busy, timed out).
    ServiceUnavailable,
    /// A 4xx reply: try again later.
    Temporary,
    /// EHLO (and HELO, if tried) was refused.
    EhloRejected,
    /// STARTTLS was refused.
    StartTlsRejected,
    /// Wrong user name or password (535, 5.7.8), or the exchange failed.
    AuthFailed,
    /// The server wants a stronger mechanism (534, 5.7.9).
    AuthMechanismTooWeak,
    /// The server wants TLS first (530 on a plain connection, 538, 5.7.11).
    EncryptionRequired,
    /// The server wants a login first (530 on an encrypted connection).
    AuthRequired,
    /// `MAIL FROM` was refused: the sender address is not allowed.
    SenderRejected,
    /// `RCPT TO` was refused; [`ServerError::address`] names the recipient.
    RecipientRejected,
    /// The message is larger than the server takes (552, 5.3.4, 5.2.3).
    MessageTooLarge,
    /// The recipient's mailbox is full (5.2.2).
    MailboxFull,
    /// `DATA` or the message itself was refused (e.g. as spam, 554 5.7.1).
    MessageRejected,
    /// Another command (RSET, QUIT) was refused.
    CommandRejected,
}

/// The step of the session a reply answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    Greeting,
    Ehlo,
    StartTls,
    Auth,
    Reset,
    MailFrom,
    Recipient,
    Data,
    Message,
    Quit,
}

impl ServerError {
    /// Classifies a negative `reply` to the command of `stage`. `encrypted` tells the two
    /// meanings of 530 apart (RFC 3207 "must issue STARTTLS first", RFC 4954 "authentication
    /// required").
    pub(crate) fn new(
        stage: Stage,
        reply: Reply,
        encrypted: bool,
        address: Option<String>,
    ) -> ServerError {
        use ServerErrorKind::*;
        let enhanced = reply.enhanced.map(|e| (e.class, e.subject, e.detail));
        let kind = match (reply.code, enhanced) {
            (421, _) => ServiceUnavailable,
            (400..=499, _) => Temporary,
            (_, Some((5, 7, 8))) | (535, _) => AuthFailed,
            (_, Some((5, 7, 9))) | (534, _) => AuthMechanismTooWeak,
            (_, Some((5, 7, 11))) | (538, _) => EncryptionRequired,
            (530, _) if !encrypted => EncryptionRequired,
            (530, _) => AuthRequired,
            (_, Some((5, 2, 2))) => MailboxFull,
            (_, Some((5, 3, 4) | (5, 2, 3))) | (552, _) => MessageTooLarge,
            _ => match stage {
                Stage::Greeting => GreetingRefused,
                Stage::Ehlo => EhloRejected,
                Stage::StartTls => StartTlsRejected,
                Stage::Auth => AuthFailed,
                Stage::MailFrom => SenderRejected,
                Stage::Recipient => RecipientRejected,
                Stage::Data | Stage::Message => MessageRejected,
                Stage::Reset | Stage::Quit => CommandRejected,
            },
        };
        ServerError {
            kind,
            reply,
            address,
        }
    }

    /// A 4xx reply: the same thing may succeed later.
    pub fn is_temporary(&self) -> bool {
        self.reply.is_transient()
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.reply)?;
        if let Some(address) = &self.address {
            write!(f, " (recipient <{address}>)")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServerError {}

/// The server broke the protocol. The session cannot continue.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A line grew past `max_line` bytes without a line end.
    #[error("server sent a reply line longer than {limit} bytes")]
    LineTooLong { limit: usize },
    /// A multi-line reply had more than `max_reply_lines` lines.
    #[error("server sent a reply of more than {limit} lines")]
    ReplyTooLong { limit: usize },
    /// A multi-line reply grew past `max_reply` bytes.
    #[error("server sent a reply larger than {limit} bytes")]
    ReplyTooLarge { limit: usize },
    /// A line did not start with a three-digit reply code and a space or hyphen.
    #[error("malformed reply line from server")]
    MalformedReply,
    /// The lines of one reply carried different codes.
    #[error("server sent a multi-line reply with different codes")]
    MixedReplyCodes,
    /// The reply code does not answer the command (e.g. 354 to `MAIL FROM`).
    #[error("server answered {during} with the unexpected code {code}")]
    UnexpectedReply { code: u16, during: &'static str },
    /// A SASL challenge (`334 ...`) was not valid base64, or came when none was expected.
    #[error("invalid SASL challenge from server")]
    BadSaslChallenge,
    /// SCRAM failed on the server's side: a bad nonce, an absurd iteration count, or a server
    /// that could not prove it knows the password. The exchange was cancelled.
    #[error(transparent)]
    Scram(#[from] ScramError),
    /// The server sent bytes after `220` to `STARTTLS`, before the TLS handshake. They could
    /// have been injected by an attacker in the path (CVE-2011-0411 and kin), so they are never
    /// interpreted.
    #[error("server sent data after accepting STARTTLS, before the TLS handshake")]
    DataAfterStartTls,
    /// The server sent a reply while no command was waiting for one.
    #[error("server sent an unsolicited reply")]
    Unsolicited,
}

/// The caller used the API wrongly. Nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// Messages can only be sent after [`Event::Ready`](super::Event::Ready).
    #[error("the session is not ready to send")]
    NotReady,
    /// `quit` was already called, or the session has ended.
    #[error("the session is closing or closed")]
    Closed,
    /// `tls_started` was called although the client did not ask for TLS.
    #[error("tls_started called but no STARTTLS upgrade was requested")]
    UnexpectedTlsStarted,
    /// The user name or password contains CR, LF or NUL.
    #[error("user name or password contains a line break or NUL")]
    InvalidCredentials,
    /// SCRAM could not start: no or a bad `scram_nonce`, or credentials SaslPrep refuses.
    #[error(transparent)]
    Scram(#[from] ScramSetupError),
    /// `client_domain` is empty or holds a space or control character.
    #[error("the EHLO name is empty or contains a space or control character")]
    InvalidClientDomain,
    /// `commit` named a message that is not waiting at the commit point.
    #[error("message {0:?} is not waiting to be committed")]
    NotAwaitingCommit(MessageId),
    /// `quit` while a message waits at the commit point: commit it, or drop the connection
    /// (the server then discards it).
    #[error("a message is waiting to be committed")]
    CommitPending,
}

/// Why this message cannot be sent to this server. Nothing was sent for it; the session
/// goes on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnsendableError {
    /// The envelope has no recipient.
    #[error("the message has no recipient")]
    NoRecipients,
    /// An address is empty (a recipient), longer than 256 octets, or holds a space, `<`, `>`
    /// or a control character.
    #[error("not a usable address: {address:?}")]
    InvalidAddress { address: String },
    /// An address is not ASCII and the server does not offer SMTPUTF8.
    #[error("the server cannot take the address {address:?} (no SMTPUTF8)")]
    NeedsSmtpUtf8 { address: String },
    /// The message holds 8-bit bytes and the server does not offer 8BITMIME.
    #[error("the message has 8-bit content and the server does not offer 8BITMIME")]
    NeedsEightBitMime,
    /// The message is larger than the server's announced SIZE limit.
    #[error("the message is {size} bytes, the server takes at most {limit}")]
    TooLarge { size: u64, limit: u64 },
}

/// Everything that can end an SMTP session, or refuse one message before it is sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmtpError {
    /// The server refused the greeting, EHLO, STARTTLS, the login or a command outside a mail
    /// transaction; see [`ServerError::kind`]. Refusals inside a transaction are events.
    #[error("server refused: {0}")]
    Server(ServerError),
    /// The server broke the protocol.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The API was misused.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// From `send` only: this message cannot go to this server. The session goes on.
    #[error(transparent)]
    Unsendable(#[from] UnsendableError),
    /// A password-revealing mechanism was the only choice, the connection is not encrypted and
    /// `allow_plaintext_password` is false. Nothing secret was sent.
    #[error("refusing to send a password over an unencrypted connection")]
    PlaintextRefused,
    /// None of the mechanisms the server offers is allowed by the configured policy.
    #[error("no acceptable authentication mechanism (server offers: {offered:?})")]
    NoAcceptableAuth { offered: Vec<String> },
    /// STARTTLS was requested but the server does not offer it. The client never falls back
    /// to an unencrypted session silently.
    #[error("the server does not offer STARTTLS")]
    StartTlsUnavailable,
    /// The connection ended while the session was not finished. `in_doubt` is the message
    /// whose final `.` was sent and whose reply never came: it **may have been sent**, and
    /// must not be sent again without asking. `unsent` were not committed: nothing of them
    /// can be delivered, they may be sent again.
    #[error("connection lost during {during}{}", match in_doubt {
        Some(m) => format!("; message {} may have been sent", m.0),
        None => String::new(),
    })]
    ConnectionLost {
        during: &'static str,
        in_doubt: Option<MessageId>,
        unsent: Vec<MessageId>,
    },
}

impl SmtpError {
    /// The server's classification, if this error is a refusal by the server.
    pub fn server_kind(&self) -> Option<ServerErrorKind> {
        match self {
            SmtpError::Server(e) => Some(e.kind),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::reply::EnhancedCode;
    use ServerErrorKind::*;

    fn check(
        stage: Stage,
        code: u16,
        enhanced: Option<(u8, u16, u16)>,
        encrypted: bool,
        kind: ServerErrorKind,
    ) {
        let reply = Reply {
            code,
            enhanced: enhanced.map(|(class, subject, detail)| EnhancedCode {
                class,
                subject,
                detail,
            }),
            lines: vec!["text".into()],
        };
        let e = ServerError::new(stage, reply, encrypted, None);
        assert_eq!(
            e.kind, kind,
            "{stage:?} {code} {enhanced:?} encrypted={encrypted}"
        );
        assert_eq!(e.is_temporary(), code / 100 == 4);
    }

    #[test]
    fn classification() {
        check(Stage::Greeting, 554, None, false, GreetingRefused);
        check(Stage::Greeting, 421, None, false, ServiceUnavailable);
        check(
            Stage::Message,
            421,
            Some((4, 3, 2)),
            true,
            ServiceUnavailable,
        );
        check(Stage::Recipient, 450, Some((4, 2, 1)), true, Temporary);
        check(Stage::Auth, 454, Some((4, 7, 0)), true, Temporary);
        check(Stage::Auth, 535, Some((5, 7, 8)), true, AuthFailed);
        check(Stage::Auth, 535, None, true, AuthFailed);
        check(Stage::Auth, 501, Some((5, 5, 2)), true, AuthFailed);
        check(
            Stage::Auth,
            534,
            Some((5, 7, 9)),
            true,
            AuthMechanismTooWeak,
        );
        check(
            Stage::Auth,
            538,
            Some((5, 7, 11)),
            false,
            EncryptionRequired,
        );
        check(
            Stage::MailFrom,
            530,
            Some((5, 7, 0)),
            false,
            EncryptionRequired,
        );
        check(Stage::MailFrom, 530, Some((5, 7, 0)), true, AuthRequired);
        check(Stage::MailFrom, 553, Some((5, 1, 8)), true, SenderRejected);
        check(
            Stage::Recipient,
            550,
            Some((5, 1, 1)),
            true,
            RecipientRejected,
        );
        check(
            Stage::Recipient,
            554,
            Some((5, 7, 1)),
            true,
            RecipientRejected,
        );
        check(Stage::Recipient, 552, Some((5, 2, 2)), true, MailboxFull);
        check(Stage::Message, 552, Some((5, 3, 4)), true, MessageTooLarge);
        check(Stage::MailFrom, 552, None, true, MessageTooLarge);
        check(Stage::Message, 554, Some((5, 7, 1)), true, MessageRejected);
        check(Stage::Data, 554, None, true, MessageRejected);
        check(Stage::Ehlo, 502, None, false, EhloRejected);
        check(Stage::StartTls, 501, None, false, StartTlsRejected);
        check(Stage::Reset, 500, None, true, CommandRejected);
    }

    #[test]
    fn connection_lost_names_the_message_in_doubt() {
        let e = SmtpError::ConnectionLost {
            during: "mail transaction",
            in_doubt: Some(MessageId(3)),
            unsent: vec![MessageId(4)],
        };
        assert_eq!(
            e.to_string(),
            "connection lost during mail transaction; message 3 may have been sent"
        );
    }
}
