//! The framer fed the same bytes whole and in arbitrary chunks must produce the same lines,
//! the same unstuffed bodies and the same errors; pieces are never empty nor over the limit.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postbag_protocol::pop3::{BodyPiece, Framer, ProtocolError};

const MAX_LINE: usize = 64;
const MAX_CHUNK: usize = 7;

#[derive(Debug, PartialEq)]
enum Item {
    Line(Vec<u8>),
    Body(Vec<u8>),
    Error(ProtocolError),
}

/// A deterministic reader: a line that ends in `M` announces a multi-line body.
struct Reader {
    framer: Framer,
    in_body: Option<Vec<u8>>,
    items: Vec<Item>,
    failed: bool,
}

impl Reader {
    fn new() -> Reader {
        Reader { framer: Framer::new(), in_body: None, items: Vec::new(), failed: false }
    }

    /// Consumes everything that can be consumed.
    fn drain(&mut self) {
        while !self.failed {
            if let Some(body) = &mut self.in_body {
                match self.framer.body(MAX_CHUNK) {
                    None => return,
                    Some(BodyPiece::Data(d)) => {
                        assert!(!d.is_empty() && d.len() <= MAX_CHUNK, "piece of {} bytes", d.len());
                        body.extend(d);
                    }
                    Some(BodyPiece::End) => {
                        let body = self.in_body.take().unwrap();
                        self.items.push(Item::Body(body));
                    }
                }
            } else {
                match self.framer.line(MAX_LINE) {
                    Ok(None) => {
                        // An endless line must fail once it passes the limit.
                        assert!(self.framer.buffered() <= MAX_LINE + 1);
                        return;
                    }
                    Ok(Some(line)) => {
                        assert!(line.len() <= MAX_LINE);
                        if line.last() == Some(&b'M') {
                            self.in_body = Some(Vec::new());
                        }
                        self.items.push(Item::Line(line));
                    }
                    Err(e) => {
                        self.items.push(Item::Error(e));
                        self.failed = true;
                    }
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, stream)) = data.split_first() else { return };
    let mut whole = Reader::new();
    whole.framer.push(stream);
    whole.drain();

    // Chunk sizes from a tiny generator seeded by the first byte (1..=16 bytes per push).
    let mut chunked = Reader::new();
    let mut state = u32::from(seed) | 1;
    let mut rest = stream;
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = (1 + (state >> 16) as usize % 16).min(rest.len());
        chunked.framer.push(&rest[..n]);
        rest = &rest[n..];
        chunked.drain();
    }
    // A body still open at the end keeps its partial data out of `items` in both runs.
    assert_eq!(whole.items, chunked.items);
});
