//! The parsed summary stored beside each message's raw bytes.

use mail_parser::{Address, MimeHeaders};

use super::rules::Facts;
use crate::store::{Rule, Summary};

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
    summarize_with_facts(raw, account, uidl, fallback_date_ms).0
}

/// Builds the summary of a message just downloaded and files it by `rules` (folder, read,
/// flagged) before it is stored: one write, in its folder. `folders` tells which folder ids
/// a rule may file into.
pub fn summarize_filed(
    raw: &[u8],
    account: &str,
    uidl: &str,
    fallback_date_ms: f64,
    rules: &[Rule],
    folders: impl Fn(&str) -> bool,
) -> Summary {
    let (mut summary, facts) = summarize_with_facts(raw, account, uidl, fallback_date_ms);
    if !rules.is_empty() {
        super::rules::apply(rules, &facts, folders, &mut summary);
    }
    summary
}

/// Names and addresses together ("Ann Lee ann@example.org"), for rules.
fn names_and_addresses<'a>(lists: impl IntoIterator<Item = Option<&'a Address<'a>>>) -> String {
    let mut out = Vec::new();
    for addr in lists.into_iter().flatten() {
        for a in addr.iter() {
            out.extend(a.name().map(str::to_string));
            out.extend(a.address().map(str::to_string));
        }
    }
    out.join(" ")
}

/// The List-Id (RFC 2919) as "description <id>", else its raw text.
fn list_id(msg: &mail_parser::Message<'_>) -> String {
    let parsed =
        msg.list_id()
            .as_address()
            .and_then(|a| a.first())
            .map(|a| match (a.name(), a.address()) {
                (Some(name), Some(id)) => format!("{name} <{id}>"),
                (None, Some(id)) => format!("<{id}>"),
                (name, None) => name.unwrap_or_default().to_string(),
            });
    parsed
        .filter(|s| !s.is_empty())
        .or_else(|| msg.header_raw("List-Id").map(|s| s.trim().to_string()))
        .unwrap_or_default()
}

fn summarize_with_facts(
    raw: &[u8],
    account: &str,
    uidl: &str,
    fallback_date_ms: f64,
) -> (Summary, Facts) {
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
        folder: crate::store::INBOX.into(),
        trashed_at: None,
        message_id: None,
        in_reply_to: None,
        references: Vec::new(),
        // Not mail: there are no ids to read later either.
        ids_read: true,
        partial_of: None,
    };
    let mut facts = Facts {
        size: raw.len() as u64,
        ..Facts::default()
    };
    let Some(msg) = super::parse(raw) else {
        return (base, facts);
    };
    facts.sender = names_and_addresses([msg.from()]);
    facts.recipients = names_and_addresses([msg.to(), msg.cc()]);
    facts.subject = msg.subject().unwrap_or_default().to_string();
    facts.list_id = list_id(&msg);
    let snippet = msg
        .body_preview(SNIPPET_CHARS * 2)
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .map(|s| s.chars().take(SNIPPET_CHARS).collect())
        .unwrap_or_default();
    let ids = super::thread_ids::thread_ids(&msg);
    let summary = Summary {
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
        message_id: ids.message_id,
        in_reply_to: ids.in_reply_to,
        references: ids.references,
        ..base
    };
    (summary, facts)
}
