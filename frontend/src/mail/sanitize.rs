//! HTML mail made safe to show: DOMPurify first, then a sandboxed iframe with its own CSP.
//!
//! Two walls: DOMPurify (window.DOMPurify, loaded from purify.min.js by index.html) removes
//! scripts and event handlers using the browser's own parser; the iframe has `sandbox` without
//! allow-scripts and a CSP that allows images only from `data:`/`blob:` unless the user chose
//! to load remote content for this message. If DOMPurify is missing, HTML is not shown at all.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = DOMPurify, js_name = sanitize)]
    fn dompurify_sanitize(html: &str, config: &JsValue) -> Result<JsValue, JsValue>;
}

/// The sandbox attribute of the reader iframe: no scripts, forms, popups or navigation.
pub const IFRAME_SANDBOX: &str = "";

/// Sanitises `html` with DOMPurify; `None` when DOMPurify is unavailable.
pub fn sanitize(html: &str) -> Option<String> {
    let config = js_sys::Object::new();
    let forbid = js_sys::Array::of5(
        &"form".into(),
        &"input".into(),
        &"button".into(),
        &"textarea".into(),
        &"select".into(),
    );
    js_sys::Reflect::set(&config, &"FORBID_TAGS".into(), &forbid).ok()?;
    dompurify_sanitize(html, &config).ok()?.as_string()
}

/// The iframe's whole document: CSP meta first, then the sanitised body with `cid:` images
/// replaced by data: URLs from the message itself.
pub fn iframe_document(
    clean_html: &str,
    inline: &[(String, String)],
    allow_remote: bool,
) -> String {
    let mut body = clean_html.to_string();
    for (cid, url) in inline {
        body = body.replace(&format!("cid:{cid}"), url);
    }
    let remote = if allow_remote { " https: http:" } else { "" };
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         img-src data: blob:{remote}; style-src 'unsafe-inline'{remote}; font-src data:{remote}\">\
         <base target=\"_blank\">\
         <style>body{{font:15px/1.5 system-ui,sans-serif;margin:0;padding:4px 2px;\
         overflow-wrap:anywhere}}img{{max-width:100%;height:auto}}</style>\
         </head><body>{body}</body></html>"
    )
}

/// Whether sanitised HTML still references remote resources (to offer "load remote content").
pub fn has_remote_content(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    [
        "src=\"http",
        "src='http",
        "src=http",
        "url(http",
        "url('http",
        "url(\"http",
        "src=\"//",
    ]
    .iter()
    .any(|p| lower.contains(p))
        || lower.contains("background=\"http")
}
