//! The IndexedDB schema and its versioned migrations.
//!
//! Each migration moves the database from version `n` to `n + 1` and runs inside the
//! `versionchange` transaction, so a half-applied upgrade never becomes visible. Add a
//! migration by appending a function to [`MIGRATIONS`]; never edit a released one.

use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    IdbCursorWithValue, IdbDatabase, IdbIndexParameters, IdbObjectStoreParameters, IdbTransaction,
};

pub const DB_NAME: &str = "postbag";

/// Object store names. Raw bytes live apart from summaries so listing never loads bodies.
pub const ACCOUNTS: &str = "accounts";
pub const SUMMARIES: &str = "summaries";
pub const BODIES: &str = "bodies";
pub const LEDGER: &str = "ledger";
pub const PENDING_DELETES: &str = "pending_deletes";
/// Drafts being written (keyed by `id`), attachments inside (base64 through JSON).
pub const DRAFTS: &str = "drafts";
/// The outbox and the sent mail: one record per message (keyed by `id`, its Message-ID),
/// its state and envelope; the bytes apart in [`OUTBOX_RAW`], keyed out of line by `id`, so
/// listing never loads them.
pub const OUTBOX: &str = "outbox";
pub const OUTBOX_RAW: &str = "outbox_raw";
/// The live copy on disk: the picked folder's `FileSystemDirectoryHandle` (structured-cloned,
/// not JSON) under the key `"folder"` (`store/disk_copy.rs`).
pub const DISK_COPY: &str = "disk_copy";
/// The user's own folders (keyed by `id`; `store/folders.rs`). Messages name their folder by
/// that id, so a rename rewrites one record.
pub const FOLDERS: &str = "folders";
/// The rules applied to new mail at download (keyed by `id`, ordered by `position`;
/// `store/rules.rs`).
pub const RULES: &str = "rules";

/// Index names.
pub const BY_ACCOUNT_DATE: &str = "by_account_date";
pub const BY_ACCOUNT: &str = "by_account";
/// Summaries by `trashed_at`: only messages in Trash have one (a number; `null` elsewhere, and
/// a record whose key path gives no key is left out of an index), so emptying Trash reads
/// Trash only, not every summary.
pub const BY_TRASHED_AT: &str = "by_trashed_at";

type Migration = fn(&IdbDatabase, &IdbTransaction) -> Result<(), JsValue>;

/// Migration `i` upgrades version `i` to `i + 1`.
pub const MIGRATIONS: &[Migration] = &[
    v1_initial,
    v2_pending_deletes,
    v3_ledger_size_and_gone,
    v4_drafts_and_outbox,
    v5_disk_copy,
    v6_folders_and_rules,
    // The full-text index's stores, and all stored mail queued for indexing.
    super::search::migration,
    // Search terms folded fully (ß is ss) and CJK cut into bigrams: all mail indexed again.
    super::search::renormalised,
    // Block postings (one record per term per slice, numbered messages): all mail indexed
    // again into the new stores.
    super::search::blocks_migration,
    v10_trash_index,
    // Edge terms (a term's first three characters) for short prefixes: all mail indexed again.
    super::search::edges_migration,
];

/// The version the app expects: one past the last migration.
pub fn current_version() -> u32 {
    MIGRATIONS.len() as u32
}

fn compound(a: &str, b: &str) -> JsValue {
    Array::of2(&JsValue::from_str(a), &JsValue::from_str(b)).into()
}

fn v1_initial(db: &IdbDatabase, _tx: &IdbTransaction) -> Result<(), JsValue> {
    let by_id = IdbObjectStoreParameters::new();
    by_id.set_key_path(&JsValue::from_str("id"));
    db.create_object_store_with_optional_parameters(ACCOUNTS, &by_id)?;

    let by_uidl = IdbObjectStoreParameters::new();
    by_uidl.set_key_path(&compound("account", "uidl"));
    let summaries = db.create_object_store_with_optional_parameters(SUMMARIES, &by_uidl)?;
    summaries.create_index_with_str_sequence(BY_ACCOUNT_DATE, &compound("account", "date"))?;

    // Raw RFC 5322 bytes, keyed out of line by [account, uidl].
    db.create_object_store(BODIES)?;

    let ledger = db.create_object_store_with_optional_parameters(LEDGER, &by_uidl)?;
    ledger.create_index_with_str(BY_ACCOUNT, "account")?;
    Ok(())
}

fn v2_pending_deletes(db: &IdbDatabase, tx: &IdbTransaction) -> Result<(), JsValue> {
    // "Delete on server when deleted here": a queue of UIDLs executed at the next sync.
    let by_uidl = IdbObjectStoreParameters::new();
    by_uidl.set_key_path(&compound("account", "uidl"));
    let pending = db.create_object_store_with_optional_parameters(PENDING_DELETES, &by_uidl)?;
    pending.create_index_with_str(BY_ACCOUNT, "account")?;
    // Listing an account's messages regardless of date (counts, bulk removal).
    let summaries = tx.object_store(SUMMARIES)?;
    let params = IdbIndexParameters::new();
    params.set_unique(false);
    summaries.create_index_with_str_and_optional_parameters(BY_ACCOUNT, "account", &params)?;
    Ok(())
}

fn v3_ledger_size_and_gone(_db: &IdbDatabase, tx: &IdbTransaction) -> Result<(), JsValue> {
    // Ledger lines gain `size` (what the server listed, to recognise a reused UIDL) and
    // `gone_since` (unlisted since, to forget lines only after a grace period). Old lines get
    // both as null: no size means "trust the UIDL", as before. The version bump matters as
    // much as the rewrite: an older app (a tab not yet updated) can no longer open the
    // database, so it cannot prune lines early or rewrite them without the new fields.
    let ledger = tx.object_store(LEDGER)?;
    let cursor_req = ledger.open_cursor()?;
    let req = cursor_req.clone();
    let step = Closure::<dyn FnMut(web_sys::Event)>::new(move |_ev: web_sys::Event| {
        let Ok(cursor) = req.result() else { return };
        let Some(cursor) = cursor.dyn_ref::<IdbCursorWithValue>() else {
            return; // null: every line visited
        };
        let Ok(line) = cursor.value() else { return };
        for field in ["size", "gone_since"] {
            let key = JsValue::from_str(field);
            if !js_sys::Reflect::has(&line, &key).unwrap_or(true) {
                let _ = js_sys::Reflect::set(&line, &key, &JsValue::NULL);
            }
        }
        // A line left as it was still reads the same (the fields default to None).
        let _ = cursor.update(&line);
        let _ = cursor.continue_();
    });
    cursor_req.set_onsuccess(Some(step.as_ref().unchecked_ref()));
    // The handler must outlive this function; it runs once per line during the upgrade only.
    step.forget();
    Ok(())
}

fn v4_drafts_and_outbox(db: &IdbDatabase, _tx: &IdbTransaction) -> Result<(), JsValue> {
    // New stores only: every existing record stays as it is. Accounts gain `sending` through
    // `#[serde(default)]` (absent reads as `None`), so no account is rewritten here.
    let by_id = IdbObjectStoreParameters::new();
    by_id.set_key_path(&JsValue::from_str("id"));
    let drafts = db.create_object_store_with_optional_parameters(DRAFTS, &by_id)?;
    drafts.create_index_with_str(BY_ACCOUNT, "account")?;
    let outbox = db.create_object_store_with_optional_parameters(OUTBOX, &by_id)?;
    outbox.create_index_with_str(BY_ACCOUNT, "account")?;
    db.create_object_store(OUTBOX_RAW)?;
    Ok(())
}

fn v5_disk_copy(db: &IdbDatabase, _tx: &IdbTransaction) -> Result<(), JsValue> {
    // A new store only, keyed out of line: what it holds is a browser handle, not a record.
    db.create_object_store(DISK_COPY)?;
    Ok(())
}

fn v6_folders_and_rules(db: &IdbDatabase, _tx: &IdbTransaction) -> Result<(), JsValue> {
    // New stores only. Summaries gain `folder` through `#[serde(default)]` (absent reads as
    // Inbox), so no message is rewritten here: the list is filtered by folder in memory.
    let by_id = IdbObjectStoreParameters::new();
    by_id.set_key_path(&JsValue::from_str("id"));
    db.create_object_store_with_optional_parameters(FOLDERS, &by_id)?;
    db.create_object_store_with_optional_parameters(RULES, &by_id)?;
    Ok(())
}

fn v10_trash_index(_db: &IdbDatabase, tx: &IdbTransaction) -> Result<(), JsValue> {
    // An index only: the browser fills it from the stored summaries within this upgrade.
    let summaries = tx.object_store(SUMMARIES)?;
    let params = IdbIndexParameters::new();
    params.set_unique(false);
    summaries.create_index_with_str_and_optional_parameters(
        BY_TRASHED_AT,
        "trashed_at",
        &params,
    )?;
    Ok(())
}

/// Runs the migrations from version `old` up to version `new`.
pub fn migrate(db: &IdbDatabase, tx: &IdbTransaction, old: u32, new: u32) -> Result<(), JsValue> {
    for (i, step) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(old as usize)
        .take(new.saturating_sub(old) as usize)
    {
        step(db, tx)
            .map_err(|e| JsValue::from_str(&format!("migration to v{} failed: {:?}", i + 1, e)))?;
    }
    Ok(())
}
