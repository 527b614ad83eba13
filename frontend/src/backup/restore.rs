//! Restoring a backup: [`check`] reads the whole file once and judges it (layout, versions,
//! every record, the SHA-256, the passphrase if one is given) without writing anything;
//! [`restore`] checks first, then reads the file again and writes it into an EMPTY store in
//! durable batches, the ledger, pending deletions and accounts last, together. Decision: a restore never merges. It refuses a store
//! that holds anything (nothing here is overwritten or mixed with another copy's ledger, which
//! could make a sync delete or fetch the wrong mail), and a restore that fails or is cancelled
//! while writing empties the store again: the store ends as it was, or as the backup. A restore
//! cut off while writing (the tab closed) is cleared by [`unless_restoring`], which the app
//! runs at start and before it stores an account.

use wasm_bindgen::JsValue;

use super::format::{FormatError, Item, Reader, Record};
use super::{BATCH_BYTES, CHUNK, file, restorable, settings};
use crate::account::remembered;
use crate::outbox::lock;
use crate::store::backup::{BACKED_UP, Shape, ToRestore, shape};
use crate::store::{Account, Store, StoreError, schema};

/// What a checked backup holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checked {
    /// When the backup was made (ms since the epoch).
    pub created_ms: f64,
    pub schema: u32,
    pub records: u64,
    /// Messages (bodies) it holds, synced, imported and sent.
    pub messages: u64,
    /// The accounts' addresses.
    pub accounts: Vec<String>,
    /// Whether a typed passphrase opened every remembered password.
    pub passphrase_checked: bool,
}

/// How a restore ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Restored {
    pub checked: Checked,
    /// Cancelled before the end: nothing of the backup is in the store.
    pub cancelled: bool,
}

/// Which pass a restore's progress is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    Checking,
    Writing,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RestoreError {
    #[error("{0}")]
    Format(#[from] FormatError),
    #[error(
        "this browser already holds Postbag data ({records} records): a restore writes only into an empty Postbag, so that nothing here is overwritten or mixed"
    )]
    NotEmpty { records: u64 },
    #[error("the passphrase does not open the password remembered for {account}")]
    WrongPassphrase { account: String },
    #[error("checking the passphrase failed: {0}")]
    Crypto(String),
    #[error("at byte {offset} the backup holds {what}, which Postbag does not keep")]
    Unexpected { offset: u64, what: String },
    #[error("the file could not be read: {0}")]
    Read(String),
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
    #[error("the settings could not be written: {0}")]
    Settings(String),
    #[error(
        "another Postbag tab is restoring a backup or storing an account: try again once it has finished"
    )]
    UnderWay,
}

/// The Web Lock a restore holds while it writes, and that storing an account takes, so the
/// two never mix (another tab's setup and sync into a half-written restore).
pub const LOCK: &str = "postbag-restore";

/// One pass over the file: slices of [`CHUNK`] bytes into a [`Reader`].
struct FileItems<'a> {
    file: &'a web_sys::File,
    size: u64,
    read: u64,
    reader: Reader,
}

impl<'a> FileItems<'a> {
    fn new(file: &'a web_sys::File) -> Self {
        FileItems {
            file,
            size: file.size() as u64,
            read: 0,
            reader: Reader::new(restorable()),
        }
    }

    /// The next item and its offset; `None` once the file ended whole. `cancelled` is asked
    /// before each slice is read.
    async fn next(&mut self, cancelled: &dyn Fn() -> bool) -> Result<Option<(u64, Item)>, Stop> {
        loop {
            let at = self.reader.offset();
            if let Some(item) = self.reader.next_item().map_err(RestoreError::from)? {
                return Ok(Some((at, item)));
            }
            if self.read >= self.size {
                self.reader.finish().map_err(RestoreError::from)?;
                return Ok(None);
            }
            if cancelled() {
                return Err(Stop::Cancelled);
            }
            let end = (self.read + CHUNK as u64).min(self.size);
            let bytes = file::slice(self.file, self.read, end)
                .await
                .map_err(RestoreError::Read)?;
            self.reader.push(&bytes);
            self.read = end;
        }
    }
}

/// Why a pass stopped early.
enum Stop {
    Cancelled,
    Failed(RestoreError),
}

impl From<RestoreError> for Stop {
    fn from(e: RestoreError) -> Self {
        Stop::Failed(e)
    }
}

/// Reads `file` whole and judges it without writing anything. With `passphrase`, every
/// remembered password must open with it. `progress(pass, read, size)` follows the bytes read.
/// `Ok(None)`: cancelled.
pub async fn check(
    file: &web_sys::File,
    passphrase: Option<&str>,
    cancelled: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(Pass, u64, u64),
) -> Result<Option<Checked>, RestoreError> {
    let mut pass = FileItems::new(file);
    let mut checked = Checked::default();
    let mut accounts = Vec::new();
    // A record that does not judge well is told only once the SHA-256 held: in a damaged file
    // it is the damage, and the user is told that instead.
    let mut first_bad = None;
    loop {
        let next = match pass.next(cancelled).await {
            Ok(next) => next,
            Err(Stop::Cancelled) => return Ok(None),
            Err(Stop::Failed(e)) => return Err(e),
        };
        progress(Pass::Checking, pass.read, pass.size);
        let Some((at, item)) = next else { break };
        match item {
            Item::Header(h) => {
                checked.created_ms = h.created_ms;
                checked.schema = h.schema;
            }
            Item::Record(record) => {
                match judge(at, &record) {
                    Ok(Some(account)) => accounts.push(account),
                    Ok(None) => {}
                    Err(e) => {
                        first_bad.get_or_insert(e);
                    }
                }
                checked.records += 1;
                checked.messages += u64::from(matches!(
                    &record,
                    Record::Bytes { store, .. } if shape(store) == Some(Shape::Bodies)
                ));
            }
            Item::End { .. } => {}
        }
    }
    if let Some(e) = first_bad {
        return Err(e);
    }
    if let Some(phrase) = passphrase {
        for account in &accounts {
            let Some(sealed) = &account.sealed_password else {
                continue;
            };
            match remembered::unseal(sealed, phrase).await {
                Ok(_) => {}
                Err(crate::account::crypto::CryptoError::WrongPassphrase) => {
                    return Err(RestoreError::WrongPassphrase {
                        account: account.email.clone(),
                    });
                }
                Err(e) => return Err(RestoreError::Crypto(e.to_string())),
            }
        }
        checked.passphrase_checked = accounts.iter().any(|a| a.sealed_password.is_some());
    }
    checked.accounts = accounts.into_iter().map(|a| a.id).collect();
    Ok(Some(checked))
}

/// Whether `record` is one Postbag keeps: a backed-up store's JSON object or bytes under a
/// key, or a carried setting. An account is returned, read, for the passphrase check.
fn judge(at: u64, record: &Record) -> Result<Option<Account>, RestoreError> {
    let unexpected = |what: String| RestoreError::Unexpected { offset: at, what };
    match record {
        Record::Json { store, json } => {
            if shape(store).is_none_or(Shape::bytes) {
                return Err(unexpected(format!("a record of a store named {store:?}")));
            }
            if store == schema::ACCOUNTS {
                let account: Account = serde_json::from_slice(json)
                    .map_err(|_| unexpected("an account that does not read as one".into()))?;
                return Ok(Some(account));
            }
            match serde_json::from_slice::<serde_json::Value>(json) {
                Ok(serde_json::Value::Object(_)) => Ok(None),
                _ => Err(unexpected(format!(
                    "a record of {store} that is not a JSON object"
                ))),
            }
        }
        Record::Bytes { store, key, .. } => {
            if !shape(store).is_some_and(Shape::bytes) {
                return Err(unexpected(format!("bytes for a store named {store:?}")));
            }
            match serde_json::from_slice::<serde_json::Value>(key) {
                Ok(serde_json::Value::String(_) | serde_json::Value::Array(_)) => Ok(None),
                _ => Err(unexpected(format!(
                    "bytes of {store} under a key that is not one"
                ))),
            }
        }
        Record::Setting { key, .. } if settings::carried(key) => Ok(None),
        Record::Setting { key, .. } => Err(unexpected(format!("a setting named {key:?}"))),
    }
}

/// Checks `file` ([`check`]), then writes it into `store`, which must be empty (or hold only
/// what an interrupted restore left). On any failure or Cancel while writing, the store is
/// emptied again.
pub async fn restore(
    store: &Store,
    file: &web_sys::File,
    passphrase: Option<&str>,
    cancelled: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(Pass, u64, u64),
) -> Result<Restored, RestoreError> {
    ensure_empty(store).await?;
    let Some(checked) = check(file, passphrase, cancelled, progress).await? else {
        return Ok(Restored {
            cancelled: true,
            ..Restored::default()
        });
    };
    // Filled meanwhile by another tab's restore or setup: judged again just before writing,
    // under the lock both take.
    lock::exclusive(
        LOCK,
        write_locked(store, file, checked, cancelled, progress),
    )
    .await
    .unwrap_or(Err(RestoreError::UnderWay))
}

/// [`restore`]'s writing, holding [`LOCK`].
async fn write_locked(
    store: &Store,
    file: &web_sys::File,
    checked: Checked,
    cancelled: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(Pass, u64, u64),
) -> Result<Restored, RestoreError> {
    if ensure_empty(store).await? {
        store.clear_backed_up().await?;
    }
    settings::mark_restoring(true);
    let written = write(store, file, cancelled, progress).await;
    let end = match written {
        Ok(()) => Ok(Restored {
            checked,
            cancelled: false,
        }),
        Err(stop) => {
            // Back to the empty store this began with.
            store.clear_backed_up().await?;
            match stop {
                Stop::Cancelled => Ok(Restored {
                    checked,
                    cancelled: true,
                }),
                Stop::Failed(e) => Err(e),
            }
        }
    };
    settings::mark_restoring(false);
    end
}

/// Refuses a store that holds anything, except what an interrupted restore left (its mark set,
/// no account stored yet): `Ok(true)` then, for the caller holding [`LOCK`] to clear.
async fn ensure_empty(store: &Store) -> Result<bool, RestoreError> {
    let records = store.backup_records().await?;
    if records == 0 {
        return Ok(false);
    }
    if settings::restoring() && store.accounts().await?.is_empty() {
        return Ok(true);
    }
    Err(RestoreError::NotEmpty { records })
}

/// Runs `work` (storing an account, or nothing: the app's start) once no restore is writing,
/// holding [`LOCK`]; first clears what a restore cut off while writing left (the tab closed:
/// its mark still set). Those leftovers are bodies without their ledger, or, from an older
/// Postbag, ledger lines whose messages never arrived: an account typed by hand on them would
/// let a sync delete on the server mail that is nowhere here. The backup file still holds it
/// all. Err([`RestoreError::UnderWay`]): a restore is writing in another tab.
pub async fn unless_restoring<R>(
    store: &Store,
    work: impl Future<Output = R>,
) -> Result<R, RestoreError> {
    lock::exclusive(LOCK, async {
        if settings::restoring() {
            // With an account stored, the restore's last transaction committed: whole.
            if store.accounts().await?.is_empty() {
                store.clear_backed_up().await?;
            }
            settings::mark_restoring(false);
        }
        Ok(work.await)
    })
    .await
    .unwrap_or(Err(RestoreError::UnderWay))
}

/// The second pass: every record into the store in batches of about [`BATCH_BYTES`], then the
/// settings, then the ledger, the pending deletions and the accounts in one last transaction.
/// A store cut off before it holds no ledger line without its message (which a sync would take
/// for "deleted here" and may delete on the server) and shows no account, so the app clears it
/// and offers setup and restore again. The held-back records are small (one ledger line per
/// message ever seen), the only ones kept in memory.
async fn write(
    store: &Store,
    file: &web_sys::File,
    cancelled: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(Pass, u64, u64),
) -> Result<(), Stop> {
    let mut pass = FileItems::new(file);
    let (mut batch, mut batch_bytes) = (Vec::new(), 0u64);
    let mut last = Vec::new();
    let mut restored_settings = Vec::new();
    while let Some((at, item)) = pass.next(cancelled).await? {
        let Item::Record(record) = item else { continue };
        let (size, to_restore) = match record {
            Record::Setting { key, value } => {
                restored_settings.push((key, value));
                continue;
            }
            Record::Json { store: name, json } if name == schema::OUTBOX => {
                let json = held_back(&json);
                (
                    json.len(),
                    ToRestore {
                        store: schema::OUTBOX,
                        key: None,
                        value: parse(at, &json)?,
                    },
                )
            }
            Record::Json { store: name, json } => (
                json.len(),
                ToRestore {
                    store: static_name(at, &name)?,
                    key: None,
                    value: parse(at, &json)?,
                },
            ),
            Record::Bytes {
                store: name,
                key,
                bytes,
            } => (
                bytes.len(),
                ToRestore {
                    store: static_name(at, &name)?,
                    key: Some(parse(at, &key)?),
                    value: js_sys::Uint8Array::from(&bytes[..]).into(),
                },
            ),
        };
        if [schema::ACCOUNTS, schema::LEDGER, schema::PENDING_DELETES].contains(&to_restore.store) {
            last.push(to_restore);
            continue;
        }
        batch.push(to_restore);
        batch_bytes += size as u64;
        if batch_bytes >= BATCH_BYTES {
            store
                .put_restored(&batch)
                .await
                .map_err(RestoreError::from)?;
            (batch, batch_bytes) = (Vec::new(), 0);
            progress(Pass::Writing, pass.read, pass.size);
        }
    }
    store
        .put_restored(&batch)
        .await
        .map_err(RestoreError::from)?;
    if cancelled() {
        return Err(Stop::Cancelled);
    }
    // Before the last transaction: a store with an account is a whole restore.
    settings::write(&restored_settings).map_err(RestoreError::Settings)?;
    store
        .put_restored(&last)
        .await
        .map_err(RestoreError::from)?;
    progress(Pass::Writing, pass.size, pass.size);
    Ok(())
}

/// Why a restored message waiting in the outbox is held back.
pub const HELD_BACK: &str =
    "Restored from a backup: the browser it was backed up from may have sent it since.";

/// An outbox record as restored: a message still waiting to be sent when the backup was made
/// becomes "may have been sent", which the outbox never sends on its own (the user chooses
/// "Send again" or "Mark as sent"). The browser the backup came from may have sent it since,
/// and a sent message is never sent twice silently.
fn held_back(json: &[u8]) -> Vec<u8> {
    let Ok(serde_json::Value::Object(mut item)) = serde_json::from_slice(json) else {
        return json.to_vec();
    };
    let waiting = item
        .get("state")
        .and_then(|s| s.get("kind"))
        .and_then(|k| k.as_str())
        == Some("queued");
    if !waiting {
        return json.to_vec();
    }
    item.insert(
        "state".into(),
        serde_json::json!({ "kind": "may_have_been_sent" }),
    );
    item.insert("last_error".into(), HELD_BACK.into());
    serde_json::to_vec(&item).unwrap_or_else(|_| json.to_vec())
}

/// The store's own name (`ToRestore` names stores statically); checked by [`judge`] already.
fn static_name(at: u64, name: &str) -> Result<&'static str, RestoreError> {
    BACKED_UP
        .iter()
        .map(|(n, _)| *n)
        .find(|n| *n == name)
        .ok_or_else(|| RestoreError::Unexpected {
            offset: at,
            what: format!("a store named {name:?}"),
        })
}

/// A record's or key's JSON as a JS value.
fn parse(at: u64, json: &[u8]) -> Result<JsValue, RestoreError> {
    let text = std::str::from_utf8(json).map_err(|_| RestoreError::Unexpected {
        offset: at,
        what: "JSON that is not UTF-8".into(),
    })?;
    js_sys::JSON::parse(text).map_err(|_| RestoreError::Unexpected {
        offset: at,
        what: "JSON that does not parse".into(),
    })
}
