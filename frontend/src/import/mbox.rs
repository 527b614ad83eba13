//! The mbox format, read: a push reader that turns a file fed in chunks into whole messages.
//!
//! It is written by hand because the reader mail-parser offers (`mailbox::mbox`) pulls from a
//! blocking `BufRead`, reads lines of any length into memory, cannot say at which offset a
//! message starts, and takes any `From ` line for a separator. Here:
//! - a `From ` line separates messages only after a blank line (as every writer puts one) or
//!   when it has the separator's shape (`From sender … hh:mm … yyyy`), so an unquoted `From `
//!   in a body does not cut a message in two;
//! - one `>` is removed from every line matching `^>+From ` (mboxrd). mboxo files read the same
//!   except for lines with two or more `>`, which mboxo never writes as quoting: seeing one is
//!   the evidence that the file is mboxrd ([`Format`]);
//! - the blank line that ends each message belongs to the file, not to the message, so an
//!   export read back gives the stored bytes exactly;
//! - memory is bounded by the largest message allowed: a longer message is skipped (counted,
//!   with its offset) while the reader moves on to the next separator;
//! - a file that does not start with a `From ` line is refused before anything is read further,
//!   and a file that ends inside a line (cut at a random byte) has its last message reported
//!   as cut, not imported half.

/// What the file turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// No line with two or more `>` before `From `: mboxo and mboxrd read the same.
    Mbox,
    /// Lines like `>>From ` were seen: mboxrd quoting, undone one level.
    Mboxrd,
}

/// Why a part of the file was not imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Larger than the limit; `bytes` is its size in the file.
    TooLarge { bytes: u64 },
    /// The file ends inside this message (no closing blank line): it looks cut off.
    Cut,
    /// Between two separators there is nothing that reads as a message header.
    NotAMessage,
}

/// One thing found in the file, at the byte offset of its `From ` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Message {
        offset: u64,
        /// The separator line (without its line end), for the date when the message has none.
        separator: String,
        raw: Vec<u8>,
    },
    Skipped {
        offset: u64,
        reason: Skip,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MboxError {
    #[error("it is not an mbox file: the text at offset {offset} is not a \"From \" line")]
    NotMbox { offset: u64 },
    #[error("the file is empty")]
    Empty,
}

/// The message being collected.
struct Collecting {
    offset: u64,
    separator: String,
    bytes: Vec<u8>,
    /// Bytes it has in the file, counted even after it became too large to keep.
    size: u64,
    too_large: bool,
}

/// Feed it the file's bytes in order with [`MboxReader::feed`], then call
/// [`MboxReader::finish`]. What it finds is appended to the caller's list.
pub struct MboxReader {
    max_message: usize,
    /// File offset of the first byte of `line`.
    offset: u64,
    /// The line being read, up to `max_message + 1` bytes of it.
    line: Vec<u8>,
    /// Bytes of the current line beyond what `line` holds.
    line_overflow: u64,
    current: Option<Collecting>,
    /// The last complete line was blank (or nothing was read yet).
    after_blank: bool,
    format: Format,
}

impl MboxReader {
    pub fn new(max_message: usize) -> MboxReader {
        MboxReader {
            max_message,
            offset: 0,
            line: Vec::new(),
            line_overflow: 0,
            current: None,
            after_blank: true,
            format: Format::Mbox,
        }
    }

    /// Reads `chunk`; whole messages (and skipped parts) found in it are pushed to `found`.
    pub fn feed(&mut self, mut chunk: &[u8], found: &mut Vec<Found>) -> Result<(), MboxError> {
        while !chunk.is_empty() {
            let Some(end) = memchr::memchr(b'\n', chunk).map(|i| i + 1) else {
                self.keep_partial(chunk)?;
                break;
            };
            let (piece, rest) = chunk.split_at(end);
            chunk = rest;
            if self.line.is_empty() && self.line_overflow == 0 {
                // The whole line is in the chunk: read it where it is, no copy.
                if self.current.is_none() {
                    check_start(piece, self.offset)?;
                }
                self.end_line(piece, piece.len() as u64, found);
            } else {
                self.keep_partial(piece)?;
                let line = std::mem::take(&mut self.line);
                let length = line.len() as u64 + std::mem::take(&mut self.line_overflow);
                self.end_line(&line, length, found);
                self.line = line;
                self.line.clear();
            }
        }
        Ok(())
    }

    /// Keeps the start of a line that goes on in the next chunk, up to the size limit.
    fn keep_partial(&mut self, piece: &[u8]) -> Result<(), MboxError> {
        let room = (self.max_message + 1).saturating_sub(self.line.len());
        let kept = piece.len().min(room);
        self.line.extend_from_slice(&piece[..kept]);
        self.line_overflow += (piece.len() - kept) as u64;
        if self.current.is_none() {
            check_start(&self.line, self.offset)?;
        }
        Ok(())
    }

    /// The end of the file: the last message, whole or reported cut.
    pub fn finish(mut self, found: &mut Vec<Found>) -> Result<Format, MboxError> {
        // A file cut at a random byte ends inside a line; one that ends with a line end but
        // without the closing blank line is taken as whole (some writers leave it out at the
        // very end).
        let cut = !self.line.is_empty();
        if cut {
            let line = std::mem::take(&mut self.line);
            let length = line.len() as u64 + self.line_overflow;
            self.end_line(&line, length, found);
        }
        let Some(message) = self.current.take() else {
            return Err(MboxError::Empty);
        };
        found.push(if message.too_large {
            Found::Skipped {
                offset: message.offset,
                reason: Skip::TooLarge {
                    bytes: message.size,
                },
            }
        } else if cut {
            Found::Skipped {
                offset: message.offset,
                reason: Skip::Cut,
            }
        } else {
            close(message, self.after_blank)
        });
        Ok(self.format)
    }

    /// One whole line of the file, `length` bytes long there (of which `line` holds the start
    /// when the line is longer than any message may be).
    fn end_line(&mut self, line: &[u8], length: u64, found: &mut Vec<Found>) {
        let offset = self.offset;
        self.offset += length;
        let blank = length <= 2 && (line == b"\n" || line == b"\r\n");
        let separator = line.starts_with(b"From ")
            && length < 1000
            && (self.after_blank || looks_like_separator(line));
        if separator {
            if let Some(previous) = self.current.take() {
                found.push(if previous.too_large {
                    Found::Skipped {
                        offset: previous.offset,
                        reason: Skip::TooLarge {
                            bytes: previous.size,
                        },
                    }
                } else {
                    // Without a blank line before it, the separator ends the message as it is.
                    close(previous, self.after_blank)
                });
            }
            let text = String::from_utf8_lossy(line);
            self.current = Some(Collecting {
                offset,
                separator: text.trim_end_matches(['\r', '\n']).to_string(),
                bytes: Vec::new(),
                size: 0,
                too_large: false,
            });
            self.after_blank = false;
            return;
        }
        self.after_blank = blank;
        let Some(message) = self.current.as_mut() else {
            return; // blank lines before the first separator
        };
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        let unquote = quotes > 0 && line[quotes..].starts_with(b"From ");
        if unquote && quotes > 1 {
            self.format = Format::Mboxrd;
        }
        let kept = if unquote { &line[1..] } else { line };
        message.size += length;
        if message.too_large || message.size > self.max_message as u64 + 2 {
            // + 2: the closing blank line is counted here but is not part of the message.
            message.too_large = true;
            message.bytes = Vec::new();
        } else {
            message.bytes.extend_from_slice(kept);
        }
    }
}

/// The message, without the blank line that closed it in the file when there was one.
fn close(mut message: Collecting, closed_by_blank: bool) -> Found {
    let bytes = &mut message.bytes;
    if closed_by_blank {
        // The blank line is the last line: `\n`, or `\r\n` after a line end of the message.
        let crlf = bytes.ends_with(b"\r\n")
            && (bytes.len() == 2 || bytes[..bytes.len() - 2].ends_with(b"\n"));
        let blank = if crlf {
            2
        } else {
            usize::from(bytes.ends_with(b"\n"))
        };
        bytes.truncate(bytes.len() - blank);
    }
    if !looks_like_message(bytes) {
        return Found::Skipped {
            offset: message.offset,
            reason: Skip::NotAMessage,
        };
    }
    Found::Message {
        offset: message.offset,
        separator: message.separator,
        raw: message.bytes,
    }
}

/// The message starts with a header field (`Name:` of printable ASCII without spaces), as every
/// RFC 5322 message does; anything else between two separators is not mail.
pub fn looks_like_message(raw: &[u8]) -> bool {
    let Some(colon) = raw.iter().take(200).position(|&b| b == b':') else {
        return false;
    };
    colon > 0 && raw[..colon].iter().all(|&b| b.is_ascii_graphic())
}

/// `From sender Www Mmm dd hh:mm:ss yyyy` (with variations): a sender, a time with colons and
/// a year of four digits at the end or before a time zone. Strict enough that a sentence
/// starting with "From " is not taken for one.
fn looks_like_separator(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() < 6 || words[0] != "From" {
        return false;
    }
    let has_time = words[2..].iter().any(|w| {
        w.len() >= 5
            && w.matches(':').count() >= 1
            && w.chars().all(|c| c.is_ascii_digit() || c == ':')
    });
    let has_year = words[2..]
        .iter()
        .any(|w| w.len() == 4 && w.chars().all(|c| c.is_ascii_digit()));
    has_time && has_year
}

/// The date of a separator line (`From sender Www Mmm dd hh:mm:ss yyyy`, UTC as mbox writers
/// use it), in ms since the Unix epoch; the date an imported message without a `Date:` header
/// is listed under.
pub fn separator_date_ms(separator: &str) -> Option<f64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let words: Vec<&str> = separator.split_whitespace().collect();
    let at = words.iter().position(|w| MONTHS.contains(w))?;
    let month = MONTHS.iter().position(|m| *m == words[at])? as i64 + 1;
    let day: i64 = words.get(at + 1)?.parse().ok()?;
    let mut clock = words.get(at + 2)?.split(':').map(|n| n.parse::<i64>().ok());
    let (h, m) = (clock.next()??, clock.next()??);
    let s = clock.next().flatten().unwrap_or(0);
    let year: i64 = words[at + 3..]
        .iter()
        .find_map(|w| w.parse().ok().filter(|y| (1..=9999).contains(y)))?;
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 86_400 + h * 3600 + m * 60 + s) * 1000) as f64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Before the first message: blank lines may come first, then a `From ` line. Refuses as soon
/// as the bytes seen (`text`, a line or its start, at `offset`) cannot begin one, so a binary
/// file is not read to its end.
fn check_start(text: &[u8], offset: u64) -> Result<(), MboxError> {
    let content = text.strip_suffix(b"\n").unwrap_or(text);
    let content = content.strip_suffix(b"\r").unwrap_or(content);
    if content.is_empty() {
        return Ok(());
    }
    let n = content.len().min(5);
    if content[..n] != b"From "[..n] || text.len() > 1000 {
        return Err(MboxError::NotMbox { offset });
    }
    Ok(())
}

#[cfg(test)]
#[path = "mbox/tests.rs"]
mod tests;
