//! The WebSocket, framed by hand on actix-http's codec so that the proxy owns every buffer.
//!
//! Outgoing frames go through a channel of [`OUTBOX_FRAMES`] slots to the response body; a send
//! waits while the slots are full, which is how a slow browser slows down the reading from the
//! mail server. The bytes waiting in the channel are counted in `Metrics::buffered_bytes`.
//! Incoming frames are decoded only when the tunnel asks for the next one, so the browser cannot
//! push more than one frame (capped by the maximum message size) ahead of the mail server.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{Codec, Frame, Message, ProtocolError};
use actix_web::web::Payload;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

use crate::metrics::Metrics;

/// Frames that may wait between the tunnel and the HTTP layer.
pub const OUTBOX_FRAMES: usize = 2;

/// The tunnel's sending half.
pub struct Outbox {
    tx: mpsc::Sender<Bytes>,
    codec: Codec,
    metrics: Arc<Metrics>,
}

/// The browser went away.
#[derive(Debug)]
pub struct Closed;

impl Outbox {
    /// Sends a control message (text, close, pong).
    pub async fn send(&mut self, msg: Message) -> Result<(), Closed> {
        let mut buf = BytesMut::new();
        self.codec.encode(msg, &mut buf).map_err(|_| Closed)?;
        self.push(buf.freeze()).await
    }

    /// Sends a frame built by [`finish_binary`].
    pub async fn send_frame(&mut self, frame: Bytes) -> Result<(), Closed> {
        self.push(frame).await
    }

    async fn push(&mut self, frame: Bytes) -> Result<(), Closed> {
        let len = frame.len();
        self.metrics.buffer_add(len);
        self.tx.send(frame).await.map_err(|_| {
            self.metrics.buffer_sub(len);
            Closed
        })
    }
}

/// The response body: takes frames from the outbox as the HTTP layer has room for them.
pub struct Body {
    rx: mpsc::Receiver<Bytes>,
    metrics: Arc<Metrics>,
}

impl Stream for Body {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(frame)) => {
                this.metrics.buffer_sub(frame.len());
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        self.rx.close();
        while let Ok(frame) = self.rx.try_recv() {
            self.metrics.buffer_sub(frame.len());
        }
    }
}

/// Bytes kept free in front of a read, so the frame header is written in place and the payload
/// is never copied in user space (profiling showed the copy as a third of the proxy's time).
const HEADER_ROOM: usize = 10;

/// A buffer to read up to `payload_capacity` bytes into with `read_buf`.
pub fn frame_buffer(payload_capacity: usize) -> BytesMut {
    let mut buf = BytesMut::with_capacity(HEADER_ROOM + payload_capacity);
    buf.put_bytes(0, HEADER_ROOM);
    buf
}

/// Turns a [`frame_buffer`] holding a payload into an unmasked binary frame (RFC 6455 5.2).
pub fn finish_binary(mut buf: BytesMut) -> Bytes {
    let len = buf.len() - HEADER_ROOM;
    let mut head = [0u8; HEADER_ROOM];
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
    let start = HEADER_ROOM - head_len;
    buf[start..HEADER_ROOM].copy_from_slice(&head[..head_len]);
    buf.advance(start);
    buf.freeze()
}

pub fn outbox(metrics: Arc<Metrics>) -> (Outbox, Body) {
    let (tx, rx) = mpsc::channel(OUTBOX_FRAMES);
    (
        Outbox {
            tx,
            codec: Codec::new(),
            metrics: metrics.clone(),
        },
        Body { rx, metrics },
    )
}

/// The tunnel's receiving half.
pub struct Inbox {
    payload: Payload,
    buf: BytesMut,
    codec: Codec,
    done: bool,
}

impl Inbox {
    pub fn new(payload: Payload, max_frame: usize) -> Inbox {
        Inbox {
            payload,
            buf: BytesMut::new(),
            codec: Codec::new().max_size(max_frame),
            done: false,
        }
    }

    /// The next frame; `None` when the browser's side of the connection ended. Cancel-safe: a
    /// chunk is appended to the buffer in the same poll in which it arrives.
    pub async fn next(&mut self) -> Option<Result<Frame, ProtocolError>> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(frame)) => return Some(Ok(frame)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
            if self.done {
                return None;
            }
            match self.payload.next().await {
                Some(Ok(chunk)) => self.buf.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    return Some(Err(ProtocolError::Io(io::Error::other(e.to_string()))));
                }
                None => self.done = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_http::ws::{OpCode, Parser};

    #[test]
    fn frames_built_in_place_equal_the_codecs() {
        for len in [0usize, 1, 125, 126, 127, 65535, 65536, 70000] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut buf = frame_buffer(len);
            buf.extend_from_slice(&payload);
            let mut expected = BytesMut::new();
            Parser::write_message(&mut expected, &payload[..], OpCode::Binary, true, false);
            assert_eq!(
                finish_binary(buf),
                expected.freeze(),
                "payload of {len} bytes"
            );
        }
    }
}
