//! What `send` prints and the status it exits with: one line per recipient, the queue reply,
//! and a cause in words when the message was not taken. Everything the server wrote is
//! escaped.

use postbag_protocol::smtp::blocking::{DriverError, Outcome, Timeout};
use postbag_protocol::smtp::{
    RecipientStatus, ServerError, ServerErrorKind, SmtpError, UnsendableError,
};

use crate::shown::shown;

/// Every recipient accepted and the message taken.
pub const SENT: u8 = 0;
/// Not sent: nothing of it will be delivered.
pub const NOT_SENT: u8 = 1;
/// Taken, but some recipients were refused.
pub const PARTLY_SENT: u8 = 3;
/// The connection broke after the final dot: it may have been sent.
pub const IN_DOUBT: u8 = 4;

#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    pub lines: Vec<String>,
    pub status: u8,
}

/// A refusal in a person's words, with the server's text.
fn refusal(e: &ServerError) -> String {
    let what = match e.kind {
        ServerErrorKind::GreetingRefused => "the server refused the connection",
        ServerErrorKind::ServiceUnavailable => "the server closed the session (421)",
        ServerErrorKind::Temporary => "temporary failure; try again later",
        ServerErrorKind::EhloRejected => "the server refused EHLO",
        ServerErrorKind::StartTlsRejected => "the server refused STARTTLS",
        ServerErrorKind::AuthFailed => "login failed: wrong user name or password",
        ServerErrorKind::AuthMechanismTooWeak => "the server wants a stronger login method",
        ServerErrorKind::EncryptionRequired => "the server wants TLS first",
        ServerErrorKind::AuthRequired => "the server wants a login first",
        ServerErrorKind::SenderRejected => "the sender address was refused",
        ServerErrorKind::RecipientRejected => "the recipient was refused",
        ServerErrorKind::MessageTooLarge => "the message is too large for the server",
        ServerErrorKind::MailboxFull => "the recipient's mailbox is full",
        ServerErrorKind::MessageRejected => "the server refused the message",
        ServerErrorKind::CommandRejected => "the server refused a command",
    };
    let mut line = format!("{what} (server said: \"{}\")", shown(&e.reply.to_string()));
    if let Some(address) = &e.address {
        line = format!("<{}>: {line}", shown(address));
    }
    line
}

/// One line a person can act on.
pub fn explain(err: &DriverError) -> String {
    match err {
        DriverError::Smtp(SmtpError::Server(e)) => refusal(e),
        DriverError::Smtp(SmtpError::Unsendable(UnsendableError::TooLarge { size, limit })) => {
            format!("the message is {size} bytes; the server takes at most {limit} (SIZE)")
        }
        DriverError::Smtp(e @ SmtpError::ConnectionLost { .. }) => {
            format!("the server closed the connection ({e})")
        }
        DriverError::Smtp(e) => e.to_string(),
        DriverError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            format!("TLS failed: {e}")
        }
        DriverError::Io(e) => format!("network error: {e}"),
        DriverError::NotRecorded(e) => format!("not sent: {e}"),
        DriverError::Timeout(t @ Timeout::Silent { .. }) => format!("timed out: {t}"),
        DriverError::Timeout(t) => format!("too slow: {t}"),
    }
}

/// The report of one message and the exit status.
pub fn verdict(result: &Result<Outcome, DriverError>, in_doubt: bool) -> Verdict {
    let mut lines = Vec::new();
    let (recipients, status) = match result {
        Ok(Outcome::Accepted { recipients, .. }) => {
            let partly = recipients.iter().any(|r| !r.accepted());
            (recipients, if partly { PARTLY_SENT } else { SENT })
        }
        Ok(Outcome::Rejected { recipients, .. }) => (recipients, NOT_SENT),
        Err(e) if in_doubt => {
            lines.push(format!(
                "send: MAY HAVE BEEN SENT: the connection broke after the message was handed \
                 over and before the server answered ({}); check before sending it again",
                explain(e)
            ));
            return Verdict {
                lines,
                status: IN_DOUBT,
            };
        }
        Err(e) => {
            lines.push(format!("send: not sent: {}", explain(e)));
            return Verdict {
                lines,
                status: NOT_SENT,
            };
        }
    };
    for r in recipients {
        lines.push(match &r.status {
            RecipientStatus::Accepted(_) => format!("  <{}>: accepted", shown(&r.address)),
            RecipientStatus::Refused(e) => format!("  {}", refusal(e)),
        });
    }
    lines.push(match result {
        Ok(Outcome::Accepted { reply, .. }) => {
            format!("send: taken by the server: {}", shown(&reply.to_string()))
        }
        Ok(Outcome::Rejected { reply, .. }) => format!("send: not sent: {}", refusal(reply)),
        Err(_) => unreachable!("handled above"),
    });
    Verdict { lines, status }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postbag_protocol::smtp::{MessageId, Recipient, Reply};

    fn reply(code: u16, text: &str) -> Reply {
        Reply {
            code,
            enhanced: None,
            lines: vec![text.into()],
        }
    }

    fn refused(address: &str, kind: ServerErrorKind, text: &str) -> ServerError {
        ServerError {
            kind,
            reply: reply(550, text),
            address: Some(address.into()),
        }
    }

    fn recipient(address: &str, ok: bool) -> Recipient {
        Recipient {
            address: address.into(),
            status: if ok {
                RecipientStatus::Accepted(reply(250, "ok"))
            } else {
                RecipientStatus::Refused(refused(
                    address,
                    ServerErrorKind::RecipientRejected,
                    "no such user",
                ))
            },
        }
    }

    #[test]
    fn every_recipient_accepted_is_the_only_success() {
        let all = Ok(Outcome::Accepted {
            reply: reply(250, "Ok: queued as 4F"),
            recipients: vec![recipient("b@y", true)],
        });
        let v = verdict(&all, false);
        assert_eq!(v.status, SENT);
        assert_eq!(
            v.lines,
            vec![
                "  <b@y>: accepted",
                "send: taken by the server: 250 Ok: queued as 4F"
            ]
        );
        let partly = Ok(Outcome::Accepted {
            reply: reply(250, "Ok"),
            recipients: vec![recipient("b@y", true), recipient("c@y", false)],
        });
        let v = verdict(&partly, false);
        assert_eq!(v.status, PARTLY_SENT);
        assert_eq!(
            v.lines[1],
            "  <c@y>: the recipient was refused (server said: \"550 no such user\")"
        );
    }

    #[test]
    fn refused_and_in_doubt_are_told_apart() {
        let rejected = Ok(Outcome::Rejected {
            reply: refused("c@y", ServerErrorKind::RecipientRejected, "no"),
            recipients: vec![recipient("c@y", false)],
        });
        assert_eq!(verdict(&rejected, false).status, NOT_SENT);
        let lost = || {
            Err(DriverError::Smtp(SmtpError::ConnectionLost {
                during: "mail transaction",
                in_doubt: Some(MessageId(1)),
                unsent: vec![],
            }))
        };
        let v = verdict(&lost(), true);
        assert_eq!(v.status, IN_DOUBT);
        assert!(
            v.lines[0].starts_with("send: MAY HAVE BEEN SENT"),
            "{:?}",
            v.lines
        );
        // The same error before the commit: not sent.
        assert_eq!(verdict(&lost(), false).status, NOT_SENT);
    }

    #[test]
    fn server_text_is_escaped() {
        let e = refused(
            "c@y\u{1b}[2J",
            ServerErrorKind::RecipientRejected,
            "bad\r\nRSET",
        );
        let line = refusal(&e);
        assert!(!line.contains('\u{1b}') && !line.contains('\r'), "{line}");
    }
}
