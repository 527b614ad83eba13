//! The backup file's bytes (described for people in `docs/backup-format.md`): a header, framed
//! records, and an end record holding the record count and the SHA-256 of every byte before
//! it. Pure: [`Writer`] turns records into bytes, [`Reader`] takes bytes in whatever pieces the
//! file is read in and gives records back, so neither knows about files or IndexedDB.
//!
//! Every length is judged before anything is kept for it: a record announced longer than
//! [`MAX_RECORD`] is refused on its 5-byte frame, and a record's bytes are kept only as they
//! arrive, never reserved from an announced length.

use sha2::{Digest, Sha256};

/// The first bytes of every backup.
pub const MAGIC: &[u8; 8] = b"PBBACKUP";
/// The version of this layout (not of the store's schema, which the header carries apart).
pub const FORMAT_VERSION: u16 = 1;
/// Magic, format version (u16), schema version (u32), creation time (f64 ms): 22 bytes.
pub const HEADER_LEN: usize = 8 + 2 + 4 + 8;
/// A record's frame: its kind (u8) and its payload's length (u32).
const FRAME_LEN: usize = 5;
/// The largest record payload: the largest message the app stores (128 MiB, the sync's and the
/// import's limit), plus room for its key and store name. A draft with attachments stays far
/// below (the compose form's bound).
pub const MAX_RECORD: u32 = (128 << 20) + (1 << 20);
/// Longest store name and setting key, in bytes (the app's are a few dozen).
const MAX_NAME: usize = 255;

const KIND_RECORD: u8 = 1;
const KIND_BYTES: u8 = 2;
const KIND_SETTING: u8 = 3;
const KIND_END: u8 = 0xFF;
/// The end record's payload: the record count (u64) and the SHA-256 (32 bytes).
const END_LEN: u32 = 8 + 32;

/// What the header says.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub format: u16,
    /// The IndexedDB schema version of the store the backup was made from.
    pub schema: u32,
    pub created_ms: f64,
}

/// One record of the backup.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// A record of an object store whose key is inside the record (`keyPath`): its JSON.
    Json { store: String, json: Vec<u8> },
    /// A record of an object store keyed out of line, holding bytes (message bodies): the
    /// key's JSON and the bytes.
    Bytes {
        store: String,
        key: Vec<u8>,
        bytes: Vec<u8>,
    },
    /// A localStorage entry the app owns.
    Setting { key: String, value: String },
}

/// Why a file is not a backup this app can restore. `offset` is the byte of the file where
/// the problem starts.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FormatError {
    #[error(
        "this is not a Postbag backup (it does not start with {MAGIC:?})",
        MAGIC = "PBBACKUP"
    )]
    NotABackup,
    #[error(
        "the backup was written in format {found}, newer than this app reads ({FORMAT_VERSION}): update Postbag first"
    )]
    NewerFormat { found: u16 },
    #[error(
        "the backup comes from a newer Postbag (store version {found}, this app has {supported}): update Postbag first"
    )]
    NewerSchema { found: u32, supported: u32 },
    #[error(
        "the backup comes from a Postbag too old to restore (store version {found}, at least {oldest} is needed)"
    )]
    OlderSchema { found: u32, oldest: u32 },
    #[error(
        "at byte {offset} a record announces {announced} bytes, more than any record may hold ({MAX_RECORD}): the file is damaged or not a backup"
    )]
    RecordTooLarge { offset: u64, announced: u64 },
    #[error(
        "at byte {offset} the file holds an unknown record (kind {kind}): damaged, or from a newer Postbag"
    )]
    UnknownKind { offset: u64, kind: u8 },
    #[error("at byte {offset} a record is malformed: {why}")]
    Malformed { offset: u64, why: &'static str },
    #[error(
        "the file ends at byte {offset}, before the backup's end: it was cut off (an unfinished download or copy?)"
    )]
    Truncated { offset: u64 },
    #[error("the file is damaged: its SHA-256 does not match the one written at its end")]
    Checksum,
    #[error("the file is damaged: it holds {found} records, its end says {announced}")]
    Count { found: u64, announced: u64 },
    #[error("the file goes on after the backup's end (byte {offset}): damaged or two files joined")]
    TrailingBytes { offset: u64 },
}

/// Builds a backup's bytes: [`Writer::header`] first, then [`Writer::record`] for each record,
/// then [`Writer::end`]. Each call returns the bytes to write next, and hashes them.
pub struct Writer {
    hash: Sha256,
    count: u64,
}

impl Writer {
    /// Starts a backup; returns the writer and the header's bytes.
    pub fn header(schema: u32, created_ms: f64) -> (Writer, Vec<u8>) {
        let mut out = Vec::with_capacity(HEADER_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
        out.extend_from_slice(&schema.to_be_bytes());
        out.extend_from_slice(&created_ms.to_be_bytes());
        let mut writer = Writer {
            hash: Sha256::new(),
            count: 0,
        };
        writer.hash.update(&out);
        (writer, out)
    }

    /// Appends `record`'s frame and payload to `out`. A record over [`MAX_RECORD`] is refused
    /// (the reader would refuse it), as is a name over 255 bytes.
    pub fn record(&mut self, record: &Record, out: &mut Vec<u8>) -> Result<(), &'static str> {
        let start = out.len();
        let (kind, len) = match record {
            Record::Json { store, json } => (KIND_RECORD, 1 + store.len() + json.len()),
            Record::Bytes { store, key, bytes } => {
                (KIND_BYTES, 1 + store.len() + 4 + key.len() + bytes.len())
            }
            Record::Setting { key, value } => (KIND_SETTING, 1 + key.len() + value.len()),
        };
        if len > MAX_RECORD as usize {
            return Err("a record is larger than a backup may hold");
        }
        out.push(kind);
        out.extend_from_slice(&(len as u32).to_be_bytes());
        let name = |out: &mut Vec<u8>, name: &str| -> Result<(), &'static str> {
            if name.len() > MAX_NAME {
                return Err("a store name or setting key is longer than 255 bytes");
            }
            out.push(name.len() as u8);
            out.extend_from_slice(name.as_bytes());
            Ok(())
        };
        let written = match record {
            Record::Json { store, json } => name(out, store).map(|()| out.extend(json)),
            Record::Bytes { store, key, bytes } => name(out, store).map(|()| {
                out.extend_from_slice(&(key.len() as u32).to_be_bytes());
                out.extend_from_slice(key);
                out.extend_from_slice(bytes);
            }),
            Record::Setting { key, value } => {
                name(out, key).map(|()| out.extend_from_slice(value.as_bytes()))
            }
        };
        if let Err(e) = written {
            out.truncate(start);
            return Err(e);
        }
        self.hash.update(&out[start..]);
        self.count += 1;
        Ok(())
    }

    /// The end record: the count and the SHA-256 of every byte before it.
    pub fn end(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FRAME_LEN + END_LEN as usize);
        out.push(KIND_END);
        out.extend_from_slice(&END_LEN.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(&self.hash.finalize());
        out
    }
}

/// What [`Reader::next_item`] found.
#[derive(Debug, PartialEq)]
pub enum Item {
    Header(Header),
    Record(Record),
    /// The end record, checked: the count and the SHA-256 match.
    End {
        records: u64,
    },
}

enum Phase {
    Header,
    Records,
    Ended,
}

/// Reads a backup from pieces of bytes: [`Reader::push`] what was read, then call
/// [`Reader::next_item`] until it answers `Ok(None)` (more bytes needed); at the end of the file,
/// [`Reader::finish`] says whether the backup was whole.
pub struct Reader {
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    pos: usize,
    /// File offset of `buf[0]`.
    base: u64,
    hash: Sha256,
    count: u64,
    phase: Phase,
    /// The schema versions this app restores.
    schemas: std::ops::RangeInclusive<u32>,
}

impl Reader {
    /// A reader that accepts backups of the schema versions in `schemas`.
    pub fn new(schemas: std::ops::RangeInclusive<u32>) -> Reader {
        Reader {
            buf: Vec::new(),
            pos: 0,
            base: 0,
            hash: Sha256::new(),
            count: 0,
            phase: Phase::Header,
            schemas,
        }
    }

    /// Takes the next bytes of the file.
    pub fn push(&mut self, bytes: &[u8]) {
        // Drop what was consumed before growing, so the buffer holds at most one record and
        // one read's bytes.
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The file offset of the next byte to be read as part of an item.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The next header, record or end; `Ok(None)` when more bytes are needed.
    pub fn next_item(&mut self) -> Result<Option<Item>, FormatError> {
        let rest = &self.buf[self.pos..];
        match self.phase {
            Phase::Header => {
                // The magic is judged on as many bytes as there are, so a file that is not a
                // backup is told as such, not as a truncated one.
                let n = rest.len().min(MAGIC.len());
                if rest[..n] != MAGIC[..n] {
                    return Err(FormatError::NotABackup);
                }
                if rest.len() < HEADER_LEN {
                    return Ok(None);
                }
                let format = u16::from_be_bytes([rest[8], rest[9]]);
                let schema = u32::from_be_bytes(rest[10..14].try_into().expect("4 bytes"));
                let created_ms = f64::from_be_bytes(rest[14..22].try_into().expect("8 bytes"));
                if format > FORMAT_VERSION {
                    return Err(FormatError::NewerFormat { found: format });
                }
                if schema > *self.schemas.end() {
                    return Err(FormatError::NewerSchema {
                        found: schema,
                        supported: *self.schemas.end(),
                    });
                }
                if schema < *self.schemas.start() {
                    return Err(FormatError::OlderSchema {
                        found: schema,
                        oldest: *self.schemas.start(),
                    });
                }
                self.hash.update(&rest[..HEADER_LEN]);
                self.pos += HEADER_LEN;
                self.phase = Phase::Records;
                Ok(Some(Item::Header(Header {
                    format,
                    schema,
                    created_ms,
                })))
            }
            Phase::Records => {
                if rest.len() < FRAME_LEN {
                    return Ok(None);
                }
                let offset = self.offset();
                let kind = rest[0];
                let len = u32::from_be_bytes(rest[1..5].try_into().expect("4 bytes"));
                if len > MAX_RECORD {
                    return Err(FormatError::RecordTooLarge {
                        offset,
                        announced: len.into(),
                    });
                }
                if !matches!(kind, KIND_RECORD | KIND_BYTES | KIND_SETTING | KIND_END) {
                    return Err(FormatError::UnknownKind { offset, kind });
                }
                if kind == KIND_END && len != END_LEN {
                    return Err(FormatError::Malformed {
                        offset,
                        why: "the end record has the wrong length",
                    });
                }
                let whole = FRAME_LEN + len as usize;
                if rest.len() < whole {
                    return Ok(None);
                }
                let payload = &rest[FRAME_LEN..whole];
                if kind == KIND_END {
                    let announced = u64::from_be_bytes(payload[..8].try_into().expect("8 bytes"));
                    let digest: [u8; 32] = self.hash.clone().finalize().into();
                    if payload[8..] != digest {
                        return Err(FormatError::Checksum);
                    }
                    if announced != self.count {
                        return Err(FormatError::Count {
                            found: self.count,
                            announced,
                        });
                    }
                    self.pos += whole;
                    self.phase = Phase::Ended;
                    return Ok(Some(Item::End {
                        records: self.count,
                    }));
                }
                let record =
                    decode(kind, payload).map_err(|why| FormatError::Malformed { offset, why })?;
                self.hash.update(&rest[..whole]);
                self.pos += whole;
                self.count += 1;
                Ok(Some(Item::Record(record)))
            }
            Phase::Ended if rest.is_empty() => Ok(None),
            Phase::Ended => Err(FormatError::TrailingBytes {
                offset: self.offset(),
            }),
        }
    }

    /// At the end of the file: whole only after the end record.
    pub fn finish(&self) -> Result<(), FormatError> {
        match self.phase {
            Phase::Ended if self.pos == self.buf.len() => Ok(()),
            Phase::Ended => Err(FormatError::TrailingBytes {
                offset: self.offset(),
            }),
            Phase::Header if self.buf.is_empty() => Err(FormatError::NotABackup),
            _ => Err(FormatError::Truncated {
                offset: self.base + self.buf.len() as u64,
            }),
        }
    }
}

/// A record's payload into its parts.
fn decode(kind: u8, payload: &[u8]) -> Result<Record, &'static str> {
    let (&name_len, rest) = payload.split_first().ok_or("an empty record")?;
    let name_len = name_len as usize;
    if rest.len() < name_len {
        return Err("a name runs past its record");
    }
    let (name, rest) = rest.split_at(name_len);
    let name = std::str::from_utf8(name)
        .map_err(|_| "a name is not UTF-8")?
        .to_string();
    match kind {
        KIND_RECORD => Ok(Record::Json {
            store: name,
            json: rest.to_vec(),
        }),
        KIND_BYTES => {
            if rest.len() < 4 {
                return Err("a key length runs past its record");
            }
            let key_len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
            let rest = &rest[4..];
            if rest.len() < key_len {
                return Err("a key runs past its record");
            }
            let (key, bytes) = rest.split_at(key_len);
            Ok(Record::Bytes {
                store: name,
                key: key.to_vec(),
                bytes: bytes.to_vec(),
            })
        }
        _ => Ok(Record::Setting {
            key: name,
            value: String::from_utf8(rest.to_vec()).map_err(|_| "a setting is not UTF-8")?,
        }),
    }
}

#[cfg(test)]
mod tests;
