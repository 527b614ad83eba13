//! What the POP3 and SMTP blocking drivers share (feature `blocking`): the stream types, the
//! per-reply time limit ([`Pace`]) and the loop that feeds a sans-I/O client from a stream.
//!
//! The loop is the whole driver contract: write what the client wants sent, read when it
//! needs input, run the TLS handshake when asked. It never touches sockets itself: the caller
//! passes a connected stream and a function that wraps a stream in TLS.
//!
//! Time is the driver's business, not the client's (the client has no clock): with a
//! [`Pace`] every reply gets a deadline and must keep a minimum rate, so a server that stops
//! talking, or drips one byte a second, cannot hold a session forever.

mod pace;

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

pub(crate) use pace::Clock;

use crate::sans_io::SansIo;
pub use pace::{Pace, Timeout};

/// A byte stream the driver can use: a `TcpStream`, a TLS stream over it, a test double.
pub trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// Wraps the plain stream in TLS when the server accepted STLS or STARTTLS.
pub type Upgrade<'a> = &'a mut dyn FnMut(Box<dyn Stream>) -> io::Result<Box<dyn Stream>>;

/// Sets the read timeout of the socket under the stream (under TLS too: a clone of the
/// `TcpStream` shares its timeout), so that a silent server wakes the driver at the deadline.
pub type SetReadTimeout = Box<dyn FnMut(Duration) -> io::Result<()>>;

/// What the loop needs of a sans-I/O client beyond bytes in, events and bytes out.
pub(crate) trait Driven: SansIo {
    /// The command that starts TLS, for the error when there is no upgrade function.
    const STARTTLS: &'static str;
    /// Whether `event` completes a reply (the next one gets a new clock).
    fn ends_reply(event: &Self::Event) -> bool;
    /// How many whole replies the client has read, if it counts them: each one then gets its
    /// own clock. SMTP's client reads several replies (MAIL, RCPT, DATA) before its next
    /// event, and each is held to the limit on its own rather than all of them together.
    fn replies_read(&self) -> Option<u64>;
}

/// How the loop failed; each driver turns it into its own `DriverError`.
pub(crate) enum Failure<E> {
    Io(io::Error),
    Client(E),
    Timeout(Timeout),
}

impl<E> From<io::Error> for Failure<E> {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

/// The connection under a client: the stream, the read buffer, and the clock if paced.
pub(crate) struct Conn {
    /// Always `Some`; an `Option` so that the TLS upgrade can move it.
    stream: Option<Box<dyn Stream>>,
    buf: Vec<u8>,
    clock: Option<Clock>,
}

impl Conn {
    pub(crate) fn new(stream: Box<dyn Stream>, buf_size: usize, clock: Option<Clock>) -> Conn {
        Conn {
            stream: Some(stream),
            buf: vec![0; buf_size],
            clock,
        }
    }

    /// Hands the stream back.
    pub(crate) fn into_stream(self) -> Box<dyn Stream> {
        self.stream.expect("stream present")
    }

    /// Drives `client` until its next event, running the TLS handshake through `upgrade` when
    /// asked. With a clock, the wait is held to the reply's [`Pace`].
    pub(crate) fn next_event<C: Driven>(
        &mut self,
        client: &mut C,
        upgrade: &mut Option<Upgrade<'_>>,
    ) -> Result<C::Event, Failure<C::Error>> {
        if let Some(clock) = self.clock.as_mut() {
            clock.begin(Instant::now());
        }
        let event = self.read_until_event(client, upgrade)?;
        if let Some(clock) = self.clock.as_mut().filter(|_| C::ends_reply(&event)) {
            clock.end();
        }
        Ok(event)
    }

    fn read_until_event<C: Driven>(
        &mut self,
        client: &mut C,
        upgrade: &mut Option<Upgrade<'_>>,
    ) -> Result<C::Event, Failure<C::Error>> {
        let mut replies = client.replies_read();
        loop {
            let event = client.next_event();
            if client.replies_read() != replies {
                replies = client.replies_read();
                if let Some(clock) = self.clock.as_mut() {
                    clock.restart(Instant::now());
                }
            }
            let s = self.stream.as_mut().expect("stream present");
            // Write before looking at the result: a failed SASL exchange still sends its "*".
            if let Some(out) = client.take_outgoing() {
                s.write_all(&out)?;
                s.flush()?;
            }
            match event.map_err(Failure::Client)? {
                Some(event) if C::starts_tls(&event) => {
                    let plain = self.stream.take().expect("stream present");
                    let up = upgrade.as_mut().ok_or_else(|| {
                        io::Error::other(format!("{} without an upgrade function", C::STARTTLS))
                    })?;
                    // The handshake gets a whole reply's time (the upgrade bounds it as a whole).
                    if let Some(clock) = self.clock.as_mut() {
                        clock.whole_reply()?;
                    }
                    self.stream = Some(up(plain)?);
                    client.tls_started().map_err(Failure::Client)?;
                    return Ok(event);
                }
                Some(event) => return Ok(event),
                None => {}
            }
            if let Some(clock) = self.clock.as_mut() {
                clock.before_read(Instant::now()).map_err(|e| match e {
                    pace::ClockError::Io(e) => Failure::Io(e),
                    pace::ClockError::Timeout(t) => Failure::Timeout(t),
                })?;
            }
            let n = match s.read(&mut self.buf) {
                Ok(n) => n,
                // The read timeout fired (or a signal): the clock decides whether time is up.
                Err(e)
                    if e.kind() == io::ErrorKind::Interrupted
                        || (self.clock.is_some()
                            && matches!(
                                e.kind(),
                                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                            )) =>
                {
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                return Err(Failure::Client(client.connection_lost()));
            }
            if let Some(clock) = self.clock.as_mut() {
                clock.received(n, Instant::now());
            }
            client.receive(&self.buf[..n]);
        }
    }
}

#[cfg(test)]
pub(crate) mod timed;
