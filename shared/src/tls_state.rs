//! Whether a session starts encrypted: one type for POP3 and SMTP, so one setting (the app's
//! account form, an example's `--tls`) serves both.

/// Whether the transport is encrypted when the client starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsState {
    /// Plain TCP (POP3 on 110, SMTP submission on 587). The client upgrades with STLS or
    /// STARTTLS if its config's `want_starttls` is set.
    #[default]
    None,
    /// Implicit TLS (POP3S on 995, submissions on 465, RFC 8314): the driver completed the
    /// handshake before the greeting.
    Implicit,
}
