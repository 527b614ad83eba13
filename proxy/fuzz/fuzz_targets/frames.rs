//! The browser's frames, fed whole and in chunks of 1..16 bytes (byte 0 picks the size): the
//! same frames and the same refusal either way, and the buffer never holds more than one
//! frame under the limit, whatever length a header announces.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postbag_proxy::testing::FrameReader;

/// Small, so that the fuzzer reaches it, and above 125, so that 16-bit lengths pass.
const MAX: usize = 300;
/// The longest frame header: 2 bytes, a 64-bit length, a mask key.
const MAX_HEADER: usize = 14;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, input)) = data.split_first() else {
        return;
    };
    let whole = read(input, input.len().max(1));
    let chunked = read(input, usize::from(seed % 16) + 1);
    assert_eq!(whole, chunked);
});

/// The frames (as text) and the error that ended the reading, if any.
fn read(input: &[u8], chunk: usize) -> (Vec<String>, Option<String>) {
    let mut reader = FrameReader::new(&[], MAX);
    let mut frames = Vec::new();
    for piece in input.chunks(chunk) {
        reader.buffer().extend_from_slice(piece);
        loop {
            match reader.next_frame() {
                Ok(Some(frame)) => frames.push(format!("{frame:?}")),
                Ok(None) => break,
                Err(e) => return (frames, Some(e.to_string())),
            }
        }
        // What waits is one incomplete frame whose header passed: under the limit.
        let held = reader.buffer().len();
        assert!(held < MAX_HEADER + MAX, "{held} bytes buffered");
    }
    (frames, None)
}
