//! The header checks, fed whole and byte by byte: a refusal must come from the header alone,
//! with no payload behind it.

use super::*;

const MAX: usize = 1024;
const MASK_KEY: [u8; 4] = [0x11, 0x22, 0x33, 0x44];

/// A masked frame header (first byte `first`) announcing `len` payload bytes, in the shortest
/// length form, mask key included.
fn header(first: u8, len: u64) -> Vec<u8> {
    let mut out = vec![first];
    match len {
        0..=125 => out.push(MASKED | len as u8),
        126..=0xFFFF => {
            out.push(MASKED | LEN16);
            out.extend((len as u16).to_be_bytes());
        }
        _ => {
            out.push(MASKED | LEN64);
            out.extend(len.to_be_bytes());
        }
    }
    out.extend(MASK_KEY);
    out
}

/// A whole masked frame.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = header(first, payload.len() as u64);
    out.extend(
        payload
            .iter()
            .zip(MASK_KEY.iter().cycle())
            .map(|(b, m)| b ^ m),
    );
    out
}

/// What a reader of messages up to [`MAX`] makes of `input`: the frames it gives, then the
/// error it ends with (as text), if any.
fn read(input: &[u8], byte_by_byte: bool) -> (Vec<String>, Option<String>) {
    let mut reader = FrameReader::new(&[], MAX);
    let mut frames = Vec::new();
    let chunks: Vec<&[u8]> = if byte_by_byte {
        input.chunks(1).collect()
    } else {
        vec![input]
    };
    for chunk in chunks {
        reader.buffer().extend_from_slice(chunk);
        loop {
            match reader.next_frame() {
                Ok(Some(frame)) => frames.push(format!("{frame:?}")),
                Ok(None) => break,
                Err(e) => return (frames, Some(e.to_string())),
            }
        }
    }
    (frames, None)
}

/// Feeds `input` whole and byte by byte; both must give `frames` and then `error`.
fn check(input: &[u8], frames: usize, error: Option<&str>) {
    for byte_by_byte in [false, true] {
        let (got, err) = read(input, byte_by_byte);
        assert_eq!(got.len(), frames, "byte by byte: {byte_by_byte}: {got:?}");
        match (error, &err) {
            (None, None) => {}
            (Some(want), Some(e)) => assert!(e.contains(want), "{e:?} lacks {want:?}"),
            _ => panic!("byte by byte: {byte_by_byte}: expected {error:?}, got {err:?}"),
        }
    }
}

#[test]
fn well_formed_frames_pass() {
    let mut input = frame(FIN | 0x2, b"USER a\r\n");
    input.extend(frame(FIN | 0x1, br#"{"type":"starttls"}"#));
    input.extend(frame(FIN | 0x9, b"ping"));
    input.extend(frame(0x2, &[b'a'; 600]));
    input.extend(frame(FIN, &[b'b'; 424]));
    input.extend(frame(FIN | 0x2, &[b'c'; MAX]));
    input.extend(frame(FIN | 0x8, &[0x03, 0xE8]));
    check(&input, 7, None);
}

#[test]
fn an_announced_length_over_the_limit_is_refused_on_the_header() {
    for len in [MAX as u64 + 1, 70_000, 1 << 40, u64::MAX] {
        for first in [FIN | 0x2, FIN | 0x1, 0x2] {
            let head = header(first, len);
            // The header alone, without its mask key: the length is known by then.
            let length_form = head.len() - MASK_KEY.len();
            check(
                &head[..length_form],
                0,
                Some(&format!("limited to {MAX} bytes")),
            );
        }
    }
}

#[test]
fn the_fragments_of_one_message_count_together() {
    let mut input = frame(0x2, &[b'a'; 600]);
    input.extend(header(0x0, 500));
    check(&input, 1, Some("limited to 1024 bytes"));
    let mut input = frame(0x2, &[b'a'; 600]);
    input.extend(frame(0x0, &[b'b'; 400]));
    input.extend(header(FIN, 25));
    check(&input, 2, Some("limited to 1024 bytes"));
    // A finished message leaves nothing counted against the next.
    let mut input = frame(0x2, &[b'a'; 600]);
    input.extend(frame(FIN, &[b'b'; 400]));
    input.extend(frame(0x2, &[b'c'; 600]));
    input.extend(frame(FIN, &[b'd'; 400]));
    check(&input, 4, None);
}

#[test]
fn control_frames_are_short_and_whole() {
    for op in [0x8, 0x9, 0xA] {
        check(&header(FIN | op, 126)[..2], 0, Some("at most 125 bytes"));
        check(
            &header(FIN | op, 1 << 40)[..2],
            0,
            Some("at most 125 bytes"),
        );
        check(&header(op, 4)[..2], 0, Some("cannot be fragmented"));
    }
}

#[test]
fn unmasked_frames_reserved_bits_and_opcodes_are_refused() {
    check(&[FIN | 0x2, 0x05], 0, Some("must be masked"));
    for rsv in [0x40, 0x20, 0x10] {
        check(&header(FIN | rsv | 0x2, 5)[..2], 0, Some("reserved bits"));
    }
    for op in [0x3, 0x7, 0xB, 0xF] {
        check(&header(FIN | op, 5)[..2], 0, Some("reserved opcode"));
    }
}

#[test]
fn the_codec_still_keeps_fragment_order() {
    check(&frame(FIN, b"x"), 0, Some("protocol error"));
    let mut input = frame(0x2, b"x");
    input.extend(frame(FIN | 0x2, b"y"));
    check(&input, 1, Some("protocol error"));
}

#[test]
fn control_frames_may_come_between_fragments() {
    let mut input = frame(0x2, &[b'a'; 600]);
    input.extend(frame(FIN | 0x9, b"ping"));
    input.extend(frame(FIN | 0xA, b"pong"));
    input.extend(frame(FIN, &[b'b'; 424]));
    check(&input, 4, None);
    // The message is still counted whole across them.
    let mut input = frame(0x2, &[b'a'; 600]);
    input.extend(frame(FIN | 0x9, b"ping"));
    input.extend(header(FIN, 425));
    check(&input, 2, Some("limited to 1024 bytes"));
}

/// RFC 6455 5.5.1 and 7.4, as actix-http's codec checks them once the header passed: a close
/// payload is empty or a status code a peer may send, then UTF-8.
#[test]
fn a_close_payload_is_empty_or_a_sendable_code_and_utf8() {
    check(&frame(FIN | 0x8, b""), 1, None);
    let mut bye = 4000u16.to_be_bytes().to_vec();
    bye.extend(b"bye");
    check(&frame(FIN | 0x8, &bye), 1, None);
    check(&frame(FIN | 0x8, &[0x03]), 0, Some("protocol error"));
    for reserved in [999u16, 1005, 1006, 1015, 2999, 5000] {
        check(
            &frame(FIN | 0x8, &reserved.to_be_bytes()),
            0,
            Some("protocol error"),
        );
    }
    let mut not_utf8 = 1000u16.to_be_bytes().to_vec();
    not_utf8.extend(b"\xff");
    check(&frame(FIN | 0x8, &not_utf8), 0, Some("protocol error"));
}
