//! Export of stored mail as an mboxrd file, streamed: the store is read in keyed pages
//! ([`PAGE`] summaries, then their raw bytes in batches of at most [`BATCH_BYTES`]), each batch
//! is quoted into one chunk ([`mboxrd`]) and handed to a [`Sink`] before the next is read. The
//! tab holds one batch at a time, whatever the archive's size.

pub mod mboxrd;
mod sink;

pub use sink::{FileKind, MBOX, Opened, Sink};

use crate::store::{MessageKey, Scope, Store, StoreError, Summary};

/// Summaries read per page (they are small: no bytes of the message).
pub const PAGE: u32 = 200;
/// Raw bytes read per batch, at most (a single larger message makes a batch of its own).
pub const BATCH_BYTES: u64 = 4 << 20;

/// How an export ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exported {
    /// Messages written to the file.
    pub messages: u32,
    /// Bytes written to the file.
    pub bytes: u64,
    /// Messages listed whose bytes were gone by the time they were read (deleted meanwhile).
    pub missing: u32,
    /// Messages left out because only their start is stored here (headers-first on a slow
    /// link): an archive must not pass a partial copy off as the message. Their whole is on
    /// the server, which never deletes them while so (`docs/slow-links.md`).
    pub partial: u32,
    pub cancelled: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ExportError {
    #[error("reading the stored mail failed: {0}")]
    Store(#[from] StoreError),
    #[error("writing the file failed: {0}")]
    Write(String),
}

/// Where the chunks of an export go, in order. [`Sink`] is the browser's; tests collect them.
// wasm32 is single-threaded: the futures need no `Send` bound, which is what the lint is about.
#[allow(async_fn_in_trait)]
pub trait Write {
    /// Takes one chunk (whole messages, quoted); resolves once it left the tab's memory.
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), String>;
}

impl Write for Sink {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), String> {
        Sink::write(self, chunk).await
    }
}

/// Writes every message of `scope` to `sink` in mboxrd form. `progress(done, total)` is called
/// after each batch; `cancelled` is asked before each batch, and a cancelled export stops there
/// (the caller discards the sink). The sink is not finished here.
pub async fn export(
    store: &Store,
    scope: &Scope,
    sink: &mut impl Write,
    cancelled: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<Exported, ExportError> {
    let total = store.count_messages(scope).await?;
    let mut done = Exported::default();
    progress(0, total);
    let mut after: Option<MessageKey> = None;
    loop {
        let page = store.summaries_after(scope, after.as_ref(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.account.clone(), last.uidl.clone()));
        for batch in batches(&page) {
            if cancelled() {
                done.cancelled = true;
                return Ok(done);
            }
            let (partial, whole): (Vec<&Summary>, Vec<&Summary>) =
                batch.iter().partition(|s| s.partial_of.is_some());
            done.partial += partial.len() as u32;
            let keys: Vec<MessageKey> = whole
                .iter()
                .map(|s| (s.account.clone(), s.uidl.clone()))
                .collect();
            let raws = store.raws(&keys).await?;
            let mut chunk = Vec::with_capacity(whole.iter().map(|s| s.size as usize + 64).sum());
            for (summary, raw) in whole.iter().zip(raws) {
                match raw {
                    Some(raw) => {
                        mboxrd::append(&mut chunk, &raw, summary.date);
                        done.messages += 1;
                    }
                    None => done.missing += 1,
                }
            }
            done.bytes += chunk.len() as u64;
            sink.write(chunk).await.map_err(ExportError::Write)?;
            // Messages stored meanwhile may be read too: never "k of N" with k > N.
            let seen = done.messages + done.missing + done.partial;
            progress(seen, total.max(seen));
        }
        // A short page is the last one, except in a list whose messages may have been deleted
        // meanwhile (its pages skip them): there only an empty page ends it.
        if page.len() < PAGE as usize && !matches!(scope, Scope::Listed(_)) {
            break;
        }
    }
    Ok(done)
}

/// Splits a page into runs of at most [`BATCH_BYTES`] by the stored sizes (one message at
/// least per run).
fn batches(page: &[Summary]) -> Vec<&[Summary]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, s) in page.iter().enumerate() {
        let size = u64::from(s.size);
        if i > start && bytes + size > BATCH_BYTES {
            out.push(&page[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < page.len() {
        out.push(&page[start..]);
    }
    out
}

/// The file name offered: `postbag-YYYY-MM-DD.mbox`, with the account for one account and
/// `-selection` for a search result.
pub fn file_name(scope: &Scope, now_ms: f64) -> String {
    let day: String = mboxrd_day(now_ms);
    match scope {
        Scope::All => format!("postbag-{day}.mbox"),
        Scope::Listed(_) => format!("postbag-selection-{day}.mbox"),
        Scope::Account(id) => format!("postbag-{}-{day}.mbox", safe_stem(id, "@.-_", 60)),
    }
}

/// `text` made safe as part of a file name on any file system: letters, digits and the
/// characters in `keep` stay, anything else becomes `_`; at most `max` characters.
pub fn safe_stem(text: &str, keep: &str, max: usize) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || keep.contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect()
}

fn mboxrd_day(ms: f64) -> String {
    let iso: String = js_sys::Date::new(&ms.into()).to_iso_string().into();
    iso.chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn summary(size: u32) -> Summary {
        Summary {
            account: "a".into(),
            uidl: size.to_string(),
            from: String::new(),
            to: String::new(),
            subject: String::new(),
            date: 0.0,
            size,
            has_attachments: false,
            snippet: String::new(),
            read: false,
            flagged: false,
            folder: crate::store::INBOX.into(),
            trashed_at: None,
            message_id: None,
            in_reply_to: None,
            references: Vec::new(),
            ids_read: true,
            partial_of: None,
        }
    }

    fn check(sizes: &[u32], expected: &[usize]) {
        let page: Vec<Summary> = sizes.iter().map(|&s| summary(s)).collect();
        let lens: Vec<usize> = batches(&page).iter().map(|b| b.len()).collect();
        assert_eq!(lens, expected, "{sizes:?}");
    }

    #[test]
    fn batches_are_bounded_by_bytes() {
        const MB: u32 = 1 << 20;
        check(&[], &[]);
        check(&[10, 20, 30], &[3]);
        check(&[MB, MB, MB, MB], &[4]);
        check(&[MB, MB, MB, MB, 1], &[4, 1]);
        // A message larger than a batch is a batch of its own, never skipped.
        check(&[1, 10 * MB, 1], &[1, 1, 1]);
        check(&[10 * MB], &[1]);
    }

    #[test]
    fn file_names_are_safe() {
        let jan_1 = 1_704_099_903_000.0;
        assert_eq!(file_name(&Scope::All, jan_1), "postbag-2024-01-01.mbox");
        assert_eq!(
            file_name(&Scope::Listed(Vec::new()), jan_1),
            "postbag-selection-2024-01-01.mbox"
        );
        assert_eq!(
            file_name(&Scope::Account("me@x.org/../é".into()), jan_1),
            "postbag-me@x.org_.._é-2024-01-01.mbox"
        );
    }
}
