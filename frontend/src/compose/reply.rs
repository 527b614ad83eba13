//! Drafts that answer or pass on a stored message: reply, reply to all, forward inline (a
//! quoted header block and the text) or as an attachment (the untouched bytes, message/rfc822).

use mail_parser::{HeaderValue, MimeHeaders};

use super::address::{Mailbox, join, without};
use super::build::strip_brackets;
use super::{Attachment, ComposeError, Draft, Identity, MAX_MESSAGE_ID_LEN, MAX_REFERENCES};

/// The most characters of the original's text quoted into a reply or an inline forward; past
/// it the quote is cut with a note (the original stays whole in the store, and forwarding it
/// as an attachment carries all of it).
pub const MAX_QUOTED_CHARS: usize = 512 * 1024;

/// What a reply or forward needs from the message it answers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Original {
    /// With angle brackets.
    pub message_id: Option<String>,
    /// `References` (else the one `In-Reply-To`), oldest first, with angle brackets.
    pub references: Vec<String>,
    pub from: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    /// The `Date` header as written (RFC 5322), for the attribution line.
    pub date: Option<String>,
    /// The plain text (an HTML-only message's text as mail-parser renders it).
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub raw: Vec<u8>,
}

impl Original {
    pub fn parse(raw: &[u8]) -> Result<Original, ComposeError> {
        let msg = crate::mail::parse(raw).ok_or(ComposeError::OriginalUnreadable)?;
        let mailboxes = |a: Option<&mail_parser::Address<'_>>| -> Vec<Mailbox> {
            a.map(|a| {
                a.iter()
                    .filter_map(|m| {
                        let address = m.address()?.trim();
                        super::address::is_address(address).then(|| Mailbox {
                            name: m
                                .name()
                                .map(str::trim)
                                .filter(|n| !n.is_empty())
                                .map(String::from),
                            address: address.to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
        };
        let ids = |v: &HeaderValue<'_>| -> Vec<String> {
            v.as_text_list()
                .map(|l| l.iter().filter_map(|id| bracketed(id)).collect())
                .unwrap_or_default()
        };
        let mut references = ids(msg.references());
        if references.is_empty() {
            references = ids(msg.in_reply_to()).into_iter().take(1).collect();
        }
        let mut text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
        if text.len() > MAX_QUOTED_CHARS {
            let mut cut = MAX_QUOTED_CHARS;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str("\n[… the rest of the message is not quoted]");
        }
        // The files the original carries (what mail-parser calls attachments: not the body
        // parts quoted above).
        let attachments = msg
            .attachments()
            .enumerate()
            .map(|(i, part)| Attachment {
                name: part
                    .attachment_name()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("attachment-{}", i + 1)),
                mime: part
                    .content_type()
                    .map(|ct| match ct.subtype() {
                        Some(sub) => format!("{}/{}", ct.ctype(), sub),
                        None => ct.ctype().to_string(),
                    })
                    .unwrap_or_else(|| "application/octet-stream".into())
                    .to_ascii_lowercase(),
                bytes: part.contents().to_vec(),
            })
            .collect();
        Ok(Original {
            message_id: msg.message_id().and_then(bracketed),
            references,
            from: mailboxes(msg.from()),
            reply_to: mailboxes(msg.reply_to()),
            to: mailboxes(msg.to()),
            cc: mailboxes(msg.cc()),
            subject: msg.subject().unwrap_or_default().trim().to_string(),
            date: msg.date().map(|d| d.to_rfc822()),
            text,
            attachments,
            raw: raw.to_vec(),
        })
    }

    fn own(&self, me: &Identity) -> bool {
        self.from.iter().any(|m| m.same_address(&me.address))
    }

    /// Where a reply goes: Reply-To, else From; a reply to one's own message goes to its
    /// recipients, as users expect when following up on what they sent.
    fn reply_targets(&self, me: &Identity) -> Vec<Mailbox> {
        if self.own(me) && !self.to.is_empty() {
            return self.to.clone();
        }
        if self.reply_to.is_empty() {
            self.from.clone()
        } else {
            self.reply_to.clone()
        }
    }

    fn attribution(&self) -> String {
        let who = self
            .from
            .first()
            .map(Mailbox::display)
            .unwrap_or_else(|| "someone".into());
        match &self.date {
            Some(date) => format!("On {date}, {who} wrote:"),
            None => format!("{who} wrote:"),
        }
    }

    /// `In-Reply-To` and `References` for an answer to this message.
    fn threading(&self) -> (Option<String>, Vec<String>) {
        let mut refs = self.references.clone();
        if let Some(id) = &self.message_id
            && refs.last() != Some(id)
        {
            refs.push(id.clone());
        }
        (self.message_id.clone(), bound_references(refs))
    }
}

/// A reply to the sender (Reply-To if set).
pub fn reply(original: &Original, me: &Identity) -> Draft {
    let (in_reply_to, references) = original.threading();
    Draft {
        to: join(&without(original.reply_targets(me), &[])),
        subject: prefixed("Re:", &original.subject),
        body: format!("\n\n{}\n{}", original.attribution(), quote(&original.text)),
        in_reply_to,
        references,
        ..Draft::default()
    }
}

/// A reply to the sender and every recipient, without the user's own address; the
/// original's Cc stays in Cc.
pub fn reply_all(original: &Original, me: &Identity) -> Draft {
    let me_addr = me.address.as_str();
    let mut to = original.reply_targets(me);
    if !original.own(me) {
        to.extend(original.to.iter().cloned());
    }
    let to = without(to, &[me_addr]);
    let taken: Vec<&str> = to
        .iter()
        .map(|m| m.address.as_str())
        .chain([me_addr])
        .collect();
    let cc = without(original.cc.clone(), &taken);
    Draft {
        to: join(&to),
        cc: join(&cc),
        ..reply(original, me)
    }
}

/// A forward with the original's headers and text quoted in the body, and its attachments
/// carried over.
pub fn forward_inline(original: &Original) -> Draft {
    let mut block = String::from("\n\n---------- Forwarded message ----------\n");
    let line = |block: &mut String, name: &str, value: &str| {
        if !value.is_empty() {
            block.push_str(&format!("{name}: {value}\n"));
        }
    };
    line(&mut block, "From", &join(&original.from));
    line(&mut block, "Date", original.date.as_deref().unwrap_or(""));
    line(&mut block, "Subject", &original.subject);
    line(&mut block, "To", &join(&original.to));
    line(&mut block, "Cc", &join(&original.cc));
    block.push('\n');
    block.push_str(&original.text);
    Draft {
        subject: prefixed("Fwd:", &original.subject),
        body: block,
        attachments: original.attachments.clone(),
        ..Draft::default()
    }
}

/// A forward that attaches the original, byte for byte, as message/rfc822.
pub fn forward_attached(original: &Original) -> Draft {
    // A file name safe on any file system: letters, digits, space, '-' and '_' only.
    let stem: String = original
        .subject
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " -_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let stem = if stem.is_empty() {
        "message".into()
    } else {
        stem
    };
    Draft {
        subject: prefixed("Fwd:", &original.subject),
        forwarded: Some(Attachment {
            name: format!("{stem}.eml"),
            mime: "message/rfc822".into(),
            bytes: original.raw.clone(),
        }),
        ..Draft::default()
    }
}

/// `prefix subject`, unless the subject already starts with it (any case), or with the
/// other common spelling (`Fw:` for `Fwd:`, `Aw:`/`Sv:` are left alone: they are not ours
/// to read). Never "Re: Re: ".
pub fn prefixed(prefix: &str, subject: &str) -> String {
    let subject = subject.trim();
    let lower = subject.to_ascii_lowercase();
    let same = match prefix {
        "Fwd:" => lower.starts_with("fwd:") || lower.starts_with("fw:"),
        _ => lower.starts_with(&prefix.to_ascii_lowercase()),
    };
    if same {
        subject.to_string()
    } else if subject.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix} {subject}")
    }
}

/// Each line behind `> ` (`>` alone before a line already quoted, so levels stay `>>`).
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for line in text.replace("\r\n", "\n").trim_end().split('\n') {
        let line = line.trim_end();
        if line.is_empty() {
            out.push_str(">\n");
        } else if line.starts_with('>') {
            out.push('>');
            out.push_str(line);
            out.push('\n');
        } else {
            out.push_str("> ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// At most [`MAX_REFERENCES`] ids: the thread's root and the newest ones.
fn bound_references(refs: Vec<String>) -> Vec<String> {
    if refs.len() <= MAX_REFERENCES {
        return refs;
    }
    let mut out = vec![refs[0].clone()];
    out.extend(refs[refs.len() - (MAX_REFERENCES - 1)..].iter().cloned());
    out
}

/// `<id>` for an id mail-parser gives without brackets; `None` for one that cannot travel in
/// a header (too long, spaces, not ASCII).
fn bracketed(id: &str) -> Option<String> {
    let bare = strip_brackets(id);
    let fine = !bare.is_empty()
        && bare.len() <= MAX_MESSAGE_ID_LEN
        && bare
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    fine.then(|| format!("<{bare}>"))
}
