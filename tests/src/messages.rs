//! Sample RFC 5322 messages, built with CRLF line endings as mail arrives on the wire. Each one
//! exercises something a POP3 client or a mail reader gets wrong easily.

/// A 1x1 PNG, base64: small enough to inline, real enough for a browser to decode.
const PIXEL_PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/// Joins lines with CRLF and ends with CRLF.
fn lines(ls: &[&str]) -> Vec<u8> {
    let mut out = ls.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\n");
    out
}

/// A date that grows with `i`, so "newest first" has a defined order.
fn date(i: usize) -> String {
    let day = 1 + (i / 24) % 28;
    let hour = i % 24;
    format!(
        "Date: Mon, {day:02} Jan 2024 {hour:02}:{:02}:00 +0000",
        (i * 7) % 60
    )
}

/// A short text/plain message, distinct for each `i`.
pub fn plain(i: usize) -> Vec<u8> {
    lines(&[
        &format!("From: Sender {i} <sender{i}@example.org>"),
        "To: Postbag Tester <tester@example.org>",
        &format!("Subject: Message number {i}"),
        &date(i),
        &format!("Message-ID: <plain-{i}@example.org>"),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        &format!("Hello, this is message {i}."),
        "It has two lines of text.",
    ])
}

/// Message `i` of a mailing list (RFC 2919 List-Id), for the app's rules.
pub fn mailing_list(i: usize) -> Vec<u8> {
    lines(&[
        "From: Team robot <robot@lists.example.org>",
        "To: Team <team@lists.example.org>",
        "List-Id: Team talk <team.lists.example.org>",
        &format!("Subject: Team digest volume {i}"),
        &date(i + 100),
        &format!("Message-ID: <list-{i}@example.org>"),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        &format!("This week on the team list, part {i}."),
    ])
}

/// Lines that start with a dot: the server dot-stuffs them, the client must undo it exactly.
pub fn with_dot_lines() -> Vec<u8> {
    lines(&[
        "From: Dots <dots@example.org>",
        "To: tester@example.org",
        "Subject: Lines starting with dots",
        &date(100),
        "Message-ID: <dots@example.org>",
        "",
        ".",
        "..",
        ".hidden line",
        "...three",
        "a line . with a dot",
        ". ",
        "end",
    ])
}

/// An 8-bit body (UTF-8 without transfer encoding) and an RFC 2047 encoded subject.
pub fn eight_bit() -> Vec<u8> {
    lines(&[
        "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>",
        "To: tester@example.org",
        "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgVMO2a3nDtg==?=",
        &date(101),
        "Message-ID: <eightbit@example.de>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "Grüße aus Tōkyō: 東京の天気は晴れです。",
        "Ünïcödé bytes ≥ 0x80 pass through POP3 untouched.",
    ])
}

/// Japanese mail as older clients still send it: an ISO-2022-JP subject, a Shift_JIS sender
/// name and an 8-bit Shift_JIS body (the app decodes these with the browser's TextDecoder).
pub fn legacy_japanese() -> Vec<u8> {
    let mut out = lines(&[
        "From: =?Shift_JIS?B?jlKTY5G+mFk=?= <taro@example.jp>",
        "To: tester@example.org",
        "Subject: =?ISO-2022-JP?B?GyRCMnE1RCROTT1EahsoQg==?=",
        &date(107),
        "Message-ID: <legacy-japanese@example.jp>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=Shift_JIS",
        "Content-Transfer-Encoding: 8bit",
        "",
    ]);
    // "Next week's meeting is on Wednesday." in Shift_JIS.
    out.extend_from_slice(b"\x97\x88\x8fT\x82\xcc\x91\xc5\x82\xbf\x8d\x87\x82\xed\x82\xb9\x82\xcd\x90\x85\x97j\x93\xfa\x82\xc5\x82\xb7\x81B");
    out.extend_from_slice(b"\r\n");
    out
}

/// Body lines an mbox file must quote: `From ` at a line start (which an unquoted mbox takes
/// for the next message), lines already quoted once and twice (which mboxo readers would
/// unquote wrongly), and look-alikes that must be left alone.
pub fn with_from_lines() -> Vec<u8> {
    lines(&[
        "From: Quoting <quoting@example.org>",
        "To: tester@example.org",
        "Subject: Lines starting with From",
        &date(106),
        "Message-ID: <from-lines@example.org>",
        "",
        "From the desk of the editor:",
        ">From a quoted reply",
        ">>From a reply to a reply",
        "From here on, every line matters.",
        "From:not a separator",
        " From with a leading space",
        "",
        "From ",
        "end",
    ])
}

/// A text message of at least `bytes` bytes, made of numbered 76-character lines (some starting
/// with a dot), so truncation or reordering anywhere is detectable.
pub fn large(bytes: usize) -> Vec<u8> {
    let mut out = lines(&[
        "From: Big <big@example.org>",
        "To: tester@example.org",
        &format!("Subject: A large message of {bytes} bytes"),
        &date(102),
        "Message-ID: <large@example.org>",
        "",
    ]);
    let mut n = 0usize;
    while out.len() < bytes {
        let prefix = if n.is_multiple_of(50) { "." } else { "" };
        let line = format!(
            "{prefix}{n:08} {}",
            "abcdefghijklmnopqrstuvwxyz0123456789".repeat(2)
        );
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
        n += 1;
    }
    out
}

/// A message padded to about `bytes` bytes, distinct for each `i` (for sync benchmarks).
pub fn of_size(i: usize, bytes: usize) -> Vec<u8> {
    let mut out = plain(i);
    let filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.";
    while out.len() + filler.len() + 2 <= bytes {
        out.extend_from_slice(filler.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// multipart/mixed: a text part, a forwarded message (message/rfc822) and a binary attachment.
pub fn multipart_with_rfc822() -> Vec<u8> {
    lines(&[
        "From: Forwarder <fwd@example.org>",
        "To: tester@example.org",
        "Subject: Fwd: Quarterly report",
        &date(103),
        "Message-ID: <fwd@example.org>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"outer-boundary\"",
        "",
        "This is a multi-part message in MIME format.",
        "--outer-boundary",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "See the forwarded message and the attached pixel.",
        "--outer-boundary",
        "Content-Type: message/rfc822",
        "Content-Disposition: attachment; filename=\"report.eml\"",
        "",
        "From: Analyst <analyst@example.com>",
        "To: fwd@example.org",
        "Subject: Quarterly report",
        "Date: Fri, 29 Dec 2023 09:00:00 +0000",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "Revenue went up. Costs went down.",
        "--outer-boundary",
        "Content-Type: image/png; name=\"pixel.png\"",
        "Content-Disposition: attachment; filename=\"pixel.png\"",
        "Content-Transfer-Encoding: base64",
        "",
        PIXEL_PNG_BASE64,
        "--outer-boundary--",
    ])
}

/// An HTML message that tries every trick: a script, an inline event handler, a remote image
/// (a tracking pixel), a remote stylesheet and a form. A safe reader shows the text and none of
/// the rest.
pub fn html_with_remote_image_and_script() -> Vec<u8> {
    lines(&[
        "From: Newsletter <news@shop.example>",
        "To: tester@example.org",
        "Subject: Big sale, open now",
        &date(104),
        "Message-ID: <html@shop.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<html><head>",
        "<link rel=\"stylesheet\" href=\"http://tracker.invalid/style.css\">",
        "<script>document.documentElement.setAttribute('data-pwned', 'script');</script>",
        "</head><body>",
        "<h1>Sale starts today</h1>",
        "<p>Everything must go.</p>",
        "<img src=\"http://tracker.invalid/pixel.gif?u=tester\" alt=\"tracking pixel\" width=\"1\" height=\"1\">",
        "<img src=\"x\" onerror=\"this.insertAdjacentText('afterend', 'PWNED')\">",
        "<form action=\"http://tracker.invalid/collect\"><input name=\"q\"></form>",
        "<a href=\"https://shop.example/sale\">Shop now</a>",
        "</body></html>",
    ])
}

/// multipart/related around multipart/alternative: a text part, an HTML part that shows an
/// inline image by `cid:`, and that image.
pub fn multipart_alternative_with_cid_image() -> Vec<u8> {
    lines(&[
        "From: Designer <design@example.org>",
        "To: tester@example.org",
        "Subject: Our new logo",
        &date(105),
        "Message-ID: <cid@example.org>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/related; boundary=\"rel\"",
        "",
        "--rel",
        "Content-Type: multipart/alternative; boundary=\"alt\"",
        "",
        "--alt",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Our new logo is attached inline.",
        "--alt",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<p>Our new logo:</p><p><img src=\"cid:logo@example.org\" alt=\"logo\" width=\"32\" height=\"32\"></p>",
        "--alt--",
        "--rel",
        "Content-Type: image/png",
        "Content-ID: <logo@example.org>",
        "Content-Disposition: inline; filename=\"logo.png\"",
        "Content-Transfer-Encoding: base64",
        "",
        PIXEL_PNG_BASE64,
        "--rel--",
    ])
}

/// Normalises bare LF to CRLF, as POP3 servers serve Maildir files.
pub fn to_crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 40);
    let mut prev = 0u8;
    for &b in raw {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// Message `i` of a conversation as mail clients write it: 0 starts it, 1 answers 0 (In-Reply-To
/// and References), 2 answers 1 (References to both), and so on; each from another sender,
/// an hour apart. For the app's conversations (JWZ threading).
pub fn thread(i: usize) -> Vec<u8> {
    let id = |k: usize| format!("<trip-{k}@example.org>");
    let mut headers = vec![
        format!("From: Friend {i} <friend{i}@example.org>"),
        "To: Postbag Tester <tester@example.org>".to_string(),
        format!(
            "Subject: {}Plans for the trip",
            if i == 0 { "" } else { "Re: " }
        ),
        date(i + 200),
        format!("Message-ID: {}", id(i)),
    ];
    if i > 0 {
        headers.push(format!("In-Reply-To: {}", id(i - 1)));
        let refs: Vec<String> = (0..i).map(id).collect();
        headers.push(format!("References: {}", refs.join(" ")));
    }
    let body = format!("Trip message {i}: see you at the station.");
    let mut all: Vec<&str> = headers.iter().map(String::as_str).collect();
    all.extend([
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        &body,
    ]);
    lines(&all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_crlf_adds_cr_only_where_missing() {
        assert_eq!(to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
    }

    #[test]
    fn large_reaches_the_requested_size() {
        let m = large(100_000);
        assert!(m.len() >= 100_000 && m.len() < 100_200);
        assert!(
            m.windows(3).any(|w| w == b"\n.0"),
            "some lines must start with a dot"
        );
    }
}
