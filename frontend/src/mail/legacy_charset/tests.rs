//! Legacy-charset mail decoded by the browser: each case fails with mail-parser alone (its
//! lossy UTF-8), so every assertion here checks the mending.

use super::parse;
use crate::mail::{Block, parse_view, summarize};
use mail_parser::MessageParser;
use wasm_bindgen_test::wasm_bindgen_test;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Shift_JIS 8-bit body, a Shift_JIS subject and an ISO-2022-JP sender name.
const JAPANESE: &[u8] = b"From: =?ISO-2022-JP?B?GyRCOzNFREJATzobKEI=?= <taro@example.jp>\r\nTo: hanako@example.jp\r\nSubject: =?Shift_JIS?B?k/qWe4zqgsyDgYFbg4s=?=\r\nDate: Thu, 3 Dec 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd\x81A\x89\xef\x8bc\x82\xcd\x96\xbe\x93\xfa\x82\xc5\x82\xb7\x81B\r\n";

/// ISO-2022-JP and EUC-KR (quoted-printable, HTML) alternatives, a GBK base64 part, a Big5
/// "Q" subject beside plain words, and an attachment named in ISO-2022-JP.
const MIXED: &[u8] = b"Subject: =?big5?Q?=C1c=C5=E9=20=A4=A4=A4=E5?= and more\r\nFrom: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n--b2\r\nContent-Type: text/plain; charset=iso-2022-jp\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\x1b$B$*855$$G$9$+\x1b(B\r\n--b2\r\nContent-Type: text/html; charset=EUC-KR\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>=BE=C8=B3=E7=C7=CF=BC=BC=BF=E4 =C8=B8=C0=C7</p>\r\n--b2--\r\n--b1\r\nContent-Type: text/plain; charset=gbk\r\nContent-Transfer-Encoding: base64\r\n\r\n1tDOxNPKvP7V/c7E\r\n--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"=?ISO-2022-JP?B?GyRCOCtAUT1xGyhCLnBkZg==?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n";

/// A forwarded message in EUC-JP inside a UTF-8 one.
const FORWARDED: &[u8] = b"Subject: Fwd\r\nFrom: b@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"o\"\r\n\r\n--o\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee below\r\n--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: =?EUC-JP?B?xb7B96S1pOykv7fvzL4=?=\r\nFrom: c@example.org\r\nContent-Type: text/plain; charset=euc-jp\r\n\r\n\xc5\xbe\xc1\xf7\xcb\xdc\xca\xb8\r\n--o--\r\n";

#[wasm_bindgen_test]
fn japanese_headers_and_body_are_readable() {
    let msg = parse(JAPANESE).unwrap();
    assert_eq!(msg.subject(), Some("日本語のメール"));
    let from = msg.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("山田太郎"));
    assert_eq!(from.address(), Some("taro@example.jp"));
    assert_eq!(
        msg.body_text(0).unwrap().trim(),
        "こんにちは、会議は明日です。"
    );
    // What the reader and the list show.
    let view = parse_view(JAPANESE).unwrap();
    assert_eq!(view.subject, "日本語のメール");
    assert_eq!(view.from, "山田太郎");
    assert_eq!(
        view.body,
        vec![Block::Text("こんにちは、会議は明日です。".into())]
    );
    let summary = summarize(JAPANESE, "acct", "u1", 0.0);
    assert_eq!(summary.subject, "日本語のメール");
    assert_eq!(summary.from, "山田太郎");
    assert_eq!(summary.snippet, "こんにちは、会議は明日です。");
}

#[wasm_bindgen_test]
fn mail_parser_alone_garbles_them() {
    // The reason for this module: if mail-parser ever decodes these itself, it can go.
    let msg = MessageParser::default().parse(JAPANESE).unwrap();
    assert_ne!(msg.subject(), Some("日本語のメール"));
}

#[wasm_bindgen_test]
fn every_part_of_a_mixed_message_is_decoded() {
    let view = parse_view(MIXED).unwrap();
    assert_eq!(view.subject, "繁體 中文 and more");
    assert_eq!(view.body.len(), 2, "{:?}", view.body);
    assert_eq!(view.body[0], Block::Html("<p>안녕하세요 회의</p>".into()));
    assert_eq!(view.body[1], Block::Text("中文邮件正文".into()));
    assert_eq!(view.plain, vec!["お元気ですか".to_string()]);
    assert_eq!(view.attachments.len(), 1);
    assert_eq!(view.attachments[0].name, "見積書.pdf");
    assert_eq!(view.attachments[0].bytes, b"%PDF-1.4\n");
}

#[wasm_bindgen_test]
fn a_forwarded_message_is_mended_too() {
    let view = parse_view(FORWARDED).unwrap();
    assert_eq!(view.forwarded.len(), 1);
    assert_eq!(view.forwarded[0].subject, "転送された件名");
    assert_eq!(view.forwarded[0].body, vec![Block::Text("転送本文".into())]);
}

#[wasm_bindgen_test]
fn other_mail_is_left_as_mail_parser_reads_it() {
    let raw = b"Subject: =?utf-8?Q?caf=C3=A9?= =?bogus?B?AAAA?= =?Shift_JIS?B?not base64 ?=\r\n\
From: x@example.org\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\ncaf\xe9\r\n";
    let mended = parse(raw).unwrap();
    let plain = MessageParser::default().parse(raw).unwrap();
    assert_eq!(mended.subject(), plain.subject());
    assert_eq!(mended.body_text(0), plain.body_text(0));
    assert_eq!(mended.body_text(0).unwrap().trim(), "café");
}

/// Decodes `bytes` in `label` when it is one of the charsets mended here.
fn decode(label: &str, bytes: &[u8]) -> Option<String> {
    super::decoder_for(label).map(|d| d.decode(bytes))
}

#[wasm_bindgen_test]
fn labels_resolve_as_the_browser_does() {
    assert_eq!(decode("x-sjis", b"\x93\xfa").as_deref(), Some("日"));
    assert_eq!(decode("ks_c_5601-1987", b"\xc7\xd1").as_deref(), Some("한"));
    // Decoded well by mail-parser already, or not a charset: left to it.
    assert_eq!(decode("utf-8", b"a"), None);
    assert_eq!(decode("latin1", b"a"), None);
    assert_eq!(decode("no-such-charset", b"a"), None);
    assert_eq!(decode("shift_jis\u{0}", b"a"), None);
}

#[wasm_bindgen_test]
fn a_header_in_raw_iso_2022_jp_is_read() {
    let raw = b"From: \x1b$B;3ED\x1b(B <yamada@example.jp>\r\nSubject: Re: \x1b$BF|K\\8l\x1b(B\r\n\r\nbody\r\n";
    let msg = parse(raw).unwrap();
    assert_eq!(msg.subject(), Some("Re: 日本語"));
    let from = msg.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("山田"));
    assert_eq!(from.address(), Some("yamada@example.jp"));
}
