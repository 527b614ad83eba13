//! A fresh SCRAM client nonce from the operating system's randomness, for the examples' `Auto`
//! login: the protocol crate has no randomness of its own and takes the nonce from its caller.

use std::io::Read as _;

/// 18 bytes of `/dev/urandom`, base64 (24 characters). `None` where there is no such device:
/// then the client does not use SCRAM, rather than send a predictable nonce.
pub fn scram_nonce() -> Option<String> {
    let mut bytes = [0u8; 18];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .ok()?;
    Some(postbag_protocol::scram::nonce_from_random(&bytes))
}
