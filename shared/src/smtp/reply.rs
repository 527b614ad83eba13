//! The byte layer: server bytes cut into replies (RFC 5321 section 4.2), with every length
//! bounded, and the enhanced status code (RFC 2034, RFC 3463) read off each line.
//!
//! A reply is one or more lines `ddd-text` ending with a line `ddd text` (or `ddd`); every line
//! carries the same code. Lines end with CRLF; a bare LF is accepted too, since some servers
//! and middleboxes send it.

use std::fmt;

use memchr::memchr;

use super::error::ProtocolError;

/// An RFC 3463 enhanced status code, `class.subject.detail` (e.g. `5.1.1`, bad mailbox).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnhancedCode {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

impl EnhancedCode {
    /// Reads `x.y.z` followed by a space or the end of the text; RFC 3463 bounds subject and
    /// detail at three digits each.
    fn parse(text: &str) -> Option<(EnhancedCode, &str)> {
        let end = text.find(' ').unwrap_or(text.len());
        let mut parts = text[..end].split('.');
        let mut number = |max_digits: usize| -> Option<u16> {
            let p = parts.next()?;
            (!p.is_empty() && p.len() <= max_digits && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        let class = number(1)?;
        let subject = number(3)?;
        let detail = number(3)?;
        if parts.next().is_some() || !matches!(class, 2 | 4 | 5) {
            return None;
        }
        let code = EnhancedCode {
            class: class as u8,
            subject,
            detail,
        };
        Some((code, text[end..].trim_start_matches(' ')))
    }
}

/// A complete reply. The text is the server's, lossily decoded as UTF-8: show it escaped,
/// never log it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code.
    pub code: u16,
    /// The enhanced status code of the first line, when it carries one whose class matches
    /// the reply code's first digit.
    pub enhanced: Option<EnhancedCode>,
    /// The text of each line, without the code and the enhanced code.
    pub lines: Vec<String>,
}

impl Reply {
    /// The lines joined with spaces, for a message to a person.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    /// 2xx: the command succeeded.
    pub fn is_positive(&self) -> bool {
        self.code / 100 == 2
    }

    /// 3xx: go on (354 after DATA, 334 during AUTH).
    pub fn is_intermediate(&self) -> bool {
        self.code / 100 == 3
    }

    /// 4xx: a transient failure; the same command may succeed later.
    pub fn is_transient(&self) -> bool {
        self.code / 100 == 4
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.enhanced {
            Some(e) => write!(f, "{} {e} {}", self.code, self.text()),
            None => write!(f, "{} {}", self.code, self.text()),
        }
    }
}

/// The bounds on what a server may make the client hold.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub max_line: usize,
    pub max_lines: usize,
    pub max_reply: usize,
}

/// Buffers received bytes and hands out replies. Incremental: any chunking of the input gives
/// the same replies. `Debug` shows sizes only.
#[derive(Default)]
pub(crate) struct ReplyReader {
    buf: Vec<u8>,
    pos: usize,
    /// The lines of the reply being read (a multi-line reply not yet ended).
    lines: Vec<String>,
    code: u16,
    enhanced: Option<EnhancedCode>,
    bytes: usize,
}

impl fmt::Debug for ReplyReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyReader")
            .field("buffered", &self.buffered())
            .field("partial_lines", &self.lines.len())
            .finish_non_exhaustive()
    }
}

impl ReplyReader {
    /// Appends received bytes.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        // Compact lazily: moving the unread tail costs at most what was read since the last
        // compaction, so pushing stays linear overall.
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received and not yet read as part of a complete line.
    pub(crate) fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete reply, `Ok(None)` when more bytes are needed.
    pub(crate) fn next_reply(&mut self, limits: Limits) -> Result<Option<Reply>, ProtocolError> {
        loop {
            let rest = &self.buf[self.pos..];
            let Some(lf) = memchr(b'\n', rest) else {
                // The line end may still come, but never past the limit (+1 for a CR).
                if rest.len() > limits.max_line + 1 {
                    return Err(ProtocolError::LineTooLong {
                        limit: limits.max_line,
                    });
                }
                return Ok(None);
            };
            let mut line = &rest[..lf];
            if let [head @ .., b'\r'] = line {
                line = head;
            }
            if line.len() > limits.max_line {
                return Err(ProtocolError::LineTooLong {
                    limit: limits.max_line,
                });
            }
            let (code, last, text) = split_line(line)?;
            self.pos += lf + 1;
            self.bytes += lf + 1;
            if self.lines.is_empty() {
                self.code = code;
            } else if code != self.code {
                return Err(ProtocolError::MixedReplyCodes);
            }
            if self.lines.len() >= limits.max_lines {
                return Err(ProtocolError::ReplyTooLong {
                    limit: limits.max_lines,
                });
            }
            if self.bytes > limits.max_reply {
                return Err(ProtocolError::ReplyTooLarge {
                    limit: limits.max_reply,
                });
            }
            let text = String::from_utf8_lossy(text);
            // RFC 3463: the enhanced code's class repeats the reply code's first digit; a
            // reply whose text only looks like one (a version number, say) keeps its text.
            let text = match EnhancedCode::parse(&text) {
                Some((e, rest)) if u16::from(e.class) == code / 100 => {
                    if self.lines.is_empty() {
                        self.enhanced = Some(e);
                    }
                    rest.to_string()
                }
                _ => text.into_owned(),
            };
            self.lines.push(text);
            if last {
                self.bytes = 0;
                return Ok(Some(Reply {
                    code,
                    enhanced: self.enhanced.take(),
                    lines: std::mem::take(&mut self.lines),
                }));
            }
        }
    }
}

/// `ddd-text`, `ddd text` or `ddd`: the code, whether this is the last line, and the text.
fn split_line(line: &[u8]) -> Result<(u16, bool, &[u8]), ProtocolError> {
    let (digits, rest) = line
        .split_at_checked(3)
        .ok_or(ProtocolError::MalformedReply)?;
    // RFC 5321 section 4.2: the first digit is 2 to 5; the others are digits.
    if !matches!(digits[0], b'2'..=b'5') || !digits[1..].iter().all(u8::is_ascii_digit) {
        return Err(ProtocolError::MalformedReply);
    }
    let code = digits
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    match rest {
        [] => Ok((code, true, rest)),
        [b' ', text @ ..] => Ok((code, true, text)),
        [b'-', text @ ..] => Ok((code, false, text)),
        _ => Err(ProtocolError::MalformedReply),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_line: 40,
        max_lines: 4,
        max_reply: 100,
    };

    /// Feeds `input` whole and byte by byte; both must give the same replies and error.
    fn check(input: &str, expected: Result<Vec<Reply>, ProtocolError>) {
        for step in [input.len().max(1), 1] {
            let mut reader = ReplyReader::default();
            let mut replies = Vec::new();
            let mut result = Ok(());
            'feed: for chunk in input.as_bytes().chunks(step) {
                reader.push(chunk);
                loop {
                    match reader.next_reply(LIMITS) {
                        Ok(Some(r)) => replies.push(r),
                        Ok(None) => break,
                        Err(e) => {
                            result = Err(e);
                            break 'feed;
                        }
                    }
                }
            }
            let got = result.map(|()| replies);
            assert_eq!(got, expected, "{input:?} in chunks of {step}");
        }
    }

    fn reply(code: u16, enhanced: Option<(u8, u16, u16)>, lines: &[&str]) -> Reply {
        Reply {
            code,
            enhanced: enhanced.map(|(class, subject, detail)| EnhancedCode {
                class,
                subject,
                detail,
            }),
            lines: lines.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn single_and_multi_line_replies() {
        check(
            "220 foo.com Service Ready\r\n250-foo.com greets bar.com\r\n250-8BITMIME\r\n250 HELP\r\n354\n",
            Ok(vec![
                reply(220, None, &["foo.com Service Ready"]),
                reply(250, None, &["foo.com greets bar.com", "8BITMIME", "HELP"]),
                reply(354, None, &[""]),
            ]),
        );
    }

    #[test]
    fn enhanced_codes_only_when_the_class_matches() {
        check(
            "550-5.1.1 no such user\r\n550 5.1.1 bob@example.org\r\n250 2.0.0 Ok: queued as 4F\r\n250 3.1.4 is pi\r\n535 5.7.8\r\n",
            Ok(vec![
                reply(550, Some((5, 1, 1)), &["no such user", "bob@example.org"]),
                reply(250, Some((2, 0, 0)), &["Ok: queued as 4F"]),
                reply(250, None, &["3.1.4 is pi"]),
                reply(535, Some((5, 7, 8)), &[""]),
            ]),
        );
        assert_eq!(EnhancedCode::parse("5.1234.1 x"), None);
        assert_eq!(EnhancedCode::parse("5.1.1.1 x"), None);
        assert_eq!(EnhancedCode::parse("5..1 x"), None);
    }

    #[test]
    fn malformed_lines() {
        check("2\r\n", Err(ProtocolError::MalformedReply));
        check("hello\r\n", Err(ProtocolError::MalformedReply));
        check("650 no\r\n", Err(ProtocolError::MalformedReply));
        check("250x\r\n", Err(ProtocolError::MalformedReply));
        check("250-a\r\n251 b\r\n", Err(ProtocolError::MixedReplyCodes));
    }

    #[test]
    fn every_length_is_bounded() {
        // A line may be exactly max_line long; one byte more fails, with or without its end.
        let ok = format!("250 {}\r\n", "x".repeat(36));
        check(&ok, Ok(vec![reply(250, None, &[&"x".repeat(36)])]));
        check(
            &format!("250 {}\r\n", "x".repeat(37)),
            Err(ProtocolError::LineTooLong { limit: 40 }),
        );
        check(
            &format!("250 {}", "x".repeat(100)),
            Err(ProtocolError::LineTooLong { limit: 40 }),
        );
        check(
            "250-a\r\n250-b\r\n250-c\r\n250-d\r\n250 e\r\n",
            Err(ProtocolError::ReplyTooLong { limit: 4 }),
        );
        let long = format!("250-{}\r\n", "y".repeat(30));
        check(
            &format!("{long}{long}{long}250 z\r\n"),
            Err(ProtocolError::ReplyTooLarge { limit: 100 }),
        );
    }
}
