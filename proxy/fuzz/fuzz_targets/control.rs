//! The control-message parser on arbitrary text: no panic, refusals are typed `bad_request`,
//! and the host of any `open` it accepts shows in the log as quoted printable ASCII of bounded
//! length, whatever it holds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postbag_proxy::testing::{
    ClientMessage, ErrorKind, MAX_LOGGED_CHARS, Untrusted, parse_control,
};

/// The longest escape of one character (`\u{10ffff}`).
const LONGEST_ESCAPE: usize = 10;

fuzz_target!(|data: &[u8]| {
    match parse_control(data, "open message") {
        Ok(ClientMessage::Open(open)) => {
            let shown = Untrusted(&open.host).to_string();
            assert!(shown.bytes().all(|b| (b' '..=b'~').contains(&b)), "{shown}");
            assert!(
                shown.len() <= 2 + LONGEST_ESCAPE * MAX_LOGGED_CHARS + 40,
                "{}",
                shown.len()
            );
        }
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind, ErrorKind::BadRequest),
    }
});
