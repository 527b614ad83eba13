//! The driver over a scripted stream: what it writes, when it asks to record, and what a cut
//! connection leaves in doubt.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::rc::Rc;

use super::*;
use crate::smtp::{ClientConfig, Secret, SmtpError};

/// A server that has said everything in advance; what the client writes is kept.
struct Scripted {
    replies: io::Cursor<Vec<u8>>,
    written: Rc<RefCell<Vec<u8>>>,
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.replies.read(buf)
    }
}

impl Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const READY: &str = "220 x\r\n250-x\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n235 ok\r\n";

fn session(server: &str) -> (Session, Rc<RefCell<Vec<u8>>>) {
    let written = Rc::new(RefCell::new(Vec::new()));
    let stream = Scripted {
        replies: io::Cursor::new(format!("{READY}{server}").into_bytes()),
        written: written.clone(),
    };
    let mut config = ClientConfig::new("alice", Secret::new("pw".to_string()));
    config.want_starttls = false;
    config.allow_plaintext_password = true;
    let session = Session::connect(Box::new(stream), config, None).unwrap();
    (session, written)
}

fn envelope() -> Envelope {
    Envelope::new("a@x", ["b@y"])
}

#[test]
fn records_before_the_final_dot_then_reports_the_queue_reply() {
    let (mut session, written) =
        session("250 ok\r\n250 ok\r\n354 go\r\n250 2.0.0 queued as 7\r\n221 bye\r\n");
    assert_eq!(session.mechanism, Some(AuthMechanism::Plain));
    let seen = written.clone();
    let outcome = session
        .send(envelope(), b"hi\n".to_vec(), |id| {
            assert_eq!(id, MessageId(1));
            // The body is out, its final dot is not.
            assert!(seen.borrow().ends_with(b"DATA\r\nhi\r\n"));
            Ok(())
        })
        .unwrap();
    let Outcome::Accepted { reply, recipients } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(reply.text(), "queued as 7");
    assert!(recipients[0].accepted());
    session.quit().unwrap();
    assert!(written.borrow().ends_with(b"hi\r\n.\r\nQUIT\r\n"));
}

#[test]
fn a_failed_record_sends_no_dot() {
    let (mut session, written) = session("250 ok\r\n250 ok\r\n354 go\r\n");
    let err = session
        .send(envelope(), b"hi\n".to_vec(), |_| {
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
    assert!(matches!(err, DriverError::NotRecorded(_)), "{err}");
    assert!(written.borrow().ends_with(b"hi\r\n"));
    assert_eq!(session.in_doubt(), None);
}

#[test]
fn a_cut_after_the_commit_leaves_the_message_in_doubt() {
    let (mut session, _) = session("250 ok\r\n250 ok\r\n354 go\r\n");
    let err = session
        .send(envelope(), b"hi\n".to_vec(), |_| Ok(()))
        .unwrap_err();
    let DriverError::Smtp(SmtpError::ConnectionLost { in_doubt, .. }) = err else {
        panic!("{err}")
    };
    assert_eq!(in_doubt, Some(MessageId(1)));
    assert_eq!(session.in_doubt(), Some(MessageId(1)));
}

#[test]
fn a_refusal_is_an_outcome_and_the_session_goes_on() {
    let (mut session, _) =
        session("250 ok\r\n550 5.1.1 no such user\r\n554 5.5.1 no valid recipients\r\n221 bye\r\n");
    let outcome = session
        .send(envelope(), b"hi\n".to_vec(), |_| Ok(()))
        .unwrap();
    let Outcome::Rejected { reply, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(reply.address.as_deref(), Some("b@y"));
    // A message this server cannot take never reaches it.
    let err = session
        .send(Envelope::new("a@x", ["\u{e9}@y"]), b"hi\n".to_vec(), |_| {
            Ok(())
        })
        .unwrap_err();
    assert!(
        matches!(err, DriverError::Smtp(SmtpError::Unsendable(_))),
        "{err}"
    );
    // A server that hangs up on QUIT without a word has still ended the session.
    let (session, _) = self::session("");
    session.quit().unwrap();
}
