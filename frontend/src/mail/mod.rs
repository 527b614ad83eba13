//! Mail as the app shows it: mail-parser output turned into plain view models.
//!
//! - [`summarize`]: the list line of a freshly downloaded message (stored beside the bytes).
//! - [`rules`]: the user's rules matched while a new message's summary is built.
//! - [`thread_ids`]: Message-ID, In-Reply-To and References, bounded, for conversations.
//! - [`view`]: the reader's model (headers, bodies, attachments, cid images, forwards).
//! - [`sanitize`]: DOMPurify glue and the sandboxed iframe's document.
//! - [`legacy_charset`]: every parse goes through [`parse`], which has the browser decode the
//!   legacy CJK and other charsets mail-parser is built without.

mod legacy_charset;
pub mod rules;
pub mod sanitize;
mod summary;
pub mod thread_ids;
pub mod view;

pub use legacy_charset::parse;
pub use summary::{summarize, summarize_filed};
pub use view::{Attachment, Block, InlineImage, MessageView, parse_view};

/// "12.3 KB" style sizes for lists and attachments.
pub fn human_size(bytes: u64) -> String {
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
