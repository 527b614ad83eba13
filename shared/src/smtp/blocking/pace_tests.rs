//! The SMTP session over a timed stream: every reply held to its pace, so a server that goes
//! silent or drips cannot hold a send forever.

use std::time::{Duration, Instant};

use super::*;
use crate::blocking::timed::Timed;
use crate::smtp::{Envelope, Secret};

const READY: &[u8] = b"220 x\r\n250-x\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n235 ok\r\n";
/// MAIL, RCPT and DATA answered: the body goes out and the client waits at its commit point.
const TO_DATA: &[u8] = b"250 ok\r\n250 ok\r\n354 go\r\n";

fn fast() -> Pace {
    Pace {
        reply_timeout: Duration::from_millis(300),
        min_rate: 100,
    }
}

fn connect(pieces: Vec<(u64, &[u8])>) -> Result<Session, DriverError> {
    let (stream, set) = Timed::new(pieces);
    let mut config = ClientConfig::new("alice", Secret::new("pw".to_string()));
    config.want_starttls = false;
    config.allow_plaintext_password = true;
    Session::connect_paced(Box::new(stream), config, None, fast(), Some(set))
}

fn send(session: &mut Session) -> Result<Outcome, DriverError> {
    session.send(Envelope::new("a@x", ["b@y"]), b"hi\n".to_vec(), |_| Ok(()))
}

#[test]
fn a_silent_server_after_the_final_dot_times_out_with_the_message_in_doubt() {
    let mut session = connect(vec![(0, READY), (0, TO_DATA)]).unwrap();
    let started = Instant::now();
    let err = send(&mut session).unwrap_err();
    assert!(
        matches!(err, DriverError::Timeout(Timeout::Silent { .. })),
        "{err}"
    );
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(290), "{took:?}");
    assert!(took < Duration::from_millis(900), "{took:?}");
    assert_eq!(session.in_doubt(), Some(MessageId(1)));
}

#[test]
fn a_dripped_greeting_fails_the_minimum_rate() {
    // One byte every 50 ms (20 B/s, under 100 B/s): never silent for 300 ms, but the first
    // 300 ms window brings 6 bytes where 30 are needed. The whole greeting would take 2 s.
    let greeting = b"220-mail.example.net ESMTP a b c\r\n220 ok\r\n";
    let pieces: Vec<(u64, &[u8])> = greeting.chunks(1).map(|b| (50, b)).collect();
    let started = Instant::now();
    let err = connect(pieces).unwrap_err();
    assert!(
        matches!(err, DriverError::Timeout(Timeout::TooSlow { .. })),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_millis(1000));
}

#[test]
fn replies_at_a_fair_pace_are_not_a_timeout() {
    // Each reply comes 200 ms after the command: under the 300 ms limit every time, though
    // the whole send takes over a second.
    let mut pieces: Vec<(u64, &[u8])> = vec![(0, READY)];
    pieces.extend(
        [
            &b"250 ok\r\n"[..],
            b"250 ok\r\n",
            b"354 go\r\n",
            b"250 queued\r\n",
        ]
        .map(|r| (200, r)),
    );
    let mut session = connect(pieces).unwrap();
    let outcome = send(&mut session).unwrap();
    assert!(matches!(outcome, Outcome::Accepted { .. }), "{outcome:?}");
}
