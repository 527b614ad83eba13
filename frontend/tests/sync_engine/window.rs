//! The RETR window as the server sees it: by listed bytes, not by a count of 16, never past the
//! budget's ceiling, one command at a time for a server without PIPELINING.

use super::*;
use postbag_protocol::pop3::BudgetLimits;

/// Syncs `n` messages of `size` bytes and returns the server's view of the window.
async fn owed(name: &str, n: usize, size: usize, pipelining: bool) -> (usize, usize) {
    let store = fresh_store(name).await;
    let mailbox = Mailbox::with(n, size);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.pipelining = pipelining;
    // Small pieces, as a WebSocket delivers them: the engine refills between them.
    server.chunk = 16 << 10;
    let out = run(&mut server, &store, ServerPolicy::DeleteAfterDownload, NOW)
        .await
        .unwrap();
    assert_eq!(out.downloaded, n as u32);
    let mb = mailbox.borrow();
    assert!(
        mb.violations.is_empty(),
        "DELE before commit: {:?}",
        mb.violations
    );
    assert!(mb.messages.is_empty());
    (server.max_retrs_owed, server.max_bytes_owed)
}

#[wasm_bindgen_test]
async fn small_messages_fill_the_window_by_bytes_within_its_ceiling() {
    let (count, bytes) = owed("window-small", 300, 20_000, true).await;
    let limits = BudgetLimits::default();
    // A count of 16 kept 320 KB in flight; the floor alone is 1 MiB.
    assert!(count > 16, "{count} RETRs owed at most");
    assert!(bytes as u64 > 16 * 20_000, "{bytes} bytes owed at most");
    assert!(
        bytes as u64 <= limits.max_bytes,
        "{bytes} bytes owed at most"
    );
}

#[wasm_bindgen_test]
async fn large_messages_never_owe_more_than_the_ceiling() {
    let (count, bytes) = owed("window-large", 12, 1_500_000, true).await;
    let limits = BudgetLimits::default();
    assert!(
        bytes as u64 <= limits.max_bytes,
        "{bytes} bytes owed, {count} RETRs"
    );
}

#[wasm_bindgen_test]
async fn without_pipelining_one_retr_at_a_time() {
    let (count, _) = owed("window-lockstep", 40, 20_000, false).await;
    assert_eq!(count, 1);
}
