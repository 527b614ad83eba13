//! The `APOP` digest (RFC 1939 section 7), POP3's own challenge-response login.

use md5::{Digest, Md5};

use crate::sasl::hex;

/// `APOP` digest: lower-case hex MD5 of the greeting timestamp followed by the password.
pub(crate) fn apop_digest(timestamp: &str, password: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(timestamp.as_bytes());
    md5.update(password.as_bytes());
    hex(&md5.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1939_apop_example() {
        // RFC 1939 section 7: APOP mrose c4c9334bac560ecc979e58001b3e22fb
        assert_eq!(
            apop_digest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb"
        );
    }
}
