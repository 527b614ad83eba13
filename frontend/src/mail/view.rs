//! The reader's view model, built from raw bytes on open (bodies are never kept parsed).

use base64::Engine as _;
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use super::summary::names;

#[derive(Clone, Debug, PartialEq)]
pub struct Attachment {
    pub name: String,
    pub mime: String,
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
    /// The text/plain body, when there is one (or when there is no HTML).
    pub text: Option<String>,
    /// The text/html body, NOT sanitised: pass it through [`super::sanitize`] before display.
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
    /// `cid:` references resolved from the message itself: (content id, data: URL).
    pub inline_images: Vec<(String, String)>,
    /// Forwarded messages (message/rfc822 parts), shown below the body.
    pub forwarded: Vec<MessageView>,
}

/// Parses `raw` into the reader's model. `None` only for bytes that are not mail at all.
pub fn parse_view(raw: &[u8]) -> Option<MessageView> {
    let msg = MessageParser::default().parse(raw)?;
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
    // mail-parser converts between text and HTML when one is missing; only keep real parts.
    let real_html = msg.html_part(0).is_some_and(|p| p.is_text_html());
    if real_html {
        view.html = msg.body_html(0).map(|s| s.into_owned());
    }
    let real_text = msg.text_part(0).is_some_and(|p| !p.is_text_html());
    if real_text || !real_html {
        view.text = msg.body_text(0).map(|s| s.into_owned());
    }
    for part in msg.attachments() {
        if let PartType::Message(inner) = &part.body {
            view.forwarded.push(from_message(inner));
            continue;
        }
        let mime = mime_of(part);
        let bytes = part.contents().to_vec();
        if let Some(cid) = part.content_id()
            && let Some(image_type) = inline_image_type(&mime)
        {
            let cid = cid.trim_matches(|c| c == '<' || c == '>').to_string();
            let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
            view.inline_images
                .push((cid, format!("data:{image_type};base64,{b64}")));
            // An inline image that also has a name is shown in the attachment list too.
            if part.attachment_name().is_none() {
                continue;
            }
        }
        let name = part
            .attachment_name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("attachment.{}", mime.rsplit('/').next().unwrap_or("bin")));
        view.attachments.push(Attachment { name, mime, bytes });
    }
    view
}

/// The data: URL type for an inline image, from a fixed list. The URL is spliced into HTML that
/// DOMPurify has already cleaned, so nothing from the message's own Content-Type may reach it
/// (a crafted subtype could otherwise close the attribute).
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
mod inline_image_tests {
    use super::inline_image_type;
    use wasm_bindgen_test::wasm_bindgen_test;

    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn only_known_raster_types_reach_the_data_url() {
        assert_eq!(inline_image_type("image/PNG"), Some("image/png"));
        assert_eq!(inline_image_type("image/jpg"), Some("image/jpeg"));
        assert_eq!(inline_image_type("image/png\"><script>"), None);
        assert_eq!(inline_image_type("image/svg+xml"), None);
        assert_eq!(inline_image_type("text/html"), None);
    }
}
