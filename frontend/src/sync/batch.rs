//! Messages received completely but not yet committed, and the batch whose commit is running.
//!
//! One IndexedDB transaction per message costs a round trip to the browser's storage backend
//! each (about 8 ms in Chromium, measured: 8 of the 9.8 s of a 1,000-message sync). The engine
//! therefore commits several messages per transaction, and keeps receiving while a batch
//! commits. A message is DELEd only once the transaction of ITS batch has completed.

use std::future::Future;
use std::pin::Pin;

use crate::disk_copy::NotCopied;
use crate::store::{NewMessage, StoreError, Summary};

/// A batch's way to durable: its transaction's `complete`, then (with the live copy on disk)
/// its files written into the folder. Resolves with the messages the folder did not take.
pub type Durable = Pin<Box<dyn Future<Output = Result<Vec<NotCopied>, StoreError>>>>;

/// A batch is committed once it holds this many messages...
pub const BATCH_MESSAGES: usize = 32;
/// ...or this many bytes (a single larger message is a batch of its own). Together with one
/// batch committing, this bounds what the engine holds in memory besides the message being
/// received.
pub const BATCH_BYTES: usize = 4 << 20;

#[derive(Default)]
pub struct Batch {
    messages: Vec<NewMessage>,
    /// (number in this session, UIDL) of each message, for its DELE.
    ids: Vec<(u32, String)>,
    bytes: usize,
}

impl Batch {
    pub fn push(&mut self, msg: u32, message: NewMessage) {
        self.bytes += message.raw.len();
        self.ids.push((msg, message.summary.uidl.clone()));
        self.messages.push(message);
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.messages.len() >= BATCH_MESSAGES || self.bytes >= BATCH_BYTES
    }

    /// Empties the batch: the messages to write and their ids.
    pub fn take(&mut self) -> (Vec<NewMessage>, Vec<(u32, String)>) {
        self.bytes = 0;
        (
            std::mem::take(&mut self.messages),
            std::mem::take(&mut self.ids),
        )
    }
}

/// A batch whose transaction is running. Its messages may be deleted on the server only once
/// `commit` has resolved, and not those it names as not copied; only then are its summaries
/// handed to the screen.
pub struct Committing {
    pub commit: Durable,
    pub ids: Vec<(u32, String)>,
    pub summaries: Vec<Summary>,
}
