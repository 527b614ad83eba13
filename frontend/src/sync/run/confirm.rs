//! Confirming that a message already stored is the one the server now lists under its UIDL:
//! a `TOP n 0` per such message, and what its headers decide (keep, DELE, or download again).

use super::{Run, SyncCtx};
use crate::store::{ServerPolicy, identity};
use crate::sync::error::SyncError;
use crate::sync::plan::{Confirm, set_aside_key};
use crate::sync::report::Notice;
use postbag_protocol::pop3::Command;

impl Run<'_> {
    /// Acts on a known UIDL once its `TOP n 0` headers are in (`None`: the server refused
    /// TOP). The stored message's identity comes from its ledger line, or from its stored bytes
    /// on lines older than that field.
    ///
    /// - Same identity: the same message (a server that rewrote its headers lists it with
    ///   another size; the line learns it, nothing is downloaded again). DELE it if due.
    /// - Another identity: a new message under a reused UIDL. Downloaded like any new one; the
    ///   old local copy is set aside first, so nothing is overwritten. Never DELEd unseen.
    /// - Unknown (no TOP, or none of Message-ID, Date, From on either side): never deleted
    ///   (reported); if its size changed it is downloaded, as before this check: a duplicate
    ///   at worst, never a loss.
    pub(super) async fn resolve(
        &mut self,
        ctx: &SyncCtx<'_>,
        c: Confirm,
        headers: Option<&[u8]>,
    ) -> Result<(), SyncError> {
        let account = &ctx.account.id;
        let stored = match &c.line.identity {
            Some(i) => Some(i.clone()),
            None => ctx
                .store
                .raw(account, &c.line.uidl)
                .await?
                .and_then(|raw| identity(&raw)),
        };
        let listed = headers.and_then(identity);
        let reused = match (stored, listed) {
            (Some(a), Some(b)) if a == b => {
                if c.size_changed || c.line.identity.is_none() {
                    let mut line = c.line.clone();
                    line.size = c.download.size.or(line.size);
                    line.identity = Some(a);
                    line.on_server = true;
                    line.gone_since = None;
                    ctx.store.update_ledger(account, &[line], &[]).await?;
                }
                // With the live copy on, a message not in the folder stays on the server
                // until a catch-up wrote it.
                let lacks = ctx.disk.and_then(|d| d.lacks(&c.download.uidl));
                if c.delete
                    && let Some(cause) = &lacks
                {
                    self.outcome.not_on_disk(cause);
                } else if c.delete
                    && let Some(w) = self.state.work()
                {
                    let id = self.client.enqueue(Command::Dele(c.download.msg))?;
                    w.marks.sent.insert(id, c.download.uidl);
                }
                return Ok(());
            }
            (Some(_), Some(_)) => true,
            _ => c.size_changed,
        };
        if !reused {
            if c.delete {
                self.outcome.notices.push(Notice::NotConfirmed {
                    msg: c.download.msg,
                });
            }
            return Ok(());
        }
        let d = c.download;
        if d.size.is_some_and(|s| s > self.limits.max_message_bytes) {
            self.outcome.notices.push(Notice::TooLarge {
                msg: d.msg,
                size: d.size.unwrap_or(0),
                limit: self.limits.max_message_bytes,
            });
            return Ok(());
        }
        if self.outcome.cancelled || self.state.work().is_none() {
            return Ok(());
        }
        let key = set_aside_key(&d.uidl, c.line.first_seen);
        ctx.store
            .set_aside(account, &[(d.uidl.clone(), key)])
            .await?;
        self.progress.total += 1;
        self.progress.total_bytes += d.expected().unwrap_or(0);
        let deleting = ctx.account.policy == ServerPolicy::DeleteAfterDownload;
        if let Some(w) = self.state.work() {
            // Under delete-after-download the new message goes once stored, if whole.
            if deleting && d.partial {
                w.keep_partial.insert(d.uidl.clone());
            } else if deleting {
                w.delete_when_stored.insert(d.uidl.clone());
                self.progress.deleting += 1;
            }
            w.queue.push_back(d);
        }
        Ok(())
    }
}
