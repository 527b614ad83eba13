//! The parsed summary stored beside each message's raw bytes.

use mail_parser::{Address, MessageParser, MimeHeaders};

use crate::store::Summary;

const SNIPPET_CHARS: usize = 140;

/// "Name <addr>" lists shortened for the list: names when present, else addresses.
pub(crate) fn names(addr: Option<&Address<'_>>) -> String {
    let Some(addr) = addr else {
        return String::new();
    };
    addr.iter()
        .filter_map(|a| a.name().or(a.address()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds the list summary of `raw`. Unparseable mail still gets a line (with the fallback
/// date) so that nothing downloaded is ever invisible.
pub fn summarize(raw: &[u8], account: &str, uidl: &str, fallback_date_ms: f64) -> Summary {
    let base = Summary {
        account: account.to_string(),
        uidl: uidl.to_string(),
        from: String::new(),
        to: String::new(),
        subject: String::new(),
        date: fallback_date_ms,
        size: raw.len() as u32,
        has_attachments: false,
        snippet: String::new(),
        read: false,
        flagged: false,
    };
    let Some(msg) = MessageParser::default().parse(raw) else {
        return base;
    };
    let snippet = msg
        .body_preview(SNIPPET_CHARS * 2)
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .map(|s| s.chars().take(SNIPPET_CHARS).collect())
        .unwrap_or_default();
    Summary {
        from: names(msg.from()),
        to: names(msg.to()),
        subject: msg.subject().unwrap_or_default().to_string(),
        date: msg
            .date()
            .map(|d| d.to_timestamp() as f64 * 1000.0)
            .filter(|d| *d > 0.0)
            .unwrap_or(fallback_date_ms),
        has_attachments: msg
            .attachments()
            .any(|p| p.content_id().is_none() || p.attachment_name().is_some()),
        snippet,
        ..base
    }
}
