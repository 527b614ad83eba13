//! The reader's view model, built from raw bytes on open (bodies are never kept parsed).
//!
//! Every part of a message is reachable: a part is either shown (a body block, the plain-text
//! alternative, a forwarded message, an inline image its HTML shows) or listed as an
//! attachment. The list is built from the parts that were *not* shown, never from
//! mail-parser's own attachment list alone: that list leaves out inline text parts (a second
//! `text/plain` in another charset, say), which a reader that shows only the first body would
//! hide.

use std::collections::BTreeSet;

use mail_parser::{Message, MimeHeaders, PartType};

use super::summary::names;

#[derive(Clone, Debug, PartialEq)]
pub struct Attachment {
    pub name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// One block of the body, in the message's order.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Text(String),
    /// NOT sanitised: pass it through [`super::sanitize`] before display.
    Html(String),
}

/// An image part a `cid:` URL can name, kept as bytes: the sanitiser turns the ones an HTML
/// body really shows into `data:` URLs, within a budget.
#[derive(Clone, Debug, PartialEq)]
pub struct InlineImage {
    /// The Content-ID without its angle brackets.
    pub cid: String,
    /// From a fixed list of raster types (never the message's own spelling).
    pub mime: &'static str,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct MessageView {
    pub from: String,
    pub from_addr: String,
    pub to: String,
    pub cc: String,
    pub date_ms: Option<f64>,
    pub subject: String,
    /// What the reader shows: the HTML body's parts when the message has HTML (text parts
    /// between them stay text), otherwise every text part, whatever its charset.
    pub body: Vec<Block>,
    /// The message's own plain-text alternative to an HTML body, offered as "Plain text".
    pub plain: Vec<String>,
    pub attachments: Vec<Attachment>,
    pub inline_images: Vec<InlineImage>,
    /// Forwarded messages (message/rfc822 parts), shown below the body.
    pub forwarded: Vec<MessageView>,
}

impl MessageView {
    /// Whether the shown body is HTML (so a plain-text alternative can be offered).
    pub fn has_html(&self) -> bool {
        self.body.iter().any(|b| matches!(b, Block::Html(_)))
    }
}

/// Parses `raw` into the reader's model. `None` only for bytes that are not mail at all.
pub fn parse_view(raw: &[u8]) -> Option<MessageView> {
    let msg = super::parse(raw)?;
    Some(from_message(&msg))
}

fn mime_of(part: &mail_parser::MessagePart<'_>) -> String {
    part.content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        })
        .unwrap_or_else(|| "application/octet-stream".into())
        .to_ascii_lowercase()
}

fn from_message(msg: &Message<'_>) -> MessageView {
    let mut view = MessageView {
        from: names(msg.from()),
        from_addr: msg
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string(),
        to: names(msg.to()),
        cc: names(msg.cc()),
        date_ms: msg.date().map(|d| d.to_timestamp() as f64 * 1000.0),
        subject: msg.subject().unwrap_or_default().to_string(),
        ..MessageView::default()
    };
    let part = |id: &u32| msg.parts.get(*id as usize).map(|p| (*id, p));
    // mail-parser lists text parts among the HTML bodies (and the reverse) when a message
    // lacks one kind; only a real text/html part makes the HTML view the one to show.
    let html_shown = msg
        .html_body
        .iter()
        .filter_map(part)
        .any(|(_, p)| p.is_text_html());
    let mut shown = BTreeSet::new();
    let bodies = if html_shown {
        &msg.html_body
    } else {
        &msg.text_body
    };
    for (id, p) in bodies.iter().filter_map(part) {
        match &p.body {
            PartType::Html(h) if html_shown => view.body.push(Block::Html(h.to_string())),
            // A blank text part holds nothing to show (nor to reach).
            PartType::Text(t) if t.trim().is_empty() => {}
            PartType::Text(t) => view.body.push(Block::Text(t.to_string())),
            // Inline images among the bodies, and HTML with no HTML view: listed below.
            _ => continue,
        }
        shown.insert(id);
    }
    if html_shown {
        for (id, p) in msg.text_body.iter().filter_map(part) {
            if let PartType::Text(t) = &p.body
                && !shown.contains(&id)
            {
                view.plain.push(t.to_string());
                shown.insert(id);
            }
        }
    }
    let html_text: String = view
        .body
        .iter()
        .filter_map(|b| match b {
            Block::Html(h) => Some(h.to_ascii_lowercase()),
            Block::Text(_) => None,
        })
        .collect();
    for (index, p) in msg.parts.iter().enumerate() {
        if shown.contains(&(index as u32)) {
            continue;
        }
        match &p.body {
            PartType::Multipart(_) => continue,
            PartType::Message(inner) => {
                view.forwarded.push(from_message(inner));
                continue;
            }
            _ => {}
        }
        let bytes = p.contents();
        if bytes.is_empty() && p.is_text() {
            continue; // an empty text part holds nothing to reach
        }
        let mime = mime_of(p);
        if let Some(cid) = p.content_id()
            && let Some(image) = inline_image_type(&mime)
        {
            let cid = cid
                .trim()
                .trim_matches(|c| c == '<' || c == '>')
                .to_string();
            let referenced = html_text.contains(&format!("cid:{}", cid.to_ascii_lowercase()));
            view.inline_images.push(InlineImage {
                cid,
                mime: image,
                bytes: bytes.to_vec(),
            });
            // Shown by the HTML, and not offered as a file by its sender: nothing is hidden.
            if referenced && p.attachment_name().is_none() {
                continue;
            }
        }
        let name = p
            .attachment_name()
            .map(str::to_string)
            .unwrap_or_else(|| default_name(index, &mime));
        view.attachments.push(Attachment {
            name,
            mime,
            bytes: bytes.to_vec(),
        });
    }
    view
}

/// A file name for a part that has none: "part-3.txt", "part-4.png".
fn default_name(index: usize, mime: &str) -> String {
    let ext = match mime {
        "text/plain" => "txt",
        "text/html" => "html",
        "message/rfc822" => "eml",
        other => other
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric()))
            .unwrap_or("bin"),
    };
    format!("part-{index}.{ext}")
}

/// The data: URL type for an inline image, from a fixed list. Nothing from the message's own
/// Content-Type may reach the document the sanitiser writes.
fn inline_image_type(mime: &str) -> Option<&'static str> {
    const RASTER: [&str; 7] = [
        "image/png",
        "image/gif",
        "image/jpeg",
        "image/webp",
        "image/bmp",
        "image/avif",
        "image/x-icon",
    ];
    let mime = mime.trim().to_ascii_lowercase();
    let mime = if mime == "image/jpg" {
        "image/jpeg".to_string()
    } else {
        mime
    };
    RASTER.iter().copied().find(|t| *t == mime)
}

#[cfg(test)]
mod tests;
