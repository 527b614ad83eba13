//! A test server whose replies arrive in timed pieces, for both drivers' pace tests.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::time::Duration;

use super::SetReadTimeout;

/// A read waits for the next piece or gives up at the read timeout the driver set, as a
/// socket would. What the client writes is kept.
pub(crate) struct Timed {
    pieces: VecDeque<(Duration, Vec<u8>)>,
    timeout: Rc<Cell<Duration>>,
    pub(crate) written: Rc<RefCell<Vec<u8>>>,
}

impl Timed {
    /// A server that sends each `(ms, bytes)` piece `ms` after the previous one, then goes
    /// silent; and the function that sets its read timeout (1 s until set).
    pub(crate) fn new(pieces: Vec<(u64, &[u8])>) -> (Timed, SetReadTimeout) {
        let timeout = Rc::new(Cell::new(Duration::from_secs(1)));
        let stream = Timed {
            pieces: pieces
                .into_iter()
                .map(|(ms, b)| (Duration::from_millis(ms), b.to_vec()))
                .collect(),
            timeout: timeout.clone(),
            written: Rc::default(),
        };
        let set: SetReadTimeout = Box::new(move |t| {
            timeout.set(t);
            Ok(())
        });
        (stream, set)
    }
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
        self.written.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
