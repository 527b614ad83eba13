//! A message made ready for DATA: line ends normalised, dot-stuffed (RFC 5321 sections 2.3.8
//! and 4.5.2), and what the server must offer to take it.

use super::capabilities::Capabilities;
use super::error::UnsendableError;

/// Who a message is from and to, as told to the server (`MAIL FROM`, `RCPT TO`), whatever
/// its headers say. Addresses are bare (`alice@example.org`, no angle brackets); an empty
/// `from` is the null sender `<>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
}

impl Envelope {
    /// An envelope from `from` to every address of `to`.
    pub fn new(
        from: impl Into<String>,
        to: impl IntoIterator<Item = impl Into<String>>,
    ) -> Envelope {
        Envelope {
            from: from.into(),
            to: to.into_iter().map(Into::into).collect(),
        }
    }
}

/// RFC 5321 section 4.5.3.1.3: a path is at most 256 octets.
const MAX_ADDRESS: usize = 256;

/// A message ready for the wire, with the `MAIL FROM` parameters it needs.
pub(crate) struct Prepared {
    /// Normalised and dot-stuffed, ending with CRLF (or empty); the final `.` is not in it.
    pub(crate) wire: Vec<u8>,
    /// `MAIL FROM:<...>` and its parameters, with CRLF.
    pub(crate) mail_from: Vec<u8>,
}

/// `Debug` shows sizes only: the message is the user's.
impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("wire_bytes", &self.wire.len())
            .finish_non_exhaustive()
    }
}

/// Line ends to CRLF (a bare LF or CR becomes CRLF), a dot added before every line that starts
/// with one, and a CRLF at the end if the last line has none. Returns the wire form and the
/// size of the message without the stuffing dots (what RFC 1870 SIZE counts).
pub(crate) fn normalise(message: &[u8]) -> (Vec<u8>, u64) {
    let mut wire = Vec::with_capacity(message.len() + message.len() / 64 + 2);
    let mut stuffed = 0u64;
    // One line per turn, copied in one piece: a 10 MB message is not walked byte by byte.
    let mut rest = message;
    while let Some(&first) = rest.first() {
        if first == b'.' {
            wire.push(b'.');
            stuffed += 1;
        }
        match memchr::memchr2(b'\r', b'\n', rest) {
            Some(end) => {
                wire.extend_from_slice(&rest[..end]);
                wire.extend_from_slice(b"\r\n");
                let crlf = rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n');
                rest = &rest[end + if crlf { 2 } else { 1 }..];
            }
            None => {
                wire.extend_from_slice(rest);
                wire.extend_from_slice(b"\r\n");
                rest = &[];
            }
        }
    }
    let size = wire.len() as u64 - stuffed;
    (wire, size)
}

/// Checks one envelope address; returns whether it needs SMTPUTF8.
fn check_address(address: &str, may_be_empty: bool) -> Result<bool, UnsendableError> {
    let bad = address.len() > MAX_ADDRESS
        || (address.is_empty() && !may_be_empty)
        || address
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>');
    if bad {
        return Err(UnsendableError::InvalidAddress {
            address: address.to_string(),
        });
    }
    Ok(!address.is_ascii())
}

/// The header section: everything before the first empty line.
fn headers(wire: &[u8]) -> &[u8] {
    let end = memchr::memmem::find(wire, b"\r\n\r\n").map_or(wire.len(), |i| i + 2);
    &wire[..end]
}

/// Makes `message` ready for this server, or says why it cannot take it. Nothing is sent.
pub(crate) fn prepare(
    envelope: &Envelope,
    message: &[u8],
    caps: &Capabilities,
) -> Result<Prepared, UnsendableError> {
    if envelope.to.is_empty() {
        return Err(UnsendableError::NoRecipients);
    }
    let mut utf8_address = None;
    for (address, may_be_empty) in
        std::iter::once((&envelope.from, true)).chain(envelope.to.iter().map(|a| (a, false)))
    {
        if check_address(address, may_be_empty)? && utf8_address.is_none() {
            utf8_address = Some(address);
        }
    }
    if let Some(address) = utf8_address.filter(|_| !caps.smtp_utf8) {
        return Err(UnsendableError::NeedsSmtpUtf8 {
            address: address.clone(),
        });
    }
    let (wire, size) = normalise(message);
    let eight_bit = !wire.is_ascii();
    if eight_bit && !caps.eight_bit_mime && !caps.smtp_utf8 {
        return Err(UnsendableError::NeedsEightBitMime);
    }
    if let Some(limit) = caps.max_size().filter(|limit| size > *limit) {
        return Err(UnsendableError::TooLarge { size, limit });
    }
    let mut mail_from = format!("MAIL FROM:<{}>", envelope.from);
    if caps.size.is_some() {
        mail_from.push_str(&format!(" SIZE={size}"));
    }
    if eight_bit {
        mail_from.push_str(" BODY=8BITMIME");
    }
    // RFC 6531 section 3.4: SMTPUTF8 for UTF-8 addresses, and for UTF-8 header fields when
    // the server can take them (without it, 8BITMIME still carries the bytes).
    if utf8_address.is_some() || (caps.smtp_utf8 && !headers(&wire).is_ascii()) {
        mail_from.push_str(" SMTPUTF8");
    }
    mail_from.push_str("\r\n");
    Ok(Prepared {
        wire,
        mail_from: mail_from.into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(f: impl FnOnce(&mut Capabilities)) -> Capabilities {
        let mut caps = Capabilities {
            extended: true,
            ..Capabilities::default()
        };
        f(&mut caps);
        caps
    }

    #[test]
    fn normalise_line_ends_and_stuff_dots() {
        let check = |input: &[u8], wire: &[u8], size: u64| {
            assert_eq!(normalise(input), (wire.to_vec(), size), "{input:?}");
        };
        check(b"", b"", 0);
        check(b"a", b"a\r\n", 3);
        check(b"a\nb\n", b"a\r\nb\r\n", 6);
        check(b"a\r\nb", b"a\r\nb\r\n", 6);
        check(b"a\rb\r\r\n", b"a\r\nb\r\n\r\n", 8);
        check(b".\n", b"..\r\n", 3);
        check(b"x\n.\n..y\n", b"x\r\n..\r\n...y\r\n", 11);
        check(b".\r\n", b"..\r\n", 3);
        // A dot that is not at a line start stays single.
        check(b"a.b\r\n.", b"a.b\r\n..\r\n", 8);
    }

    #[test]
    fn mail_from_parameters() {
        let env = Envelope::new("a@x", ["b@y"]);
        let p = prepare(&env, b"Subject: hi\n\nhi\n", &caps(|_| {})).unwrap();
        assert_eq!(p.mail_from, b"MAIL FROM:<a@x>\r\n");
        let p = prepare(&env, b"hi\n", &caps(|c| c.size = Some(0))).unwrap();
        assert_eq!(p.mail_from, b"MAIL FROM:<a@x> SIZE=4\r\n");
        let p = prepare(
            &env,
            "Subject: hi\n\nh\u{e9}\n".as_bytes(),
            &caps(|c| {
                c.eight_bit_mime = true;
                c.smtp_utf8 = true
            }),
        )
        .unwrap();
        assert_eq!(p.mail_from, b"MAIL FROM:<a@x> BODY=8BITMIME\r\n");
        let p = prepare(
            &Envelope::new("", ["j\u{f6}rg@x"]),
            "Subject: h\u{e9}\n\nh\n".as_bytes(),
            &caps(|c| {
                c.eight_bit_mime = true;
                c.smtp_utf8 = true
            }),
        )
        .unwrap();
        assert_eq!(p.mail_from, b"MAIL FROM:<> BODY=8BITMIME SMTPUTF8\r\n");
    }

    #[test]
    fn refused_before_anything_is_sent() {
        let plain = caps(|_| {});
        let check = |env: Envelope, msg: &[u8], caps: &Capabilities, err: UnsendableError| {
            assert_eq!(prepare(&env, msg, caps).unwrap_err(), err);
        };
        check(
            Envelope::new("a@x", Vec::<String>::new()),
            b"",
            &plain,
            UnsendableError::NoRecipients,
        );
        for bad in [
            "",
            "b c@y",
            "<b@y>",
            "b@y\r\nRSET",
            "b\0@y",
            &"x".repeat(257),
        ] {
            check(
                Envelope::new("a@x", [bad]),
                b"",
                &plain,
                UnsendableError::InvalidAddress {
                    address: bad.into(),
                },
            );
        }
        check(
            Envelope::new("a@x", ["b@y", "\u{e9}@y"]),
            b"",
            &plain,
            UnsendableError::NeedsSmtpUtf8 {
                address: "\u{e9}@y".into(),
            },
        );
        check(
            Envelope::new("a@x", ["b@y"]),
            &[0xe9],
            &plain,
            UnsendableError::NeedsEightBitMime,
        );
        check(
            Envelope::new("a@x", ["b@y"]),
            &[b'x'; 100],
            &caps(|c| c.size = Some(50)),
            UnsendableError::TooLarge {
                size: 102,
                limit: 50,
            },
        );
        // Exactly the limit is fine; the stuffing dots do not count.
        assert!(
            prepare(
                &Envelope::new("a@x", ["b@y"]),
                b"..\n",
                &caps(|c| c.size = Some(4))
            )
            .is_ok()
        );
    }
}
