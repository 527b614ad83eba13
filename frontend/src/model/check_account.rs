//! Which record of an account a check uses. A tab loads its accounts once; another tab may
//! since have switched the account to "Leave on server", changed its server, or removed it.
//! A check (`scheduler.rs`) asks for the record stored now, inside the account's lock, never
//! the tab's copy: with the copy a background tab would delete mail the user chose to keep,
//! or sync a removed account's mail and ledger back into being.

use crate::store::{Account, Store, StoreError};

/// The stored record of the account the tab knows as `tab`, or `None` if it was removed.
pub async fn account_to_check(store: &Store, tab: &Account) -> Result<Option<Account>, StoreError> {
    store.account(&tab.id).await
}
