//! Every part reachable: each case lists what the reader would show or offer, in order.

use super::*;
use wasm_bindgen_test::wasm_bindgen_test;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// One line per thing the user can reach: body blocks, the plain alternative, inline images,
/// attachments and forwarded messages.
fn outline(v: &MessageView) -> Vec<String> {
    let mut out = Vec::new();
    for b in &v.body {
        match b {
            Block::Text(t) => out.push(format!("text:{}", t.trim())),
            Block::Html(h) => out.push(format!("html:{}", h.trim())),
        }
    }
    out.extend(v.plain.iter().map(|t| format!("plain:{}", t.trim())));
    out.extend(
        v.inline_images
            .iter()
            .map(|i| format!("inline:{} {}", i.cid, i.mime)),
    );
    out.extend(
        v.attachments
            .iter()
            .map(|a| format!("attachment:{} {} {}", a.name, a.mime, a.bytes.len())),
    );
    out.extend(
        v.forwarded
            .iter()
            .map(|f| format!("forwarded:{}", f.subject)),
    );
    out
}

fn check(raw: &[u8], expected: &[&str]) {
    let view = parse_view(raw).expect("parses");
    assert_eq!(
        outline(&view),
        expected,
        "for:\n{}",
        String::from_utf8_lossy(raw)
    );
}

fn mail(content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n{body}"
    )
    .into_bytes()
}

#[wasm_bindgen_test]
fn a_second_text_part_in_another_charset_is_shown_not_hidden() {
    let mut raw = mail(
        "multipart/mixed; boundary=b",
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nFirst part, caf\u{e9}.\r\n\
         --b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nSecond part, ",
    );
    raw.extend_from_slice(b"\xe9t\xe9.\r\n--b--\r\n");
    check(&raw, &["text:First part, café.", "text:Second part, été."]);
}

#[wasm_bindgen_test]
fn html_alternative_is_shown_and_its_text_twin_is_offered() {
    check(
        &mail(
            "multipart/alternative; boundary=b",
            "--b\r\nContent-Type: text/plain\r\n\r\nplain words\r\n\
             --b\r\nContent-Type: text/html\r\n\r\n<p>rich words</p>\r\n--b--\r\n",
        ),
        &["html:<p>rich words</p>", "plain:plain words"],
    );
}

#[wasm_bindgen_test]
fn html_then_text_in_mixed_shows_both_in_order() {
    check(
        &mail(
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: text/html\r\n\r\n<p>one</p>\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\ntwo\r\n--b--\r\n",
        ),
        &["html:<p>one</p>", "text:two"],
    );
}

#[wasm_bindgen_test]
fn an_image_the_html_shows_is_inline_and_one_it_does_not_is_listed() {
    let png = "iVBORw0KGgo=";
    check(
        &mail(
            "multipart/related; boundary=b",
            &format!(
                "--b\r\nContent-Type: text/html\r\n\r\n<img src=\"CID:shown@x\">\r\n\
                 --b\r\nContent-Type: image/png\r\nContent-ID: <shown@x>\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{png}\r\n\
                 --b\r\nContent-Type: image/png\r\nContent-ID: <unused@x>\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{png}\r\n--b--\r\n"
            ),
        ),
        &[
            "html:<img src=\"CID:shown@x\">",
            "inline:shown@x image/png",
            "inline:unused@x image/png",
            "attachment:part-3.png image/png 8",
        ],
    );
}

#[wasm_bindgen_test]
fn other_text_types_and_forwarded_mail_are_reachable() {
    check(
        &mail(
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n\
             --b\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\n\
             --b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nhi\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\n\r\n--b--\r\n",
        ),
        &[
            "text:see below",
            "attachment:part-2.calendar text/calendar 15",
            "forwarded:inner",
        ],
    );
}

#[wasm_bindgen_test]
fn a_message_that_is_one_binary_part_is_an_attachment() {
    check(
        &mail("application/pdf; name=\"r.pdf\"", "%PDF-1.4 not really\r\n"),
        &["attachment:r.pdf application/pdf 21"],
    );
}

#[wasm_bindgen_test]
fn only_known_raster_types_reach_the_data_url() {
    assert_eq!(inline_image_type("image/PNG"), Some("image/png"));
    assert_eq!(inline_image_type("image/jpg"), Some("image/jpeg"));
    assert_eq!(inline_image_type("image/png\"><script>"), None);
    assert_eq!(inline_image_type("image/svg+xml"), None);
    assert_eq!(inline_image_type("text/html"), None);
}
