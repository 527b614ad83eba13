//! Writing a backup: every backed-up store in its order ([`BACKED_UP`]), each in keyed pages,
//! records encoded by [`format::Writer`] into chunks of about [`CHUNK`] bytes, each handed to
//! the sink before the next is read. The tab holds one chunk and one batch of records at a
//! time, whatever the store's size.

use wasm_bindgen::JsValue;

use super::format::{Record, Writer};
use super::{BATCH_BYTES, CHUNK, PAGE};
use crate::export::Write;
use crate::store::backup::{BACKED_UP, Shape, Stored, bytes_of};
use crate::store::{Store, StoreError, schema};

/// A record whose size a page does not tell is read alone; these are counted as this many
/// bytes in a batch (summaries, ledger lines, accounts: well under a kilobyte each).
const SMALL_RECORD: u64 = 2 << 10;

/// How a backup ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackedUp {
    /// Records written (every store and setting).
    pub records: u64,
    /// Messages written (their bytes).
    pub messages: u64,
    /// Bytes written to the file.
    pub bytes: u64,
    pub cancelled: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum BackupError {
    #[error("reading the store failed: {0}")]
    Store(#[from] StoreError),
    #[error("a stored record could not be read: {0}")]
    Record(String),
    #[error("writing the file failed: {0}")]
    Write(String),
}

/// Writes a whole backup of `store` and `settings` to `sink`, made at `now_ms`. `progress(done,
/// total)` counts records; `cancelled` is asked before each batch, and a cancelled backup stops
/// there (the caller discards the sink). The sink is not finished here.
pub async fn back_up(
    store: &Store,
    settings: &[(String, String)],
    now_ms: f64,
    sink: &mut impl Write,
    cancelled: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<BackedUp, BackupError> {
    let total = store.backup_records().await? + settings.len() as u64;
    let (mut writer, mut out) = Writer::header(schema::current_version(), now_ms);
    let mut done = BackedUp::default();
    progress(0, total);
    for (key, value) in settings {
        let record = Record::Setting {
            key: key.clone(),
            value: value.clone(),
        };
        writer
            .record(&record, &mut out)
            .map_err(|e| BackupError::Record(format!("{key}: {e}")))?;
        done.records += 1;
    }
    for &(name, shape) in BACKED_UP {
        let mut after: Option<JsValue> = None;
        loop {
            let keys = store.keys_after(name, after.as_ref(), PAGE).await?;
            let Some(last) = keys.last() else { break };
            after = Some(last.clone());
            let sizes = match shape {
                Shape::SmallJson => vec![Some(SMALL_RECORD); keys.len()],
                Shape::Bodies => store.body_sizes(&keys).await?,
                Shape::LargeJson | Shape::LargeBytes => vec![None; keys.len()],
            };
            for run in batches(&sizes) {
                if cancelled() {
                    done.cancelled = true;
                    return Ok(done);
                }
                for stored in store.records(name, &keys[run]).await? {
                    let record = encode(name, shape, &stored)?;
                    writer
                        .record(&record, &mut out)
                        .map_err(|e| BackupError::Record(format!("{name}: {e}")))?;
                    done.records += 1;
                    done.messages += u64::from(shape == Shape::Bodies);
                }
                if out.len() >= CHUNK {
                    done.bytes += out.len() as u64;
                    let chunk = std::mem::take(&mut out);
                    sink.write(chunk).await.map_err(BackupError::Write)?;
                }
                // Records stored meanwhile may be read too: never "k of N" with k > N.
                progress(done.records, total.max(done.records));
            }
            if keys.len() < PAGE as usize {
                break;
            }
        }
    }
    out.extend(writer.end());
    done.bytes += out.len() as u64;
    sink.write(out).await.map_err(BackupError::Write)?;
    Ok(done)
}

/// One stored record as a backup record: JSON as stored, or bytes with their key's JSON.
fn encode(store: &str, shape: Shape, stored: &Stored) -> Result<Record, BackupError> {
    let json = |value: &JsValue| -> Result<Vec<u8>, BackupError> {
        js_sys::JSON::stringify(value)
            .ok()
            .and_then(|s| s.as_string())
            .map(String::into_bytes)
            .ok_or_else(|| BackupError::Record(format!("a record of {store} is not JSON")))
    };
    Ok(if shape.bytes() {
        Record::Bytes {
            store: store.into(),
            key: json(&stored.key)?,
            bytes: bytes_of(&stored.value),
        }
    } else {
        Record::Json {
            store: store.into(),
            json: json(&stored.value)?,
        }
    })
}

/// Splits a page into runs of at most [`BATCH_BYTES`] by size; a record of unknown size is a
/// run of its own, as is one larger than a batch.
fn batches(sizes: &[Option<u64>]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, size) in sizes.iter().enumerate() {
        let size = size.unwrap_or(u64::MAX);
        if i > start && bytes.saturating_add(size) > BATCH_BYTES {
            out.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes = bytes.saturating_add(size);
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// `expected`: each run as (start, end).
    fn check(sizes: &[Option<u64>], expected: &[(usize, usize)]) {
        let runs: Vec<(usize, usize)> = batches(sizes).iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(runs, expected, "{sizes:?}");
    }

    #[test]
    fn batches_are_bounded_by_bytes_and_unknown_sizes_go_alone() {
        const MB: u64 = 1 << 20;
        check(&[], &[]);
        check(&[Some(10), Some(20)], &[(0, 2)]);
        check(&[Some(MB); 5], &[(0, 4), (4, 5)]);
        check(&[Some(1), None, Some(1)], &[(0, 1), (1, 2), (2, 3)]);
        check(&[None], &[(0, 1)]);
        check(&[Some(10 * MB), Some(1)], &[(0, 1), (1, 2)]);
    }
}
