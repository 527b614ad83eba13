//! "Download the rest" of a message stored headers-first: the session lists, finds the
//! message's UIDL, fetches it whole with `RETR`, and replaces the partial copy, in the same
//! batch commit as any download (so the DELE rules hold unchanged: under delete-after-download
//! it goes from the server only once the whole is durable here).
//!
//! Nothing else is downloaded or deleted in this session: the user asked for one message on a
//! link where every byte may count. The partial copy stays as it is when the server no longer
//! lists the UIDL ([`SyncError::NotOnServer`]), when the whole is over the hard cap, and when
//! what the server sends under the UIDL is another message ([`SyncError::NotTheSame`]).

use super::state::{State, Work};
use super::{Run, SyncCtx};
use crate::store::{ServerPolicy, Summary, identity};
use crate::sync::error::SyncError;
use crate::sync::plan::Download;

impl Run<'_> {
    /// The listing is in: queue the one message, whole.
    pub(super) async fn start_rest(
        &mut self,
        ctx: &SyncCtx<'_>,
        uidl: &str,
        uidls: &[(u32, String)],
        sizes: &[(u32, u64)],
    ) -> Result<(), SyncError> {
        let account = &ctx.account.id;
        let listed: Vec<u32> = uidls
            .iter()
            .filter(|(_, u)| u == uidl)
            .map(|(n, _)| *n)
            .collect();
        let msg = match listed[..] {
            [] => return Err(SyncError::NotOnServer),
            [n] => n,
            // Two messages under one UIDL: which is ours cannot be known.
            _ => return Err(SyncError::NotTheSame),
        };
        let line = ctx
            .store
            .ledger(account)
            .await?
            .into_iter()
            .find(|l| l.uidl == uidl);
        let summary = ctx.store.summary(account, uidl).await?;
        let mut work = Work {
            limits: self.retr_window.budget.limits(),
            ..Work::default()
        };
        // Whole already (another tab, or a sync since), or deleted here meanwhile: nothing
        // to fetch; the session just ends.
        if let (Some(line), Some(summary)) = (line, summary)
            && line.partial
        {
            let size = sizes.iter().find(|(n, _)| *n == msg).map(|(_, s)| *s);
            let max = self.limits.max_message_bytes;
            if let Some(size) = size.filter(|s| *s > max) {
                return Err(SyncError::RestTooLarge { size, limit: max });
            }
            if ctx.account.policy == ServerPolicy::DeleteAfterDownload {
                work.delete_when_stored.insert(uidl.to_string());
                self.progress.deleting = 1;
            }
            let download = Download {
                msg,
                uidl: uidl.to_string(),
                size,
                partial: false,
            };
            self.progress.total = 1;
            self.progress.total_bytes = size.unwrap_or(0);
            work.queue.push_back(download);
            work.saving.first_seen = Some(line.first_seen);
            work.rest_of = Some((summary, line));
        }
        self.state = State::Downloading(Box::new(work));
        Ok(())
    }
}

/// The whole message's summary in place of the partial copy's `old`: read from the whole
/// bytes, kept where the user filed it, with its read, flagged and Trash state. `Err` if the
/// whole is another message than the partial copy (its identity differs from `line`'s).
pub(super) fn replacing(
    whole: Summary,
    raw: &[u8],
    old: &Summary,
    stored_identity: Option<&str>,
) -> Result<Summary, SyncError> {
    if let (Some(stored), Some(now)) = (stored_identity, identity(raw))
        && stored != now
    {
        return Err(SyncError::NotTheSame);
    }
    Ok(Summary {
        read: old.read,
        flagged: old.flagged,
        folder: old.folder.clone(),
        trashed_at: old.trashed_at,
        partial_of: None,
        ..whole
    })
}
