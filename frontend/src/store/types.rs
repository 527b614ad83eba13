//! Records the store holds. Plain data, serialised through JSON into IndexedDB.

use serde::{Deserialize, Serialize};

/// How the app reaches the POP3 server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Security {
    /// Implicit TLS (POP3S, usually port 995).
    Tls,
    /// Plain connection upgraded with STLS (usually port 110).
    StartTls,
    /// No encryption at all: the password crosses the network readable.
    None,
}

impl Security {
    pub fn default_port(self) -> u16 {
        match self {
            Security::Tls => 995,
            Security::StartTls | Security::None => 110,
        }
    }

    /// The submission port for this security (RFC 8314: 465 implicit TLS; RFC 6409: 587).
    pub fn submission_port(self) -> u16 {
        match self {
            Security::Tls => 465,
            Security::StartTls | Security::None => 587,
        }
    }
}

/// What happens to messages on the server once they are stored here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerPolicy {
    /// DELE after the local copy is committed (what POP was designed for).
    #[default]
    DeleteAfterDownload,
    /// Keep messages on the server; optionally delete them `after_days` after first seen,
    /// and optionally delete them on the server when the user deletes them here.
    Leave {
        after_days: Option<u32>,
        mirror_deletes: bool,
    },
    /// Keep at most `count` messages on the server: the oldest listed beyond it are deleted
    /// there once stored here (never one that is not); optionally delete on the server when
    /// the user deletes here.
    KeepNewest { count: u32, mirror_deletes: bool },
}

impl ServerPolicy {
    /// Whether deleting a message here also deletes it on the server (at the next sync).
    pub fn mirrors_deletes(&self) -> bool {
        match self {
            ServerPolicy::DeleteAfterDownload => false,
            ServerPolicy::Leave { mirror_deletes, .. }
            | ServerPolicy::KeepNewest { mirror_deletes, .. } => *mirror_deletes,
        }
    }
}

/// A password sealed with a passphrase (PBKDF2-SHA-256 → AES-256-GCM), all fields base64.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSecret {
    pub salt: String,
    pub iv: String,
    pub ciphertext: String,
    pub iterations: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Stable id (the e-mail address at creation time).
    pub id: String,
    pub email: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub policy: ServerPolicy,
    /// SHA-256 fingerprint (hex) of a self-signed certificate the user chose to trust.
    #[serde(default)]
    pub pinned_sha256: Option<String>,
    /// Present only if the user opted in to remembering the password.
    #[serde(default)]
    pub sealed_password: Option<SealedSecret>,
    /// How mail is sent from this account; `None` on accounts stored before sending existed
    /// (Settings offers defaults from the POP3 settings, [`Sending::guess`]).
    #[serde(default)]
    pub sending: Option<Sending>,
    /// Minutes between automatic checks while the app is open; `None`: only when the user
    /// presses Sync. Accounts stored before automatic checking read as the default.
    #[serde(default = "default_check_minutes")]
    pub check_minutes: Option<u32>,
    /// Logs in with OAuth 2 tokens ("Sign in with …") instead of a password; `None` on
    /// accounts with a password, and on accounts stored before OAuth existed.
    #[serde(default)]
    pub oauth: Option<OAuthLogin>,
    /// Slow or metered links: a message listed larger than this many bytes is fetched
    /// headers-first (`TOP n` [`PARTIAL_LINES`]) and stored as a partial copy, the rest only
    /// when the user asks (`docs/slow-links.md`). `None` (the default, and accounts stored
    /// before it existed): every message whole.
    #[serde(default)]
    pub headers_first_above: Option<u64>,
}

/// The body lines a headers-first copy holds besides the headers: enough to read what a
/// message is about, a few KB on a link where the whole would cost megabytes.
pub const PARTIAL_LINES: u32 = 40;

/// Which provider an OAuth client belongs to (as the proxy's `/oauth/clients` names it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OAuthProvider {
    Google,
    Microsoft,
    /// Any OpenID provider, found through its issuer's discovery document.
    Oidc,
}

/// How an account signs in with OAuth 2: the client it signed in through, and its tokens,
/// sealed under the user's passphrase when the user asked to remember them (else they live
/// in memory for the session only). Never a token in the clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthLogin {
    pub provider: OAuthProvider,
    pub client_id: String,
    /// For `Oidc`: the issuer URL.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The provider's name on the "Sign in with …" button.
    pub name: String,
    /// The refresh token, access token and expiry (`account/oauth/tokens.rs`), sealed.
    #[serde(default)]
    pub sealed_tokens: Option<SealedSecret>,
}

/// How often a new account (or one stored before automatic checking) is checked.
pub const DEFAULT_CHECK_MINUTES: u32 = 15;

fn default_check_minutes() -> Option<u32> {
    Some(DEFAULT_CHECK_MINUTES)
}

/// The identity and submission server of an account (RFC 6409).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sending {
    /// The From display name; may be empty.
    pub name: String,
    /// The From address and the envelope sender.
    pub address: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    /// Log in with the account's POP3 password (most providers use one password for both);
    /// otherwise the outbox asks for the submission password, kept for the session only.
    pub same_password: bool,
    /// The largest message this account sends, in bytes (the server's SIZE, when it announces
    /// one, is checked as well).
    pub max_bytes: u64,
}

/// The parsed summary of one stored message; everything the list needs, nothing more.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub account: String,
    pub uidl: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    /// Milliseconds since the Unix epoch (the Date header, else the download time).
    pub date: f64,
    pub size: u32,
    pub has_attachments: bool,
    pub snippet: String,
    pub read: bool,
    pub flagged: bool,
    /// The local folder it is filed in (`crate::model::folders`: `inbox`, `archive`, `trash`
    /// or a folder of the user's id). Records stored before folders existed read as Inbox.
    #[serde(default = "inbox")]
    pub folder: String,
    /// When it was moved to Trash (ms since the epoch), for emptying Trash after the days the
    /// user chose; `None` outside Trash.
    #[serde(default)]
    pub trashed_at: Option<f64>,
    /// The Message-ID, without angle brackets (`None`: the message has none). Conversations
    /// (`model/threads.rs`) group by it, `in_reply_to` and `references`.
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default)]
    pub in_reply_to: Option<String>,
    /// The References ids, at most `mail::thread_ids::MAX_REFERENCES` (the first and the last).
    #[serde(default)]
    pub references: Vec<String>,
    /// Whether the three ids above were read from the message: false on summaries stored
    /// before conversations existed, which the model back-fills from the stored bytes.
    #[serde(default)]
    pub ids_read: bool,
    /// Only the start of the message is stored here (headers-first on a slow link): the size
    /// the server listed for the whole of it. `None`: the stored bytes are the whole message.
    #[serde(default)]
    pub partial_of: Option<u64>,
}

fn inbox() -> String {
    INBOX.to_string()
}

/// The folder every received message starts in, unless a rule files it elsewhere.
pub const INBOX: &str = "inbox";

/// One line of the per-account UIDL ledger: which server messages are stored here.
///
/// A line outlives the local copy (deleting here keeps it, so the message is not downloaded
/// again) and outlives the server listing for a grace period (`gone_since`), because some
/// servers list only a window of mail and a message can come back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub account: String,
    pub uidl: String,
    /// When the sync first stored this message (driver clock, ms since epoch).
    pub first_seen: f64,
    /// False once a DELE for it was committed by QUIT, or once the server stopped listing it.
    pub on_server: bool,
    /// The size the server listed (LIST) for it. A listed UIDL with another size is a new
    /// message under a reused UIDL. `None` on lines stored before schema v3.
    #[serde(default)]
    pub size: Option<u64>,
    /// When a sync first found the server no longer listing it (driver clock); `None` while
    /// it is listed. The line is forgotten once this is older than the grace period.
    #[serde(default)]
    pub gone_since: Option<f64>,
    /// The server confirmed deleting it (our DELE, committed by QUIT +OK). Its UIDL listed
    /// again can only be a new message under a reused UIDL, whatever its size.
    #[serde(default)]
    pub deleted: bool,
    /// The stored message's identity ([`super::identity`]: its Message-ID, Date and From),
    /// to confirm that a message the server lists under this UIDL is the one stored here before
    /// deleting it unseen, or when the server lists it with another size. `None` on lines
    /// stored before it was kept, and for messages without any of the three headers.
    #[serde(default)]
    pub identity: Option<String>,
    /// Only the message's start is stored (headers-first): no policy and no deletion asked
    /// here ever sends DELE for it until its whole body is stored (`sync::plan`).
    #[serde(default)]
    pub partial: bool,
}

/// A server deletion the user asked for while deleting locally; executed at the next sync.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingDelete {
    pub account: String,
    pub uidl: String,
}
