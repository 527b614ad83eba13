//! One POP3 session: the loop that moves bytes between the transport and the protocol client,
//! and what the engine does with the client's events (plan, downloads, batches, DELE, QUIT).

use std::collections::{HashMap, VecDeque};

use postbag_protocol::pop3::{Client, ClientConfig, Command, CommandId, Event};
use postbag_protocol::tunnel::TlsInfo;

use postbag_protocol::tunnel::ErrorKind;

use super::batch::{Batch, Committing};
use super::engine::{
    Cancel, During, Limits, Notice, Outcome, Progress, Session, SessionMode, SyncError,
};
use super::plan::{Download, plan};
use super::transport::{Transport, TransportError};
use super::wait::{Woken, wait, within};

use crate::store::{Account, NewMessage, ServerPolicy, Store};
use confirm::Check;

// TOP n 0 confirmations of messages already stored: `Check`, `Run::resolve`.
mod confirm;
// What the engine does with each of the client's events: `Run::handle`.
mod events;

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
/// What a server may send for a message beyond twice its listed size before it counts as the
/// server's fault. Servers count sizes loosely (LF against CRLF, headers they add when
/// serving), never by more than that.
const OVERRUN_SLACK: u64 = 64 << 10;
/// The most of a `TOP n 0` reply kept: the identity headers come long before.
const MAX_HEADERS: usize = 256 << 10;
/// The most of a server's `-ERR` text shown to the user.
const REASON_CHARS: usize = 120;

/// The most bytes a streamed reply for a message listed at `listed` may hold.
fn body_limit(listed: Option<u64>, max: u64) -> u64 {
    listed.map_or(max, |l| {
        l.saturating_mul(2).saturating_add(OVERRUN_SLACK).min(max)
    })
}

/// The browser's view of the network (`navigator.onLine`); `true` where there is none.
fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

thread_local! {
    /// Messages that ended a session in the middle of their reply (a drip, a reply that never
    /// ends or is cut there), by (database, account, UIDL), for this page's lifetime. The next
    /// sync downloads them after the others, so one broken message does not block every
    /// message after it at each sync. (Memory only: after a reload the server order holds
    /// again, and the first such sync finds the message again.)
    static TROUBLE: std::cell::RefCell<std::collections::HashSet<(String, String, String)>> =
        std::cell::RefCell::default();
}

fn trouble_key(ctx: &SyncCtx<'_>, uidl: &str) -> (String, String, String) {
    (ctx.store.name(), ctx.account.id.clone(), uidl.to_string())
}

pub struct SyncCtx<'a> {
    pub store: &'a Store,
    pub account: &'a Account,
    pub now_ms: f64,
}

pub struct Run {
    client: Client,
    retr_window: usize,
    mode: SessionMode,
    limits: Limits,
    /// The TRANSACTION state was reached (login done).
    ready: bool,
    /// `TOP n 0` replies awaited, by command.
    checks: HashMap<CommandId, Check>,
    /// The pace window: when it started and the bytes received in it (see `check_pace`).
    window_start: f64,
    window_bytes: u64,
    /// When the user pressed Cancel (driver clock).
    cancelled_at: f64,
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
    pub fn new(
        config: ClientConfig,
        tls: Option<TlsInfo>,
        mode: SessionMode,
        limits: Limits,
    ) -> Run {
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
            limits,
            ready: false,
            checks: HashMap::new(),
            window_start: js_sys::Date::now(),
            window_bytes: 0,
            cancelled_at: 0.0,
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
        if result.is_err()
            && let Some(ctx) = ctx
            && let Some((_, d)) = self.in_flight.iter().min_by_key(|(id, _)| **id)
        {
            TROUBLE.with(|t| t.borrow_mut().insert(trouble_key(ctx, &d.uidl)));
        }
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
                // A reply (or a message's start) completed: the next one gets a fresh grace,
                // counted from after the store work the event caused.
                let boundary = !matches!(event, Event::MessageChunk { .. });
                self.handle(event, transport, ctx, cancel, on_progress)
                    .await?;
                if boundary {
                    self.restart_pace();
                }
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
            if !listen {
                // Only our own commit runs: the server owes nothing meanwhile.
                self.restart_pace();
            }
            let commit = self.committing.as_mut().map(|c| &mut c.commit);
            match wait(transport, commit, listen, CANCEL_POLL_MS).await {
                Ok(Woken::Bytes(Some(bytes))) => {
                    self.window_bytes += bytes.len() as u64;
                    self.client.receive(&bytes);
                }
                Ok(Woken::Bytes(None)) => {
                    self.client.connection_lost();
                    return Err(self.cut(None));
                }
                Err(e) => {
                    self.client.connection_lost();
                    return Err(self.transport_failed(e));
                }
                Ok(Woken::Committed(result)) => {
                    let done = self.committing.take().expect("only a running commit wakes");
                    result?;
                    if let Some(ctx) = ctx {
                        self.committed(ctx, done.ids, cancel)?;
                    }
                    self.restart_pace();
                }
                Ok(Woken::Tick) => self.check_cancel(cancel),
            }
            self.check_pace()?;
            self.check_cancel_grace();
        }
    }

    fn restart_pace(&mut self) {
        self.window_start = js_sys::Date::now();
        self.window_bytes = 0;
    }

    /// Ends a session whose server is too slow. While a reply is owed, every window of
    /// `reply_grace_ms` (from the last reply boundary on) must bring at least
    /// `min_bytes_per_s` for that long: a server that says nothing, a drip of a byte a second,
    /// a network gone without closing the socket all end the session within two windows,
    /// while a slow but moving link is never cut. (A rate averaged over the whole reply would
    /// let a fast start buy hours of drip.)
    fn check_pace(&mut self) -> Result<(), SyncError> {
        if !self.expects_reply() {
            return Ok(());
        }
        let now = js_sys::Date::now();
        let waited = now - self.window_start;
        if waited < self.limits.reply_grace_ms {
            return Ok(());
        }
        let needed = self.limits.min_bytes_per_s * self.limits.reply_grace_ms / 1000.0;
        if (self.window_bytes as f64) < needed {
            return Err(SyncError::TooSlow {
                during: self.during(),
                waited_ms: waited as u64,
                bytes: self.window_bytes,
                online: browser_online(),
            });
        }
        self.window_start = now;
        self.window_bytes = 0;
        Ok(())
    }

    /// After Cancel, replies still owed (DELE, QUIT, TOP) get `cancel_grace_ms`; then the
    /// connection is closed without QUIT (the server then deletes nothing in this session).
    fn check_cancel_grace(&mut self) {
        if self.outcome.cancelled
            && !self.abort
            && self.expects_reply()
            && js_sys::Date::now() - self.cancelled_at >= self.limits.cancel_grace_ms
        {
            self.abort = true;
            self.current = Vec::new();
        }
    }

    /// Where the session is, for errors.
    fn during(&self) -> During {
        if !self.ready {
            return During::Login;
        }
        if !self.planned {
            return During::Listing;
        }
        if let Some((_, d)) = self.in_flight.iter().min_by_key(|(id, _)| **id) {
            return During::Message {
                k: self.progress.done + 1,
                of: self.progress.total,
                msg: d.msg,
            };
        }
        if !self.checks.is_empty() {
            return During::Checking;
        }
        if !self.deletes.is_empty() && !self.quit_sent {
            return During::Deleting;
        }
        During::Closing
    }

    /// The connection ended in the middle of the session.
    fn cut(&self, cause: Option<TransportError>) -> SyncError {
        SyncError::Cut {
            during: self.during(),
            cause,
            online: browser_online(),
        }
    }

    /// A transport error: a lost connection is told with where it happened; others (TLS,
    /// policy refusals) as they are.
    fn transport_failed(&self, e: TransportError) -> SyncError {
        match &e {
            TransportError::Closed { .. } | TransportError::ProxyUnreachable => self.cut(Some(e)),
            TransportError::Tunnel(t)
                if matches!(
                    t.kind,
                    ErrorKind::UpstreamIo | ErrorKind::ShuttingDown | ErrorKind::IdleTimeout
                ) =>
            {
                self.cut(Some(e))
            }
            _ => e.into(),
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
        if let Err(e) = transport.send(&out).await {
            self.client.connection_lost();
            return Err(self.transport_failed(e));
        }
        Ok(true)
    }

    /// Whether the server owes a reply (so the transport must be read).
    fn expects_reply(&self) -> bool {
        !self.planned
            || !self.in_flight.is_empty()
            || !self.checks.is_empty()
            || !self.deletes.is_empty()
            || self.quit_sent
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
        // Also once QUIT is sent: a server (or a network) that never answers it must not hold
        // the sync (`check_cancel_grace`).
        if self.outcome.cancelled || !cancel.cancelled() {
            return;
        }
        self.outcome.cancelled = true;
        self.cancelled_at = js_sys::Date::now();
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
            && self.checks.is_empty()
            && self.batch.is_empty()
            && self.committing.is_none()
        {
            self.quit()?;
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
        let max = self.limits.max_message_bytes;
        let plan = plan(
            uidls,
            sizes,
            &ledger,
            &pending,
            ctx.account.policy,
            ctx.now_ms,
            max,
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
        // These are stored here (their transactions completed in an earlier session), but the
        // UIDL alone does not prove the server still means that message: compare headers first
        // (`resolve`), then DELE.
        self.progress.deleting = plan.confirm.iter().filter(|c| c.delete).count() as u32;
        for confirm in plan.confirm {
            let id = self.client.enqueue(Command::Top {
                msg: confirm.download.msg,
                lines: 0,
            })?;
            self.checks.insert(
                id,
                Check {
                    confirm,
                    headers: Vec::new(),
                    received: 0,
                },
            );
        }
        if ctx.account.policy == ServerPolicy::DeleteAfterDownload {
            self.progress.deleting += plan.download.len() as u32;
        }
        self.progress.total = plan.download.len() as u32;
        self.progress.total_bytes = plan.download.iter().filter_map(|d| d.size).sum();
        // Messages that broke an earlier session this page ran go last (see `TROUBLE`).
        let (later, now): (Vec<Download>, Vec<Download>) = plan
            .download
            .into_iter()
            .partition(|d| TROUBLE.with(|t| t.borrow().contains(&trouble_key(ctx, &d.uidl))));
        self.queue = now.into_iter().chain(later).collect();
        self.planned = true;
        Ok(())
    }
}
