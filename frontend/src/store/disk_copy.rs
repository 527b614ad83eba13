//! The live copy's folder: its `FileSystemDirectoryHandle`, kept across restarts. A handle is
//! structured-cloneable, so it is stored as it is (not through JSON); the browser keeps the
//! permission apart and may ask for it again after a restart (`disk_copy::fs::permission`).

use wasm_bindgen::prelude::*;
use web_sys::IdbTransactionMode;

use super::idb;
use super::messages::js;
use super::schema::DISK_COPY;
use super::{Store, StoreError};

/// The one key of the store: one folder for every account (file names tell accounts apart).
const FOLDER: &str = "folder";

impl Store {
    /// The folder picked for the live copy, if any.
    pub async fn disk_copy_folder(&self) -> Result<Option<JsValue>, StoreError> {
        let tx = self.tx(&[DISK_COPY], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(DISK_COPY).map_err(js)?;
        let value = idb::request(&os.get(&FOLDER.into()).map_err(js)?).await?;
        Ok((!value.is_undefined() && !value.is_null()).then_some(value))
    }

    /// Remembers `handle` as the live copy's folder (`None`: the copy is turned off). A value
    /// the browser cannot clone (not a real handle) fails here with `DataCloneError`.
    pub async fn set_disk_copy_folder(&self, handle: Option<&JsValue>) -> Result<(), StoreError> {
        let tx = self.tx(&[DISK_COPY], IdbTransactionMode::Readwrite)?;
        idb::write_all(&tx, |tx| {
            let os = tx.object_store(DISK_COPY).map_err(js)?;
            match handle {
                Some(h) => os.put_with_key(h, &FOLDER.into()).map(drop),
                None => os.delete(&FOLDER.into()).map(drop),
            }
            .map_err(js)
        })
        .await
    }
}
