//! The session driver: bytes between the transport and the POP3 client, events into the store.
//!
//! Architecture invariant: `Command::Dele` is enqueued only (a) for a UIDL the ledger already
//! holds, i.e. whose message transaction completed in an earlier session, or (b) right after
//! `Store::commit_message` returned, which awaits the transaction's `complete` event. A
//! connection lost at any point therefore loses nothing: POP3 only removes messages when QUIT
//! commits, and everything marked before was already stored.

use std::collections::HashMap;

use postbag_protocol::pop3::{
    AuthMechanism, Capabilities, Client, ClientConfig, Command, CommandId, Event, Pop3Error,
    Secret, TlsState,
};
use postbag_protocol::tunnel::TlsInfo;

use super::plan::plan;
use super::transport::{Transport, TransportError};
use crate::store::{Account, Security, ServerPolicy, Store, StoreError};

/// Messages kept in flight; with PIPELINING the client sends them back to back.
const RETR_WINDOW: usize = 8;

/// Asked between messages: once true, no further downloads start and the session QUITs.
pub trait Cancel {
    fn cancelled(&self) -> bool;
}

struct NeverCancel;

impl Cancel for NeverCancel {
    fn cancelled(&self) -> bool {
        false
    }
}

impl Cancel for std::cell::Cell<bool> {
    fn cancelled(&self) -> bool {
        self.get()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionMode {
    /// Log in, report what the server offers, STAT, QUIT. Touches nothing.
    Probe,
    /// Download new messages and apply the account's server policy.
    Sync,
}

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

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    pub done: u32,
    pub total: u32,
    pub bytes: u64,
    pub total_bytes: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub session: Session,
    pub downloaded: u32,
    pub failed: u32,
    pub deleted_on_server: u32,
    pub cancelled: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Pop3(#[from] Pop3Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Without UIDL there is no safe way to know which messages are already here.
    #[error("the server does not support UIDL")]
    NoUidl,
    /// One message is larger than the app keeps in memory before committing it; the sync stops
    /// rather than exhaust the tab. Nothing is deleted for it.
    #[error("message {msg} is larger than {limit} bytes")]
    MessageTooLarge { msg: u32, limit: u64 },
}

/// The largest message one sync holds in memory (and stores). Far above real mail (providers
/// cap messages at 25-50 MB) and far below what a hostile server could make the tab allocate.
pub const MAX_MESSAGE_BYTES: u64 = 128 << 20;

/// The client configuration for an account; `password` is used for this session only.
pub fn client_config(account: &Account, password: Secret<String>) -> ClientConfig {
    let mut config = ClientConfig::new(account.username.clone(), password);
    match account.security {
        Security::Tls => {
            config.tls = TlsState::Implicit;
            config.want_starttls = false;
        }
        Security::StartTls => config.want_starttls = true,
        Security::None => {
            // The user chose "no encryption" after a plain warning.
            config.want_starttls = false;
            config.allow_plaintext_password = true;
        }
    }
    config
}

/// Logs in and reports what the server offers, without changing anything.
pub async fn probe<T: Transport>(
    transport: &mut T,
    config: ClientConfig,
    tls: Option<TlsInfo>,
) -> Result<Session, SyncError> {
    let mut run = Run::new(config, tls, SessionMode::Probe);
    run.drive(transport, None, &NeverCancel, &mut |_| {})
        .await?;
    Ok(run.outcome.session)
}

/// Downloads what the ledger lacks into `store` and applies the account's server policy.
#[allow(clippy::too_many_arguments)]
pub async fn sync<T: Transport>(
    transport: &mut T,
    store: &Store,
    account: &Account,
    config: ClientConfig,
    tls: Option<TlsInfo>,
    now_ms: f64,
    cancel: &dyn Cancel,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Outcome, SyncError> {
    let mut run = Run::new(config, tls, SessionMode::Sync);
    let ctx = SyncCtx {
        store,
        account,
        now_ms,
    };
    run.drive(transport, Some(&ctx), cancel, on_progress)
        .await?;
    Ok(run.outcome)
}

struct SyncCtx<'a> {
    store: &'a Store,
    account: &'a Account,
    now_ms: f64,
}

struct Run {
    client: Client,
    mode: SessionMode,
    outcome: Outcome,
    progress: Progress,
    uidls: Option<Vec<(u32, String)>>,
    /// Messages still to RETR, in server order.
    queue: std::collections::VecDeque<(u32, String)>,
    in_flight: HashMap<CommandId, (u32, String)>,
    current: Vec<u8>,
    deletes: HashMap<CommandId, String>,
    deleted: Vec<String>,
    quit_sent: bool,
}

impl Run {
    fn new(config: ClientConfig, tls: Option<TlsInfo>, mode: SessionMode) -> Run {
        let outcome = Outcome {
            session: Session {
                tls,
                ..Session::default()
            },
            ..Outcome::default()
        };
        Run {
            client: Client::new(config),
            mode,
            outcome,
            progress: Progress::default(),
            uidls: None,
            queue: Default::default(),
            in_flight: HashMap::new(),
            current: Vec::new(),
            deletes: HashMap::new(),
            deleted: Vec::new(),
            quit_sent: false,
        }
    }

    async fn drive<T: Transport>(
        &mut self,
        transport: &mut T,
        ctx: Option<&SyncCtx<'_>>,
        cancel: &dyn Cancel,
        on_progress: &mut dyn FnMut(&Progress),
    ) -> Result<(), SyncError> {
        loop {
            while let Some(out) = self.client.take_outgoing() {
                transport.send(&out).await?;
            }
            match self.client.next_event()? {
                Some(event) => {
                    self.handle(event, transport, ctx, cancel, on_progress)
                        .await?
                }
                None if self.client.is_closed() => break,
                None => {
                    // Parsing may queue bytes without producing an event (a SASL response to a
                    // challenge, the next pipelined command): send them before waiting.
                    if let Some(out) = self.client.take_outgoing() {
                        transport.send(&out).await?;
                        continue;
                    }
                    match transport.recv().await? {
                        Some(bytes) => self.client.receive(&bytes),
                        None => return Err(self.client.connection_lost().into()),
                    }
                }
            }
        }
        transport.close();
        Ok(())
    }

    fn quit(&mut self) -> Result<(), SyncError> {
        if !self.quit_sent {
            self.quit_sent = true;
            self.client.enqueue(Command::Quit)?;
        }
        Ok(())
    }

    /// Keeps up to RETR_WINDOW downloads enqueued; QUIT once nothing is left.
    fn refill(&mut self, cancel: &dyn Cancel) -> Result<(), SyncError> {
        if self.quit_sent {
            return Ok(());
        }
        if cancel.cancelled() {
            self.outcome.cancelled = true;
            self.queue.clear();
        }
        while self.in_flight.len() < RETR_WINDOW {
            let Some((n, uidl)) = self.queue.pop_front() else {
                break;
            };
            let id = self.client.enqueue(Command::Retr(n))?;
            self.in_flight.insert(id, (n, uidl));
        }
        if self.in_flight.is_empty() && self.queue.is_empty() {
            self.quit()?;
        }
        Ok(())
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
                let ledger = ctx.store.ledger(&ctx.account.id).await?;
                let pending = ctx.store.pending_deletes(&ctx.account.id).await?;
                let plan = plan(
                    &uidls,
                    &entries,
                    &ledger,
                    &pending,
                    ctx.account.policy,
                    ctx.now_ms,
                );
                ctx.store.prune_ledger(&ctx.account.id, &plan.gone).await?;
                // These UIDLs are in the ledger: their transactions completed in an earlier sync.
                for (n, uidl) in plan.delete {
                    let id = self.client.enqueue(Command::Dele(n))?;
                    self.deletes.insert(id, uidl);
                }
                self.progress.total = plan.download.len() as u32;
                self.progress.total_bytes = plan.download.iter().map(|d| d.2).sum();
                self.queue = plan.download.into_iter().map(|(n, u, _)| (n, u)).collect();
                on_progress(&self.progress);
                self.refill(cancel)?;
            }
            Event::MessageStart { size, .. } => {
                self.current = Vec::with_capacity(size.unwrap_or(0).min(64 << 20) as usize);
            }
            Event::MessageChunk { id, bytes } => {
                if (self.current.len() + bytes.len()) as u64 > MAX_MESSAGE_BYTES {
                    let msg = self.in_flight.get(&id).map_or(0, |(n, _)| *n);
                    return Err(SyncError::MessageTooLarge {
                        msg,
                        limit: MAX_MESSAGE_BYTES,
                    });
                }
                self.progress.bytes += bytes.len() as u64;
                self.current.extend_from_slice(&bytes);
                on_progress(&self.progress);
            }
            Event::MessageEnd { id } => {
                let (Some(ctx), Some((n, uidl))) = (ctx, self.in_flight.remove(&id)) else {
                    return Ok(());
                };
                let raw = std::mem::take(&mut self.current);
                let summary = crate::mail::summarize(&raw, &ctx.account.id, &uidl, ctx.now_ms);
                // Awaits the transaction's `complete`: only then may the server copy go.
                ctx.store.commit_message(&summary, &raw, ctx.now_ms).await?;
                if ctx.account.policy == ServerPolicy::DeleteAfterDownload {
                    let id = self.client.enqueue(Command::Dele(n))?;
                    self.deletes.insert(id, uidl);
                }
                self.outcome.downloaded += 1;
                self.progress.done += 1;
                on_progress(&self.progress);
                self.refill(cancel)?;
            }
            Event::Deleted { id, .. } => {
                if let Some(uidl) = self.deletes.remove(&id) {
                    self.deleted.push(uidl);
                }
            }
            Event::CommandFailed { id, .. } => {
                // A refused RETR (message vanished meanwhile) is skipped, not fatal.
                if self.in_flight.remove(&id).is_some() {
                    self.current.clear();
                    self.outcome.failed += 1;
                    self.progress.done += 1;
                    on_progress(&self.progress);
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
}
