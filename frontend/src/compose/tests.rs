//! Known-answer tests: every built message is read back with mail-parser, the reader's parser.

use mail_parser::{MessageParser, MimeHeaders};

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const STAMP: Stamp = Stamp {
    // Tue, 1 Dec 2026 10:00:00 +0000
    unix_secs: 1_796_119_200,
    random: [0xab; 16],
};

fn alice() -> Identity {
    Identity {
        name: "Alice Liddell".into(),
        address: "alice@example.org".into(),
    }
}

fn check_build(draft: &Draft) -> Built {
    build(draft, &alice(), STAMP, DEFAULT_MAX_BYTES).expect("builds")
}

fn text(built: &Built) -> String {
    String::from_utf8(built.raw.clone()).unwrap()
}

fn original(extra_headers: &str, body: &str) -> Original {
    let raw = format!(
        "From: Bob <bob@example.org>\r\nTo: Alice <alice@example.org>, carol@example.org\r\n\
         Cc: Dave <dave@example.org>, alice@example.org\r\nSubject: Lunch\r\n\
         Date: Mon, 30 Nov 2026 09:15:00 +0100\r\nMessage-ID: <m2@example.org>\r\n\
         {extra_headers}\r\n{body}"
    );
    Original::parse(raw.as_bytes()).unwrap()
}

#[test]
fn a_new_message_has_its_headers_and_bcc_only_in_the_envelope() {
    let draft = Draft {
        to: "Bob <bob@example.org>".into(),
        cc: "carol@example.org".into(),
        bcc: "dave@example.org, bob@example.org".into(),
        subject: "Hello".into(),
        body: "line one\nline two\n".into(),
        ..Draft::default()
    };
    let built = check_build(&draft);
    assert_eq!(built.envelope_from, "alice@example.org");
    assert_eq!(
        built.recipients,
        ["bob@example.org", "carol@example.org", "dave@example.org"]
    );
    assert_eq!(
        built.message_id,
        "<abababababababababababababababab@example.org>"
    );
    let t = text(&built);
    assert!(!t.to_ascii_lowercase().contains("bcc"), "{t}");
    assert!(
        !t.contains("dave@"),
        "a blind copy shows in the headers: {t}"
    );
    // Every line ends in CRLF, whatever the textarea gave.
    assert!(!t.replace("\r\n", "").contains('\n'), "bare LF: {t:?}");
    let msg = MessageParser::default().parse(&built.raw).unwrap();
    assert_eq!(msg.subject(), Some("Hello"));
    assert_eq!(
        msg.message_id(),
        Some("abababababababababababababababab@example.org")
    );
    assert_eq!(msg.date().unwrap().to_timestamp(), STAMP.unix_secs);
    let from = msg.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Alice Liddell"));
    assert_eq!(from.address(), Some("alice@example.org"));
    assert_eq!(msg.body_text(0).unwrap(), "line one\r\nline two\r\n");
}

#[test]
fn non_ascii_headers_go_as_encoded_words_and_read_back() {
    let draft = Draft {
        to: "Jürgen Groß <j@example.de>".into(),
        subject: "Grüße aus Köln ☕".into(),
        body: "Schöne Grüße".into(),
        ..Draft::default()
    };
    let me = Identity {
        name: "Zoë".into(),
        address: "zoe@example.org".into(),
    };
    let built = build(&draft, &me, STAMP, DEFAULT_MAX_BYTES).unwrap();
    let head = text(&built);
    let head = &head[..head.find("\r\n\r\n").unwrap()];
    assert!(head.is_ascii(), "raw UTF-8 in the headers: {head}");
    assert!(head.contains("=?utf-8?"), "{head}");
    let msg = MessageParser::default().parse(&built.raw).unwrap();
    assert_eq!(msg.subject(), Some("Grüße aus Köln ☕"));
    assert_eq!(
        msg.to().unwrap().first().unwrap().name(),
        Some("Jürgen Groß")
    );
    assert_eq!(msg.from().unwrap().first().unwrap().name(), Some("Zoë"));
    assert_eq!(msg.body_text(0).unwrap(), "Schöne Grüße");
}

#[test]
fn attachments_keep_name_type_and_bytes() {
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let draft = Draft {
        to: "bob@example.org".into(),
        subject: "files".into(),
        body: "see attached".into(),
        attachments: vec![
            Attachment {
                name: "Prüfbericht 2026.pdf".into(),
                mime: "application/pdf".into(),
                bytes: bytes.clone(),
            },
            Attachment {
                name: "notes.txt".into(),
                mime: String::new(),
                bytes: b"plain".to_vec(),
            },
        ],
        ..Draft::default()
    };
    let built = check_build(&draft);
    for line in text(&built).split("\r\n") {
        assert!(line.len() <= 998, "a line over 998 octets");
    }
    let msg = MessageParser::default().parse(&built.raw).unwrap();
    assert_eq!(msg.body_text(0).unwrap(), "see attached");
    let atts: Vec<_> = msg.attachments().collect();
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0].attachment_name(), Some("Prüfbericht 2026.pdf"));
    assert_eq!(atts[0].content_type().unwrap().subtype(), Some("pdf"));
    assert_eq!(atts[0].contents(), &bytes[..]);
    assert_eq!(atts[1].attachment_name(), Some("notes.txt"));
    assert_eq!(atts[1].content_type().unwrap().ctype(), "application");
    assert_eq!(atts[1].contents(), b"plain");
}

#[test]
fn a_long_line_is_encoded_so_no_line_passes_998_octets() {
    let draft = Draft {
        to: "bob@example.org".into(),
        body: "word ".repeat(1000),
        ..Draft::default()
    };
    let built = check_build(&draft);
    assert!(text(&built).split("\r\n").all(|l| l.len() <= 998));
    let msg = MessageParser::default().parse(&built.raw).unwrap();
    assert_eq!(msg.body_text(0).unwrap(), "word ".repeat(1000));
}

#[test]
fn reply_answers_the_sender_and_threads() {
    let o = original(
        "References: <m0@example.org> <m1@example.org>\r\n",
        "Noon?\r\n> earlier\r\n",
    );
    let d = reply(&o, &alice());
    assert_eq!(d.to, "Bob <bob@example.org>");
    assert_eq!(d.cc, "");
    assert_eq!(d.subject, "Re: Lunch");
    assert_eq!(d.in_reply_to.as_deref(), Some("<m2@example.org>"));
    assert_eq!(
        d.references,
        ["<m0@example.org>", "<m1@example.org>", "<m2@example.org>"]
    );
    assert!(
        d.body.ends_with(
            "On Mon, 30 Nov 2026 09:15:00 +0100, Bob <bob@example.org> wrote:\n> Noon?\n>> earlier\n"
        ),
        "{:?}",
        d.body
    );
    // The headers reach the wire.
    let built = check_build(&Draft {
        body: "Yes.".into(),
        ..d
    });
    let msg = MessageParser::default().parse(&built.raw).unwrap();
    assert_eq!(msg.in_reply_to().as_text(), Some("m2@example.org"));
    assert_eq!(
        msg.references().as_text_list().unwrap(),
        ["m0@example.org", "m1@example.org", "m2@example.org"]
    );
}

#[test]
fn reply_prefers_reply_to_and_uses_in_reply_to_without_references() {
    let o = original(
        "Reply-To: list@example.org\r\nIn-Reply-To: <m1@example.org>\r\n",
        "x",
    );
    let d = reply(&o, &alice());
    assert_eq!(d.to, "list@example.org");
    assert_eq!(d.references, ["<m1@example.org>", "<m2@example.org>"]);
}

#[test]
fn reply_all_drops_own_address_keeps_cc_and_repeats_nobody() {
    let o = original("", "x");
    let d = reply_all(&o, &alice());
    assert_eq!(d.to, "Bob <bob@example.org>, carol@example.org");
    assert_eq!(d.cc, "Dave <dave@example.org>");
    // Alice's own address went, whatever its case.
    let me = Identity {
        address: "ALICE@example.org".into(),
        ..alice()
    };
    assert!(!reply_all(&o, &me).to.contains("alice@"));
}

#[test]
fn subject_prefixes_are_never_doubled() {
    for (prefix, subject, expected) in [
        ("Re:", "Lunch", "Re: Lunch"),
        ("Re:", "Re: Lunch", "Re: Lunch"),
        ("Re:", "RE: Lunch", "RE: Lunch"),
        ("Re:", "", "Re:"),
        ("Fwd:", "Lunch", "Fwd: Lunch"),
        ("Fwd:", "Fwd: Lunch", "Fwd: Lunch"),
        ("Fwd:", "FW: Lunch", "FW: Lunch"),
        ("Re:", "Fwd: Lunch", "Re: Fwd: Lunch"),
    ] {
        assert_eq!(prefixed(prefix, subject), expected, "{prefix} {subject}");
    }
}

#[test]
fn references_are_bounded_keeping_the_root_and_the_newest() {
    let refs: String = (0..40).map(|i| format!("<r{i}@example.org> ")).collect();
    let o = original(&format!("References: {refs}\r\n"), "x");
    let d = reply(&o, &alice());
    assert_eq!(d.references.len(), MAX_REFERENCES);
    assert_eq!(d.references[0], "<r0@example.org>");
    assert_eq!(d.references[1], "<r22@example.org>");
    assert_eq!(d.references.last().unwrap(), "<m2@example.org>");
}

#[test]
fn forward_inline_quotes_the_headers_and_carries_attachments() {
    let raw = "From: Bob <bob@example.org>\r\nTo: alice@example.org\r\nSubject: Plans\r\n\
               Date: Mon, 30 Nov 2026 09:15:00 +0100\r\nMIME-Version: 1.0\r\n\
               Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
               Content-Type: text/plain\r\n\r\nThe plan.\r\n--b\r\n\
               Content-Type: image/png\r\nContent-Disposition: attachment; filename=map.png\r\n\
               Content-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n--b--\r\n";
    let o = Original::parse(raw.as_bytes()).unwrap();
    let d = forward_inline(&o);
    assert_eq!(d.subject, "Fwd: Plans");
    assert_eq!(d.to, "");
    assert!(d.in_reply_to.is_none());
    assert!(
        d.body.contains(
            "---------- Forwarded message ----------\nFrom: Bob <bob@example.org>\n\
             Date: Mon, 30 Nov 2026 09:15:00 +0100\nSubject: Plans\nTo: alice@example.org\n\n\
             The plan."
        ),
        "{:?}",
        d.body
    );
    assert_eq!(d.attachments.len(), 1);
    assert_eq!(d.attachments[0].name, "map.png");
    assert_eq!(d.attachments[0].bytes, b"\x89PNG\r\n");
}

#[test]
fn forward_as_attachment_sends_the_original_bytes_as_message_rfc822() {
    let raw = "From: Bob <bob@example.org>\r\nSubject: Plans\r\nMessage-ID: <p@x.org>\r\n\r\nThe plan, naïvely.\r\n";
    let o = Original::parse(raw.as_bytes()).unwrap();
    let d = Draft {
        to: "carol@example.org".into(),
        ..forward_attached(&o)
    };
    assert_eq!(d.subject, "Fwd: Plans");
    let built = check_build(&d);
    let t = text(&built);
    assert!(t.contains("Content-Type: message/rfc822"), "{t}");
    assert!(t.contains("Content-Transfer-Encoding: 8bit"), "{t}");
    // The original's bytes travel untouched (no base64, no re-encoding).
    assert!(built.raw.windows(raw.len()).any(|w| w == raw.as_bytes()));
    let msg = MessageParser::default().parse(&built.raw).unwrap();
    let inner = msg
        .attachments()
        .find_map(|p| p.message())
        .expect("a message/rfc822 part");
    assert_eq!(inner.subject(), Some("Plans"));
    assert_eq!(inner.message_id(), Some("p@x.org"));
}

#[test]
fn a_message_over_the_limit_is_refused_before_it_is_queued() {
    let draft = Draft {
        to: "bob@example.org".into(),
        attachments: vec![Attachment {
            name: "big.bin".into(),
            mime: "application/octet-stream".into(),
            bytes: vec![7; 300_000],
        }],
        ..Draft::default()
    };
    let err = build(&draft, &alice(), STAMP, 100_000).unwrap_err();
    assert!(
        matches!(err, ComposeError::TooLarge { limit: 100_000, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("at most 97.7 KB"), "{err}");
    // Just under the estimate, the built size decides (base64 lines add their CRLFs).
    let err = build(&draft, &alice(), STAMP, 400_500).unwrap_err();
    assert!(
        matches!(err, ComposeError::TooLarge { size, .. } if size > 400_500),
        "{err:?}"
    );
    assert!(build(&draft, &alice(), STAMP, 500_000).is_ok());
}

#[test]
fn addresses_that_are_not_addresses_are_named() {
    for (to, named) in [
        ("bob", "bob"),
        ("bob@example.org, carol", "carol"),
        ("Bob <bob@>", "bob@"),
    ] {
        let draft = Draft {
            to: to.into(),
            ..Draft::default()
        };
        match build(&draft, &alice(), STAMP, DEFAULT_MAX_BYTES) {
            Err(ComposeError::BadAddress(a)) => assert_eq!(a, named, "{to}"),
            other => panic!("{to}: {other:?}"),
        }
    }
    let empty = Draft::default();
    assert_eq!(
        build(&empty, &alice(), STAMP, DEFAULT_MAX_BYTES),
        Err(ComposeError::NoRecipients)
    );
    let nobody = Identity::default();
    let draft = Draft {
        to: "bob@example.org".into(),
        ..Draft::default()
    };
    assert!(matches!(
        build(&draft, &nobody, STAMP, DEFAULT_MAX_BYTES),
        Err(ComposeError::BadSender(_))
    ));
}

#[test]
fn a_draft_survives_its_json_round_trip() {
    let d = Draft {
        to: "bob@example.org".into(),
        attachments: vec![Attachment {
            name: "a.bin".into(),
            mime: "application/octet-stream".into(),
            bytes: vec![0, 255, 10, 13],
        }],
        references: vec!["<a@b>".into()],
        ..Draft::default()
    };
    let json = serde_json::to_string(&d).unwrap();
    assert!(json.contains("\"AP8KDQ==\""), "bytes go as base64: {json}");
    assert_eq!(serde_json::from_str::<Draft>(&json).unwrap(), d);
}
