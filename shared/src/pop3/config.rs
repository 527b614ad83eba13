//! What the caller decides before connecting.

use super::auth::AuthPolicy;
use crate::secret::Secret;
pub use crate::tls_state::TlsState;

/// Session settings. Build with [`ClientConfig::new`] and adjust fields.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The login name.
    pub user: String,
    /// The password, or the access token for XOAUTH2/OAUTHBEARER.
    pub password: Secret<String>,
    /// Which authentication methods are allowed.
    pub auth: AuthPolicy,
    /// Allow methods that reveal the password (USER/PASS, PLAIN, LOGIN, OAuth) on an
    /// unencrypted connection. Off by default.
    pub allow_plaintext_password: bool,
    /// A fresh client nonce for SCRAM (printable ASCII without commas, at least 16 characters;
    /// [`nonce_from_random`](crate::scram::nonce_from_random) makes one from random bytes). This
    /// crate has no randomness of its own; without a nonce `Auto` does not use SCRAM. Use a new
    /// one for every session.
    pub scram_nonce: Option<String>,
    /// Whether the transport is already encrypted.
    pub tls: TlsState,
    /// On a plain connection, upgrade with STLS before authenticating; if the server does not
    /// offer it the session fails ([`Pop3Error::StartTlsUnavailable`]) instead of silently
    /// continuing in the clear.
    ///
    /// [`Pop3Error::StartTlsUnavailable`]: super::Pop3Error::StartTlsUnavailable
    pub want_starttls: bool,
    /// Maximum commands in flight when the server announces PIPELINING (values below 1 count
    /// as 1). Without PIPELINING the client runs in lockstep.
    pub pipeline_window: usize,
    /// Longest accepted line (status lines, CAPA/LIST/UIDL lines), line end excluded.
    pub max_line: usize,
    /// Largest accepted collected multi-line reply (CAPA, LIST, UIDL), in bytes. RETR and TOP
    /// bodies are streamed and not limited by this.
    pub max_reply: usize,
    /// Largest `MessageChunk`, in bytes.
    pub max_chunk: usize,
}

impl ClientConfig {
    /// Defaults: `Auto` authentication, no plaintext passwords in the clear, plain TCP with
    /// STLS required, a pipeline window of 16, 8 KiB lines, 16 MiB collected replies (a UIDL
    /// listing of 100 000 messages is about 7 MB), 64 KiB chunks.
    pub fn new(user: impl Into<String>, password: Secret<String>) -> ClientConfig {
        ClientConfig {
            user: user.into(),
            password,
            auth: AuthPolicy::Auto,
            allow_plaintext_password: false,
            scram_nonce: None,
            tls: TlsState::None,
            want_starttls: true,
            pipeline_window: 16,
            max_line: 8 * 1024,
            max_reply: 16 * 1024 * 1024,
            max_chunk: 64 * 1024,
        }
    }
}
