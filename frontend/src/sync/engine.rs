//! The sync engine's entry points: [`probe`] (log in, report, log out), [`sync`] (one
//! [`SyncRequest`]) and [`download_rest`] (one message stored headers-first, whole). The
//! session itself runs in [`super::run`].
//!
//! Architecture invariant: `Command::Dele` is enqueued only (a) for a UIDL the ledger already
//! holds (its message's transaction completed in an earlier session) AND whose `TOP n 0`
//! headers in this session show the same message as the stored one (Message-ID, Date, From:
//! `crate::store::identity`; a server may reuse a UIDL even at the same size), or (b) for the
//! messages of a batch whose [`crate::store::Commit`] has resolved, i.e. whose transaction
//! fired `complete`, and only those the plan marked (`Plan::delete_when_stored`), which is
//! never a headers-first download: (a) never holds for a partial copy either
//! (`Plan::kept_partial`), so no message whose whole body is not stored is ever DELEd. With the live copy on disk (`crate::disk_copy::DiskGate`), both also need the
//! message in the folder: (a) only if the catch-up before the session found or wrote its file,
//! (b) only once the batch's files were written after its commit. A connection lost at any point therefore loses nothing: POP3 only removes
//! messages when QUIT commits, and everything marked before was already stored.
//!
//! Every sync ends by itself: the protocol crate has no clock, so the engine bounds time
//! ([`super::Limits`]: a grace per reply and a minimum rate after it), and bounds what a reply
//! may hold (a message beyond its listed size is the server's fault). Cancel always ends it:
//! at once during a download, after [`super::Limits::cancel_grace_ms`] while deletions are
//! answered.

use postbag_protocol::pop3::ClientConfig;
use postbag_protocol::tunnel::TlsInfo;

use super::error::SyncError;
use super::report::{Outcome, Session};
use super::request::{Limits, NeverCancel, SyncRequest};
use super::run::{Mode, Run, SyncCtx};
use crate::store::Rule;
use crate::tunnel::Transport;

/// Logs in and reports what the server offers, without changing anything ("Test connection").
pub async fn probe<T: Transport>(
    transport: &mut T,
    config: ClientConfig,
    tls: Option<TlsInfo>,
) -> Result<Session, SyncError> {
    let mut observer = ();
    let mut run = Run::new(
        config,
        tls,
        Mode::Probe,
        Limits::default(),
        &NeverCancel,
        &mut observer,
    );
    run.drive(transport).await?;
    Ok(run.into_outcome().session)
}

/// Downloads what the ledger lacks into the request's store and applies the account's server
/// policy.
pub async fn sync<T: Transport>(
    transport: &mut T,
    request: SyncRequest<'_>,
) -> Result<Outcome, SyncError> {
    // The rules and the folders they may file into, as stored when the session starts: a
    // message is committed once, already in its folder (`mail::summarize_filed`).
    let rules = request.store.rules().await?;
    let folders = request.store.folder_ids().await?;
    drive_sync(transport, request, &rules, &folders, None).await
}

/// "Download the rest" of a message stored headers-first (`uidl`): one session that fetches
/// only that message with `RETR` and replaces the partial copy with the whole, byte for byte,
/// keeping where the user filed it and its read and flagged state. Nothing else is downloaded;
/// under delete-after-download it is DELEd once the whole is durable, like any download.
/// Fails with [`SyncError::NotOnServer`] if the server no longer lists the UIDL.
pub async fn download_rest<T: Transport>(
    transport: &mut T,
    request: SyncRequest<'_>,
    uidl: &str,
) -> Result<Outcome, SyncError> {
    // The copy is filed already: the rules do not move it again.
    drive_sync(transport, request, &[], &[], Some(uidl)).await
}

/// One sync session over `transport`: filing new mail by `rules` into `folders`, or (with
/// `rest_of`) fetching the whole of that one message.
async fn drive_sync<T: Transport>(
    transport: &mut T,
    request: SyncRequest<'_>,
    rules: &[Rule],
    folders: &[String],
    rest_of: Option<&str>,
) -> Result<Outcome, SyncError> {
    let SyncRequest {
        store,
        account,
        config,
        tls,
        now_ms,
        limits,
        cancel,
        observer,
        disk,
    } = request;
    let ctx = SyncCtx {
        store,
        account,
        now_ms,
        disk,
        rules,
        folders,
        rest_of,
    };
    let mut run = Run::new(config, tls, Mode::Sync(ctx), limits, cancel, observer);
    run.drive(transport).await?;
    Ok(run.into_outcome())
}
