//! What the engine does with each of the protocol client's events: the listing starts the plan,
//! message chunks fill the batch, replies to DELE, TOP and QUIT settle their bookkeeping.

use super::*;

impl Run {
    pub(super) fn take_in_flight(&mut self, id: CommandId) -> Option<Download> {
        let d = self.in_flight.remove(&id)?;
        self.in_flight_bytes -= d.size.unwrap_or(0);
        Some(d)
    }

    pub(super) async fn handle<T: Transport>(
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
                // The upgrade is a round trip through the proxy outside `wait`: bounded too.
                let grace = self.limits.reply_grace_ms;
                match within(grace as u32, transport.start_tls()).await {
                    Some(Ok(tls)) => s.tls = tls,
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
                self.ready = true;
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
                if self.checks.contains_key(&id) {
                    return Ok(());
                }
                // Both sizes come from the server: a hint for the allocation, capped so that a
                // false claim cannot make the tab reserve much memory up front.
                let listed = self.in_flight.get(&id).and_then(|d| d.size);
                let hint = size
                    .or(listed)
                    .unwrap_or(0)
                    .min(64 << 20)
                    .min(self.limits.max_message_bytes);
                self.current = Vec::with_capacity(hint as usize);
                self.check_cancel(cancel);
            }
            Event::MessageChunk { id, bytes } => {
                let max = self.limits.max_message_bytes;
                if let Some(check) = self.checks.get_mut(&id) {
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
                        check.headers.extend_from_slice(&bytes);
                    }
                    return Ok(());
                }
                let (msg, listed) = self
                    .in_flight
                    .get(&id)
                    .map_or((0, None), |d| (d.msg, d.size));
                let received = (self.current.len() + bytes.len()) as u64;
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
                self.progress.bytes += bytes.len() as u64;
                self.current.extend_from_slice(&bytes);
                self.report(on_progress, false);
                self.check_cancel(cancel);
            }
            Event::MessageEnd { id } => {
                if let Some(check) = self.checks.remove(&id) {
                    if let Some(ctx) = ctx {
                        let headers = check.headers.clone();
                        self.resolve(ctx, check.confirm, Some(&headers)).await?;
                        self.refill(cancel)?;
                    }
                    return Ok(());
                }
                let Some(download) = self.take_in_flight(id) else {
                    return Ok(());
                };
                let Some(ctx) = ctx else { return Ok(()) };
                let raw = std::mem::take(&mut self.current);
                TROUBLE.with(|t| t.borrow_mut().remove(&trouble_key(ctx, &download.uidl)));
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
            Event::CommandFailed { id, error } => {
                // A refused RETR (message vanished meanwhile, or the server cannot read it) is
                // skipped and reported, not fatal: the messages after it still come.
                if let Some(d) = self.take_in_flight(id) {
                    self.current.clear();
                    self.outcome.failed += 1;
                    self.outcome.notices.push(Notice::NotDownloaded {
                        msg: d.msg,
                        size: d.size,
                        reason: crate::sync::explain::peer_text(
                            &match &error.code {
                                Some(code) => format!("{code} {}", error.text),
                                None => error.text.clone(),
                            },
                            REASON_CHARS,
                        ),
                    });
                    self.progress.done += 1;
                    self.report(on_progress, false);
                    self.refill(cancel)?;
                }
                // A refused TOP: the message cannot be compared with the stored one.
                if let Some(check) = self.checks.remove(&id)
                    && let Some(ctx) = ctx
                {
                    self.resolve(ctx, check.confirm, None).await?;
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
