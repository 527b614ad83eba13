//! The feed loop the POP3 and SMTP client targets share: server bytes in chunks, every event
//! to the target's own checks, and the first error checked to stick.

use std::fmt::Debug;

/// A sans-I/O client as the targets feed it (each target implements it for its client).
pub trait Fuzzed {
    type Event: Debug + PartialEq;
    type Error: Clone + Debug + PartialEq;
    fn receive(&mut self, bytes: &[u8]);
    fn next_event(&mut self) -> Result<Option<Self::Event>, Self::Error>;
    fn take_outgoing(&mut self) -> Option<Vec<u8>>;
}

/// What one run gave: the events kept, the error that ended it, every byte sent.
pub struct Fed<C: Fuzzed> {
    pub events: Vec<C::Event>,
    pub error: Option<C::Error>,
    pub sent: Vec<u8>,
}

/// Feeds `stream` to `client` in chunks of `step` bytes; `on_event` sees each event (to
/// enqueue, commit, check) and keeps it in the list. Stops at the first error.
pub fn feed<C: Fuzzed>(
    client: &mut C,
    stream: &[u8],
    step: usize,
    mut on_event: impl FnMut(&mut C, &mut Vec<C::Event>, C::Event),
) -> Fed<C> {
    let mut events = Vec::new();
    let mut sent = Vec::new();
    let mut error = None;
    'feed: for chunk in stream.chunks(step.max(1)) {
        client.receive(chunk);
        loop {
            match client.next_event() {
                Ok(Some(ev)) => on_event(client, &mut events, ev),
                Ok(None) => break,
                Err(e) => {
                    // Once failed, always failed with the same error.
                    assert_eq!(client.next_event(), Err(e.clone()));
                    error = Some(e);
                    break 'feed;
                }
            }
        }
        sent.extend(client.take_outgoing().unwrap_or_default());
    }
    sent.extend(client.take_outgoing().unwrap_or_default());
    Fed {
        events,
        error,
        sent,
    }
}

/// Implements [`Fuzzed`] for a client by calling its inherent methods of the same names.
#[macro_export]
macro_rules! fuzzed {
    ($client:ty, $event:ty, $error:ty) => {
        impl common::Fuzzed for $client {
            type Event = $event;
            type Error = $error;
            fn receive(&mut self, bytes: &[u8]) {
                <$client>::receive(self, bytes)
            }
            fn next_event(&mut self) -> Result<Option<$event>, $error> {
                <$client>::next_event(self)
            }
            fn take_outgoing(&mut self) -> Option<Vec<u8>> {
                <$client>::take_outgoing(self)
            }
        }
    };
}
