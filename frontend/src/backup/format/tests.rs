//! The backup layout fed whole, byte by byte and in odd pieces; every cut, every flipped byte
//! and every hostile length refused with its own error.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const SCHEMAS: std::ops::RangeInclusive<u32> = 4..=4;

fn records() -> Vec<Record> {
    vec![
        Record::Setting {
            key: "postbag.last-export".into(),
            value: "1764669600000".into(),
        },
        Record::Json {
            store: "accounts".into(),
            json: br#"{"id":"me@example.org"}"#.to_vec(),
        },
        Record::Bytes {
            store: "bodies".into(),
            key: br#"["me@example.org","u1"]"#.to_vec(),
            bytes: b"Subject: hi\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n".to_vec(),
        },
        Record::Bytes {
            store: "bodies".into(),
            key: br#"["me@example.org","u2"]"#.to_vec(),
            bytes: Vec::new(),
        },
    ]
}

fn file(schema: u32, records: &[Record]) -> Vec<u8> {
    let (mut writer, mut out) = Writer::header(schema, 1_764_669_600_000.0);
    for r in records {
        writer.record(r, &mut out).unwrap();
    }
    out.extend(writer.end());
    out
}

/// Reads `bytes` in pieces of `piece` bytes: the records, or the first error.
fn read(bytes: &[u8], piece: usize) -> Result<Vec<Record>, FormatError> {
    let mut reader = Reader::new(SCHEMAS);
    let mut found = Vec::new();
    let mut ended = false;
    for chunk in bytes.chunks(piece.max(1)) {
        reader.push(chunk);
        while let Some(item) = reader.next_item()? {
            match item {
                Item::Header(h) => assert_eq!(h.schema, 4),
                Item::Record(r) => found.push(r),
                Item::End { records } => {
                    assert_eq!(records as usize, found.len());
                    ended = true;
                }
            }
        }
    }
    reader.finish()?;
    assert!(ended);
    Ok(found)
}

fn check(bytes: &[u8], expected: Result<Vec<Record>, FormatError>) {
    for piece in [bytes.len(), 1, 3, 7, 64] {
        assert_eq!(read(bytes, piece), expected, "read in pieces of {piece}");
    }
}

#[test]
fn a_backup_reads_back_whole_in_any_pieces() {
    check(&file(4, &records()), Ok(records()));
    check(&file(4, &[]), Ok(Vec::new()));
}

#[test]
fn a_cut_file_is_truncated_at_its_length() {
    let bytes = file(4, &records());
    for cut in 1..bytes.len() {
        let err = read(&bytes[..cut], bytes.len()).unwrap_err();
        assert_eq!(
            err,
            FormatError::Truncated { offset: cut as u64 },
            "cut at {cut}"
        );
    }
    assert_eq!(read(&[], 1).unwrap_err(), FormatError::NotABackup);
}

#[test]
fn any_changed_byte_is_refused() {
    let bytes = file(4, &records());
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x20;
        assert!(
            read(&bad, 5).is_err(),
            "byte {i} changed, yet read as whole"
        );
    }
    // A changed body byte is found by the SHA-256 alone.
    let at = bytes.windows(4).position(|w| w == b"Gr\xc3\xbc").unwrap();
    let mut bad = bytes.clone();
    bad[at] = b'g';
    check(&bad, Err(FormatError::Checksum));
}

#[test]
fn a_hostile_length_is_refused_on_its_frame() {
    let (_, mut bytes) = Writer::header(4, 0.0);
    let at = bytes.len() as u64;
    // 4 GiB announced, five bytes sent: refused before anything is kept for it.
    bytes.extend([KIND_BYTES, 0xFF, 0xFF, 0xFF, 0xFF]);
    check(
        &bytes,
        Err(FormatError::RecordTooLarge {
            offset: at,
            announced: u32::MAX.into(),
        }),
    );
    let mut bytes = bytes[..at as usize].to_vec();
    bytes.extend([9, 0, 0, 0, 1, 0]);
    check(
        &bytes,
        Err(FormatError::UnknownKind {
            offset: at,
            kind: 9,
        }),
    );
    let mut bytes = bytes[..at as usize].to_vec();
    // A name longer than its record.
    bytes.extend([KIND_RECORD, 0, 0, 0, 2, 9, b'a']);
    check(
        &bytes,
        Err(FormatError::Malformed {
            offset: at,
            why: "a name runs past its record",
        }),
    );
}

#[test]
fn versions_are_judged_on_the_header() {
    check(
        &file(5, &records()),
        Err(FormatError::NewerSchema {
            found: 5,
            supported: 4,
        }),
    );
    check(
        &file(3, &records()),
        Err(FormatError::OlderSchema {
            found: 3,
            oldest: 4,
        }),
    );
    let mut newer = file(4, &records());
    newer[9] = 2;
    check(&newer, Err(FormatError::NewerFormat { found: 2 }));
    check(b"From MAILER-DAEMON", Err(FormatError::NotABackup));
}

#[test]
fn bytes_after_the_end_are_refused() {
    let mut bytes = file(4, &records());
    let len = bytes.len() as u64;
    bytes.extend(file(4, &[]));
    check(&bytes, Err(FormatError::TrailingBytes { offset: len }));
}

#[test]
fn the_writer_refuses_what_the_reader_would() {
    let (mut writer, mut out) = Writer::header(4, 0.0);
    let long = Record::Setting {
        key: "k".repeat(256),
        value: String::new(),
    };
    assert!(writer.record(&long, &mut out).is_err());
    assert_eq!(out.len(), HEADER_LEN, "nothing half written");
}
