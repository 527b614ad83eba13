//! The reader's MIME-to-document path: raw bytes -> `parse_view` -> the iframe document.
//!
//! Checks, for any input: no panic; every leaf part of the message is reachable (shown as a
//! body block or the plain alternative, listed as an attachment, kept as an inline image or
//! shown as a forwarded message), except blank text parts; the iframe document grows only by
//! a fixed head around the (already bounded) body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail_parser::{MessageParser, PartType};
use postbag_web::mail::sanitize::iframe_document;
use postbag_web::mail::{Block, parse_view};

/// Leaf parts, and how many of them are blank text (which the reader may leave out).
fn leaves(raw: &[u8]) -> Option<(usize, usize)> {
    let msg = MessageParser::default().parse(raw)?;
    let mut leaves = 0;
    let mut blank = 0;
    for part in &msg.parts {
        match &part.body {
            PartType::Multipart(_) => {}
            PartType::Text(t) | PartType::Html(t) => {
                leaves += 1;
                if t.trim().is_empty() {
                    blank += 1;
                }
            }
            _ => leaves += 1,
        }
    }
    Some((leaves, blank))
}

fuzz_target!(|raw: &[u8]| {
    let Some(view) = parse_view(raw) else {
        return;
    };
    let (leaves, blank) = leaves(raw).expect("parse_view parsed it");
    // An inline image is also listed when the HTML does not show it: count each part once.
    let listed_images = view
        .attachments
        .iter()
        .filter(|a| view.inline_images.iter().any(|i| i.bytes == a.bytes && a.mime == i.mime))
        .count();
    let reached = view.body.len()
        + view.plain.len()
        + view.attachments.len()
        + view.forwarded.len()
        + view.inline_images.len().saturating_sub(listed_images);
    assert!(
        reached + blank >= leaves,
        "{leaves} leaf parts ({blank} blank) but only {reached} reachable"
    );
    for block in &view.body {
        if let Block::Html(html) = block {
            let doc = iframe_document(html, false);
            assert!(doc.len() <= html.len() + 1024, "the document adds more than its head");
        }
    }
});
