//! Support for replaying recorded server transcripts, shared by the in-crate transcript tests,
//! the Dovecot replay test (tests/tests/pop3/transcripts.rs) and the `client` fuzz target, so the
//! seeds recorded by one are exactly what the others replay.

use super::{Command, Event};

/// The commands enqueued on `Ready` when a transcript is recorded or replayed.
pub fn seed_script() -> Vec<Command> {
    vec![
        Command::Stat,
        Command::List(None),
        Command::Uidl(None),
        Command::List(Some(1)),
        Command::Uidl(Some(1)),
        Command::Top { msg: 1, lines: 0 },
        Command::Retr(1),
        Command::Retr(2),
        Command::Dele(1),
        Command::Rset,
        Command::Noop,
        Command::Quit,
    ]
}

/// Appends an event, merging adjacent chunks of one body, so that comparing event lists does
/// not depend on how the input was chunked.
pub fn push_merged(events: &mut Vec<Event>, ev: Event) {
    if let (
        Event::MessageChunk { id, bytes },
        Some(Event::MessageChunk {
            id: last,
            bytes: acc,
        }),
    ) = (&ev, events.last_mut())
        && id == last
    {
        acc.extend_from_slice(bytes);
        return;
    }
    events.push(ev);
}
