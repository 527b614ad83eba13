//! What the engine waits for when it has nothing to parse: server bytes, the running commit,
//! or a timer tick to look at the cancel flag while the network is quiet.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;

use gloo_timers::future::TimeoutFuture;

use super::batch::Durable;
use crate::disk_copy::NotCopied;
use crate::store::StoreError;
use crate::tunnel::{Transport, TransportError, within};

pub enum Woken {
    /// `Transport::recv` answered.
    Bytes(Option<Vec<u8>>),
    /// The running commit finished (with the messages the live copy did not take).
    Committed(Result<Vec<NotCopied>, StoreError>),
    /// The [`Ticker`] ticked with neither.
    Tick,
}

/// The cancel tick: one browser timer at a time, kept across waits. The engine waits once per
/// WebSocket message (about 1,500 for 1,000 messages of 20 KB); a timer set and cleared at each
/// cost a `setTimeout`, a `clearTimeout` and a closure every time (4 % of a sync's main
/// thread, profiled). A tick now comes `ms` after the previous one, however many waits.
pub struct Ticker {
    ms: u32,
    timer: Option<TimeoutFuture>,
}

impl Ticker {
    pub fn new(ms: u32) -> Ticker {
        Ticker { ms, timer: None }
    }

    fn poll_tick(&mut self, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let ms = self.ms;
        let timer = self.timer.get_or_insert_with(|| TimeoutFuture::new(ms));
        if Pin::new(timer).poll(cx).is_ready() {
            self.timer = None;
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// Waits for whichever comes first. `listen` is false when no reply is expected (only a
/// commit is running): the transport is not read then. The losing `recv` future is dropped,
/// which [`Transport::recv`] allows (it is cancel-safe).
pub async fn wait<T: Transport>(
    transport: &mut T,
    mut commit: Option<&mut Durable>,
    listen: bool,
    ticker: &mut Ticker,
) -> Result<Woken, TransportError> {
    let mut recv = pin!(async {
        if listen {
            transport.recv().await
        } else {
            std::future::pending().await
        }
    });
    poll_fn(|cx| {
        // The commit first: DELEs for a finished batch should not wait behind more bytes.
        if let Some(c) = commit.as_mut()
            && let Poll::Ready(r) = c.as_mut().poll(cx)
        {
            return Poll::Ready(Ok(Woken::Committed(r)));
        }
        if let Poll::Ready(r) = recv.as_mut().poll(cx) {
            return Poll::Ready(r.map(Woken::Bytes));
        }
        if ticker.poll_tick(cx).is_ready() {
            return Poll::Ready(Ok(Woken::Tick));
        }
        Poll::Pending
    })
    .await
}

/// `future`'s output, or `None` as soon as `cancel` says so (looked at every `tick_ms`; the
/// future is dropped then). For the steps before the engine runs (opening the tunnel), where
/// Cancel must work as it does everywhere else.
pub async fn unless_cancelled<F: Future>(
    cancel: &impl super::request::Cancel,
    tick_ms: u32,
    future: F,
) -> Option<F::Output> {
    let mut future = pin!(future);
    loop {
        if cancel.cancelled() {
            return None;
        }
        if let Some(out) = within(tick_ms, future.as_mut()).await {
            return Some(out);
        }
    }
}
