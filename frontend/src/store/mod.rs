//! The local mail store: IndexedDB behind a small typed API.
//!
//! Views never touch IndexedDB; they call [`Store`]. Architecture invariant: a message's raw
//! bytes, its summary and its ledger line are written in ONE transaction (with other messages
//! of its batch: [`Store::begin_commit`]), and callers that go on to delete the message on the
//! server await that transaction's `complete` event first (the returned [`Commit`]).

mod accounts;
pub mod backup;
pub mod device;
mod disk_copy;
mod drafts;
mod export;
mod folders;
mod idb;
mod identity;
mod import;
mod ledger;
mod marks;
mod messages;
mod newest;
mod outbox;
mod rules;
pub mod schema;
pub mod search;
mod thread_ids;
pub mod types;

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbTransaction, IdbTransactionMode};

pub use accounts::{is_received, newest_first};
pub use drafts::StoredDraft;
pub use export::{MessageKey, Scope};
pub use folders::{ARCHIVE, RESTORED_TO, TRASH, UserFolder, is_copy};
pub use identity::identity;
pub use import::IMPORTED;
pub use marks::Marks;
pub use messages::{Commit, NewMessage};
pub use newest::Newest;
pub use outbox::{OutboxItem, OutboxState, RecipientRefusal, sent_folder};
pub use rules::{Rule, RuleField, RuleTest};
pub use types::*;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("IndexedDB is not available in this browser")]
    Unavailable,
    #[error("IndexedDB error: {0}")]
    Js(String),
    #[error("stored record could not be decoded: {0}")]
    Codec(String),
}

impl StoreError {
    pub(crate) fn from_js(value: JsValue) -> Self {
        if let Some(ex) = value.dyn_ref::<web_sys::DomException>() {
            return StoreError::Js(format!("{}: {}", ex.name(), ex.message()));
        }
        StoreError::Js(value.as_string().unwrap_or_else(|| format!("{value:?}")))
    }
}

/// What another tab's connection to the same database does to this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtherTab {
    /// This open wants a newer version and waits for older connections elsewhere to close.
    BlocksUpgrade,
    /// Another tab (a newer build) asked for a newer version or deleted the database: this
    /// connection closed itself, and the page must reload to use the store again.
    Upgraded,
}

/// A handle to the open database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: IdbDatabase,
}

impl Store {
    /// Opens (creating or migrating) the database named `name` at the current schema version.
    pub async fn open_named(name: &str) -> Result<Store, StoreError> {
        Self::open_at(name, schema::current_version()).await
    }

    /// Opens `name` migrated up to `version` only. Tests use it to build an old database and
    /// then check that [`Store::open_named`] migrates it.
    pub async fn open_at(name: &str, version: u32) -> Result<Store, StoreError> {
        Self::open_watched(name, version, |_| {}).await
    }

    /// Opens `name` at `version`, telling `other_tab` when another tab's connection holds up
    /// the upgrade or, later, asks for one.
    ///
    /// Architecture invariant: every connection closes itself on `versionchange`. A tab left
    /// open on an older build would otherwise block the newer build's upgrade forever (the
    /// newer tab's open request neither succeeds nor fails, it stays `blocked`).
    pub async fn open_watched(
        name: &str,
        version: u32,
        other_tab: impl Fn(OtherTab) + 'static,
    ) -> Result<Store, StoreError> {
        let other_tab: Rc<dyn Fn(OtherTab)> = Rc::new(other_tab);
        // The page's or the service worker's (its background check opens the same store).
        let factory = crate::global::indexed_db().ok_or(StoreError::Unavailable)?;
        let req: IdbOpenDbRequest = factory
            .open_with_u32(name, version)
            .map_err(StoreError::from_js)?;
        let upgrade_req = req.clone();
        let on_upgrade = Closure::once_into_js(move |ev: web_sys::IdbVersionChangeEvent| {
            let old = ev.old_version() as u32;
            let db: IdbDatabase = upgrade_req.result().unwrap().unchecked_into();
            let tx = upgrade_req.transaction().unwrap();
            let new = ev.new_version().map(|v| v as u32).unwrap_or(old);
            if let Err(e) = schema::migrate(&db, &tx, old, new) {
                web_sys::console::error_1(&e);
                let _ = tx.abort();
            }
        });
        req.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        // `blocked` fires at most once per request; the request keeps waiting afterwards and
        // succeeds as soon as the other connections close.
        let tell = other_tab.clone();
        let on_blocked =
            Closure::once_into_js(move |_ev: web_sys::Event| tell(OtherTab::BlocksUpgrade));
        req.set_onblocked(Some(on_blocked.unchecked_ref()));
        let db: IdbDatabase = idb::request(&req).await?.unchecked_into();
        let closing = db.clone();
        let on_version_change = Closure::once_into_js(move |_ev: web_sys::Event| {
            // `close` lets running transactions finish (a batch being committed completes)
            // and refuses new ones, which then fail as storage errors.
            closing.close();
            other_tab(OtherTab::Upgraded);
        });
        db.set_onversionchange(Some(on_version_change.unchecked_ref()));
        Ok(Store { db })
    }

    /// Opens the app's database; see [`Store::open_watched`] for `other_tab`.
    pub async fn open(other_tab: impl Fn(OtherTab) + 'static) -> Result<Store, StoreError> {
        Self::open_watched(schema::DB_NAME, schema::current_version(), other_tab).await
    }

    /// The database's name (tests tell their databases apart by it).
    pub fn name(&self) -> String {
        self.db.name()
    }

    pub fn version(&self) -> u32 {
        self.db.version() as u32
    }

    pub fn store_names(&self) -> Vec<String> {
        // `objectStoreNames` is a DOMStringList; read it without the DomStringList binding.
        let list = js_sys::Reflect::get(&self.db, &JsValue::from_str("objectStoreNames"))
            .ok()
            .map(|l| js_sys::Array::from(&l))
            .unwrap_or_default();
        list.iter().filter_map(|v| v.as_string()).collect()
    }

    pub fn close(&self) {
        self.db.close();
    }

    fn tx(&self, stores: &[&str], mode: IdbTransactionMode) -> Result<IdbTransaction, StoreError> {
        self.db
            .transaction_with_str_sequence_and_mode(&store_names(stores), mode)
            .map_err(StoreError::from_js)
    }

    /// A read-write transaction whose `complete` event fires only once the data is flushed to
    /// disk. The browser default ("relaxed" in Chromium) may report `complete` while the writes
    /// are still in the OS cache, and a power cut then loses them: too weak before a DELE, which
    /// removes the server's copy. Batching makes the flush affordable (one per batch).
    fn tx_durable(&self, stores: &[&str]) -> Result<IdbTransaction, StoreError> {
        use wasm_bindgen::JsCast;
        // `transaction(stores, mode, options)`: web-sys binds the options form only behind
        // `web_sys_unstable_apis`, although every current browser supports `durability`.
        let options = js_sys::Object::new();
        js_sys::Reflect::set(&options, &"durability".into(), &"strict".into())
            .map_err(StoreError::from_js)?;
        let transaction: js_sys::Function = js_sys::Reflect::get(&self.db, &"transaction".into())
            .map_err(StoreError::from_js)?
            .unchecked_into();
        transaction
            .call3(
                &self.db,
                &store_names(stores),
                &"readwrite".into(),
                &options,
            )
            .map_err(StoreError::from_js)?
            .dyn_into::<IdbTransaction>()
            .map_err(StoreError::from_js)
    }

    // ---- accounts ----

    pub async fn put_account(&self, account: &Account) -> Result<(), StoreError> {
        let tx = self.tx(&[schema::ACCOUNTS], IdbTransactionMode::Readwrite)?;
        let os = tx
            .object_store(schema::ACCOUNTS)
            .map_err(StoreError::from_js)?;
        os.put(&idb::to_js(account)?).map_err(StoreError::from_js)?;
        idb::committed(&tx).await
    }

    /// The account `id` as stored now, or `None` if it was removed.
    pub async fn account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        let tx = self.tx(&[schema::ACCOUNTS], IdbTransactionMode::Readonly)?;
        let os = tx
            .object_store(schema::ACCOUNTS)
            .map_err(StoreError::from_js)?;
        let value = idb::request(&os.get(&id.into()).map_err(StoreError::from_js)?).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        idb::from_js(&value).map(Some)
    }

    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let tx = self.tx(&[schema::ACCOUNTS], IdbTransactionMode::Readonly)?;
        let os = tx
            .object_store(schema::ACCOUNTS)
            .map_err(StoreError::from_js)?;
        let all = idb::request(&os.get_all().map_err(StoreError::from_js)?).await?;
        idb::from_js(&all)
    }
}

fn store_names(stores: &[&str]) -> js_sys::Array {
    stores.iter().map(|s| JsValue::from_str(s)).collect()
}
