//! Writing mail: a draft (what the user typed) into RFC 5322 bytes, and the drafts that start
//! a reply, a reply to all or a forward. Pure functions: no clock, no randomness, no browser;
//! the caller passes the time and the random bytes of the Message-ID in ([`Stamp`]).
//!
//! MIME is built by Stalwart's `mail-builder` (the sibling of the `mail-parser` the reader
//! uses): encoded words for non-ASCII headers, RFC 2231 file names, folding, quoted-printable
//! or base64 bodies. What this module decides itself: who the message goes to (Bcc only in the
//! envelope), the threading headers (`reply.rs`), and the size bound (checked before a message
//! is queued, so the outbox never holds what the server will refuse for size).

mod address;
mod build;
mod reply;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use address::{Mailbox, parse_list};
pub use build::{Built, Stamp, build};
pub use reply::{Original, forward_attached, forward_inline, prefixed, quote, reply, reply_all};

/// The most message ids kept in `References` (RFC 5322 §3.6.4 sets no bound; long threads
/// would otherwise grow the header without end). The first (the thread's root) and the newest
/// are kept, as most clients do.
pub const MAX_REFERENCES: usize = 20;

/// A message id longer than this is dropped from threading headers rather than folded over
/// lines (RFC 5322 lines stay under 998 octets).
pub const MAX_MESSAGE_ID_LEN: usize = 250;

/// The default bound on a message's size when the account sets none (many providers accept
/// 25 to 50 MB; the server's `SIZE` is the last word).
pub const DEFAULT_MAX_BYTES: usize = 25 * 1024 * 1024;

/// Who the user sends as, for one account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The display name ("Alice Liddell"); may be empty.
    pub name: String,
    /// The address in `From` and the envelope's `MAIL FROM`.
    pub address: String,
}

/// A file attached from disk (or carried over from a forwarded message).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    /// The browser's MIME type for the file, else `application/octet-stream`.
    pub mime: String,
    /// Stored as base64 in drafts (IndexedDB records go through JSON).
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

/// What the user is writing. Addresses are kept as typed, and parsed when the message is
/// built, so a half-typed address never blocks saving a draft.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub subject: String,
    /// Plain text; lines end in `\n` here and in CRLF on the wire.
    pub body: String,
    pub attachments: Vec<Attachment>,
    /// The Message-ID (with angle brackets) this draft answers.
    #[serde(default)]
    pub in_reply_to: Option<String>,
    /// The thread's message ids, oldest first, with angle brackets.
    #[serde(default)]
    pub references: Vec<String>,
    /// A message forwarded as an attachment: its raw bytes, sent as `message/rfc822`.
    #[serde(default)]
    pub forwarded: Option<Attachment>,
}

impl Draft {
    /// Whether there is nothing worth keeping (an empty draft is discarded, not saved).
    pub fn is_empty(&self) -> bool {
        self.to.trim().is_empty()
            && self.cc.trim().is_empty()
            && self.bcc.trim().is_empty()
            && self.subject.trim().is_empty()
            && self.body.trim().is_empty()
            && self.attachments.is_empty()
            && self.forwarded.is_none()
    }
}

/// Why a draft cannot become a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("add at least one recipient (To, Cc or Bcc)")]
    NoRecipients,
    #[error("\"{0}\" is not an e-mail address")]
    BadAddress(String),
    #[error("the sending address \"{0}\" is not an e-mail address (see Settings, Sending)")]
    BadSender(String),
    #[error(
        "the message is {} and this account sends at most {}",
        human_size(*.size as u64),
        human_size(*.limit as u64)
    )]
    TooLarge { size: usize, limit: usize },
    #[error("the original message could not be read as mail")]
    OriginalUnreadable,
}

/// "12.3 MB" style sizes (as the reader writes them; compose stays apart from `mail`, which
/// the store depends on).
fn human_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / KB / KB)
    }
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
