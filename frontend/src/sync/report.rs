//! What a session reports: what it learnt about the server ([`Session`]), how far it is
//! ([`Progress`]), how it ended ([`Outcome`] with its [`Notice`]s), and where something
//! happened ([`During`], for errors).

use postbag_protocol::pop3::{AuthMechanism, Capabilities};
use postbag_protocol::tunnel::TlsInfo;

use crate::disk_copy::DiskError;

/// What the session learnt about the server (shown by "test connection").
#[derive(Clone, Debug, Default)]
pub struct Session {
    pub tls: Option<TlsInfo>,
    pub greeting: String,
    pub capabilities: Option<Capabilities>,
    pub mechanism: Option<AuthMechanism>,
    pub login_delay: Option<u32>,
    pub pipelining: bool,
    pub count: Option<u32>,
    pub size: Option<u64>,
}

/// Reported when the plan is known, then at most every 50 ms while bytes arrive, and when the
/// last message is in. In the user's words: [`Progress::describe`] (`explain.rs`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    pub done: u32,
    pub total: u32,
    pub bytes: u64,
    pub total_bytes: u64,
    /// Messages to delete on the server in this session (known when the plan is).
    pub deleting: u32,
}

/// Something one message's sync did not do, told to the user with the result.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    /// Listed larger than the most one message may be: not downloaded, left on the server.
    TooLarge { msg: u32, size: u64, limit: u64 },
    /// The server answered `-ERR` to its `RETR`; `reason` is the server's text, escaped and
    /// truncated. Left on the server; the next sync tries again.
    NotDownloaded {
        msg: u32,
        size: Option<u64>,
        reason: String,
    },
    /// These messages share one UIDL: left alone (neither downloaded nor deleted).
    SharedUidl { msgs: Vec<u32> },
    /// Due for deletion, but its headers could not be compared with the stored message's (no
    /// `TOP`, or no Message-ID, Date or From on either side): left on the server.
    NotConfirmed { msg: u32 },
    /// Due for deletion, but not in the live copy's folder (`cause`): `count` messages left on
    /// the server until a later sync wrote their files.
    NotOnDisk { count: u32, cause: DiskError },
    /// The server has no UIDL: messages were named by their headers and size
    /// (`run/no_uidl.rs`); `unnamed` lacked the headers to be told apart and were left alone,
    /// as were `refused`, whose `TOP` the server refused (deleted by another program since?).
    HeadersOnly {
        unnamed: Vec<u32>,
        refused: Vec<u32>,
    },
    /// Listed above the account's size limit, and the server refused `TOP` for it, so only
    /// the whole could come: not downloaded (never the whole behind the user's limit), left on
    /// the server; the messages after it still come.
    NoHeadersFirst {
        msg: u32,
        size: Option<u64>,
        reason: String,
    },
    /// `count` messages the policy (or a deletion asked here) wants gone stay on the server:
    /// only their start is stored here (size limit), until "Download the rest".
    KeptPartial { count: u32 },
}

#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub session: Session,
    /// Messages stored here (committed) in this session.
    pub downloaded: u32,
    pub failed: u32,
    pub deleted_on_server: u32,
    /// Cancel was pressed, or the plan did not fit in the storage left (see
    /// [`super::Observer::room_for`]).
    pub cancelled: bool,
    /// What was not done for single messages, and why (see [`Notice`]).
    pub notices: Vec<Notice>,
}

impl Outcome {
    /// Counts one message kept on the server because only its start is stored.
    pub fn kept_partial(&mut self) {
        for n in &mut self.notices {
            if let Notice::KeptPartial { count } = n {
                *count += 1;
                return;
            }
        }
        self.notices.push(Notice::KeptPartial { count: 1 });
    }

    /// Counts one message kept on the server for want of its file (one notice per cause).
    pub fn not_on_disk(&mut self, cause: &DiskError) {
        for n in &mut self.notices {
            if let Notice::NotOnDisk { count, cause: c } = n
                && c == cause
            {
                *count += 1;
                return;
            }
        }
        self.notices.push(Notice::NotOnDisk {
            count: 1,
            cause: cause.clone(),
        });
    }
}

/// Where in a session something happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum During {
    /// Greeting, capabilities, STARTTLS, login.
    Login,
    /// UIDL and LIST.
    Listing,
    /// Downloading the `k`th of the `of` messages of this sync (number `msg` on the server).
    Message { k: u32, of: u32, msg: u32 },
    /// Comparing headers (`TOP n 0`) of messages already stored.
    Checking,
    /// Marking messages for deletion (DELE).
    Deleting,
    /// QUIT, which commits the deletions.
    Closing,
}
