//! One POP3 session: the loop that moves bytes between the transport and the protocol client,
//! and what the engine does with the client's events (plan, downloads, batches, DELE, QUIT).

use std::collections::{HashMap, VecDeque};

use postbag_protocol::pop3::{Client, ClientConfig, Command, CommandId, Event};
use postbag_protocol::tunnel::TlsInfo;

use super::batch::{Batch, Committing};
use super::engine::{
    Cancel, MAX_MESSAGE_BYTES, Outcome, Progress, Session, SessionMode, SyncError,
};
use super::plan::{Download, plan};
use super::transport::Transport;
use super::wait::{Woken, wait};
use crate::store::{Account, NewMessage, ServerPolicy, Store};

/// RETRs in flight: as many as the client pipelines (`ClientConfig::pipeline_window`, 16)
/// while their listed sizes add up to no more than this (one is always allowed). Bytes of
/// requested messages pile up in the browser while a batch commits; this bounds them.
/// Measured with 1,000 x 20 KB: a window of 8 left the tab idle while batches committed
/// (5.1 s); 16 took 3.4 s; 32 was no faster.
const RETR_WINDOW_BYTES: u64 = 8 << 20;
/// How often the cancel flag is looked at while the network is quiet.
const CANCEL_POLL_MS: u32 = 100;
/// Progress goes to the UI at most this often: every update re-renders the sync controls.
const PROGRESS_EVERY_MS: f64 = 50.0;

pub struct SyncCtx<'a> {
    pub store: &'a Store,
    pub account: &'a Account,
    pub now_ms: f64,
}

pub struct Run {
    client: Client,
    retr_window: usize,
    mode: SessionMode,
    pub outcome: Outcome,
    progress: Progress,
    last_report: f64,
    uidls: Option<Vec<(u32, String)>>,
    planned: bool,
    /// Messages still to RETR, in server order.
    queue: VecDeque<Download>,
    in_flight: HashMap<CommandId, Download>,
    in_flight_bytes: u64,
    current: Vec<u8>,
    /// Received completely, not yet committed.
    batch: Batch,
    committing: Option<Committing>,
    deletes: HashMap<CommandId, String>,
    deleted: Vec<String>,
    quit_sent: bool,
    /// Cancelled while a download was under way: the session ends now, without QUIT.
    abort: bool,
}

impl Run {
    pub fn new(config: ClientConfig, tls: Option<TlsInfo>, mode: SessionMode) -> Run {
        let outcome = Outcome {
            session: Session {
                tls,
                ..Session::default()
            },
            ..Outcome::default()
        };
        Run {
            retr_window: config.pipeline_window.max(1),
            client: Client::new(config),
            mode,
            outcome,
            progress: Progress::default(),
            last_report: f64::NEG_INFINITY,
            uidls: None,
            planned: false,
            queue: VecDeque::new(),
            in_flight: HashMap::new(),
            in_flight_bytes: 0,
            current: Vec::new(),
            batch: Batch::default(),
            committing: None,
            deletes: HashMap::new(),
            deleted: Vec::new(),
            quit_sent: false,
            abort: false,
        }
    }

    pub async fn drive<T: Transport>(
        &mut self,
        transport: &mut T,
        ctx: Option<&SyncCtx<'_>>,
        cancel: &dyn Cancel,
        on_progress: &mut dyn FnMut(&Progress),
    ) -> Result<(), SyncError> {
        let mut result = self.exchange(transport, ctx, cancel, on_progress).await;
        // However the session ended (done, cancelled, connection lost, an error), what was
        // received completely is committed before returning, so it is never downloaded twice.
        // None of it was deleted on the server: that needs a DELE after the commit and a QUIT.
        if let Some(ctx) = ctx {
            let settled = self.settle(ctx).await;
            if result.is_ok() {
                result = settled;
            }
        }
        transport.close();
        result
    }

    async fn exchange<T: Transport>(
        &mut self,
        transport: &mut T,
        ctx: Option<&SyncCtx<'_>>,
        cancel: &dyn Cancel,
        on_progress: &mut dyn FnMut(&Progress),
    ) -> Result<(), SyncError> {
        loop {
            self.flush_outgoing(transport).await?;
            if self.abort {
                return Ok(());
            }
            if let Some(event) = self.client.next_event()? {
                self.handle(event, transport, ctx, cancel, on_progress)
                    .await?;
                continue;
            }
            if self.client.is_closed() {
                return Ok(());
            }
            // Parsing may queue bytes without producing an event (a SASL response to a
            // challenge, the next pipelined command): send them before waiting.
            if self.flush_outgoing(transport).await? {
                continue;
            }
            // About to wait anyway: commit what is complete now, so the transaction runs while
            // the network delivers the next messages (a group commit).
            if let Some(ctx) = ctx
                && self.committing.is_none()
                && !self.batch.is_empty()
            {
                self.start_commit(ctx)?;
            }
            let listen = self.committing.is_none() || self.expects_reply();
            let commit = self.committing.as_mut().map(|c| &mut c.commit);
            match wait(transport, commit, listen, CANCEL_POLL_MS).await? {
                Woken::Bytes(Some(bytes)) => self.client.receive(&bytes),
                Woken::Bytes(None) => return Err(self.client.connection_lost().into()),
                Woken::Committed(result) => {
                    let done = self.committing.take().expect("only a running commit wakes");
                    result?;
                    if let Some(ctx) = ctx {
                        self.committed(ctx, done.ids, cancel)?;
                    }
                }
                Woken::Tick => self.check_cancel(cancel),
            }
        }
    }

    /// Sends everything the client has queued as ONE write (a burst of pipelined RETRs and
    /// DELEs is one WebSocket message and one TCP write, not one per command). Returns whether
    /// anything was sent.
    async fn flush_outgoing<T: Transport>(&mut self, transport: &mut T) -> Result<bool, SyncError> {
        let Some(mut out) = self.client.take_outgoing() else {
            return Ok(false);
        };
        while let Some(more) = self.client.take_outgoing() {
            out.extend_from_slice(&more);
        }
        transport.send(&out).await?;
        Ok(true)
    }

    /// Whether the server owes a reply (so the transport must be read).
    fn expects_reply(&self) -> bool {
        !self.planned || !self.in_flight.is_empty() || !self.deletes.is_empty() || self.quit_sent
    }

    fn start_commit(&mut self, ctx: &SyncCtx<'_>) -> Result<(), SyncError> {
        let (messages, ids) = self.batch.take();
        let commit = ctx.store.begin_commit(&messages, ctx.now_ms)?;
        self.committing = Some(Committing { commit, ids });
        Ok(())
    }

    /// A batch's transaction completed: its messages are durable here, so now (and only now)
    /// they may be marked for deletion on the server.
    fn committed(
        &mut self,
        ctx: &SyncCtx<'_>,
        ids: Vec<(u32, String)>,
        cancel: &dyn Cancel,
    ) -> Result<(), SyncError> {
        self.outcome.downloaded += ids.len() as u32;
        if ctx.account.policy == ServerPolicy::DeleteAfterDownload {
            for (n, uidl) in ids {
                let id = self.client.enqueue(Command::Dele(n))?;
                self.deletes.insert(id, uidl);
            }
        }
        self.refill(cancel)
    }

    /// Commits what is left when the session ends; no DELE follows (see `drive`).
    async fn settle(&mut self, ctx: &SyncCtx<'_>) -> Result<(), SyncError> {
        let mut first_error = None;
        if let Some(running) = self.committing.take() {
            match running.commit.await {
                Ok(()) => self.outcome.downloaded += running.ids.len() as u32,
                Err(e) => first_error = Some(e),
            }
        }
        if !self.batch.is_empty() {
            let (messages, ids) = self.batch.take();
            match ctx.store.commit_messages(&messages, ctx.now_ms).await {
                Ok(()) => self.outcome.downloaded += ids.len() as u32,
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        first_error.map_or(Ok(()), |e| Err(e.into()))
    }

    fn report(&mut self, on_progress: &mut dyn FnMut(&Progress), force: bool) {
        let now = js_sys::Date::now();
        if force || now - self.last_report >= PROGRESS_EVERY_MS {
            self.last_report = now;
            on_progress(&self.progress);
        }
    }

    /// Acts on the cancel flag (see [`Cancel`]).
    fn check_cancel(&mut self, cancel: &dyn Cancel) {
        if self.quit_sent || self.outcome.cancelled || !cancel.cancelled() {
            return;
        }
        self.outcome.cancelled = true;
        self.queue.clear();
        // A download under way would have to finish before the server even reads QUIT. Stop
        // now instead: without QUIT the server deletes nothing, and the messages committed in
        // this session are DELEd at the next sync, as their ledger lines say.
        if !self.in_flight.is_empty() || !self.planned {
            self.abort = true;
            self.current = Vec::new();
        }
    }

    fn quit(&mut self) -> Result<(), SyncError> {
        if !self.quit_sent {
            self.quit_sent = true;
            self.client.enqueue(Command::Quit)?;
        }
        Ok(())
    }

    /// Keeps the RETR window full; QUITs once nothing is left to download or commit.
    fn refill(&mut self, cancel: &dyn Cancel) -> Result<(), SyncError> {
        self.check_cancel(cancel);
        if self.quit_sent || self.abort {
            return Ok(());
        }
        while let Some(next) = self.queue.front() {
            let size = next.size.unwrap_or(0);
            if !self.in_flight.is_empty()
                && (self.in_flight.len() >= self.retr_window
                    || self.in_flight_bytes + size > RETR_WINDOW_BYTES)
            {
                break;
            }
            let download = self.queue.pop_front().expect("front exists");
            let id = self.client.enqueue(Command::Retr(download.msg))?;
            self.in_flight_bytes += size;
            self.in_flight.insert(id, download);
        }
        // QUIT only after the last batch committed and its DELEs were enqueued.
        if self.queue.is_empty()
            && self.in_flight.is_empty()
            && self.batch.is_empty()
            && self.committing.is_none()
        {
            self.quit()?;
        }
        Ok(())
    }

    fn take_in_flight(&mut self, id: CommandId) -> Option<Download> {
        let d = self.in_flight.remove(&id)?;
        self.in_flight_bytes -= d.size.unwrap_or(0);
        Some(d)
    }

    async fn handle<T: Transport>(
        &mut self,
        event: Event,
        transport: &mut T,
        ctx: Option<&SyncCtx<'_>>,
        cancel: &dyn Cancel,
        on_progress: &mut dyn FnMut(&Progress),
    ) -> Result<(), SyncError> {
        let s = &mut self.outcome.session;
        match event {
            Event::Greeting { text, .. } => s.greeting = text,
            Event::Capabilities(caps) => {
                // Keep the first CAPA: after login many servers no longer list login methods.
                if s.capabilities.is_none() {
                    s.capabilities = Some(caps);
                }
            }
            Event::StartTls => {
                s.tls = transport.start_tls().await?;
                self.client.tls_started()?;
            }
            Event::Authenticated { mechanism } => s.mechanism = Some(mechanism),
            Event::Ready { login_delay, .. } => {
                s.login_delay = login_delay;
                s.pipelining = self.client.is_pipelining();
                match self.mode {
                    SessionMode::Probe => {
                        self.client.enqueue(Command::Stat)?;
                        self.quit()?;
                    }
                    SessionMode::Sync => {
                        self.client.enqueue(Command::Uidl(None))?;
                        self.client.enqueue(Command::List(None))?;
                    }
                }
            }
            Event::Stat { count, size, .. } => {
                s.count = Some(count);
                s.size = Some(size);
            }
            Event::Uidl { entries, .. } => self.uidls = Some(entries),
            Event::List { entries, .. } => {
                let Some(ctx) = ctx else { return Ok(()) };
                let Some(uidls) = self.uidls.take() else {
                    return Err(SyncError::NoUidl);
                };
                s.count = Some(entries.len() as u32);
                s.size = Some(entries.iter().map(|e| e.1).sum());
                self.start_downloads(ctx, &uidls, &entries).await?;
                self.report(on_progress, true);
                self.refill(cancel)?;
            }
            Event::MessageStart { id, size, .. } => {
                // Both sizes come from the server: a hint for the allocation, capped so that a
                // false claim cannot make the tab reserve much memory up front.
                let listed = self.in_flight.get(&id).and_then(|d| d.size);
                let hint = size.or(listed).unwrap_or(0).min(64 << 20);
                self.current = Vec::with_capacity(hint as usize);
                self.check_cancel(cancel);
            }
            Event::MessageChunk { id, bytes } => {
                if (self.current.len() + bytes.len()) as u64 > MAX_MESSAGE_BYTES {
                    let msg = self.in_flight.get(&id).map_or(0, |d| d.msg);
                    return Err(SyncError::MessageTooLarge {
                        msg,
                        limit: MAX_MESSAGE_BYTES,
                    });
                }
                self.progress.bytes += bytes.len() as u64;
                self.current.extend_from_slice(&bytes);
                self.report(on_progress, false);
                self.check_cancel(cancel);
            }
            Event::MessageEnd { id } => {
                let Some(download) = self.take_in_flight(id) else {
                    return Ok(());
                };
                let Some(ctx) = ctx else { return Ok(()) };
                let raw = std::mem::take(&mut self.current);
                let summary =
                    crate::mail::summarize(&raw, &ctx.account.id, &download.uidl, ctx.now_ms);
                self.batch.push(
                    download.msg,
                    NewMessage {
                        summary,
                        raw,
                        server_size: download.size,
                    },
                );
                self.progress.done += 1;
                let last = self.progress.done == self.progress.total;
                self.report(on_progress, last);
                if self.batch.is_full() {
                    // Memory stays bounded: at most one batch commits while the next fills.
                    if let Some(running) = self.committing.take() {
                        running.commit.await?;
                        self.committed(ctx, running.ids, cancel)?;
                    }
                    self.start_commit(ctx)?;
                }
                self.refill(cancel)?;
            }
            Event::Deleted { id, .. } => {
                if let Some(uidl) = self.deletes.remove(&id) {
                    self.deleted.push(uidl);
                }
            }
            Event::CommandFailed { id, .. } => {
                // A refused RETR (message vanished meanwhile) is skipped, not fatal.
                if self.take_in_flight(id).is_some() {
                    self.current.clear();
                    self.outcome.failed += 1;
                    self.progress.done += 1;
                    self.report(on_progress, false);
                    self.refill(cancel)?;
                }
                self.deletes.remove(&id);
            }
            Event::Closed { committed } => {
                if committed && let Some(ctx) = ctx {
                    self.outcome.deleted_on_server = self.deleted.len() as u32;
                    ctx.store
                        .server_deleted(&ctx.account.id, &self.deleted)
                        .await?;
                }
            }
            Event::Reset { .. } | Event::Noop { .. } => {}
        }
        Ok(())
    }

    /// Plans from the listing and the ledger, keeps the ledger, and queues the work.
    async fn start_downloads(
        &mut self,
        ctx: &SyncCtx<'_>,
        uidls: &[(u32, String)],
        sizes: &[(u32, u64)],
    ) -> Result<(), SyncError> {
        let account = &ctx.account.id;
        let ledger = ctx.store.ledger(account).await?;
        let pending = ctx.store.pending_deletes(account).await?;
        let plan = plan(
            uidls,
            sizes,
            &ledger,
            &pending,
            ctx.account.policy,
            ctx.now_ms,
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
        // These are in the ledger with the listed size: their transactions completed in an
        // earlier session.
        for (n, uidl) in plan.delete {
            let id = self.client.enqueue(Command::Dele(n))?;
            self.deletes.insert(id, uidl);
        }
        self.progress.total = plan.download.len() as u32;
        self.progress.total_bytes = plan.download.iter().filter_map(|d| d.size).sum();
        self.queue = plan.download.into();
        self.planned = true;
        Ok(())
    }
}
