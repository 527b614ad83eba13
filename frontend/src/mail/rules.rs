//! Rules matched against a new message while its summary is built, before the batch that
//! stores it is committed: a message a rule files away is written once, in its folder. Pure.
//!
//! Every matching rule applies, in the user's order; the first one that moves the message
//! decides its folder (a later move cannot take it out again), marks accumulate.

use crate::store::{Rule, RuleField, RuleTest, Summary};

/// A header longer than this is matched on its first this many characters: a hostile
/// message's megabyte header costs no more than a normal one.
pub const MATCHED_CHARS: usize = 4096;

/// What rules look at, taken from the parsed message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// From: names and addresses.
    pub sender: String,
    /// To and Cc: names and addresses.
    pub recipients: String,
    pub subject: String,
    pub list_id: String,
    /// Bytes as downloaded.
    pub size: u64,
}

/// Why a rule cannot be saved as written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("the rule needs a value to compare with")]
    EmptyValue,
    #[error("a size is a number of bytes, optionally with K or M (e.g. 500K, 2M): \"{0}\"")]
    BadSize(String),
    #[error("\"greater than\" compares sizes only")]
    GreaterThanText,
    #[error("the rule does nothing: choose a folder, mark read or flag")]
    NoAction,
}

/// Checks a rule the user wrote before it is saved.
pub fn validate(rule: &Rule) -> Result<(), RuleError> {
    let value = rule.value.trim();
    if value.is_empty() {
        return Err(RuleError::EmptyValue);
    }
    if rule.field == RuleField::Size {
        parse_size(value).ok_or_else(|| RuleError::BadSize(shorten(value)))?;
    } else if rule.test == RuleTest::GreaterThan {
        return Err(RuleError::GreaterThanText);
    }
    if rule.move_to.is_none() && !rule.mark_read && !rule.flag {
        return Err(RuleError::NoAction);
    }
    Ok(())
}

fn shorten(value: &str) -> String {
    value.chars().take(40).collect()
}

/// `"1500"`, `"500K"`, `"2 MB"` as bytes (K and M are 1024-based, like the list's sizes).
pub fn parse_size(value: &str) -> Option<u64> {
    let v = value.trim().to_ascii_lowercase();
    let v = v.strip_suffix('b').unwrap_or(&v).trim_end();
    let (digits, scale) = match v.chars().last()? {
        'k' => (&v[..v.len() - 1], 1024),
        'm' => (&v[..v.len() - 1], 1024 * 1024),
        _ => (v, 1),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(scale)
}

/// Whether `rule` matches a message with these facts.
pub fn matches(rule: &Rule, facts: &Facts) -> bool {
    let wanted = rule.value.trim();
    if wanted.is_empty() {
        return false; // never "everything" by accident
    }
    let text = match rule.field {
        RuleField::Size => {
            let Some(limit) = parse_size(wanted) else {
                return false;
            };
            return match rule.test {
                RuleTest::GreaterThan => facts.size > limit,
                RuleTest::Equals | RuleTest::Contains => facts.size == limit,
            };
        }
        RuleField::Sender => &facts.sender,
        RuleField::Recipient => &facts.recipients,
        RuleField::Subject => &facts.subject,
        RuleField::ListId => &facts.list_id,
    };
    let text = fold(text);
    let wanted = fold(wanted);
    match rule.test {
        RuleTest::Contains => text.contains(&wanted),
        RuleTest::Equals => text.trim() == wanted,
        RuleTest::GreaterThan => false,
    }
}

/// Lower case (Unicode), whitespace runs as one space, at most [`MATCHED_CHARS`] characters
/// looked at.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MATCHED_CHARS));
    let mut space = false;
    for c in text.chars().take(MATCHED_CHARS) {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Applies every matching rule to `summary`, in order. `folders` tells whether a folder id
/// still exists: a rule whose folder was deleted since files nothing (the message stays in
/// Inbox) but still marks.
pub fn apply(rules: &[Rule], facts: &Facts, folders: impl Fn(&str) -> bool, summary: &mut Summary) {
    let mut moved = false;
    for rule in rules.iter().filter(|r| matches(r, facts)) {
        if let Some(folder) = rule.move_to.as_deref()
            && !moved
            && folders(folder)
        {
            summary.folder = folder.to_string();
            moved = true;
        }
        summary.read |= rule.mark_read;
        summary.flagged |= rule.flag;
    }
}

#[cfg(test)]
mod tests;
