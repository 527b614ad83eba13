//! Entry point: mount the app. Everything else lives in the library.
//!
//! The service worker loads this same binary (`frontend/pwa/sw.js`) for its background check,
//! and `init()` runs `main` there too: with no `window`, there is nothing to mount.

use wasm_bindgen::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    if web_sys::window().is_none() {
        return;
    }
    leptos::mount::mount_to_body(postbag_web::app::App);
}

/// The service worker's periodic check (`periodicsync`, tag `postbag-check`): every account
/// opted in to background checks, under the open app's locks and schedule, then the
/// notification and the badge. Resolves to the number of new messages; rejects with the
/// reason the check could not start (the store could not be opened).
#[wasm_bindgen]
pub async fn background_check() -> Result<u32, JsValue> {
    let report = postbag_web::model::background::check_in_background()
        .await
        .map_err(|e| JsValue::from_str(&e.to_string()))?;
    for (account, why) in &report.skipped {
        // Account ids and fixed reasons only: never a secret or a message.
        web_sys::console::info_1(&format!("Postbag: {account} not checked: {why}").into());
    }
    Ok(report.new_mail.iter().map(|(_, n)| n).sum())
}
