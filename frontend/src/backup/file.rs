//! Reading a picked file in slices (`Blob.slice`), never whole.

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The bytes `start..end` of `file`.
pub async fn slice(file: &web_sys::File, start: u64, end: u64) -> Result<Vec<u8>, String> {
    let failed = |e: wasm_bindgen::JsValue| {
        e.dyn_ref::<web_sys::DomException>()
            .map(|x| format!("{}: {}", x.name(), x.message()))
            .unwrap_or_else(|| "the browser refused to read it".into())
    };
    let blob = file
        .slice_with_f64_and_f64(start as f64, end as f64)
        .map_err(failed)?;
    let buffer = JsFuture::from(blob.array_buffer()).await.map_err(failed)?;
    let buffer: ArrayBuffer = buffer.unchecked_into();
    Ok(Uint8Array::new(&buffer).to_vec())
}
