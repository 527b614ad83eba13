//! One POP3 session: the loop that moves bytes between the transport and the protocol client
//! (`drive`, `exchange`), its bounds (pace, Cancel), and the moves between its states
//! (`run/state.rs`). What each client event does is in `run/events.rs`, the plan and the
//! storage check in `run/listing.rs`, the `TOP n 0` confirmations in `run/confirm.rs`.

use postbag_protocol::pop3::{Client, ClientConfig, Command};
use postbag_protocol::tunnel::{ErrorKind, TlsInfo};

use super::batch::Committing;
use super::error::SyncError;
use super::report::{During, Outcome, Progress, Session};
use super::request::{Cancel, Limits, Observer};
use super::wait::{Ticker, Woken, wait};
use crate::disk_copy::{DiskGate, NotCopied};
use crate::store::{Account, PARTIAL_LINES, Store, Summary};
use crate::tunnel::{Transport, TransportError};
use state::{Saving, State};

// TOP n 0 confirmations of messages already stored: `Run::resolve`.
mod confirm;
// What the engine does with each of the client's events: `Run::handle`.
mod events;
// The listing becomes the plan; the storage check before any download.
mod listing;
// "Download the rest": one partial copy replaced by the whole message.
mod rest;
// Servers without UIDL: messages named by their headers.
mod no_uidl;
// Where the session is, each state with its own data.
mod state;
// The RETR window's measurements (round trip, bytes received) for the protocol crate's budget.
mod retr_window;

/// RETRs in flight: by listed bytes and the measured round trip (`RetrBudget`, 1 to 8 MiB,
/// at most 128 commands, each charged at least 16 KiB), not by a count. A fixed 16 was tuned
/// on loopback; on a 50 ms path it cost 63 round trips for 1,000 messages (3.1 of 4.4 s,
/// issue 17). Bytes of requested messages pile up in the browser while a batch commits; the
/// ceiling bounds them. Sizes are the server's word: with `OVERRUN_SLACK` (events.rs) a
/// server listing false sizes can make the engine hold at most `BudgetLimits::most_owed`
/// (24 MiB; 8 MiB when it lists 0), besides one message that comes alone.
fn retr_limits() -> postbag_protocol::pop3::BudgetLimits {
    postbag_protocol::pop3::BudgetLimits::default()
}
/// How often the cancel flag is looked at while the network is quiet.
const CANCEL_POLL_MS: u32 = 100;
/// Progress goes to the UI at most this often (10 a second): every update re-renders the sync
/// controls, and a reader does not see more.
const PROGRESS_EVERY_MS: f64 = 100.0;

/// The browser's view of the network (`navigator.onLine`); `true` where there is none.
fn browser_online() -> bool {
    crate::global::on_line()
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

/// What a sync (not a probe) works on.
#[derive(Clone, Copy)]
pub struct SyncCtx<'a> {
    pub store: &'a Store,
    pub account: &'a Account,
    pub now_ms: f64,
    /// The live copy on disk, when it is on (see `crate::disk_copy`).
    pub disk: Option<&'a DiskGate>,
    /// The user's rules, applied as each message's summary is built.
    pub rules: &'a [crate::store::Rule],
    /// The folder ids a rule may file into (Archive and the user's folders).
    pub folders: &'a [String],
    /// "Download the rest": this session fetches only this UIDL, whole, to replace its
    /// partial copy (`run/rest.rs`); `None`: a sync.
    pub rest_of: Option<&'a str>,
}

/// What the session is for.
#[derive(Clone, Copy)]
pub enum Mode<'a> {
    /// Log in, report what the server offers, STAT, QUIT. Touches nothing.
    Probe,
    /// Download new messages into the store and apply the account's server policy.
    Sync(SyncCtx<'a>),
}

pub struct Run<'a> {
    client: Client,
    retr_window: retr_window::RetrWindow,
    mode: Mode<'a>,
    limits: Limits,
    cancel: &'a dyn Cancel,
    observer: &'a mut dyn Observer,
    state: State,
    /// The pace window: when it started and the bytes received in it (see `check_pace`).
    window_start: f64,
    window_bytes: u64,
    /// When the user pressed Cancel (driver clock).
    cancelled_at: f64,
    outcome: Outcome,
    progress: Progress,
    last_report: f64,
    /// The cancel tick while waiting, one timer kept across waits.
    ticker: Ticker,
}

impl<'a> Run<'a> {
    pub fn new(
        config: ClientConfig,
        tls: Option<TlsInfo>,
        mode: Mode<'a>,
        limits: Limits,
        cancel: &'a dyn Cancel,
        observer: &'a mut dyn Observer,
    ) -> Run<'a> {
        let outcome = Outcome {
            session: Session {
                tls,
                ..Session::default()
            },
            ..Outcome::default()
        };
        let retr = retr_limits();
        // The engine bounds what it enqueues by bytes; the client's own count must not be the
        // tighter bound, or the window would be 16 RETRs again.
        let mut config = config;
        config.pipeline_window = config.pipeline_window.max(retr.max_commands);
        Run {
            retr_window: retr_window::RetrWindow::new(retr),
            client: Client::new(config),
            mode,
            limits,
            cancel,
            observer,
            state: State::LoggingIn,
            window_start: js_sys::Date::now(),
            window_bytes: 0,
            cancelled_at: 0.0,
            outcome,
            progress: Progress::default(),
            last_report: f64::NEG_INFINITY,
            ticker: Ticker::new(CANCEL_POLL_MS),
        }
    }

    pub fn into_outcome(self) -> Outcome {
        self.outcome
    }

    pub async fn drive<T: Transport>(&mut self, transport: &mut T) -> Result<(), SyncError> {
        let mut result = self.exchange(transport).await;
        if let Mode::Sync(ctx) = self.mode {
            if result.is_err()
                && let Some(d) = self.state.work().and_then(|w| w.first_in_flight())
            {
                TROUBLE.with(|t| t.borrow_mut().insert(trouble_key(&ctx, &d.uidl)));
            }
            // However the session ended (done, cancelled, connection lost, an error), what
            // was received completely is committed before returning, so it is never
            // downloaded twice. None of it was deleted on the server: that needs a DELE after
            // the commit and a QUIT.
            let settled = self.settle(&ctx).await;
            if result.is_ok() {
                result = settled;
            }
        }
        transport.close();
        result
    }

    async fn exchange<T: Transport>(&mut self, transport: &mut T) -> Result<(), SyncError> {
        loop {
            // What the client queued is sent once no event is left to handle (below): every
            // RETR the events of one received frame made room for goes in one write. Sent
            // after each event, 1,000 messages cost about 1,000 WebSocket messages (a renderer
            // IPC each, and as many tiny writes to the server).
            if self.state.is_aborted() {
                return Ok(());
            }
            if let Some(event) = self.client.next_event()? {
                // A reply (or a message's start) completed: the next one gets a fresh grace,
                // counted from after the store work the event caused.
                let boundary = !matches!(event, postbag_protocol::pop3::Event::MessageChunk { .. });
                self.handle(event, transport).await?;
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
            if let Mode::Sync(ctx) = self.mode
                && let Some(w) = self.state.work()
                && w.saving.committing.is_none()
                && !w.saving.batch.is_empty()
            {
                start_commit(&mut w.saving, &ctx)?;
            }
            let committing = self
                .state
                .work()
                .is_some_and(|w| w.saving.committing.is_some());
            let listen = !committing || self.state.expects_reply();
            if !listen {
                // Only our own commit runs: the server owes nothing meanwhile.
                self.restart_pace();
            }
            let commit = self
                .state
                .work()
                .and_then(|w| w.saving.committing.as_mut())
                .map(|c| &mut c.commit);
            match wait(transport, commit, listen, &mut self.ticker).await {
                Ok(Woken::Bytes(Some(bytes))) => {
                    self.window_bytes += bytes.len() as u64;
                    self.retr_window.received(bytes.len());
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
                    let done = self
                        .state
                        .work()
                        .and_then(|w| w.saving.committing.take())
                        .expect("only a running commit wakes");
                    let not_copied = result?;
                    self.committed(done.ids, &done.summaries, &not_copied)?;
                    self.restart_pace();
                }
                Ok(Woken::Tick) => self.check_cancel(),
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
        if !self.state.expects_reply() {
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
            && !self.state.is_aborted()
            && self.state.expects_reply()
            && js_sys::Date::now() - self.cancelled_at >= self.limits.cancel_grace_ms
        {
            self.state.abort();
        }
    }

    fn during(&self) -> During {
        self.state.during(&self.progress)
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
        let lockstep = matches!(self.state, State::LoggingIn | State::Listing { .. });
        self.retr_window
            .sent(lockstep, &out, self.client.replies_owed());
        Ok(true)
    }

    /// A batch's transaction completed: its messages are durable here, so now (and only now)
    /// they may be marked for deletion on the server, and the screen may list them. With the
    /// live copy on, those the folder did not take (`not_copied`) stay on the server.
    fn committed(
        &mut self,
        ids: Vec<(u32, String)>,
        summaries: &[Summary],
        not_copied: &[NotCopied],
    ) -> Result<(), SyncError> {
        self.outcome.downloaded += ids.len() as u32;
        self.observer.committed(summaries);
        self.not_copied(not_copied);
        if let Some(w) = self.state.work() {
            // Only what the plan marked (never a headers-first download: its whole body is
            // not stored), and not what the folder did not take.
            for (n, uidl) in ids {
                if w.keep_partial.contains(&uidl) {
                    self.outcome.kept_partial();
                }
                if !w.delete_when_stored.contains(&uidl)
                    || not_copied.iter().any(|c| c.uidl == uidl)
                {
                    continue;
                }
                let id = self.client.enqueue(Command::Dele(n))?;
                w.marks.sent.insert(id, uidl);
            }
        }
        self.refill()
    }

    /// Tells the user about messages kept on the server for want of their file in the folder,
    /// one notice per cause.
    fn not_copied(&mut self, not_copied: &[NotCopied]) {
        for c in not_copied {
            self.outcome.not_on_disk(&c.cause);
        }
    }

    /// Commits what is left when the session ends; no DELE follows (see `drive`).
    async fn settle(&mut self, ctx: &SyncCtx<'_>) -> Result<(), SyncError> {
        let Some(saving) = self.state.saving() else {
            return Ok(());
        };
        let Saving {
            mut batch,
            committing,
            first_seen,
        } = std::mem::take(saving);
        let mut first_error = None;
        if let Some(running) = committing {
            match running.commit.await {
                Ok(not_copied) => {
                    self.outcome.downloaded += running.ids.len() as u32;
                    self.observer.committed(&running.summaries);
                    self.not_copied(&not_copied);
                }
                Err(e) => first_error = Some(e),
            }
        }
        if !batch.is_empty() {
            let (messages, _) = batch.take();
            let first_seen = first_seen.unwrap_or(ctx.now_ms);
            match ctx.store.commit_messages(&messages, first_seen).await {
                Ok(()) => {
                    self.outcome.downloaded += messages.len() as u32;
                    let summaries: Vec<Summary> =
                        messages.iter().map(|m| m.summary.clone()).collect();
                    self.observer.committed(&summaries);
                    // Into the folder too, though nothing is DELEd now (next sync, if so).
                    if let Some(disk) = ctx.disk {
                        let not_copied = disk.persist(messages, ctx.now_ms).await;
                        self.not_copied(&not_copied);
                    }
                }
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        first_error.map_or(Ok(()), |e| Err(e.into()))
    }

    fn report(&mut self, force: bool) {
        let now = js_sys::Date::now();
        if force || now - self.last_report >= PROGRESS_EVERY_MS {
            self.last_report = now;
            self.observer.progress(&self.progress);
        }
    }

    /// Acts on the cancel flag (see [`Cancel`]).
    fn check_cancel(&mut self) {
        // Also once QUIT is sent: a server (or a network) that never answers it must not hold
        // the sync (`check_cancel_grace`).
        if self.outcome.cancelled || !self.cancel.cancelled() {
            return;
        }
        self.stop_downloads();
    }

    /// No further download starts (Cancel, or a plan the storage cannot hold).
    fn stop_downloads(&mut self) {
        self.outcome.cancelled = true;
        self.cancelled_at = js_sys::Date::now();
        // A download under way would have to finish before the server even reads QUIT. Stop
        // now instead: without QUIT the server deletes nothing, and the messages committed in
        // this session are DELEd at the next sync, as their ledger lines say.
        let abort = match &self.state {
            State::LoggingIn | State::Listing { .. } | State::Identifying(_) => true,
            State::Downloading(w) => !w.in_flight.is_empty(),
            State::Quitting(_) | State::Aborted(_) => false,
        };
        if abort {
            self.state.abort();
        } else if let Some(w) = self.state.work() {
            w.queue.clear();
        }
    }

    fn quit(&mut self) -> Result<(), SyncError> {
        if self.state.quit() {
            self.client.enqueue(Command::Quit)?;
        }
        Ok(())
    }

    /// Keeps the RETR window full; QUITs once nothing is left to download or commit.
    fn refill(&mut self) -> Result<(), SyncError> {
        self.check_cancel();
        let Some(w) = self.state.work() else {
            return Ok(());
        };
        let budget = &self.retr_window.budget;
        // RETRs go out once an eighth of the budget is free, not at each message's end: a
        // write per message was a WebSocket message, a server read and a renderer IPC each
        // (1,000 for 1,000 messages), while the server still owed at least 7/8 of the window.
        let room = budget.bytes().saturating_sub(w.in_flight_bytes);
        let refill = w.in_flight.is_empty() || room >= budget.bytes() / 8;
        while refill && let Some(next) = w.queue.front() {
            if !budget.admits(w.in_flight.len(), w.in_flight_bytes, next.expected()) {
                break;
            }
            let download = w.queue.pop_front().expect("front exists");
            let command = if download.partial {
                // Headers-first: the headers and the first lines, never the whole.
                Command::Top {
                    msg: download.msg,
                    lines: PARTIAL_LINES,
                }
            } else {
                Command::Retr(download.msg)
            };
            let id = self.client.enqueue(command)?;
            w.in_flight_bytes += budget.cost(download.expected());
            w.in_flight.insert(id, download);
        }
        // QUIT only after the last batch committed and its DELEs were enqueued.
        if w.is_drained() {
            self.quit()?;
        }
        Ok(())
    }
}

/// Starts the transaction of the filled batch; the engine keeps receiving while it runs. With
/// the live copy on, the batch's files are written once the transaction completed: the folder
/// gets only what IndexedDB holds, and the batch counts as durable only after both.
fn start_commit(saving: &mut Saving, ctx: &SyncCtx<'_>) -> Result<(), SyncError> {
    let (messages, ids) = saving.batch.take();
    let first_seen = saving.first_seen.unwrap_or(ctx.now_ms);
    let commit = ctx.store.begin_commit(&messages, first_seen)?;
    let summaries = messages.iter().map(|m| m.summary.clone()).collect();
    let copy = ctx.disk.map(|disk| disk.persist(messages, ctx.now_ms));
    saving.committing = Some(Committing {
        commit: Box::pin(async move {
            commit.await?;
            Ok(match copy {
                Some(copy) => copy.await,
                None => Vec::new(),
            })
        }),
        ids,
        summaries,
    });
    Ok(())
}
