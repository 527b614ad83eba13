//! A bound on one await: every wait that depends on the network has one (opening a tunnel, the
//! TLS upgrade, the sync engine's waits), so none can hold the app forever.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;

use gloo_timers::future::TimeoutFuture;

/// `future`'s output, or `None` once `ms` passed first (the future is dropped then).
pub async fn within<F: Future>(ms: u32, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut timer = TimeoutFuture::new(ms);
    poll_fn(|cx| {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        if Pin::new(&mut timer).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}
