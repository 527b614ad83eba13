//! The POP3 session over a timed stream: replies held to their pace.

use std::time::{Duration, Instant};

use super::*;
use crate::blocking::timed::Timed;
use crate::pop3::Secret;

const LOGIN: &[u8] = b"+OK hi\r\n-ERR no CAPA\r\n+OK\r\n+OK\r\n";

fn session(pieces: Vec<(u64, &[u8])>, pace: Pace) -> Session {
    let (stream, set) = Timed::new(pieces);
    let mut config = ClientConfig::new("u", Secret::new("p".into()));
    config.want_starttls = false;
    config.allow_plaintext_password = true;
    Session::login_paced(Box::new(stream), config, None, pace, Some(set)).unwrap()
}

fn fast() -> Pace {
    Pace {
        reply_timeout: Duration::from_millis(300),
        min_rate: 100,
    }
}

#[test]
fn a_refused_retr_leaves_the_session_usable() {
    let mut s = session(
        vec![
            (0, LOGIN),
            (
                0,
                b"-ERR [SYS/TEMP] message 1 is unreadable\r\n+OK\r\nbody\r\n.\r\n",
            ),
        ],
        fast(),
    );
    let replies = s.execute(&[Command::Retr(1), Command::Retr(2)]).unwrap();
    assert!(
        matches!(&replies[0], Reply::Failed(e) if e.text == "message 1 is unreadable"),
        "{replies:?}"
    );
    assert_eq!(replies[1], Reply::Message(b"body\r\n".to_vec()));
}

#[test]
fn a_silent_server_times_out_at_the_reply_timeout() {
    let mut s = session(vec![(0, LOGIN)], fast());
    let started = Instant::now();
    let err = s.execute(&[Command::Retr(1)]).unwrap_err();
    assert!(
        matches!(err, DriverError::Timeout(Timeout::Silent { .. })),
        "{err}"
    );
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(290), "{took:?}");
    assert!(took < Duration::from_millis(900), "{took:?}");
}

#[test]
fn a_drip_fails_the_minimum_rate() {
    // One byte every 50 ms (20 B/s, under 100 B/s): never silent for 300 ms, but its first
    // 300 ms window brings 6 bytes where 30 are needed.
    let mut pieces: Vec<(u64, &[u8])> = vec![(0, LOGIN), (0, b"+OK\r\n")];
    pieces.extend(std::iter::repeat_n((50, &b"x"[..]), 40));
    let mut s = session(pieces, fast());
    let started = Instant::now();
    let err = s.execute(&[Command::Retr(1)]).unwrap_err();
    assert!(
        matches!(err, DriverError::Timeout(Timeout::TooSlow { .. })),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_millis(1000));
}

#[test]
fn a_fair_rate_is_not_a_timeout() {
    // 20 pieces of 100 bytes every 100 ms (1000 B/s): 2 s in all, far over the 300 ms
    // reply timeout, and every window well over the rate.
    let line = [b'y'; 98]
        .iter()
        .chain(b"\r\n")
        .copied()
        .collect::<Vec<u8>>();
    let mut pieces: Vec<(u64, &[u8])> = vec![(0, LOGIN), (0, b"+OK\r\n")];
    pieces.extend(std::iter::repeat_n((100, line.as_slice()), 20));
    pieces.push((0, b".\r\n"));
    let mut s = session(pieces, fast());
    let replies = s.execute(&[Command::Retr(1)]).unwrap();
    assert!(matches!(&replies[0], Reply::Message(m) if m.len() == 2000));
}
