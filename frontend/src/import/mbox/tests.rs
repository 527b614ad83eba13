use super::*;
use crate::export::mboxrd;
use wasm_bindgen_test::wasm_bindgen_test as test;

const MAX: usize = 1 << 20;

fn read(file: &[u8], chunk: usize) -> (Result<Format, MboxError>, Vec<Found>) {
    let mut reader = MboxReader::new(MAX);
    let mut found = Vec::new();
    for piece in file.chunks(chunk.max(1)) {
        if let Err(e) = reader.feed(piece, &mut found) {
            return (Err(e), found);
        }
    }
    (reader.finish(&mut found), found)
}

fn messages(found: &[Found]) -> Vec<Vec<u8>> {
    found
        .iter()
        .filter_map(|f| match f {
            Found::Message { raw, .. } => Some(raw.clone()),
            Found::Skipped { .. } => None,
        })
        .collect()
}

const TRICKY: &[&[u8]] = &[
    b"From: a@example.org\nSubject: one\n\nFrom the start\n>From quoted\n>>From twice\nend\n",
    b"From: b@example.org\r\nSubject: crlf\r\n\r\nFrom here\r\n\r\n\r\n",
    b"From: c@example.org\nSubject: no final newline\n\nlast line",
    b"Subject: blank lines inside\n\n\n\nFrom again after a blank line\n",
];

#[test]
fn an_export_reads_back_to_the_stored_bytes_whatever_the_chunking() {
    let mut file = Vec::new();
    for raw in TRICKY {
        mboxrd::append(&mut file, raw, 0.0);
    }
    for chunk in [1, 2, 3, 7, 64, file.len()] {
        let (format, found) = read(&file, chunk);
        assert_eq!(format, Ok(Format::Mboxrd), "chunk {chunk}");
        let got = messages(&found);
        assert_eq!(got.len(), TRICKY.len(), "chunk {chunk}");
        for (raw, back) in TRICKY.iter().zip(&got) {
            // Only a message without a final line end gains one (the exporter adds it).
            let mut expected = raw.to_vec();
            if !expected.ends_with(b"\n") {
                expected.push(b'\n');
            }
            assert_eq!(
                String::from_utf8_lossy(back),
                String::from_utf8_lossy(&expected),
                "chunk {chunk}"
            );
        }
    }
}

#[test]
fn offsets_and_separators_name_where_each_message_starts() {
    let file = b"From a@x Thu Jan  1 00:00:00 1970\nSubject: 1\n\nhi\n\nFrom b@x Fri Jan  2 00:00:00 1970\nSubject: 2\n\nyo\n\n";
    let (format, found) = read(file, 5);
    assert_eq!(format, Ok(Format::Mbox));
    let second = file.windows(6).rposition(|w| w == b"From b").unwrap() as u64;
    assert_eq!(
        found,
        vec![
            Found::Message {
                offset: 0,
                separator: "From a@x Thu Jan  1 00:00:00 1970".into(),
                raw: b"Subject: 1\n\nhi\n".to_vec()
            },
            Found::Message {
                offset: second,
                separator: "From b@x Fri Jan  2 00:00:00 1970".into(),
                raw: b"Subject: 2\n\nyo\n".to_vec()
            },
        ]
    );
}

#[test]
fn a_from_line_inside_a_paragraph_does_not_cut_the_message() {
    let file = b"From a@x Thu Jan  1 00:00:00 1970\nSubject: 1\n\nwe met\nFrom time to time\n\n";
    let (_, found) = read(file, 4);
    assert_eq!(
        messages(&found),
        vec![b"Subject: 1\n\nwe met\nFrom time to time\n".to_vec()]
    );
}

#[test]
fn a_separator_shaped_line_splits_even_without_a_blank_line_before_it() {
    let file = b"From a@x Thu Jan  1 00:00:00 1970\nSubject: 1\n\nx\nFrom b@x Fri Jan  2 10:11:12 1970\nSubject: 2\n\ny\n\n";
    let (_, found) = read(file, 3);
    assert_eq!(
        messages(&found),
        vec![b"Subject: 1\n\nx\n".to_vec(), b"Subject: 2\n\ny\n".to_vec()]
    );
}

#[test]
fn a_file_that_is_not_mbox_is_refused_at_the_offset_of_the_first_wrong_bytes() {
    let (result, found) = read(b"\x7fELF\x02\x01\x01\0\0\0\0binary", 3);
    assert_eq!(result, Err(MboxError::NotMbox { offset: 0 }));
    assert!(found.is_empty());
    let (result, _) = read(b"\n\r\nHello there\nFrom a@x\n", 100);
    assert_eq!(result, Err(MboxError::NotMbox { offset: 3 }));
    // A first line that starts right but never ends is refused once it is longer than any
    // separator, not read to the end of the file.
    let mut long = b"From ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 5000));
    let mut reader = MboxReader::new(MAX);
    assert_eq!(
        reader.feed(&long, &mut Vec::new()),
        Err(MboxError::NotMbox { offset: 0 })
    );
    assert_eq!(read(b"", 1).0, Err(MboxError::Empty));
    assert_eq!(read(b"\n\n", 1).0, Err(MboxError::Empty));
}

#[test]
fn a_cut_last_message_is_reported_with_its_offset_and_the_whole_ones_are_kept() {
    let mut file = Vec::new();
    mboxrd::append(&mut file, b"Subject: whole\n\nbody\n", 0.0);
    let cut_at = file.len() as u64;
    mboxrd::append(&mut file, b"Subject: cut\n\nbody that goes on\n", 0.0);
    file.truncate(file.len() - 8);
    let (format, found) = read(&file, 16);
    assert_eq!(format, Ok(Format::Mbox));
    assert_eq!(messages(&found), vec![b"Subject: whole\n\nbody\n".to_vec()]);
    assert_eq!(
        found.last(),
        Some(&Found::Skipped {
            offset: cut_at,
            reason: Skip::Cut
        })
    );
}

#[test]
fn a_message_over_the_limit_is_skipped_with_its_size_and_the_next_one_is_read() {
    let big = {
        let mut m = b"Subject: big\n\n".to_vec();
        // One line far longer than the limit: the reader must not keep it.
        m.extend(std::iter::repeat_n(b'x', 3 * 1000));
        m.push(b'\n');
        m
    };
    let mut file = Vec::new();
    mboxrd::append(&mut file, b"Subject: before\n\nok\n", 0.0);
    let big_at = file.len() as u64;
    mboxrd::append(&mut file, &big, 0.0);
    mboxrd::append(&mut file, b"Subject: after\n\nok\n", 0.0);
    let mut reader = MboxReader::new(1000);
    let mut found = Vec::new();
    for piece in file.chunks(100) {
        reader.feed(piece, &mut found).unwrap();
        assert!(reader.line.len() <= 1001, "the line buffer stays bounded");
    }
    reader.finish(&mut found).unwrap();
    assert_eq!(
        messages(&found),
        vec![
            b"Subject: before\n\nok\n".to_vec(),
            b"Subject: after\n\nok\n".to_vec()
        ]
    );
    assert!(found.contains(&Found::Skipped {
        offset: big_at,
        reason: Skip::TooLarge {
            bytes: big.len() as u64 + 1
        }
    }));
}

#[test]
fn text_between_separators_that_is_not_mail_is_skipped() {
    let file = b"From a@x Thu Jan  1 00:00:00 1970\njust some words\n\nFrom b@x Thu Jan  1 00:00:00 1970\nSubject: real\n\nx\n\n";
    let (_, found) = read(file, 7);
    assert_eq!(
        found[0],
        Found::Skipped {
            offset: 0,
            reason: Skip::NotAMessage
        }
    );
    assert_eq!(messages(&found), vec![b"Subject: real\n\nx\n".to_vec()]);
}

#[test]
fn an_mboxo_file_without_double_quotes_reads_as_plain_mbox() {
    // What Python's mailbox.mbox writes: only `From ` gets a `>`.
    let file = b"From MAILER-DAEMON Wed Dec  2 10:00:00 2026\nSubject: o\n\n>From the body\n\n";
    let (format, found) = read(file, 1);
    assert_eq!(format, Ok(Format::Mbox));
    assert_eq!(
        messages(&found),
        vec![b"Subject: o\n\nFrom the body\n".to_vec()]
    );
}

#[test]
fn the_separator_date_reads_back_what_the_exporter_wrote() {
    for ms in [
        0.0,
        86_400_000.0 * 365.0 * 30.5,
        1_764_669_600_000.0,
        -86_400_000.0 * 800.0,
    ] {
        let line = mboxrd::separator("a@x", ms);
        assert_eq!(separator_date_ms(line.trim_end()), Some(ms), "{line}");
    }
    assert_eq!(
        separator_date_ms("From a@x Thu Jan  1 00:00:00 1970 +0000"),
        Some(0.0)
    );
    assert_eq!(separator_date_ms("From a@x sometime"), None);
    assert_eq!(separator_date_ms("From a@x Thu Jan 41 00:00:00 1970"), None);
}

#[test]
fn a_last_message_that_ends_with_a_line_end_but_no_blank_line_is_whole() {
    let file = b"From a@x Thu Jan  1 00:00:00 1970\nSubject: 1\n\nx\n\nFrom b@x Thu Jan  1 00:00:00 1970\nSubject: 2\n\ny\n";
    let (_, found) = read(file, 6);
    assert_eq!(
        messages(&found),
        vec![b"Subject: 1\n\nx\n".to_vec(), b"Subject: 2\n\ny\n".to_vec()]
    );
}
