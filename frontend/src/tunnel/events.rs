//! A single-consumer queue filled by WebSocket event handlers and drained by an async reader.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use postbag_protocol::tunnel::ServerMessage;

#[derive(Debug)]
pub enum Incoming {
    Opened,
    Bytes(Vec<u8>),
    Control(ServerMessage),
    Garbage(String),
    Closed { code: u16, reason: String },
}

#[derive(Default)]
struct State {
    queue: VecDeque<Incoming>,
    waker: Option<Waker>,
    closed: Option<(u16, String)>,
}

#[derive(Clone, Default)]
pub struct SocketEvents(Rc<RefCell<State>>);

impl SocketEvents {
    pub fn push(&self, item: Incoming) {
        let mut s = self.0.borrow_mut();
        if let Incoming::Closed { code, reason } = &item {
            s.closed = Some((*code, reason.clone()));
        }
        s.queue.push_back(item);
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }

    /// The next item; after the close event, every further call repeats it.
    pub async fn next(&self) -> Incoming {
        poll_fn(|cx| {
            let mut s = self.0.borrow_mut();
            if let Some(item) = s.queue.pop_front() {
                return Poll::Ready(item);
            }
            if let Some((code, reason)) = s.closed.clone() {
                return Poll::Ready(Incoming::Closed { code, reason });
            }
            s.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}
