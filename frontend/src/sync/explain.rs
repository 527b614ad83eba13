//! Sync and connection-test failures in words a user can act on: the connection, the proxy,
//! the store, the server's faults and the sync's progress and notices here; what a refused
//! login or access code means in `credentials.rs`.

use postbag_protocol::pop3::{Capabilities, ServerErrorKind};
use postbag_protocol::tunnel::{CertificateInfo, ErrorKind};

use super::error::SyncError;
use super::report::{During, Notice, Progress};
use crate::disk_copy::DiskError;
use crate::tunnel::TransportError;

mod credentials;

pub use credentials::{Credential, sign_in_expired};
use credentials::{pop3, refusal};

#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    pub message: String,
    /// The mail server is out of reach: the app works from local storage.
    pub offline: bool,
    /// A certificate the user may choose to pin (only for a failed verification).
    pub certificate: Option<CertificateInfo>,
    /// The proxy wants an access code (none was sent, or the one sent is wrong): the view
    /// offers a field for it.
    pub asks_access_code: bool,
}

fn plain(message: String, offline: bool) -> Explained {
    Explained {
        message,
        offline,
        certificate: None,
        asks_access_code: false,
    }
}

/// [`explain_for`] a password account (the tunnel's and the store's errors read the same for
/// every account).
pub fn explain(err: &SyncError) -> Explained {
    explain_for(err, Credential::Password)
}

/// `err` in words for an account that logs in with `credential`.
pub fn explain_for(err: &SyncError, credential: Credential<'_>) -> Explained {
    match err {
        SyncError::Transport(t) => transport(t),
        SyncError::Pop3(p) => match credential {
            Credential::SignIn { account }
                if p.server_kind() == Some(ServerErrorKind::AuthFailed) =>
            {
                plain(sign_in_expired(account), false)
            }
            _ => pop3(p),
        },
        SyncError::NotOnServer => plain(
            "This message is no longer on the server (deleted there, or expired), so the rest \
             of it cannot be downloaded: only its start is stored here."
                .into(),
            false,
        ),
        SyncError::NotTheSame => plain(
            "The server now holds another message under this message's name (UIDL), so the \
             rest was not downloaded: only its start is stored here."
                .into(),
            false,
        ),
        SyncError::RestTooLarge { size: s, limit } => plain(
            format!(
                "The whole message ({}) is larger than {}, the most Postbag downloads: only its \
                 start is stored here.",
                size(*s),
                limit_text(*limit)
            ),
            false,
        ),
        SyncError::NoUidl => plain(
            "This server supports neither UIDL nor TOP, so Postbag cannot tell which messages it \
             already has: nothing was downloaded or deleted."
                .into(),
            false,
        ),
        SyncError::Store(e) => plain(
            format!("Local storage failed: {e}. Nothing was deleted on the server."),
            false,
        ),
        SyncError::MessageTooLarge { msg, limit } => plain(
            format!(
                "Message {msg} on the server is larger than {} MB, the most Postbag downloads. \
                 Nothing was deleted on the server.",
                limit >> 20
            ),
            false,
        ),
        SyncError::Overrun {
            msg,
            listed,
            received,
        } => plain(
            format!(
                "The mail server is at fault: it listed message {msg} at {} but sent more than \
                 {} for it, so Postbag stopped. Nothing of that message was stored; every \
                 message received whole is kept.",
                size(*listed),
                size(*received)
            ),
            false,
        ),
        SyncError::StartOverrun { msg, limit } => plain(
            format!(
                "The mail server is at fault: asked for only the start of message {msg} (it is \
                 above this account's size limit), it sent more than {} and went on, so Postbag \
                 stopped rather than download the whole. Nothing of that message was stored; \
                 every message received whole is kept.",
                size(*limit)
            ),
            false,
        ),
        SyncError::TooSlow {
            during,
            waited_ms,
            bytes,
            online,
        } => {
            let what = if *bytes == 0 {
                format!("stopped answering {}", place(during))
            } else {
                format!(
                    "answered too slowly {}: {} in {} s",
                    place(during),
                    size(*bytes),
                    waited_ms / 1000
                )
            };
            let start = if *online {
                "The mail server".to_string()
            } else {
                "Your device is offline: the mail server".to_string()
            };
            plain(
                format!(
                    "{start} {what}. Postbag gave up; every message received whole is kept. \
                     Sync again to continue."
                ),
                !online,
            )
        }
        SyncError::Cut {
            during,
            cause,
            online,
        } => cut(during, cause.as_ref(), *online),
    }
}

/// "in the middle of message 3 of 6", "while logging in", ...
fn place(during: &During) -> String {
    match during {
        During::Login => "while logging in".into(),
        During::Listing => "while listing the messages".into(),
        During::Message { k, of, msg } => {
            format!("in the middle of message {k} of {of} (number {msg} on the server)")
        }
        During::Checking => "while comparing stored messages with the server's".into(),
        During::Deleting => "while marking messages for deletion".into(),
        During::Closing => "while the server committed the deletions".into(),
    }
}

/// A connection that was up, then lost: where, and who ended it.
fn cut(during: &During, cause: Option<&TransportError>, online: bool) -> Explained {
    let who = match cause {
        _ if !online => "your device went offline".to_string(),
        None => "the mail server closed it".to_string(),
        Some(TransportError::Closed { code, .. }) => {
            format!("the connection to the Postbag proxy was lost (code {code})")
        }
        // In the user's words; the proxy's own text only where it adds something.
        Some(TransportError::Tunnel(e)) => match e.kind {
            ErrorKind::ShuttingDown => {
                "the Postbag proxy is shutting down (stopped or restarted)".to_string()
            }
            ErrorKind::UpstreamIo => format!(
                "the Postbag proxy lost its connection to the mail server ({})",
                peer_text(&e.message, 120)
            ),
            ErrorKind::IdleTimeout => format!(
                "the Postbag proxy ended a connection that had stalled ({})",
                peer_text(&e.message, 120)
            ),
            _ => format!(
                "the Postbag proxy reported {} ({})",
                e.kind.as_str(),
                peer_text(&e.message, 120)
            ),
        },
        Some(other) => other.to_string(),
    };
    let after = match during {
        During::Deleting | During::Closing => {
            "Nothing is lost: the server deletes only once a sync completes; sync again to \
             continue."
        }
        _ => {
            "Every message received whole is kept, none of the others was deleted; sync again \
              to continue."
        }
    };
    plain(
        format!(
            "Connected, then the connection was cut {}: {who}. {after}",
            place(during)
        ),
        !online,
    )
}

/// The message cap for people: "128 MB" for the real one (a power of two).
fn limit_text(limit: u64) -> String {
    if limit >= 1 << 20 {
        format!("{} MB", limit >> 20)
    } else {
        size(limit)
    }
}

/// A byte count for people ("980 B", "12.5 KB", "3.1 MB").
fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes < 1000 {
        format!("{bytes} B")
    } else if b < 1e6 {
        format!("{:.1} KB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.1} GB", b / 1e9)
    }
}

/// Text a server or proxy sent, fit to show: control characters escaped (no line breaks, no
/// terminal escapes), at most `max` characters.
pub(super) fn peer_text(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl Progress {
    /// What the sync is doing, in the user's words ("Downloading 2 of 5 · 1 MB of 3 MB",
    /// "Removing 3 messages from the server"). Never "Downloading 1 of 0".
    pub fn describe(&self) -> String {
        progress(self)
    }
}

fn progress(p: &Progress) -> String {
    if p.total == 0 || (p.done >= p.total && p.deleting > 0) {
        return match p.deleting {
            0 => "Checking for new mail…".into(),
            1 => "Removing 1 message from the server…".into(),
            n => format!("Removing {n} messages from the server…"),
        };
    }
    format!(
        "Downloading {} of {} · {} of {}",
        (p.done + 1).min(p.total),
        p.total,
        size(p.bytes),
        size(p.total_bytes)
    )
}

/// A [`Notice`] as a clause of the sync's result ("message 2 on the server (1.2 KB) could not
/// be downloaded: the server said “…”").
/// What the connection test says about how messages will be told apart, when the server's
/// `CAPA` leaves out UIDL (`None` when it lists UIDL, or gave no CAPA: RFC 1939 servers without
/// CAPA usually have UIDL all the same).
pub fn identity_note(c: &Capabilities) -> Option<String> {
    match (c.uidl, c.top) {
        (true, _) => None,
        (false, true) => Some(
            "no UIDL announced: messages will be told apart by their headers and size, and \
             messages alike in those stay on the server"
                .into(),
        ),
        (false, false) => Some(
            "neither UIDL nor TOP announced: if the server really lacks both, Postbag cannot \
             tell which messages it already has and will not sync it"
                .into(),
        ),
    }
}

pub fn notice(n: &Notice) -> String {
    match n {
        Notice::TooLarge {
            msg,
            size: s,
            limit,
        } => format!(
            "message {msg} on the server ({}) is larger than {}, the most Postbag downloads: \
             it was skipped and stays on the server",
            size(*s),
            limit_text(*limit)
        ),
        Notice::NotDownloaded {
            msg,
            size: s,
            reason,
        } => format!(
            "message {msg} on the server{} could not be downloaded, the server said \"{reason}\" \
             (it stays there; the next sync tries again)",
            s.map(|s| format!(" ({})", size(s))).unwrap_or_default()
        ),
        Notice::SharedUidl { msgs } => {
            let list = msgs
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "messages {list} on the server share one identifier (UIDL), so Postbag cannot \
                 tell them apart safely: they stay on the server, not downloaded"
            )
        }
        Notice::NotConfirmed { msg } => format!(
            "message {msg} stays on the server: Postbag could not confirm it is the message \
             stored here"
        ),
        Notice::NotOnDisk { count, cause } => format!(
            "{} on the server, not yet copied to your folder: {cause} ({})",
            match count {
                1 => "1 message stays".to_string(),
                n => format!("{n} messages stay"),
            },
            match (cause, *count == 1) {
                // Only the whole is copied: nothing happens until "Download the rest".
                (DiskError::OnlyStartStored, true) => "copied and deleted only once whole",
                (DiskError::OnlyStartStored, false) => "each copied and deleted only once whole",
                (_, true) => "the next sync writes it and then deletes it on the server",
                (_, false) => "the next sync writes them and then deletes them on the server",
            },
        ),
        Notice::NoHeadersFirst {
            msg,
            size: s,
            reason,
        } => format!(
            "message {msg} on the server{} is above this account's size limit, and the server cannot send its headers only (it said \"{reason}\"): not downloaded, it stays there; raise the limit to download it",
            s.map(|s| format!(" ({})", size(s))).unwrap_or_default()
        ),
        Notice::KeptPartial { count } => format!(
            "{} on the server although the policy deletes {}: only the start is stored here (size limit); \"Download the rest\" brings the whole, then the policy applies",
            match count {
                1 => "1 message stays".to_string(),
                n => format!("{n} messages stay"),
            },
            if *count == 1 { "it" } else { "them" },
        ),
        Notice::HeadersOnly { unnamed, refused } => {
            let mut text = "this server has no UIDL, so Postbag tells messages apart by their \
                            Message-ID, Date, From and size (messages alike in all of them stay \
                            on the server)"
                .to_string();
            if !unnamed.is_empty() {
                let list = unnamed
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                text.push_str(&format!(
                    "; messages {list} lack those headers and stay on the server, not downloaded"
                ));
            }
            if !refused.is_empty() {
                let list = refused
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                text.push_str(&format!(
                    "; the server would not show the headers of messages {list} (deleted by \
                     another program meanwhile?): not downloaded this time"
                ));
            }
            text
        }
    }
}

fn transport(t: &TransportError) -> Explained {
    match t {
        TransportError::ProxyUnreachable => plain(
            "The Postbag proxy cannot be reached (no network, or the proxy is down).".into(),
            true,
        ),
        TransportError::Closed { code, .. } => plain(
            format!(
                "The connection to the Postbag proxy was lost (code {code}). Nothing was lost; \
                 sync again to continue."
            ),
            false,
        ),
        TransportError::Protocol(m) => plain(
            format!("The proxy answered something unexpected: {m}"),
            false,
        ),
        TransportError::OpenTimedOut { secs } => plain(
            format!(
                "No connection to the mail server within {secs} s: the network, the Postbag \
                 proxy or the mail server is not answering. Nothing was changed; sync again \
                 later."
            ),
            false,
        ),
        TransportError::Refused(r) => refusal(*r),
        TransportError::Tunnel(e) => {
            let msg = match e.kind {
                ErrorKind::ForbiddenTarget => {
                    format!(
                        "The proxy refused this server: its policy does not allow the target ({}).",
                        e.message
                    )
                }
                ErrorKind::DnsFailure => format!(
                    "Server unreachable: the server name was not found ({}).",
                    e.message
                ),
                ErrorKind::Refused => format!(
                    "Server unreachable: the connection was refused ({}).",
                    e.message
                ),
                ErrorKind::Timeout => format!(
                    "Server unreachable: the connection timed out ({}).",
                    e.message
                ),
                ErrorKind::TlsVerificationFailed => {
                    let cert = e
                        .certificate
                        .as_ref()
                        .map(|c| {
                            format!(
                                " The server presented \"{}\" with SHA-256 fingerprint {}.",
                                c.subject, c.sha256
                            )
                        })
                        .unwrap_or_default();
                    format!("Certificate rejected: {}.{cert}", e.message)
                }
                ErrorKind::TlsHandshakeFailed => {
                    format!("The TLS handshake failed: {}.", e.message)
                }
                ErrorKind::LimitReached => format!(
                    "The proxy is busy (connection limit): {}. Try again shortly.",
                    e.message
                ),
                ErrorKind::ShuttingDown | ErrorKind::IdleTimeout | ErrorKind::UpstreamIo => {
                    format!(
                        "Connection lost: {}. Nothing was lost; sync again to continue.",
                        e.message
                    )
                }
                _ => format!("The proxy reported {}: {}.", e.kind.as_str(), e.message),
            };
            Explained {
                message: msg,
                offline: matches!(
                    e.kind,
                    ErrorKind::ShuttingDown
                        | ErrorKind::UpstreamIo
                        | ErrorKind::DnsFailure
                        | ErrorKind::Refused
                        | ErrorKind::Timeout
                ),
                certificate: e.certificate.clone(),
                asks_access_code: false,
            }
        }
    }
}

#[cfg(test)]
mod tests;
