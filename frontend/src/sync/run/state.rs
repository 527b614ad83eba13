//! Where a session is, as data: each state holds what only it needs, the way the protocol
//! client's `Phase` does (`shared/src/pop3/client/`). A session moves
//! LoggingIn → Listing → Downloading → Quitting, or ends Aborted from any state before QUIT
//! (a probe goes from LoggingIn straight to Quitting).

use std::collections::{HashMap, HashSet, VecDeque};

use postbag_protocol::pop3::{BudgetLimits, CommandId};

use super::no_uidl::Identify;
use crate::sync::batch::{Batch, Committing};
use crate::sync::plan::{Confirm, Download};
use crate::sync::report::{During, Progress};

pub(super) enum State {
    /// Greeting, capabilities, STARTTLS, login: the client's own phases.
    LoggingIn,
    /// UIDL and LIST are asked; UIDL's answer waits here for LIST's.
    Listing { uidls: Option<Vec<(u32, String)>> },
    /// The server refused UIDL: its messages' headers (`TOP n 0`) name them instead.
    Identifying(Identify),
    /// Working through the plan: downloads, `TOP n 0` confirmations, commits, DELEs. Boxed:
    /// the plan's data dwarfs the other states'.
    Downloading(Box<Work>),
    /// QUIT is sent: only its answer, and those of the DELEs sent before it, are owed.
    Quitting(Marks),
    /// Ended without QUIT (Cancel inside a download, or owed replies past the cancel grace):
    /// the server deletes nothing in this session. What was received whole is still to commit.
    Aborted(Saving),
}

/// The plan being worked through.
#[derive(Default)]
pub(super) struct Work {
    /// Messages still to RETR, in server order.
    pub queue: VecDeque<Download>,
    /// Downloads the policy deletes on the server once stored (`Plan::delete_when_stored`).
    pub delete_when_stored: HashSet<String>,
    /// Headers-first downloads the policy would delete: once stored, each is reported as
    /// kept on the server (`Notice::KeptPartial`), never DELEd.
    pub keep_partial: HashSet<String>,
    pub in_flight: HashMap<CommandId, Download>,
    /// What the RETRs in flight are charged against the window: `limits.cost` of their listed
    /// sizes, plus `current_excess`.
    pub in_flight_bytes: u64,
    pub limits: BudgetLimits,
    /// The bytes of the message being received.
    pub current: Vec<u8>,
    /// How far the message being received has run past its charge: a server's sizes may be
    /// false, and what it sends beyond them is charged as it arrives, so that no RETR joins
    /// while a reply overruns.
    pub current_excess: u64,
    /// `TOP n 0` replies awaited, by command.
    pub checks: HashMap<CommandId, Check>,
    pub saving: Saving,
    pub marks: Marks,
    /// "Download the rest": the partial copy being replaced (its summary keeps the user's
    /// folder, read and flagged state) and its ledger line (the identity to match).
    pub rest_of: Option<(crate::store::Summary, crate::store::LedgerEntry)>,
}

/// A `TOP n 0` under way: the stored message it is compared with, and its headers so far.
pub(super) struct Check {
    pub confirm: Confirm,
    pub headers: Vec<u8>,
    pub received: u64,
}

/// Messages received whole: the batch filling, and the batch whose transaction runs.
#[derive(Default)]
pub(super) struct Saving {
    pub batch: Batch,
    pub committing: Option<Committing>,
    /// The ledger lines' `first_seen` when not this session's time: "Download the rest" keeps
    /// the partial copy's, so that an "after N days" policy counts from its first download.
    pub first_seen: Option<f64>,
}

/// DELEs: sent and unanswered (by command), and answered (their UIDLs).
#[derive(Default)]
pub(super) struct Marks {
    pub sent: HashMap<CommandId, String>,
    pub done: Vec<String>,
}

impl Work {
    pub fn take_in_flight(&mut self, id: CommandId) -> Option<Download> {
        let d = self.in_flight.remove(&id)?;
        // Replies come in order: the one that ended (or was refused) is the one received.
        let excess = std::mem::take(&mut self.current_excess);
        self.in_flight_bytes -= self.limits.cost(d.expected()) + excess;
        Some(d)
    }

    /// The oldest download under way.
    pub fn first_in_flight(&self) -> Option<&Download> {
        self.in_flight
            .iter()
            .min_by_key(|(id, _)| **id)
            .map(|(_, d)| d)
    }

    /// Nothing left to download, confirm or commit: time for QUIT.
    pub fn is_drained(&self) -> bool {
        self.queue.is_empty()
            && self.in_flight.is_empty()
            && self.checks.is_empty()
            && self.saving.batch.is_empty()
            && self.saving.committing.is_none()
    }
}

impl State {
    /// Whether the server owes a reply (so the transport must be read).
    pub fn expects_reply(&self) -> bool {
        match self {
            State::LoggingIn
            | State::Listing { .. }
            | State::Identifying(_)
            | State::Quitting(_) => true,
            State::Downloading(w) => {
                !w.in_flight.is_empty() || !w.checks.is_empty() || !w.marks.sent.is_empty()
            }
            State::Aborted(_) => false,
        }
    }

    /// Where the session is, for errors.
    pub fn during(&self, progress: &Progress) -> During {
        match self {
            State::LoggingIn => During::Login,
            State::Listing { .. } | State::Identifying(_) => During::Listing,
            State::Downloading(w) => {
                if let Some(d) = w.first_in_flight() {
                    During::Message {
                        k: progress.done + 1,
                        of: progress.total,
                        msg: d.msg,
                    }
                } else if !w.checks.is_empty() {
                    During::Checking
                } else if !w.marks.sent.is_empty() {
                    During::Deleting
                } else {
                    During::Closing
                }
            }
            State::Quitting(_) | State::Aborted(_) => During::Closing,
        }
    }

    pub fn work(&mut self) -> Option<&mut Work> {
        match self {
            State::Downloading(w) => Some(&mut **w),
            _ => None,
        }
    }

    /// The commits still to make, wherever the session ended.
    pub fn saving(&mut self) -> Option<&mut Saving> {
        match self {
            State::Downloading(w) => Some(&mut w.saving),
            State::Aborted(s) => Some(s),
            _ => None,
        }
    }

    pub fn marks(&mut self) -> Option<&mut Marks> {
        match self {
            State::Downloading(w) => Some(&mut w.marks),
            State::Quitting(m) => Some(m),
            _ => None,
        }
    }

    /// Ends the session without QUIT, keeping what is still to commit.
    pub fn abort(&mut self) {
        let saving = match std::mem::replace(self, State::Aborted(Saving::default())) {
            State::Downloading(w) => w.saving,
            State::Aborted(s) => s,
            _ => Saving::default(),
        };
        *self = State::Aborted(saving);
    }

    /// Moves to [`State::Quitting`]; `false` if the session already quit or aborted (nothing
    /// to send). Only a drained [`Work`] quits, so nothing to commit is left behind.
    pub fn quit(&mut self) -> bool {
        let marks = match std::mem::replace(self, State::LoggingIn) {
            State::Downloading(w) => {
                debug_assert!(w.is_drained());
                w.marks
            }
            State::LoggingIn | State::Listing { .. } | State::Identifying(_) => Marks::default(),
            done @ (State::Quitting(_) | State::Aborted(_)) => {
                *self = done;
                return false;
            }
        };
        *self = State::Quitting(marks);
        true
    }

    pub fn is_aborted(&self) -> bool {
        matches!(self, State::Aborted(_))
    }
}
