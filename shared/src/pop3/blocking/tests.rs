use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::*;
use crate::pop3::Secret;

const PACE: Pace = Pace {
    reply_timeout: Duration::from_secs(10),
    min_rate: 100,
};

/// `time_left` for a reply whose window started at 0 s and got `received` bytes, the last
/// at `last` seconds, asked at `now` seconds; then where the window starts.
fn check(received: u64, last: f64, now: f64, expected: Result<f64, &str>, window: f64) {
    let t0 = Instant::now();
    let at = |s: f64| t0 + Duration::from_secs_f64(s);
    let mut reply = ReplyClock {
        start: t0,
        last: at(last),
        received,
    };
    let got = time_left(PACE, &mut reply, at(now));
    match (got, expected) {
        (Ok(left), Ok(want)) => assert!(
            (left.as_secs_f64() - want).abs() < 1e-6,
            "{received} B, last {last}, now {now}: {left:?} left, want {want}"
        ),
        (Err(Timeout::Silent { .. }), Err("silent")) => {}
        (Err(Timeout::TooSlow { .. }), Err("slow")) => {}
        (got, want) => panic!("{received} B, last {last}, now {now}: {got:?}, want {want:?}"),
    }
    let start = reply.start.duration_since(t0).as_secs_f64();
    assert!((start - window).abs() < 1e-6, "window starts at {start}");
}

#[test]
fn a_reply_has_a_deadline_and_a_minimum_rate_per_window() {
    // 10 s windows at 100 B/s: each window must bring 1000 bytes.
    check(0, 0.0, 0.0, Ok(10.0), 0.0);
    check(0, 0.0, 9.5, Ok(0.5), 0.0);
    check(0, 0.0, 10.0, Err("silent"), 0.0);
    // Within a window, silence and the window's end bound the wait.
    check(1000, 9.0, 9.0, Ok(1.0), 0.0);
    // A window that brought enough gives way to the next one.
    check(1000, 9.5, 10.0, Ok(9.5), 10.0);
    check(5000, 12.0, 14.0, Ok(8.0), 14.0);
    // One byte short: too slow, however recent the last byte.
    check(999, 9.9, 10.0, Err("slow"), 0.0);
    // A drip of one byte a second fails when its first window ends.
    check(9, 9.0, 9.9, Ok(0.1), 0.0);
    check(10, 10.0, 10.0, Err("slow"), 0.0);
}

/// A server whose replies arrive in timed pieces; a read waits for the next piece or
/// gives up at the read timeout the driver set, as a socket would.
struct Timed {
    pieces: VecDeque<(Duration, Vec<u8>)>,
    timeout: Rc<Cell<Duration>>,
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some((wait, bytes)) = self.pieces.front_mut() else {
            std::thread::sleep(self.timeout.get());
            return Err(io::ErrorKind::WouldBlock.into());
        };
        if *wait > self.timeout.get() {
            std::thread::sleep(self.timeout.get());
            *wait -= self.timeout.get();
            return Err(io::ErrorKind::WouldBlock.into());
        }
        std::thread::sleep(*wait);
        *wait = Duration::ZERO;
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        bytes.drain(..n);
        if bytes.is_empty() {
            self.pieces.pop_front();
        }
        Ok(n)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const LOGIN: &[u8] = b"+OK hi\r\n-ERR no CAPA\r\n+OK\r\n+OK\r\n";

fn session(pieces: Vec<(u64, &[u8])>, pace: Pace) -> Session {
    let timeout = Rc::new(Cell::new(Duration::from_secs(1)));
    let stream = Timed {
        pieces: pieces
            .into_iter()
            .map(|(ms, b)| (Duration::from_millis(ms), b.to_vec()))
            .collect(),
        timeout: timeout.clone(),
    };
    let mut config = ClientConfig::new("u", Secret::new("p".into()));
    config.want_starttls = false;
    config.allow_plaintext_password = true;
    let set: SetReadTimeout = Box::new(move |t| {
        timeout.set(t);
        Ok(())
    });
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
