//! Moves the mail server's bytes to the browser, one read to one binary frame.
//!
//! A conversation's replies are short, so a tunnel reads into a small buffer and keeps only that
//! while idle. When a read fills it (a message is coming), reads grow to [`READ_CHUNK`], and on
//! Linux a plain TCP upstream is then spliced through a pipe instead of copied through the
//! buffer (see `splice.rs`). A short read falls back to the small buffer, so a conversation
//! keeps one `read` and one vectored write per reply, the fewest system calls for its latency.
//! A waiting tunnel holds no pipe; after a copied download it keeps the large buffer until its
//! next short reply.
//!
//! A read from a TLS upstream takes every record rustls has at hand (tokio-rustls fills the
//! buffer), so during a transfer it asks for [`TLS_CHUNK`], as much as a splice moves: a
//! quarter of the frames, writes and browser messages of [`READ_CHUNK`]-sized reads.

use tokio::io::AsyncReadExt;

#[cfg(target_os = "linux")]
use crate::splice::SPLICE_CHUNK;
use crate::upstream::Upstream;
use crate::ws::{Closed, ToBrowser};

/// Bytes read from the mail server per frame when copying.
pub const READ_CHUNK: usize = 64 * 1024;

/// Bytes read from a TLS upstream per frame during a transfer (as many as a splice moves).
pub const TLS_CHUNK: usize = 256 * 1024;

/// The most one tunnel holds between the mail server and the browser: one frame. The tests
/// hold the proxy to it (`postbag_proxy::testing`).
#[cfg(all(target_os = "linux", feature = "testing"))]
pub const MAX_HELD: usize = max(SPLICE_CHUNK, max(READ_CHUNK, TLS_CHUNK));

#[cfg(all(not(target_os = "linux"), feature = "testing"))]
pub const MAX_HELD: usize = max(READ_CHUNK, TLS_CHUNK);

#[cfg(feature = "testing")]
const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// The read size of a conversation, and the buffer an idle tunnel keeps.
const SMALL_READ: usize = 4 * 1024;

pub struct Pump {
    /// How much the next read asks for: [`SMALL_READ`] or [`READ_CHUNK`].
    size: usize,
    buf: Vec<u8>,
    /// What the last read got and where it is.
    pending: Pending,
}

enum Pending {
    Nothing,
    Buffered(usize),
    #[cfg(target_os = "linux")]
    Piped(crate::splice::Pipe),
}

impl Pump {
    pub fn new() -> Pump {
        Pump {
            size: SMALL_READ,
            buf: Vec::new(),
            pending: Pending::Nothing,
        }
    }

    /// Reads what the mail server has; `Ok(0)` when it closed. Cancel-safe: the bytes read are
    /// recorded in the same poll. Each read must be followed by [`Pump::send`].
    pub async fn read(&mut self, upstream: &mut Upstream) -> std::io::Result<usize> {
        #[cfg(target_os = "linux")]
        if let (Upstream::Plain(tcp), READ_CHUNK) = (&*upstream, self.size)
            && let Some((pipe, n)) = crate::splice::fill(tcp, SPLICE_CHUNK).await?
        {
            self.pending = Pending::Piped(pipe);
            return Ok(n);
        }
        // Read into spare capacity: pages of the buffer are touched only as bytes arrive, so a
        // tunnel waiting on its mail server costs no more than the allocation's bookkeeping.
        let size = match (&*upstream, self.size) {
            (Upstream::Tls(_), READ_CHUNK) => TLS_CHUNK,
            _ => self.size,
        };
        self.buf.clear();
        self.buf.reserve_exact(size);
        let n = (&mut *upstream)
            .take(size as u64)
            .read_buf(&mut self.buf)
            .await?;
        self.pending = Pending::Buffered(n);
        Ok(n)
    }

    /// Whether the last read went into a pipe (and will be sent without a copy).
    pub fn spliced(&self) -> bool {
        #[cfg(target_os = "linux")]
        if let Pending::Piped(_) = self.pending {
            return true;
        }
        false
    }

    /// Sends what the last read got as one binary frame, then sizes the next read after it: a
    /// read that filled its buffer starts a bulk transfer; one under [`SMALL_READ`] (a reply of
    /// the conversation) ends it and gives the large buffer back. Reads in between keep the
    /// transfer going: over a real network they are rarely full, and dropping to small reads
    /// at each would double the frames.
    pub async fn send(&mut self, to_browser: &mut ToBrowser) -> Result<(), Closed> {
        match std::mem::replace(&mut self.pending, Pending::Nothing) {
            Pending::Nothing => {}
            Pending::Buffered(n) => {
                to_browser.send_binary(&self.buf[..n]).await?;
                if n >= self.size {
                    self.resize(READ_CHUNK);
                } else if n < SMALL_READ {
                    self.resize(SMALL_READ);
                }
            }
            #[cfg(target_os = "linux")]
            Pending::Piped(mut pipe) => {
                let n = pipe.held();
                to_browser.send_spliced(&mut pipe).await?;
                pipe.give_back();
                if n < SMALL_READ {
                    self.resize(SMALL_READ);
                }
            }
        }
        Ok(())
    }

    /// Sets the next read's size; back to [`SMALL_READ`], the large buffer goes. (A transfer
    /// keeps its buffer, [`TLS_CHUNK`] for TLS, from frame to frame.)
    fn resize(&mut self, size: usize) {
        self.size = size;
        if size == SMALL_READ && self.buf.capacity() > size {
            self.buf = Vec::new();
        }
    }
}
