//! The browser's WebSocket frames, judged on their header before any payload is read.
//!
//! actix-http's `ws::Parser` compares a frame's announced length with its maximum only once the
//! whole payload has arrived (meanwhile it reserves up to the maximum and asks for more), so a
//! header announcing 2^40 bytes made the proxy buffer everything the browser streamed after it:
//! 1 GiB streamed raised the release binary from 6 to 1,030 MiB. Since the proxy reads the
//! socket itself (ws.rs), it owns every guarantee actix-ws used to give, and checks them here
//! from the header alone: the announced length against the limit (counting the fragments of the
//! message in progress), control frames of at most 125 bytes and never fragmented, masking,
//! reserved bits and opcodes. Only a header that passes is handed to actix-http's codec, which
//! then unmasks the payload and keeps the fragment order; so the buffer holds at most one frame
//! under the limit plus one read.
//!
//! Sans-I/O: [`FrameReader`] takes bytes and gives frames, so the fuzz target (proxy/fuzz)
//! drives exactly the code the tunnel runs.

use actix_codec::Decoder as _;
use actix_http::ws::{Codec, Frame, Item, ProtocolError};
use bytes::BytesMut;

/// FIN: the last frame of a message (RFC 6455 5.2).
const FIN: u8 = 0x80;
/// RSV1-3: meaningful only with an extension, and the proxy negotiates none.
const RSV: u8 = 0x70;
const OPCODE: u8 = 0x0F;
/// Opcodes 0x8-0xF are control frames.
const CONTROL: u8 = 0x08;
const MASKED: u8 = 0x80;
const LEN7: u8 = 0x7F;
/// The 7-bit length values that announce a 16-bit and a 64-bit length.
const LEN16: u8 = 126;
const LEN64: u8 = 127;
const OP_CONTINUATION: u8 = 0x0;
/// Continuation, text, binary, close, ping, pong: every other opcode is reserved.
const KNOWN_OPCODES: [u8; 6] = [0x0, 0x1, 0x2, 0x8, 0x9, 0xA];

/// Why the browser's frames are refused. The tunnel reports it and closes.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A data frame (or the message it continues) announces more than the limit.
    #[error("messages are limited to {max} bytes")]
    TooLarge { max: usize },
    #[error("a control frame carries at most 125 bytes")]
    ControlTooLong,
    #[error("a control frame cannot be fragmented")]
    FragmentedControl,
    #[error("frames from the browser must be masked")]
    Unmasked,
    #[error("reserved bits are set, but no extension was negotiated")]
    ReservedBits,
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// What the codec refuses after the header: fragment order, an invalid close payload.
    #[error("WebSocket protocol error: {0}")]
    Protocol(ProtocolError),
}

/// Refuses a frame from its header, as soon as enough of it is in `buf`. `in_progress` is the
/// payload already received of the fragmented message a continuation frame would extend.
pub fn check_header(buf: &[u8], max: usize, in_progress: usize) -> Result<(), FrameError> {
    let [first, second, ..] = *buf else {
        return Ok(());
    };
    if first & RSV != 0 {
        return Err(FrameError::ReservedBits);
    }
    if second & MASKED == 0 {
        return Err(FrameError::Unmasked);
    }
    let opcode = first & OPCODE;
    if !KNOWN_OPCODES.contains(&opcode) {
        return Err(FrameError::ReservedOpcode(opcode));
    }
    let control = opcode & CONTROL != 0;
    if control && first & FIN == 0 {
        return Err(FrameError::FragmentedControl);
    }
    let announced = match second & LEN7 {
        // Both longer forms announce at least 126 bytes, and RFC 6455 5.5 allows a control
        // frame 125: refused before the length itself arrives.
        LEN16 | LEN64 if control => return Err(FrameError::ControlTooLong),
        LEN16 => match buf.get(2..4) {
            Some(b) => u64::from(u16::from_be_bytes([b[0], b[1]])),
            None => return Ok(()),
        },
        LEN64 => match buf.get(2..10) {
            Some(b) => u64::from_be_bytes(b.try_into().expect("eight bytes")),
            None => return Ok(()),
        },
        short => u64::from(short),
    };
    let message = match opcode {
        OP_CONTINUATION => announced.saturating_add(in_progress as u64),
        _ => announced,
    };
    if message > max as u64 {
        return Err(FrameError::TooLarge { max });
    }
    Ok(())
}

/// Frames from the browser's bytes, each checked on its header first.
pub struct FrameReader {
    buf: BytesMut,
    codec: Codec,
    max: usize,
    /// Payload received so far of the fragmented message in progress.
    in_progress: usize,
}

impl FrameReader {
    /// A reader of messages up to `max` bytes, starting with `early` (what arrived with the
    /// handshake request).
    pub fn new(early: &[u8], max: usize) -> FrameReader {
        FrameReader {
            // A copy: the HTTP layer's read buffer is larger than a tunnel needs.
            buf: BytesMut::from(early),
            codec: Codec::new().max_size(max),
            max,
            in_progress: 0,
        }
    }

    /// Where the caller reads the socket into.
    pub fn buffer(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// The next whole frame, `None` until more bytes arrive. After an error the stream is not
    /// at a frame boundary any more: the caller ends the tunnel.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        check_header(&self.buf, self.max, self.in_progress)?;
        let frame = self.codec.decode(&mut self.buf).map_err(|e| match e {
            // The length checks above come first; this is the codec's own, kept as a backstop.
            ProtocolError::Overflow => FrameError::TooLarge { max: self.max },
            other => FrameError::Protocol(other),
        })?;
        if let Some(Frame::Continuation(item)) = &frame {
            self.in_progress = match item {
                Item::FirstText(d) | Item::FirstBinary(d) => d.len(),
                Item::Continue(d) => self.in_progress + d.len(),
                Item::Last(_) => 0,
            };
        }
        Ok(frame)
    }
}

#[cfg(test)]
mod tests;
