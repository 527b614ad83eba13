//! The RETR window as the server sees it: by listed bytes, not by a count of 16, never past the
//! budget's ceiling, one command at a time for a server without PIPELINING.

use super::*;
use postbag_protocol::pop3::BudgetLimits;

/// Syncs `n` messages of `size` bytes and returns the server's view of the window.
async fn owed(name: &str, n: usize, size: usize, pipelining: bool) -> (usize, usize) {
    owed_listed(name, n, size, pipelining, None).await
}

/// As [`owed`], with LIST giving every message the size `listed_as` when given.
async fn owed_listed(
    name: &str,
    n: usize,
    size: usize,
    pipelining: bool,
    listed_as: Option<usize>,
) -> (usize, usize) {
    let store = fresh_store(name).await;
    let mailbox = Mailbox::with(n, size);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.pipelining = pipelining;
    server.listed_as = listed_as;
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

#[wasm_bindgen_test]
async fn sizes_listed_as_zero_never_owe_more_than_the_ceiling() {
    // Every message listed as 0 bytes and sent as 60 KB (within what the engine lets a reply
    // overrun its listed size by, so the sync completes). Each RETR was free before: all 300
    // went at once, 18 MB owed. Now each is charged at least 16 KiB, at most 128 are in flight,
    // and 128 replies of a listed 0 are at most the ceiling (`BudgetLimits::most_owed`).
    let size = 60_000;
    let (count, bytes) = owed_listed("window-lying", 300, size, true, Some(0)).await;
    let limits = BudgetLimits::default();
    assert!(count <= limits.max_commands, "{count} RETRs owed at most");
    assert!(
        bytes as u64 <= limits.max_bytes + size as u64 + 100,
        "{bytes} bytes owed at most, {count} RETRs"
    );
}

/// RETRs go out in bursts once part of the window is free, not one write per message that
/// ended: 300 messages cost a few dozen writes (a WebSocket message, a server read and a
/// renderer IPC each), not one per message.
#[wasm_bindgen_test]
async fn retrs_go_out_in_bursts_not_one_write_per_message() {
    let store = fresh_store("window-writes").await;
    let mailbox = Mailbox::with(300, 20_000);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    // Pieces as a WebSocket delivers them, each holding the end of about one message.
    server.chunk = 16 << 10;
    let out = run(&mut server, &store, ServerPolicy::DeleteAfterDownload, NOW)
        .await
        .unwrap();
    assert_eq!(out.downloaded, 300);
    assert!(mailbox.borrow().violations.is_empty());
    assert!(
        server.writes < 300 / 4,
        "{} writes for 300 messages",
        server.writes
    );
}
