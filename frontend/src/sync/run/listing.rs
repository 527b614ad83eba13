//! The listing becomes the plan: the ledger is read and kept, messages are queued for
//! download or for a `TOP n 0` confirmation, and the storage left is asked about before any
//! download starts.

use super::state::{Check, State, Work};
use super::{Run, SyncCtx, TROUBLE, trouble_key};
use crate::sync::error::SyncError;
use crate::sync::plan::{Download, SizeLimits, plan};
use crate::sync::report::Notice;
use crate::tunnel::within;
use postbag_protocol::pop3::Command;

use super::Mode;

/// How long the storage check may take; past it the sync goes on, as it does where the
/// browser has no Storage API. (A permission prompt for durable storage must not hold a
/// session the server would end after its own idle timeout.)
const ROOM_CHECK_MS: u32 = 10_000;

impl Run<'_> {
    /// LIST answered: plan, then ask whether the plan fits, then start downloading.
    pub(super) async fn listed(&mut self, sizes: &[(u32, u64)]) -> Result<(), SyncError> {
        let Mode::Sync(ctx) = self.mode else {
            return Ok(());
        };
        let State::Listing { uidls } = &mut self.state else {
            return Ok(());
        };
        let uidls = uidls.take();
        self.outcome.session.count = Some(sizes.len() as u32);
        self.outcome.session.size = Some(sizes.iter().map(|e| e.1).sum());
        match uidls {
            Some(uidls) => self.planned(&ctx, &uidls, sizes).await,
            // UIDL refused: name the messages by their headers first (`no_uidl.rs`).
            None => self.identify(&ctx, sizes).await,
        }
    }

    /// Every listed message has a UIDL (or a key from its headers): plan, ask whether the plan
    /// fits, then start downloading.
    pub(super) async fn planned(
        &mut self,
        ctx: &SyncCtx<'_>,
        uidls: &[(u32, String)],
        sizes: &[(u32, u64)],
    ) -> Result<(), SyncError> {
        self.start_downloads(ctx, uidls, sizes).await?;
        self.report(true);
        let bytes = self.progress.total_bytes;
        if bytes > 0 {
            let fits = within(ROOM_CHECK_MS, self.observer.room_for(bytes)).await;
            if fits == Some(false) {
                // The observer has told the user; nothing is downloaded.
                self.stop_downloads();
            }
        }
        self.refill()
    }

    /// Plans from the listing and the ledger, keeps the ledger, and queues the work.
    async fn start_downloads(
        &mut self,
        ctx: &SyncCtx<'_>,
        uidls: &[(u32, String)],
        sizes: &[(u32, u64)],
    ) -> Result<(), SyncError> {
        if let Some(uidl) = ctx.rest_of {
            return self.start_rest(ctx, uidl, uidls, sizes).await;
        }
        let account = &ctx.account.id;
        let ledger = ctx.store.ledger(account).await?;
        let pending = ctx.store.pending_deletes(account).await?;
        let max = self.limits.max_message_bytes;
        let limits = SizeLimits {
            max_bytes: max,
            headers_first_above: ctx.account.headers_first_above,
        };
        let plan = plan(
            uidls,
            sizes,
            &ledger,
            &pending,
            ctx.account.policy,
            ctx.now_ms,
            limits,
        );
        ctx.store
            .update_ledger(account, &plan.ledger_updates, &plan.forget)
            .await?;
        let moves: Vec<(String, String)> = plan
            .set_aside
            .into_iter()
            .map(|s| (s.uidl, s.key))
            .collect();
        ctx.store.set_aside(account, &moves).await?;
        for d in &plan.too_large {
            self.outcome.notices.push(Notice::TooLarge {
                msg: d.msg,
                size: d.size.unwrap_or(0),
                limit: max,
            });
        }
        if !plan.shared_uidl.is_empty() {
            let mut by_uidl: Vec<(String, Vec<u32>)> = Vec::new();
            for (n, uidl) in plan.shared_uidl {
                match by_uidl.iter_mut().find(|(u, _)| *u == uidl) {
                    Some((_, msgs)) => msgs.push(n),
                    None => by_uidl.push((uidl, vec![n])),
                }
            }
            for (_, msgs) in by_uidl {
                self.outcome.notices.push(Notice::SharedUidl { msgs });
            }
        }
        let mut work = Work {
            limits: self.retr_window.budget.limits(),
            ..Work::default()
        };
        // These are stored here (their transactions completed in an earlier session), but the
        // UIDL alone does not prove the server still means that message: compare headers first
        // (`resolve`), then DELE.
        self.progress.deleting = plan.confirm.iter().filter(|c| c.delete).count() as u32;
        for confirm in plan.confirm {
            let id = self.client.enqueue(Command::Top {
                msg: confirm.download.msg,
                lines: 0,
            })?;
            work.checks.insert(
                id,
                Check {
                    confirm,
                    headers: Vec::new(),
                    received: 0,
                },
            );
        }
        self.progress.deleting += plan.delete_when_stored.len() as u32;
        work.delete_when_stored = plan.delete_when_stored;
        // Partial copies stored earlier are reported now; headers-first downloads once stored.
        for uidl in plan.kept_partial {
            if plan.download.iter().any(|d| d.uidl == uidl) {
                work.keep_partial.insert(uidl);
            } else {
                self.outcome.kept_partial();
            }
        }
        self.progress.total = plan.download.len() as u32;
        // Headers-first downloads count what they bring, not the whole they stand for.
        self.progress.total_bytes = plan.download.iter().filter_map(|d| d.expected()).sum();
        // Messages that broke an earlier session this page ran go last (see `TROUBLE`).
        let (later, now): (Vec<Download>, Vec<Download>) = plan
            .download
            .into_iter()
            .partition(|d| TROUBLE.with(|t| t.borrow().contains(&trouble_key(ctx, &d.uidl))));
        work.queue = now.into_iter().chain(later).collect();
        self.state = State::Downloading(Box::new(work));
        Ok(())
    }
}
