//! The byte layer: an input buffer cut into status lines and multi-line bodies.
//!
//! Lines end with CRLF; a bare LF is accepted too because some servers (and some proxies)
//! send it. A multi-line body ends with a line holding a single `.`; a body line starting with
//! `.` had that dot added by the server ("dot-stuffing") and it is removed here.
//!
//! Hot path: a 10 MB `RETR` must not be walked byte by byte. Inside a body the only places that
//! need attention are line starts with a dot, so the decoder searches for `"\n."` with
//! `memchr::memmem` and copies everything in between in one go.

use memchr::memmem;

use super::error::ProtocolError;

/// A piece of a multi-line body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyPiece {
    /// Dot-unstuffed bytes, line ends preserved as sent.
    Data(Vec<u8>),
    /// The terminating `.` line was consumed.
    End,
}

/// Buffers received bytes and hands out lines and body pieces. Incremental: any chunking of
/// the input gives the same output. `Debug` shows sizes only: the buffer holds mail.
pub struct Framer {
    buf: Vec<u8>,
    pos: usize,
    /// Inside a body: the next byte is the first of a line (it may be a stuffing dot).
    at_line_start: bool,
    /// The terminator was consumed while data was still to be returned; `End` comes next.
    end_pending: bool,
}

impl std::fmt::Debug for Framer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Framer")
            .field("buffered", &self.buffered())
            .field("at_line_start", &self.at_line_start)
            .finish_non_exhaustive()
    }
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new()
    }
}

impl Framer {
    /// An empty framer, positioned at the start of a line.
    pub fn new() -> Framer {
        Framer {
            buf: Vec::new(),
            pos: 0,
            at_line_start: true,
            end_pending: false,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        // Compact lazily: moving the unread tail costs at most what has been read since the
        // last compaction, so pushing stays linear overall.
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Forgets everything buffered (used when the transport changes under STLS).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.pos = 0;
        self.at_line_start = true;
        self.end_pending = false;
    }

    /// The next complete line without its line end, or `None` if it has not fully arrived.
    /// A line longer than `max_line` bytes (line end excluded) is an error, found as soon as
    /// that many bytes are buffered, so an endless line never grows the buffer unboundedly.
    pub fn line(&mut self, max_line: usize) -> Result<Option<Vec<u8>>, ProtocolError> {
        let rest = &self.buf[self.pos..];
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                let mut line = &rest[..i];
                if let Some(stripped) = line.strip_suffix(b"\r") {
                    line = stripped;
                }
                if line.len() > max_line {
                    return Err(ProtocolError::LineTooLong { limit: max_line });
                }
                let line = line.to_vec();
                self.pos += i + 1;
                Ok(Some(line))
            }
            // `max_line + 1` leaves room for a CR that is still waiting for its LF.
            None if rest.len() > max_line + 1 => {
                Err(ProtocolError::LineTooLong { limit: max_line })
            }
            None => Ok(None),
        }
    }

    /// The next piece of a dot-stuffed multi-line body, at most `max_chunk` bytes, or `None`
    /// if more input is needed. Call only while a body is being read; after `End` the framer
    /// is back at a line start.
    pub fn body(&mut self, max_chunk: usize) -> Option<BodyPiece> {
        let max_chunk = max_chunk.max(1);
        if self.end_pending {
            self.end_pending = false;
            return Some(BodyPiece::End);
        }
        let mut out: Vec<u8> = Vec::new();
        let end = self.buf.len();
        while out.len() < max_chunk && self.pos < end {
            if self.at_line_start {
                let rest = &self.buf[self.pos..];
                if rest[0] == b'.' {
                    match rest.get(1..3.min(rest.len())) {
                        // Only "." buffered: cannot tell a terminator from a stuffed line yet.
                        Some([]) | None => break,
                        Some([b'\n', ..]) => return self.finish_body(out, 2),
                        Some([b'\r']) => break,
                        Some([b'\r', b'\n']) => return self.finish_body(out, 3),
                        // A stuffed line: drop the dot, keep the rest of the line.
                        Some(_) => self.pos += 1,
                    }
                }
                self.at_line_start = false;
            }
            let limit = end.min(self.pos + (max_chunk - out.len()));
            let region = &self.buf[self.pos..limit];
            match memmem::find(region, b"\n.") {
                Some(i) => {
                    out.extend_from_slice(&region[..=i]);
                    self.pos += i + 1;
                    self.at_line_start = true;
                }
                None => {
                    out.extend_from_slice(region);
                    self.at_line_start = region.last() == Some(&b'\n');
                    self.pos = limit;
                }
            }
        }
        if out.is_empty() {
            None
        } else {
            Some(BodyPiece::Data(out))
        }
    }

    fn finish_body(&mut self, out: Vec<u8>, terminator_len: usize) -> Option<BodyPiece> {
        self.pos += terminator_len;
        self.at_line_start = true;
        if out.is_empty() {
            Some(BodyPiece::End)
        } else {
            self.end_pending = true;
            Some(BodyPiece::Data(out))
        }
    }
}

/// Collects the lines of a multi-line reply that is small enough to hold in memory (CAPA,
/// LIST, UIDL), unstuffed, until the terminating `.` line. The total is capped by `max_reply`.
#[derive(Default)]
pub(crate) struct Collector {
    lines: Vec<Vec<u8>>,
    size: usize,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("lines", &self.lines.len())
            .field("size", &self.size)
            .finish()
    }
}

impl Collector {
    /// Reads lines until the terminator; returns the lines once it is seen.
    pub(crate) fn feed(
        &mut self,
        framer: &mut Framer,
        max_line: usize,
        max_reply: usize,
    ) -> Result<Option<Vec<Vec<u8>>>, ProtocolError> {
        while let Some(mut line) = framer.line(max_line)? {
            if line == b"." {
                return Ok(Some(std::mem::take(&mut self.lines)));
            }
            if line.first() == Some(&b'.') {
                line.remove(0);
            }
            // Count the line end too, so many empty lines cannot evade the cap.
            self.size += line.len() + 2;
            if self.size > max_reply {
                return Err(ProtocolError::ReplyTooLarge { limit: max_reply });
            }
            self.lines.push(line);
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` whole and byte by byte, reading one body; checks the unstuffed bytes
    /// and what is left over after the terminator.
    fn check_body(input: &[u8], expected: Option<&[u8]>, rest: &[u8]) {
        for step in [input.len().max(1), 1, 3] {
            let mut f = Framer::new();
            let mut got = Vec::new();
            let mut ended = false;
            for chunk in input.chunks(step) {
                f.push(chunk);
                // After the end, the rest of the input is only buffered (it is the next reply).
                while let Some(piece) = if ended { None } else { f.body(5) } {
                    match piece {
                        BodyPiece::Data(d) => {
                            assert!(!d.is_empty() && d.len() <= 5);
                            got.extend(d)
                        }
                        BodyPiece::End => ended = true,
                    }
                }
            }
            match expected {
                Some(e) => {
                    assert!(ended, "step {step}: body not ended");
                    assert_eq!(
                        String::from_utf8_lossy(&got),
                        String::from_utf8_lossy(e),
                        "step {step}"
                    );
                    assert_eq!(&f.buf[f.pos..], rest, "step {step}");
                }
                None => assert!(!ended, "step {step}: ended early"),
            }
        }
    }

    fn check_lines(input: &[u8], max: usize, expected: &[&str], err: Option<ProtocolError>) {
        for step in [input.len().max(1), 1] {
            let mut f = Framer::new();
            let mut got = Vec::new();
            let mut error = None;
            'outer: for chunk in input.chunks(step) {
                f.push(chunk);
                loop {
                    match f.line(max) {
                        Ok(Some(l)) => got.push(String::from_utf8(l).unwrap()),
                        Ok(None) => break,
                        Err(e) => {
                            error = Some(e);
                            break 'outer;
                        }
                    }
                }
            }
            assert_eq!(got, expected, "step {step}");
            assert_eq!(error, err, "step {step}");
        }
    }

    fn check_collect(
        input: &[u8],
        max_reply: usize,
        expected: Result<Option<Vec<&str>>, ProtocolError>,
    ) {
        for step in [input.len().max(1), 1] {
            let mut f = Framer::new();
            let mut c = Collector::default();
            let mut result = Ok(None);
            for chunk in input.chunks(step) {
                f.push(chunk);
                result = c.feed(&mut f, 100, max_reply);
                if !matches!(result, Ok(None)) {
                    break;
                }
            }
            let result = result.map(|o| {
                o.map(|ls| {
                    ls.into_iter()
                        .map(|l| String::from_utf8(l).unwrap())
                        .collect::<Vec<_>>()
                })
            });
            let expected = expected
                .clone()
                .map(|o| o.map(|ls| ls.into_iter().map(String::from).collect::<Vec<_>>()));
            assert_eq!(result, expected, "step {step}");
        }
    }

    #[test]
    fn collect_rfc1939_list_and_limits() {
        check_collect(
            b"1 120\r\n2 200\r\n.\r\n",
            1000,
            Ok(Some(vec!["1 120", "2 200"])),
        );
        check_collect(b"..odd\r\n.\r\n", 1000, Ok(Some(vec![".odd"])));
        check_collect(b".\r\n", 1000, Ok(Some(vec![])));
        check_collect(b"1 120\r\n", 1000, Ok(None));
        check_collect(
            b"1 120\r\n2 200\r\n.\r\n",
            10,
            Err(ProtocolError::ReplyTooLarge { limit: 10 }),
        );
        check_collect(
            &b"\r\n".repeat(100),
            50,
            Err(ProtocolError::ReplyTooLarge { limit: 50 }),
        );
    }

    #[test]
    fn lines_crlf_and_bare_lf() {
        check_lines(
            b"+OK a\r\n-ERR b\n+OK\r\n",
            100,
            &["+OK a", "-ERR b", "+OK"],
            None,
        );
        check_lines(b"+OK partial", 100, &[], None);
        check_lines(b"\r\n", 100, &[""], None);
    }

    #[test]
    fn line_limit_is_exact_and_endless_line_fails_early() {
        check_lines(b"12345\r\n", 5, &["12345"], None);
        check_lines(
            b"123456\r\n",
            5,
            &[],
            Some(ProtocolError::LineTooLong { limit: 5 }),
        );
        // An endless line: the error comes after max_line + 2 bytes, not at a line end.
        let endless = vec![b'x'; 1000];
        check_lines(
            &endless,
            10,
            &[],
            Some(ProtocolError::LineTooLong { limit: 10 }),
        );
    }

    #[test]
    fn body_rfc1939_and_stuffing() {
        check_body(
            b"line 1\r\nline 2\r\n.\r\n",
            Some(b"line 1\r\nline 2\r\n"),
            b"",
        );
        check_body(b".\r\n+OK next", Some(b""), b"+OK next");
        check_body(
            b"..leading dot\r\n...\r\n..\r\n.\r\n",
            Some(b".leading dot\r\n..\r\n.\r\n"),
            b"",
        );
        check_body(b"a\r\n.\r\nrest", Some(b"a\r\n"), b"rest");
        // Lenient: a single dot not followed by a line end is treated as stuffing.
        check_body(b".x\r\n.\r\n", Some(b"x\r\n"), b"");
        check_body(b".\rx\r\n.\r\n", Some(b"\rx\r\n"), b"");
        // Bare LF endings, including the terminator.
        check_body(b"a\nb\n.\n", Some(b"a\nb\n"), b"");
        // Dots not at a line start are data.
        check_body(b"a.b\r\n x.\r\n.\r\n", Some(b"a.b\r\n x.\r\n"), b"");
        // 8-bit bytes pass through untouched.
        check_body(b"\xe4\xf6\xfc\r\n.\r\n", Some(b"\xe4\xf6\xfc\r\n"), b"");
    }

    #[test]
    fn body_incomplete_never_ends() {
        check_body(b"a\r\n", None, b"");
        check_body(b"a\r\n.", None, b"");
        check_body(b"a\r\n.\r", None, b"");
        check_body(b"a\r\n.\r\n", Some(b"a\r\n"), b"");
    }

    #[test]
    fn body_chunks_are_bounded_and_big_input_is_fast_path() {
        let mut body = Vec::new();
        for i in 0..1000 {
            body.extend_from_slice(format!("line {i} .. with some text\r\n").as_bytes());
            if i % 7 == 0 {
                body.extend_from_slice(b"..dot line\r\n");
            }
        }
        let mut wire = body.clone();
        wire.extend_from_slice(b".\r\n");
        let expected: Vec<u8> = String::from_utf8(body)
            .unwrap()
            .replace("\n..dot", "\n.dot")
            .into();
        let mut f = Framer::new();
        f.push(&wire);
        let mut got = Vec::new();
        while let BodyPiece::Data(d) = f.body(4096).unwrap() {
            assert!(d.len() <= 4096);
            got.extend(d);
        }
        assert_eq!(got, expected);
        assert_eq!(f.buffered(), 0);
    }
}
