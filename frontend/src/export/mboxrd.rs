//! The mboxrd format, written: pure functions from stored messages to file bytes.
//!
//! Each message is preceded by a `From ` separator line and followed by one blank line. Inside
//! the message every line that matches `^>*From ` gets one more `>` (mboxrd), so a reader
//! undoes the quoting exactly by removing one `>` from every line matching `^>+From `, and a
//! body line that starts with `From ` can never be taken for the next separator. Apart from
//! that quoting the message's bytes are written as they were stored (the server's bytes, not a
//! re-encoding), with their own line endings; only a message that does not end with a line
//! ending gets one, so the blank line that follows really is a line of its own.
//!
//! Separator lines and the blank line use LF, as mbox files conventionally do; a message stored
//! with CRLF keeps its CRLF (Python's `mailbox.mbox` and mutt read both).

/// Separator sender when the envelope sender is not known (the conventional placeholder).
pub const NO_SENDER: &str = "MAILER-DAEMON";

/// Appends one message (separator, quoted bytes, blank line) to `out`.
///
/// `date_ms` is the separator's date (milliseconds since the Unix epoch, UTC), normally the
/// stored summary's date.
pub fn append(out: &mut Vec<u8>, raw: &[u8], date_ms: f64) {
    out.extend_from_slice(separator(&envelope_sender(raw), date_ms).as_bytes());
    let mut rest = raw;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        if needs_quote(line) {
            out.push(b'>');
        }
        out.extend_from_slice(line);
        rest = tail;
    }
    if !raw.is_empty() && !raw.ends_with(b"\n") {
        // The message's own line ending when it uses CRLF, else LF.
        let crlf = raw.windows(2).any(|w| w == b"\r\n");
        out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
    }
    out.push(b'\n');
}

/// `^>*From `: a line the next reader would take for a separator, or for a quoted one.
fn needs_quote(line: &[u8]) -> bool {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    line[quotes..].starts_with(b"From ")
}

/// The separator line, `From SENDER DATE` in asctime form, ending with LF.
pub fn separator(sender: &str, date_ms: f64) -> String {
    format!("From {sender} {}\n", asctime(date_ms))
}

/// The envelope sender as the delivering server recorded it in `Return-Path:`, when it is one
/// plain address; otherwise [`NO_SENDER`]. Only the header section is looked at.
pub fn envelope_sender(raw: &[u8]) -> String {
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break; // end of the header section
        }
        let Some(name_end) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if !line[..name_end].eq_ignore_ascii_case(b"Return-Path") {
            continue;
        }
        let value = String::from_utf8_lossy(&line[name_end + 1..]);
        let addr = value.trim().trim_start_matches('<').trim_end_matches('>');
        let plain = !addr.is_empty()
            && addr.contains('@')
            && addr
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
        return if plain {
            addr.to_string()
        } else {
            NO_SENDER.into()
        };
    }
    NO_SENDER.into()
}

/// `Www Mmm dd hh:mm:ss yyyy` (C's asctime, the day padded with a space), in UTC. Dates the
/// format cannot hold (not a number, before year 1 or after 9999) read as the Unix epoch.
pub fn asctime(ms: f64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // 0001-01-01 and 9999-12-31T23:59:59 in seconds since the epoch.
    let secs = (ms / 1000.0).floor();
    let secs = if secs.is_finite() && (-62_135_596_800.0..=253_402_300_799.0).contains(&secs) {
        secs as i64
    } else {
        0
    };
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{} {} {d:2} {:02}:{:02}:{:02} {y}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Year, month (1-12) and day of `days` since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// 2024-01-01T09:05:03Z.
    const JAN_1: f64 = 1_704_099_903_000.0;
    const SEP: &str = "From MAILER-DAEMON Mon Jan  1 09:05:03 2024\n";

    /// One message appended at `JAN_1`: the separator, then `body`, as the file holds it.
    fn check(raw: &str, expected_after_separator: &str) {
        let mut out = Vec::new();
        append(&mut out, raw.as_bytes(), JAN_1);
        let expected = format!("{SEP}{expected_after_separator}");
        assert_eq!(String::from_utf8_lossy(&out), expected, "message {raw:?}");
        // Undoing the quoting gives the message back (plus a line ending if it had none).
        let unquoted = unquote(&out[SEP.len()..out.len() - 1]);
        let mut with_eol = raw.to_string();
        if !raw.is_empty() && !raw.ends_with('\n') {
            with_eol.push_str(if raw.contains("\r\n") { "\r\n" } else { "\n" });
        }
        assert_eq!(
            String::from_utf8_lossy(&unquoted),
            with_eol,
            "round trip of {raw:?}"
        );
    }

    /// A reader's side of mboxrd: one `>` less on every line matching `^>+From `.
    fn unquote(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            let quotes = line.iter().take_while(|&&b| b == b'>').count();
            let quoted = quotes > 0 && line[quotes..].starts_with(b"From ");
            out.extend_from_slice(if quoted { &line[1..] } else { line });
        }
        out
    }

    #[test]
    fn messages_are_quoted_as_mboxrd() {
        let cases: &[(&str, &str)] = &[
            // Nothing to quote: the bytes, then the blank line.
            ("Subject: a\n\nbody\n", "Subject: a\n\nbody\n\n"),
            // `From ` at the start of a body line.
            (
                "Subject: a\n\nFrom here on\nnot From here\n",
                "Subject: a\n\n>From here on\nnot From here\n\n",
            ),
            // Already quoted lines get one more `>` (mboxo would leave them, and lose one).
            (
                "S: a\n\n>From one\n>>From two\n>>>From three\n",
                "S: a\n\n>>From one\n>>>From two\n>>>>From three\n\n",
            ),
            // Not a separator: no space after From, a space before it, `>` then something else.
            (
                "S: a\n\nFrom:x\nFromage\n From here\n> From here\n>X From\n",
                "S: a\n\nFrom:x\nFromage\n From here\n> From here\n>X From\n\n",
            ),
            // The first line of the message is a line too.
            ("From here\n", ">From here\n\n"),
            // CRLF kept as stored; the separator and blank line are LF.
            (
                "Subject: a\r\n\r\nFrom me\r\n>From you\r\n",
                "Subject: a\r\n\r\n>From me\r\n>>From you\r\n\n",
            ),
            // No final line ending: one is added (CRLF for a CRLF message, else LF).
            ("Subject: a\n\nlast", "Subject: a\n\nlast\n\n"),
            (
                "Subject: a\r\n\r\nFrom last",
                "Subject: a\r\n\r\n>From last\r\n\n",
            ),
            // A message ending with a blank line keeps it; the separator's blank line follows.
            ("Subject: a\n\nbody\n\n", "Subject: a\n\nbody\n\n\n"),
            // A lone `From ` at the very end, without a line ending.
            ("S: a\n\nFrom ", "S: a\n\n>From \n\n"),
        ];
        for (raw, expected) in cases {
            check(raw, expected);
        }
    }

    #[test]
    fn eight_bit_bytes_pass_untouched() {
        let raw =
            "Subject: x\r\n\r\nGr\u{fc}\u{df}e aus T\u{14d}ky\u{14d}\r\nFrom \u{6771}\u{4eac}\r\n";
        let mut out = Vec::new();
        append(&mut out, raw.as_bytes(), JAN_1);
        let mut expected = SEP.as_bytes().to_vec();
        expected.extend_from_slice(
            "Subject: x\r\n\r\nGr\u{fc}\u{df}e aus T\u{14d}ky\u{14d}\r\n>From \u{6771}\u{4eac}\r\n\n"
                .as_bytes(),
        );
        assert_eq!(out, expected);
        // Bytes that are not UTF-8 at all, too.
        let mut out = Vec::new();
        append(&mut out, b"S: a\n\n\xff\xfe\x80From \n", JAN_1);
        assert_eq!(&out[SEP.len()..], b"S: a\n\n\xff\xfe\x80From \n\n");
    }

    #[test]
    fn messages_follow_each_other_with_one_blank_line() {
        let mut out = Vec::new();
        append(&mut out, b"S: 1\n\none", JAN_1);
        append(&mut out, b"S: 2\r\n\r\ntwo\r\n", JAN_1);
        let expected = format!("{SEP}S: 1\n\none\n\n{SEP}S: 2\r\n\r\ntwo\r\n\n");
        assert_eq!(String::from_utf8_lossy(&out), expected);
    }

    #[test]
    fn the_separator_names_the_envelope_sender_when_known() {
        let cases: &[(&str, &str)] = &[
            (
                "Return-Path: <bounce@example.org>\r\nFrom: x\r\n\r\n",
                "bounce@example.org",
            ),
            ("return-path:bounce@example.org\n\n", "bounce@example.org"),
            // The null sender, a display name, an address with a space: not one plain address.
            ("Return-Path: <>\r\n\r\n", NO_SENDER),
            ("Return-Path: Bob <bob@example.org>\r\n\r\n", NO_SENDER),
            ("Return-Path: <a b@example.org>\r\n\r\n", NO_SENDER),
            // Only the header section counts.
            (
                "From: x\r\n\r\nReturn-Path: <body@example.org>\r\n",
                NO_SENDER,
            ),
            ("From: x\r\n\r\n", NO_SENDER),
            ("", NO_SENDER),
        ];
        for (raw, expected) in cases {
            assert_eq!(envelope_sender(raw.as_bytes()), *expected, "{raw:?}");
        }
    }

    #[test]
    fn dates_are_written_in_asctime_form_in_utc() {
        let cases: &[(f64, &str)] = &[
            (0.0, "Thu Jan  1 00:00:00 1970"),
            (JAN_1, "Mon Jan  1 09:05:03 2024"),
            // A leap day, a two-digit day, the last second of a year.
            (1_709_210_096_000.0, "Thu Feb 29 12:34:56 2024"),
            (1_704_067_199_999.0, "Sun Dec 31 23:59:59 2023"),
            (946_684_799_000.0, "Fri Dec 31 23:59:59 1999"),
            // Before the epoch.
            (-1000.0, "Wed Dec 31 23:59:59 1969"),
            // Dates no asctime can hold read as the epoch.
            (f64::NAN, "Thu Jan  1 00:00:00 1970"),
            (f64::INFINITY, "Thu Jan  1 00:00:00 1970"),
            (1e20, "Thu Jan  1 00:00:00 1970"),
        ];
        for (ms, expected) in cases {
            assert_eq!(asctime(*ms), *expected, "{ms}");
        }
        assert_eq!(
            separator("a@b", JAN_1),
            "From a@b Mon Jan  1 09:05:03 2024\n"
        );
    }
}
