//! HTML mail made safe to show: DOMPurify in a parser frame, then a sandboxed iframe with its
//! own CSP.
//!
//! Two walls: DOMPurify removes scripts and event handlers using the browser's own parser; the
//! reader's iframe has `sandbox` without allow-scripts and a CSP that allows images only from
//! `data:` until the user chooses to load remote content for this message.
//!
//! Mail markup is never parsed in the app's own document, not even inertly: Chromium checks
//! every inline event handler of a `DOMParser` (or template) document against the page's CSP as
//! it parses, and reports each as a violation of the app's policy. So DOMPurify runs bound to
//! a hidden same-origin frame (`parse.html`, see [`frame`]) whose document may run no script at
//! all (its own `sandbox` CSP and iframe attribute) and has no script policy to violate.
//!
//! `cid:` references are resolved *inside* the sanitiser, on the parsed element (a DOMPurify
//! hook sets the attribute): no string is spliced into markup after cleaning, so no crafted
//! Content-ID can reopen an attribute. Each image becomes a `data:` URL (the sandboxed frame
//! has an opaque origin and cannot load the app's `blob:` URLs; measured), within a budget
//! for the whole document, so that one image referenced thousands of times cannot grow the
//! document without bound.

mod frame;
mod rules;

use std::cell::RefCell;
use std::collections::HashMap;

use base64::Engine as _;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::view::InlineImage;
pub use frame::SanitizeError;
use rules::{UrlUse, css_has_remote, srcset_has_remote, url_use};

/// The sandbox attribute of the reader iframe: no scripts, forms, popups or navigation.
pub const IFRAME_SANDBOX: &str = "";

/// Characters of `data:` URLs one document may hold for its `cid:` images, all references
/// together (a newsletter's logos and photos fit many times over).
pub const INLINE_IMAGE_BUDGET: usize = 16 * 1024 * 1024;

/// What the sanitiser made of one HTML body.
#[derive(Clone, Debug, PartialEq)]
pub struct Clean {
    /// The whole cleaned document (`<html>…</html>`), `cid:` images resolved.
    pub html: String,
    /// Whether loading remote content would change anything (any kind of remote reference).
    pub remote: bool,
    /// Content-IDs whose image was left out because the budget was spent; the reader lists
    /// them so that they stay reachable.
    pub omitted: Vec<String>,
}

/// Sanitises `html`, resolving `cid:` references against `images`.
pub async fn sanitize(html: &str, images: &[InlineImage]) -> Result<Clean, SanitizeError> {
    let purifier = frame::purifier().await?;
    PASS.with(|p| *p.borrow_mut() = Some(Pass::new(images)));
    let config = js_sys::Object::new();
    let forbid = js_sys::Array::of5(
        &"form".into(),
        &"input".into(),
        &"button".into(),
        &"textarea".into(),
        &"select".into(),
    );
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&config, &k.into(), v);
    // Stylesheets may come from the mail's <head>: keep the whole document, and <link> (only
    // as a stylesheet, see the hook) so that "load remote content" can load it.
    let result = set("FORBID_TAGS", &forbid)
        .and_then(|_| set("ADD_TAGS", &js_sys::Array::of1(&"link".into())))
        .and_then(|_| set("WHOLE_DOCUMENT", &JsValue::TRUE))
        .and_then(|_| purifier.sanitize(html, &config));
    let pass = PASS.with(|p| p.borrow_mut().take());
    let html = result
        .ok()
        .and_then(|v| v.as_string())
        .ok_or(SanitizeError::Failed)?;
    let pass = pass.ok_or(SanitizeError::Failed)?;
    Ok(Clean {
        html,
        remote: pass.remote,
        omitted: pass.omitted,
    })
}

/// The iframe's whole document: our CSP first, then the sanitised mail document (whose own
/// `<html>`, `<head>` and `<body>` tags the parser folds into ours).
pub fn iframe_document(clean_html: &str, allow_remote: bool) -> String {
    let remote = if allow_remote { " https: http:" } else { "" };
    let media = if allow_remote {
        "; media-src https: http:"
    } else {
        ""
    };
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         img-src data:{remote}; style-src 'unsafe-inline'{remote}; font-src data:{remote}{media}\">\
         <base target=\"_blank\">\
         <style>body{{font:15px/1.5 system-ui,sans-serif;margin:0;padding:4px 2px;\
         overflow-wrap:anywhere}}img{{max-width:100%;height:auto}}</style>\
         </head><body>{clean_html}</body></html>"
    )
}

thread_local! {
    /// The sanitise call in progress (the hook is called synchronously inside it).
    static PASS: RefCell<Option<Pass>> = const { RefCell::new(None) };
}

/// What the hook knows and learns during one sanitise call.
struct Pass {
    images: Vec<InlineImage>,
    urls: HashMap<usize, String>,
    budget: usize,
    remote: bool,
    omitted: Vec<String>,
}

impl Pass {
    fn new(images: &[InlineImage]) -> Pass {
        Pass {
            images: images.to_vec(),
            urls: HashMap::new(),
            budget: INLINE_IMAGE_BUDGET,
            remote: false,
            omitted: Vec::new(),
        }
    }

    /// Called for every element DOMPurify kept, after its attributes were cleaned.
    fn visit(&mut self, el: &web_sys::Element) {
        let tag = el.tag_name().to_ascii_lowercase();
        for attr in rules::URL_ATTRIBUTES {
            let Some(value) = el.get_attribute(attr) else {
                continue;
            };
            match (*attr, tag.as_str()) {
                // Links are followed only when clicked (in a new tab), never loaded.
                ("href", "a" | "area") => {}
                ("href", "link") if !is_stylesheet(el) => {
                    let _ = el.remove_attribute(attr);
                }
                ("srcset", _) => self.remote |= srcset_has_remote(&value),
                _ => match url_use(&value) {
                    UrlUse::Local => {}
                    UrlUse::Remote => self.remote = true,
                    UrlUse::Cid(cid) => self.resolve(el, attr, &cid),
                },
            }
        }
        if let Some(style) = el.get_attribute("style") {
            self.remote |= css_has_remote(&style);
        }
        if tag == "style" {
            self.remote |= css_has_remote(&el.text_content().unwrap_or_default());
        }
    }

    /// Points `attr` at the image part named by `cid`, or removes it (unknown part, or the
    /// budget is spent).
    fn resolve(&mut self, el: &web_sys::Element, attr: &str, cid: &str) {
        let found = self.images.iter().position(|i| i.cid == cid).or_else(|| {
            let cid = cid.to_lowercase();
            self.images.iter().position(|i| i.cid.to_lowercase() == cid)
        });
        let Some(index) = found else {
            let _ = el.remove_attribute(attr);
            return;
        };
        let image = &self.images[index];
        let url = self.urls.entry(index).or_insert_with(|| {
            let b64 = base64::engine::general_purpose::STANDARD.encode(&image.bytes);
            format!("data:{};base64,{b64}", image.mime)
        });
        if url.len() > self.budget {
            let _ = el.remove_attribute(attr);
            if !self.omitted.contains(&image.cid) {
                self.omitted.push(image.cid.clone());
            }
            return;
        }
        self.budget -= url.len();
        let _ = el.set_attribute(attr, url);
    }
}

fn is_stylesheet(el: &web_sys::Element) -> bool {
    el.get_attribute("rel").is_some_and(|r| {
        r.split_ascii_whitespace()
            .any(|t| t.eq_ignore_ascii_case("stylesheet"))
    })
}

/// DOMPurify calls this for each element; `node` lives in the parser frame's realm, so it is
/// not an `instanceof` the app's `Element` (hence the unchecked cast; only DOM methods are used).
fn after_attributes(node: JsValue) {
    if !node.is_object() {
        return;
    }
    let el: web_sys::Element = node.unchecked_into();
    PASS.with(|p| {
        if let Some(pass) = p.borrow_mut().as_mut() {
            pass.visit(&el);
        }
    });
}
