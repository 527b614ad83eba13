//! The browser's control messages: JSON objects in text frames (docs/tunnel-protocol.md).
//!
//! The one parser the relay loop and the fuzz target (proxy/fuzz) share. What it answers goes
//! back to the browser that sent the text, never to the log: serde's messages quote the input.

use postbag_protocol::tunnel::{ClientMessage, ErrorKind, TunnelError};

/// Parses one text frame; `what` names the message expected ("open message", "control
/// message") in the refusal.
pub fn parse(text: &[u8], what: &str) -> Result<ClientMessage, TunnelError> {
    serde_json::from_slice(text)
        .map_err(|e| TunnelError::new(ErrorKind::BadRequest, format!("invalid {what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_starttls_and_garbage() {
        let open =
            br#"{"type":"open","version":1,"host":"pop.example.org","port":995,"tls":"implicit"}"#;
        assert!(matches!(
            parse(open, "open message"),
            Ok(ClientMessage::Open(_))
        ));
        assert!(matches!(
            parse(br#"{"type":"starttls"}"#, "control message"),
            Ok(ClientMessage::Starttls)
        ));
        for bad in [
            &b""[..],
            b"{",
            b"\xff",
            br#"{"type":"open"}"#,
            br#"{"type":"x"}"#,
        ] {
            let err = parse(bad, "control message").unwrap_err();
            assert_eq!(err.kind, ErrorKind::BadRequest);
            assert!(
                err.message.starts_with("invalid control message: "),
                "{err:?}"
            );
        }
    }
}
