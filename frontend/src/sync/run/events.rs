//! What the engine does with each of the protocol client's events: login details go to the
//! session report, the listing starts the plan (`listing.rs`), message chunks fill the batch,
//! replies to DELE, TOP and QUIT settle their bookkeeping.

use postbag_protocol::pop3::{Command, CommandId, Event, ServerError};

use super::state::State;
use super::{Mode, Run, TROUBLE, browser_online, trouble_key};
use crate::store::NewMessage;
use crate::sync::error::SyncError;
use crate::sync::report::{During, Notice};
use crate::tunnel::{Transport, within};

/// What a server may send for a message beyond twice its listed size before it counts as the
/// server's fault. Servers count sizes loosely (LF against CRLF, headers they add when
/// serving), never by more than that.
const OVERRUN_SLACK: u64 = 64 << 10;
/// The most of a `TOP n 0` reply kept: the identity headers come long before.
const MAX_HEADERS: usize = 256 << 10;
/// The most of a server's `-ERR` text shown to the user.
const REASON_CHARS: usize = 120;

/// The most of a headers-first (`TOP n 40`) reply taken: headers as large as [`MAX_HEADERS`]
/// and 40 lines. A server ignoring TOP's line count would otherwise send the whole message
/// over the slow or metered link the size limit is there for.
const MAX_START: u64 = MAX_HEADERS as u64 + crate::sync::PARTIAL_GUESS;

/// The most bytes a streamed reply for a message listed at `listed` may hold.
fn body_limit(listed: Option<u64>, max: u64) -> u64 {
    listed.map_or(max, |l| {
        l.saturating_mul(2).saturating_add(OVERRUN_SLACK).min(max)
    })
}

impl Run<'_> {
    pub(super) async fn handle<T: Transport>(
        &mut self,
        event: Event,
        transport: &mut T,
    ) -> Result<(), SyncError> {
        let s = &mut self.outcome.session;
        match event {
            Event::Greeting { text, .. } => s.greeting = text,
            Event::Capabilities(caps) => {
                if let Some(d) = caps.login_delay {
                    self.observer.login_delay(d);
                }
                // Keep the first CAPA: after login many servers no longer list login methods.
                if s.capabilities.is_none() {
                    s.capabilities = Some(caps);
                }
            }
            Event::StartTls => {
                // The upgrade is a round trip through the proxy outside `wait`: bounded too.
                let grace = self.limits.reply_grace_ms;
                match within(grace as u32, transport.start_tls()).await {
                    Some(Ok(tls)) => self.outcome.session.tls = tls,
                    Some(Err(e)) => return Err(self.transport_failed(e)),
                    None => {
                        return Err(SyncError::TooSlow {
                            during: During::Login,
                            waited_ms: grace as u64,
                            bytes: 0,
                            online: browser_online(),
                        });
                    }
                }
                self.client.tls_started()?;
            }
            Event::Authenticated { mechanism } => s.mechanism = Some(mechanism),
            Event::Ready { login_delay, .. } => {
                if let Some(d) = login_delay {
                    self.observer.login_delay(d);
                }
                s.login_delay = login_delay;
                s.pipelining = self.client.is_pipelining();
                match self.mode {
                    Mode::Probe => {
                        self.client.enqueue(Command::Stat)?;
                        self.quit()?;
                    }
                    Mode::Sync(_) => {
                        self.client.enqueue(Command::Uidl(None))?;
                        self.client.enqueue(Command::List(None))?;
                        self.state = State::Listing { uidls: None };
                    }
                }
            }
            Event::Stat { count, size, .. } => {
                s.count = Some(count);
                s.size = Some(size);
            }
            Event::Uidl { entries, .. } => {
                if let State::Listing { uidls } = &mut self.state {
                    *uidls = Some(entries);
                }
            }
            Event::List { entries, .. } => self.listed(&entries).await?,
            Event::MessageStart { id, size, .. } => self.message_start(id, size),
            Event::MessageChunk { id, bytes } => self.message_chunk(id, &bytes)?,
            Event::MessageEnd { id } => self.message_end(id).await?,
            Event::Deleted { id, .. } => {
                if let Some(marks) = self.state.marks()
                    && let Some(uidl) = marks.sent.remove(&id)
                {
                    marks.done.push(uidl);
                }
            }
            Event::CommandFailed { id, error } => self.refused(id, &error).await?,
            Event::Closed { committed } => {
                if committed
                    && let Mode::Sync(ctx) = self.mode
                    && let Some(marks) = self.state.marks()
                {
                    let deleted = std::mem::take(&mut marks.done);
                    self.outcome.deleted_on_server = deleted.len() as u32;
                    ctx.store.server_deleted(&ctx.account.id, &deleted).await?;
                }
            }
            Event::Reset { .. } | Event::Noop { .. } => {}
        }
        Ok(())
    }

    fn message_start(&mut self, id: CommandId, size: Option<u64>) {
        let max = self.limits.max_message_bytes;
        let Some(w) = self.state.work() else {
            return;
        };
        if w.checks.contains_key(&id) {
            return;
        }
        // Both sizes come from the server: a hint for the allocation, capped so that a false
        // claim cannot make the tab reserve much memory up front. A headers-first reply is
        // expected small, whatever the whole's size (or a size the `+OK` may state).
        let (expected, partial) = w
            .in_flight
            .get(&id)
            .map_or((None, false), |d| (d.expected(), d.partial));
        let claimed = if partial { None } else { size };
        let hint = claimed.or(expected).unwrap_or(0).min(64 << 20).min(max);
        w.current = Vec::with_capacity(hint as usize);
        self.check_cancel();
    }

    fn message_chunk(&mut self, id: CommandId, bytes: &[u8]) -> Result<(), SyncError> {
        if self.identify_chunk(id, bytes) {
            return Ok(());
        }
        let max = self.limits.max_message_bytes;
        let Some(w) = self.state.work() else {
            return Ok(());
        };
        if let Some(check) = w.checks.get_mut(&id) {
            check.received += bytes.len() as u64;
            let listed = check.confirm.download.size;
            if check.received > body_limit(listed, max) {
                return Err(SyncError::Overrun {
                    msg: check.confirm.download.msg,
                    listed: listed.unwrap_or(0),
                    received: check.received,
                });
            }
            if check.headers.len() < MAX_HEADERS {
                check.headers.extend_from_slice(bytes);
            }
            return Ok(());
        }
        let (msg, listed, charged, partial) =
            w.in_flight.get(&id).map_or((0, None, None, false), |d| {
                (d.msg, d.size, d.expected(), d.partial)
            });
        let received = (w.current.len() + bytes.len()) as u64;
        if partial && received > MAX_START.min(body_limit(listed, max)) {
            // The stream cannot be cut short: the session ends, as for any overrun.
            return Err(SyncError::StartOverrun {
                msg,
                limit: MAX_START,
            });
        }
        if received > body_limit(listed, max) {
            return Err(match listed {
                // Far beyond what it listed: the server's fault, not the message's.
                Some(listed) => SyncError::Overrun {
                    msg,
                    listed,
                    received,
                },
                None => SyncError::MessageTooLarge { msg, limit: max },
            });
        }
        w.current.extend_from_slice(bytes);
        // Past its charge (a size listed too small, or as 0), the reply is charged as it comes.
        let excess = received.saturating_sub(w.limits.cost(charged));
        w.in_flight_bytes += excess - w.current_excess;
        w.current_excess = excess;
        self.progress.bytes += bytes.len() as u64;
        self.report(false);
        self.check_cancel();
        Ok(())
    }

    async fn message_end(&mut self, id: CommandId) -> Result<(), SyncError> {
        let Mode::Sync(ctx) = self.mode else {
            return Ok(());
        };
        if self.identify_end(id, false).await? {
            return Ok(());
        }
        let Some(w) = self.state.work() else {
            return Ok(());
        };
        if let Some(check) = w.checks.remove(&id) {
            self.resolve(&ctx, check.confirm, Some(check.headers.as_slice()))
                .await?;
            return self.refill();
        }
        let Some(download) = w.take_in_flight(id) else {
            return Ok(());
        };
        let raw = std::mem::take(&mut w.current);
        TROUBLE.with(|t| t.borrow_mut().remove(&trouble_key(&ctx, &download.uidl)));
        let mut summary = crate::mail::summarize_filed(
            &raw,
            &ctx.account.id,
            &download.uidl,
            ctx.now_ms,
            ctx.rules,
            |folder| ctx.folders.iter().any(|f| f == folder),
        );
        if download.partial {
            // Only its start: the list and the reader say so, with the whole's size.
            summary.partial_of = Some(download.size.unwrap_or(raw.len() as u64));
        }
        if let Some((old, line)) = &w.rest_of
            && old.uidl == download.uidl
        {
            summary = super::rest::replacing(summary, &raw, old, line.identity.as_deref())?;
        }
        w.saving.batch.push(
            download.msg,
            NewMessage {
                summary,
                raw,
                server_size: download.size,
            },
        );
        let full = w.saving.batch.is_full();
        self.progress.done += 1;
        let last = self.progress.done == self.progress.total;
        self.report(last);
        if full {
            // Memory stays bounded: at most one batch commits while the next fills.
            if let Some(running) = self.state.work().and_then(|w| w.saving.committing.take()) {
                let super::Committing {
                    commit,
                    ids,
                    summaries,
                } = running;
                let not_copied = commit.await?;
                self.committed(ids, &summaries, &not_copied)?;
            }
            if let Some(w) = self.state.work() {
                super::start_commit(&mut w.saving, &ctx)?;
            }
        }
        self.refill()
    }

    /// A command answered `-ERR`.
    async fn refused(&mut self, id: CommandId, error: &ServerError) -> Result<(), SyncError> {
        if self.identify_end(id, true).await? {
            return Ok(());
        }
        let Some(w) = self.state.work() else {
            if let Some(marks) = self.state.marks() {
                marks.sent.remove(&id);
            }
            return Ok(());
        };
        // A refused RETR (message vanished meanwhile, or the server cannot read it) is
        // skipped and reported, not fatal: the messages after it still come.
        if let Some(d) = w.take_in_flight(id) {
            w.current.clear();
            self.outcome.failed += 1;
            let text = match &error.code {
                Some(code) => format!("{code} {}", error.text),
                None => error.text.clone(),
            };
            let reason = crate::sync::explain::peer_text(&text, REASON_CHARS);
            // A refused headers-first TOP is not retried as RETR: the whole is what the
            // user's limit keeps off this link.
            self.outcome.notices.push(if d.partial {
                Notice::NoHeadersFirst {
                    msg: d.msg,
                    size: d.size,
                    reason,
                }
            } else {
                Notice::NotDownloaded {
                    msg: d.msg,
                    size: d.size,
                    reason,
                }
            });
            self.progress.done += 1;
            self.report(false);
            return self.refill();
        }
        // A refused TOP: the message cannot be compared with the stored one.
        if let Some(check) = w.checks.remove(&id) {
            if let Mode::Sync(ctx) = self.mode {
                self.resolve(&ctx, check.confirm, None).await?;
                self.refill()?;
            }
            return Ok(());
        }
        w.marks.sent.remove(&id);
        Ok(())
    }
}
