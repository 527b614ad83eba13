//! The transcript harness both clients' tests use: a server transcript fed whole, byte by
//! byte and in odd-sized chunks must give the same events, bytes sent and error every time.

use std::fmt::Debug;

use crate::sans_io::SansIo;

/// What one run of a transcript gave.
pub(crate) struct Fed<C: SansIo> {
    pub events: Vec<C::Event>,
    pub sent: String,
    pub error: Option<C::Error>,
}

/// Feeds `server` to `client` in chunks of `step` bytes. `server` is split into segments:
/// after each segment but the last the driver performs the TLS upgrade if the client asked for
/// it (as a real driver would, bytes sent after the handshake arrive in the next segment).
/// `on_event` sees each event first (to enqueue, send or commit) and keeps it in the list.
pub(crate) fn feed<C: SansIo>(
    client: &mut C,
    server: &[&[u8]],
    step: usize,
    mut on_event: impl FnMut(&mut C, &mut Vec<C::Event>, C::Event),
) -> Fed<C> {
    let mut events = Vec::new();
    let mut sent = Vec::new();
    let mut error = None;
    'segments: for (i, segment) in server.iter().enumerate() {
        if i > 0 && events.last().is_some_and(C::starts_tls) {
            client.tls_started().unwrap();
            sent.extend(client.take_outgoing().unwrap_or_default());
        }
        for chunk in segment.chunks(step.max(1)) {
            client.receive(chunk);
            loop {
                match client.next_event() {
                    Ok(Some(ev)) => on_event(client, &mut events, ev),
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(e);
                        sent.extend(client.take_outgoing().unwrap_or_default());
                        break 'segments;
                    }
                }
            }
            sent.extend(client.take_outgoing().unwrap_or_default());
        }
    }
    if error.is_none() && !client.is_closed() {
        error = Some(client.connection_lost());
    }
    Fed {
        events,
        sent: String::from_utf8_lossy(&sent).into_owned(),
        error,
    }
}

/// Runs a transcript whole and in chunks of 1, 2 and 7 bytes, checks every run agrees with the
/// whole one, and returns that.
pub(crate) fn same_in_every_chunking<O: PartialEq + Debug>(run: impl Fn(usize) -> O) -> O {
    let whole = run(usize::MAX);
    for step in [1, 2, 7] {
        assert_eq!(run(step), whole, "chunking {step} differs from whole input");
    }
    whole
}
