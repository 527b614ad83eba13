//! The first screenful of a long list: the newest summaries of one account, read without
//! reading the rest. Reading and decoding every summary of a 100,000-message folder takes
//! seconds; its newest hundred take milliseconds, so the list shows them first.

use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbCursor, IdbCursorDirection, IdbKeyRange};

use super::idb;
use super::messages::js;
use super::{Store, StoreError, Summary};

/// What [`Store::newest`] read.
#[derive(Debug, PartialEq)]
pub enum Newest {
    /// Every summary stored under the account (there were no more than asked for), newest
    /// first: the list is complete.
    Whole(Vec<Summary>),
    /// The newest ones, newest first, and more are stored: at most as many as asked for, all
    /// newer than the next one stored (so none sharing a date with one left out).
    Page(Vec<Summary>),
}

impl Store {
    /// The newest `limit` summaries stored under `account` (or every one, when there are no
    /// more). A key cursor walks the account's dates backwards one past the `limit`-th newest,
    /// and only the summaries newer than that one are read and decoded.
    pub async fn newest(&self, account: &str, limit: u32) -> Result<Newest, StoreError> {
        let (index, all) = self.account_dates_read(account)?;
        let walk = index
            .open_key_cursor_with_range_and_direction(&all, IdbCursorDirection::Prev)
            .map_err(js)?;
        let mut at = idb::request(&walk).await?;
        if limit > 0 && !at.is_null() {
            at.unchecked_ref::<IdbCursor>().advance(limit).map_err(js)?;
            at = idb::request(&walk).await?;
        }
        // Past the oldest: no more than `limit` are stored, and they are all read.
        let whole = at.is_null();
        let range = if whole {
            all
        } else {
            // Newer than `[account, date]` of the one past the `limit`-th, up to the newest.
            let past = at.unchecked_ref::<IdbCursor>().key().map_err(js)?;
            let to = Array::of2(&JsValue::from_str(account), &f64::INFINITY.into());
            IdbKeyRange::bound_with_lower_open_and_upper_open(&past, &to, true, false)
                .map_err(js)?
        };
        let read = idb::request(&index.get_all_with_key(&range).map_err(js)?).await?;
        let mut list: Vec<Summary> = idb::from_js(&read)?;
        list.reverse();
        Ok(if whole {
            Newest::Whole(list)
        } else {
            Newest::Page(list)
        })
    }
}
