//! The WebSocket of one tunnel, on the TCP connection the proxy takes over at the upgrade.
//!
//! The proxy frames by hand (actix-http's codec for control messages and for decoding) and
//! writes straight to the socket: a frame header and its payload go out in one vectored write,
//! or, on Linux, the payload is spliced from a pipe (see `splice.rs`). Nothing sits between the
//! tunnel and the socket: a send waits while the browser's socket is full, which is how a slow
//! browser slows down the reading from the mail server. The one frame being written is counted
//! in `Metrics::buffered_bytes`. Incoming frames are decoded only when the tunnel asks for the
//! next one, and each is judged on its header before its payload is read (frame.rs), so the
//! browser cannot push more than one frame (capped by the maximum message size) ahead of the
//! mail server, whatever length it announces.

use std::io;
use std::sync::Arc;

use actix_codec::Encoder;
use actix_http::ws::{Codec, Frame, Message};
use bytes::{Buf, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::frame::{FrameError, FrameReader};
use crate::metrics::Metrics;

/// The browser went away, or a frame to it could not be written whole.
#[derive(Debug)]
pub struct Closed;

/// The tunnel's sending half.
pub struct ToBrowser {
    io: OwnedWriteHalf,
    codec: Codec,
    metrics: Arc<Metrics>,
    /// A write stopped in the middle of a frame (cancelled by a timeout, or failed): the stream
    /// is no longer at a frame boundary, so nothing more may be sent on it.
    broken: bool,
}

impl ToBrowser {
    pub fn new(io: OwnedWriteHalf, metrics: Arc<Metrics>) -> ToBrowser {
        ToBrowser {
            io,
            codec: Codec::new(),
            metrics,
            broken: false,
        }
    }

    /// Sends a control message (text, close, pong).
    pub async fn send(&mut self, msg: Message) -> Result<(), Closed> {
        let mut buf = BytesMut::new();
        self.codec.encode(msg, &mut buf).map_err(|_| Closed)?;
        self.write(&[], &buf).await
    }

    /// Sends `payload` as one unmasked binary frame, header and payload in one vectored write.
    pub async fn send_binary(&mut self, payload: &[u8]) -> Result<(), Closed> {
        let (head, head_len) = binary_header(payload.len());
        let _held = Held::new(self.metrics.clone(), payload.len());
        self.write(&head[..head_len], payload).await
    }

    /// Sends what `pipe` holds as one binary frame, the payload moved from the pipe to the
    /// socket by the kernel.
    #[cfg(target_os = "linux")]
    pub async fn send_spliced(&mut self, pipe: &mut crate::splice::Pipe) -> Result<(), Closed> {
        let len = pipe.held();
        let (head, head_len) = binary_header(len);
        let _held = Held::new(self.metrics.clone(), len);
        self.guarded(async |io: &mut OwnedWriteHalf| {
            let socket = io.as_ref();
            crate::splice::send_more(socket, &head[..head_len]).await?;
            pipe.drain(socket).await
        })
        .await
    }

    /// Ends the sending direction (TCP FIN) after the last frame.
    pub async fn shutdown(&mut self) {
        let _ = self.io.shutdown().await;
    }

    async fn write(&mut self, head: &[u8], payload: &[u8]) -> Result<(), Closed> {
        self.guarded(async |io: &mut OwnedWriteHalf| {
            let mut frame = Buf::chain(head, payload);
            io.write_all_buf(&mut frame).await
        })
        .await
    }

    /// Runs one frame's write, marking the sending half broken unless it completes.
    async fn guarded(
        &mut self,
        write: impl AsyncFnOnce(&mut OwnedWriteHalf) -> io::Result<()>,
    ) -> Result<(), Closed> {
        if self.broken {
            return Err(Closed);
        }
        self.broken = true;
        write(&mut self.io).await.map_err(|_| Closed)?;
        self.broken = false;
        Ok(())
    }
}

/// Counts one frame's payload in `postbag_buffered_bytes` for as long as it is being written,
/// however the write ends.
struct Held {
    metrics: Arc<Metrics>,
    len: usize,
}

impl Held {
    fn new(metrics: Arc<Metrics>, len: usize) -> Held {
        metrics.buffer_add(len);
        Held { metrics, len }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.metrics.buffer_sub(self.len);
    }
}

/// The header of an unmasked, final binary frame of `len` bytes (RFC 6455 5.2), and its length.
fn binary_header(len: usize) -> ([u8; 10], usize) {
    let mut head = [0u8; 10];
    head[0] = 0x80 | 0x2; // FIN, binary
    let head_len = if len < 126 {
        head[1] = len as u8;
        2
    } else if len <= u16::MAX as usize {
        head[1] = 126;
        head[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        4
    } else {
        head[1] = 127;
        head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    (head, head_len)
}

/// Bytes asked of the socket per read of the browser's side: commands are short, and a long
/// frame is read in several.
const BROWSER_READ: usize = 4 * 1024;

/// The tunnel's receiving half.
pub struct FromBrowser {
    io: OwnedReadHalf,
    frames: FrameReader,
    done: bool,
}

/// Why no frame came from the browser.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The browser's socket failed: it is gone.
    #[error("reading from the browser failed: {0}")]
    Io(#[from] io::Error),
}

impl FromBrowser {
    /// `early` holds what the browser sent after its handshake request before the upgrade
    /// (read along with the request).
    pub fn new(io: OwnedReadHalf, early: BytesMut, max_frame: usize) -> FromBrowser {
        FromBrowser {
            io,
            frames: FrameReader::new(&early, max_frame),
            done: false,
        }
    }

    /// The next frame; `None` when the browser's side of the connection ended. Cancel-safe:
    /// what a read returns is in the buffer in the same poll.
    pub async fn next(&mut self) -> Option<Result<Frame, ReceiveError>> {
        loop {
            match self.frames.next_frame() {
                Ok(Some(frame)) => return Some(Ok(frame)),
                Ok(None) => {}
                Err(e) => return Some(Err(e.into())),
            }
            if self.done {
                return None;
            }
            let buf = self.frames.buffer();
            // A tunnel waiting for its browser holds no buffer: memory per idle tunnel.
            if buf.is_empty() {
                *buf = BytesMut::new();
                if let Err(e) = self.io.readable().await {
                    return Some(Err(e.into()));
                }
            }
            // Every header was checked against the maximum size before this read (frame.rs),
            // so the buffer holds at most one frame under it plus one read.
            let buf = self.frames.buffer();
            buf.reserve(BROWSER_READ);
            match self.io.try_read_buf(buf) {
                Ok(0) => self.done = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if let Err(e) = self.io.readable().await {
                        return Some(Err(e.into()));
                    }
                }
                Err(e) => return Some(Err(e.into())),
            }
        }
    }
}

impl FromBrowser {
    /// Reads and drops what the browser still sends (its Close frame, a last command) until it
    /// closes its side, or `max` bytes. Closing a socket with unread bytes makes the kernel send
    /// a reset and discard what the browser has not yet received: the last frames, the close.
    pub async fn discard_until_closed(&mut self, max: usize) {
        *self.frames.buffer() = BytesMut::new();
        // On the heap: an array here would be in every tunnel's future, idle ones included.
        let mut sink = vec![0u8; 4096];
        let mut dropped = 0;
        while !self.done && dropped < max {
            if self.io.readable().await.is_err() {
                return;
            }
            match self.io.try_read(&mut sink) {
                Ok(0) => return,
                Ok(n) => dropped += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(_) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_http::ws::{OpCode, Parser};

    #[test]
    fn binary_headers_equal_the_codecs() {
        for len in [0usize, 1, 125, 126, 127, 65535, 65536, 70000] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let (head, head_len) = binary_header(len);
            let mut ours = head[..head_len].to_vec();
            ours.extend_from_slice(&payload);
            let mut expected = BytesMut::new();
            Parser::write_message(&mut expected, &payload[..], OpCode::Binary, true, false);
            assert_eq!(ours, expected.to_vec(), "payload of {len} bytes");
        }
    }
}
