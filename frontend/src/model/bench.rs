//! Switches that only a bench's own page script sets, read where the app decides. Absent
//! (always, outside a bench), the app does what it always does.
//!
//! The bench (`tests/e2e/bench_sync.mjs`) sets them with an init script before the app starts.
//! Mail cannot set them: mail is parsed in the sandboxed parser frame and shown in a
//! script-less iframe, never in this document, and an element clobbering a name would be an
//! object, not `true`.

/// `window.postbagBenchNoIndexer === true`: this tab's full-text indexer is never started
/// (`Model::index_soon` returns), so a sync can be timed with indexing off in rounds alternating with
/// indexing on, in the same run.
pub(super) fn indexer_off() -> bool {
    set("postbagBenchNoIndexer")
}

/// `window.postbagBenchIndexDuringSync === true`: a sync's batches start the indexer while the
/// sync runs, as they did before indexing waited for the sync's end, so the bench shows what
/// the wait saves in the same run.
pub(super) fn index_during_sync() -> bool {
    set("postbagBenchIndexDuringSync")
}

fn set(name: &str) -> bool {
    js_sys::Reflect::get(&js_sys::global(), &name.into())
        .ok()
        .and_then(|v| v.as_bool())
        == Some(true)
}
