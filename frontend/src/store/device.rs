//! The device's own database, `postbag-device`, beside the mail store: what belongs to this
//! browser profile and never leaves it. It holds the device key (a non-extractable AES-GCM
//! `CryptoKey`, which IndexedDB stores as the key object itself, never its bytes), the
//! secrets of accounts checked in the background sealed under that key, and a copy of each
//! account's check record that the service worker can read (it has no localStorage).
//!
//! A separate database, not a store of the mail schema: a backup walks the mail store and
//! never sees this one (a backup carrying a secret this device alone can open would be
//! useless elsewhere and a risk everywhere), and the mail schema needs no migration.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbTransactionMode};

use super::{StoreError, idb};

/// The database's name in the app.
pub const DEVICE_DB: &str = "postbag-device";
const VERSION: u32 = 1;

/// One object store of the device database, each keyed by a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The device key, under one name.
    Keys,
    /// Background secrets, by account id.
    Secrets,
    /// Check records (JSON text), by account id.
    Checks,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Keys => "keys",
            Part::Secrets => "background_secrets",
            Part::Checks => "checks",
        }
    }
    const ALL: [Part; 3] = [Part::Keys, Part::Secrets, Part::Checks];
}

/// A handle to the device database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct DeviceDb {
    db: IdbDatabase,
}

impl DeviceDb {
    pub async fn open() -> Result<DeviceDb, StoreError> {
        Self::open_named(DEVICE_DB).await
    }

    /// Opens (creating) the database `name`; tests use their own names.
    pub async fn open_named(name: &str) -> Result<DeviceDb, StoreError> {
        let factory = crate::global::indexed_db().ok_or(StoreError::Unavailable)?;
        let req: IdbOpenDbRequest = factory
            .open_with_u32(name, VERSION)
            .map_err(StoreError::from_js)?;
        let upgrade_req = req.clone();
        let on_upgrade = Closure::once_into_js(move |_ev: web_sys::IdbVersionChangeEvent| {
            let db: IdbDatabase = upgrade_req.result().unwrap().unchecked_into();
            for part in Part::ALL {
                if let Err(e) = db.create_object_store(part.name()) {
                    web_sys::console::error_1(&e);
                }
            }
        });
        req.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        let db: IdbDatabase = idb::request(&req).await?.unchecked_into();
        // No later version exists yet; should one come, this connection must not block it.
        let closing = db.clone();
        let on_version_change = Closure::once_into_js(move |_ev: web_sys::Event| closing.close());
        db.set_onversionchange(Some(on_version_change.unchecked_ref()));
        Ok(DeviceDb { db })
    }

    pub fn close(&self) {
        self.db.close();
    }

    fn store(
        &self,
        part: Part,
        mode: IdbTransactionMode,
    ) -> Result<(web_sys::IdbTransaction, web_sys::IdbObjectStore), StoreError> {
        let tx = self
            .db
            .transaction_with_str_and_mode(part.name(), mode)
            .map_err(StoreError::from_js)?;
        let store = tx.object_store(part.name()).map_err(StoreError::from_js)?;
        Ok((tx, store))
    }

    /// The value under `key`, if any.
    pub async fn get(&self, part: Part, key: &str) -> Result<Option<JsValue>, StoreError> {
        let (_tx, store) = self.store(part, IdbTransactionMode::Readonly)?;
        let req = store.get(&key.into()).map_err(StoreError::from_js)?;
        let value = idb::request(&req).await?;
        Ok((!value.is_undefined()).then_some(value))
    }

    /// Writes `value` under `key`, once the transaction completed.
    pub async fn put(&self, part: Part, key: &str, value: &JsValue) -> Result<(), StoreError> {
        let (tx, store) = self.store(part, IdbTransactionMode::Readwrite)?;
        idb::write_all(&tx, |_| {
            store
                .put_with_key(value, &key.into())
                .map(|_| ())
                .map_err(StoreError::from_js)
        })
        .await
    }

    /// Writes `value` under `key` unless something is there already; `false` then. Two tabs
    /// creating the device key at once keep the first one's.
    pub async fn add(&self, part: Part, key: &str, value: &JsValue) -> Result<bool, StoreError> {
        let (tx, store) = self.store(part, IdbTransactionMode::Readwrite)?;
        let done = idb::completion(&tx);
        let req = store
            .add_with_key(value, &key.into())
            .map_err(StoreError::from_js)?;
        match idb::request(&req).await {
            Ok(_) => done.await.map(|_| true).map_err(StoreError::from_js),
            Err(StoreError::Js(text)) if text.starts_with("ConstraintError") => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn delete(&self, part: Part, key: &str) -> Result<(), StoreError> {
        let (tx, store) = self.store(part, IdbTransactionMode::Readwrite)?;
        idb::write_all(&tx, |_| {
            store
                .delete(&key.into())
                .map(|_| ())
                .map_err(StoreError::from_js)
        })
        .await
    }

    /// Every key of `part`.
    pub async fn keys(&self, part: Part) -> Result<Vec<String>, StoreError> {
        let (_tx, store) = self.store(part, IdbTransactionMode::Readonly)?;
        let req = store.get_all_keys().map_err(StoreError::from_js)?;
        let keys = idb::request(&req).await?;
        Ok(js_sys::Array::from(&keys)
            .iter()
            .filter_map(|k| k.as_string())
            .collect())
    }
}
