//! Address lists as the user types them ("Bob <bob@example.org>, carol@example.org"), parsed by
//! mail-parser's own address grammar (quoted names, comments, groups, encoded words), so the
//! app reads what it writes the way every other client does.

use mail_parser::MessageParser;

use super::ComposeError;

/// One address with its display name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    /// How the compose form shows it again: `Name <addr>` or the bare address.
    pub fn display(&self) -> String {
        match &self.name {
            Some(name) if needs_quotes(name) => {
                format!(
                    "\"{}\" <{}>",
                    name.replace('\\', "\\\\").replace('"', "\\\""),
                    self.address
                )
            }
            Some(name) => format!("{name} <{}>", self.address),
            None => self.address.clone(),
        }
    }

    pub fn same_address(&self, other: &str) -> bool {
        self.address.eq_ignore_ascii_case(other.trim())
    }
}

fn needs_quotes(name: &str) -> bool {
    name.chars().any(|c| "()<>[]:;@\\,.\"".contains(c))
}

/// The most characters an address list may have (a typed list, or a header replied to): far
/// beyond any real list, small enough that parsing it costs nothing.
pub const MAX_LIST_CHARS: usize = 64 * 1024;

/// Parses a comma-separated list. An empty list is `Ok(vec![])`; anything that is not an
/// address is named in the error, as typed.
pub fn parse_list(text: &str) -> Result<Vec<Mailbox>, ComposeError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    if text.len() > MAX_LIST_CHARS || text.contains(['\r', '\n']) {
        return Err(ComposeError::BadAddress(shorten(text)));
    }
    let header = format!("To: {text}\r\n\r\n");
    let parsed = MessageParser::new()
        .parse_headers(header.as_bytes())
        .ok_or_else(|| ComposeError::BadAddress(shorten(text)))?;
    let Some(list) = parsed.to() else {
        return Err(ComposeError::BadAddress(shorten(text)));
    };
    let mut out = Vec::new();
    for addr in list.iter() {
        let name = addr
            .name()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(String::from);
        match addr.address() {
            Some(a) if is_address(a) => out.push(Mailbox {
                name,
                address: a.trim().to_string(),
            }),
            // mail-parser keeps a word without `@` as a name alone: that is what was mistyped.
            other => {
                return Err(ComposeError::BadAddress(shorten(
                    other.or(name.as_deref()).unwrap_or(text),
                )));
            }
        }
    }
    if out.is_empty() {
        return Err(ComposeError::BadAddress(shorten(text)));
    }
    Ok(out)
}

/// A plausible `local@domain`: one `@`, both sides non-empty, no spaces or controls, a domain
/// with a dot or a bracketed literal. The submission server has the last word.
pub fn is_address(a: &str) -> bool {
    let a = a.trim();
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && a.len() <= 254
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        && (domain.contains('.') || domain.starts_with('['))
}

/// Joins mailboxes for a form field.
pub fn join(list: &[Mailbox]) -> String {
    list.iter()
        .map(Mailbox::display)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `list` without the addresses in `drop` and without repeats (first one kept).
pub fn without(list: Vec<Mailbox>, drop: &[&str]) -> Vec<Mailbox> {
    let mut out: Vec<Mailbox> = Vec::new();
    for m in list {
        if drop.iter().any(|d| m.same_address(d)) || out.iter().any(|o| o.same_address(&m.address))
        {
            continue;
        }
        out.push(m);
    }
    out
}

/// Errors quote what was typed, cut so a pasted novel does not fill the screen.
fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}
