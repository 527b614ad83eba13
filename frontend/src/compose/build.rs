//! A draft into the bytes of one message, with its envelope.

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::message_id::MessageId;
use mail_builder::mime::MimePart;

use super::address::{Mailbox, is_address, parse_list};
use super::{ComposeError, Draft, Identity};

/// What the caller supplies that a pure function cannot make: the time and the randomness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Seconds since the Unix epoch (the `Date` header, written in UTC).
    pub unix_secs: i64,
    /// The random part of the `Message-ID` (crypto.getRandomValues in the app).
    pub random: [u8; 16],
}

/// A message ready for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Built {
    /// The RFC 5322 bytes, CRLF line ends, no Bcc header.
    pub raw: Vec<u8>,
    /// `MAIL FROM`.
    pub envelope_from: String,
    /// `RCPT TO`, in order: To, Cc, then Bcc, each address once.
    pub recipients: Vec<String>,
    /// With angle brackets.
    pub message_id: String,
}

/// Builds `draft` as `identity`. Refuses a message over `max_bytes` (measured on the bytes
/// that will be sent) with [`ComposeError::TooLarge`].
pub fn build(
    draft: &Draft,
    identity: &Identity,
    stamp: Stamp,
    max_bytes: usize,
) -> Result<Built, ComposeError> {
    let sender = identity.address.trim();
    if !is_address(sender) {
        return Err(ComposeError::BadSender(sender.to_string()));
    }
    let to = parse_list(&draft.to)?;
    let cc = parse_list(&draft.cc)?;
    let bcc = parse_list(&draft.bcc)?;
    let mut recipients: Vec<String> = Vec::new();
    for m in to.iter().chain(&cc).chain(&bcc) {
        if !recipients.iter().any(|r| m.same_address(r)) {
            recipients.push(m.address.clone());
        }
    }
    if recipients.is_empty() {
        return Err(ComposeError::NoRecipients);
    }
    // Before building anything large: attachments grow by a third in base64.
    let estimate = draft.body.len()
        + draft
            .attachments
            .iter()
            .chain(&draft.forwarded)
            .map(|a| a.bytes.len() / 3 * 4)
            .sum::<usize>();
    if estimate > max_bytes {
        return Err(ComposeError::TooLarge {
            size: estimate,
            limit: max_bytes,
        });
    }

    let message_id = message_id(sender, &stamp.random);
    let name = identity.name.trim();
    let from = Address::new_address((!name.is_empty()).then_some(name), sender);
    let mut builder = MessageBuilder::new()
        .from(from)
        .subject(draft.subject.trim())
        .date(stamp.unix_secs)
        .message_id(MessageId::new(strip_brackets(&message_id).to_string()));
    if !to.is_empty() {
        builder = builder.to(list(&to));
    }
    if !cc.is_empty() {
        builder = builder.cc(list(&cc));
    }
    // Bcc recipients are in the envelope only: a Bcc header would show every blind copy's
    // address to everyone (RFC 5322 §3.6.3 allows either; users expect the blind kind).
    if let Some(parent) = &draft.in_reply_to {
        builder = builder.in_reply_to(MessageId::new(strip_brackets(parent).to_string()));
    }
    if !draft.references.is_empty() {
        let ids: Vec<String> = draft
            .references
            .iter()
            .map(|r| strip_brackets(r).to_string())
            .collect();
        builder = builder.references(MessageId::from(ids));
    }

    let text = MimePart::new("text/plain", crlf(&draft.body));
    let mut parts = vec![];
    for a in &draft.attachments {
        let mime = if a.mime.trim().is_empty() {
            "application/octet-stream"
        } else {
            a.mime.as_str()
        };
        parts.push(MimePart::new(mime.to_string(), a.bytes.as_slice()).attachment(a.name.as_str()));
    }
    if let Some(f) = &draft.forwarded {
        // RFC 2046 §5.2.1: message/rfc822 is never base64 or quoted-printable; the bytes go as
        // they are (8bit when they hold any, which the server's 8BITMIME carries).
        let encoding = if f.bytes.is_ascii() { "7bit" } else { "8bit" };
        parts.push(
            MimePart::new("message/rfc822", f.bytes.as_slice())
                .attachment(f.name.as_str())
                .transfer_encoding(encoding),
        );
    }
    builder = if parts.is_empty() {
        builder.body(text)
    } else {
        parts.insert(0, text);
        builder.body(MimePart::new("multipart/mixed", parts))
    };
    let raw = builder
        .write_to_vec()
        .expect("writing into a Vec cannot fail");
    if raw.len() > max_bytes {
        return Err(ComposeError::TooLarge {
            size: raw.len(),
            limit: max_bytes,
        });
    }
    Ok(Built {
        raw,
        envelope_from: sender.to_string(),
        recipients,
        message_id,
    })
}

fn list(mailboxes: &[Mailbox]) -> Address<'static> {
    Address::new_list(
        mailboxes
            .iter()
            .map(|m| Address::new_address(m.name.clone(), m.address.clone()))
            .collect(),
    )
}

/// `<hex@domain>`, the domain taken from the sender so the id is unique to its owner
/// (RFC 5322 §3.6.4). A domain that is not plain ASCII (not yet punycoded) is replaced, as an
/// id must be ASCII.
pub fn message_id(sender: &str, random: &[u8; 16]) -> String {
    let domain = sender
        .rsplit_once('@')
        .map(|(_, d)| d.trim().to_ascii_lowercase())
        .filter(|d| {
            !d.is_empty()
                && d.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        })
        .unwrap_or_else(|| "postbag.invalid".into());
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("<{hex}@{domain}>")
}

pub(super) fn strip_brackets(id: &str) -> &str {
    id.trim().trim_start_matches('<').trim_end_matches('>')
}

/// Text with CRLF line ends, whatever the textarea gave (browsers normalise to LF).
fn crlf(text: &str) -> String {
    let lf = text.replace("\r\n", "\n").replace('\r', "\n");
    lf.replace('\n', "\r\n")
}
