//! The outbox's sender: queued messages go to the account's submission server, one SMTP
//! session each, through a [`Connect`] (the proxy's tunnel in the app, a scripted server in
//! tests).
//!
//! Architecture invariant: **a message is never sent twice silently.** A message is queued in
//! a strict IndexedDB transaction; at the commit point ([`session::submit`]) its state becomes
//! `MayHaveBeenSent` in another strict transaction BEFORE the final `.` is written; only the
//! server's answer moves it on (sent, refused, or queued again for a 4xx, which delivers
//! nothing). A cut after the `.` leaves `MayHaveBeenSent`, which nothing here ever sends: the
//! user chooses "Send again" or "Mark as sent". One tab at a time sends an account's outbox
//! (a Web Lock, [`lock::exclusive`]), and each message's state is read again under the lock.

pub mod explain;
pub mod lock;
pub mod session;

use postbag_protocol::Secret;
use postbag_protocol::smtp::{ClientConfig, TlsState};
use postbag_protocol::tunnel::TlsMode;

use crate::store::{
    Account, OutboxItem, OutboxState, Security, Sending, Store, StoreError, Summary,
};
use crate::sync::Credential;
use crate::tunnel::{Target, Transport, TransportError};
pub use explain::{Explained, explain};
pub use session::{Limits, Outcome, SendError, Submission, submit};

/// Opens a connection to a submission server.
#[allow(async_fn_in_trait)]
pub trait Connect {
    type Socket: Transport;
    async fn connect(&mut self, target: &Target) -> Result<Self::Socket, TransportError>;
}

/// Where the proxy connects to send for `account`. A certificate pinned for the POP3 server is
/// used when the submission server is the same host (self-hosted mail, one certificate).
pub fn target(account: &Account, sending: &Sending) -> Target {
    Target {
        host: sending.host.clone(),
        port: sending.port,
        tls: match sending.security {
            Security::Tls => TlsMode::Implicit,
            Security::StartTls => TlsMode::Starttls,
            Security::None => TlsMode::None,
        },
        pin_sha256: account
            .pinned_sha256
            .clone()
            .filter(|_| sending.host.eq_ignore_ascii_case(&account.host)),
    }
}

/// The SMTP client's settings for `sending`; `password` is used for this session only.
pub fn client_config(sending: &Sending, password: Secret<String>) -> ClientConfig {
    let mut config = ClientConfig::new(sending.username.clone(), password);
    config.scram_nonce = crate::account::scram_nonce();
    match sending.security {
        Security::Tls => {
            config.tls = TlsState::Implicit;
            config.want_starttls = false;
        }
        Security::StartTls => config.want_starttls = true,
        Security::None => {
            // The user chose "no encryption" after a plain warning, as for POP3.
            config.want_starttls = false;
            config.allow_plaintext_password = true;
        }
    }
    config
}

/// How long a message waits after its `attempts`-th temporary failure: 30 s, doubling, at
/// most 30 minutes. (Going online, or the next start, tries at once.)
pub fn backoff_ms(attempts: u32) -> f64 {
    let doubled = 30_000.0 * 2f64.powi(attempts.saturating_sub(1).min(16) as i32);
    doubled.min(30.0 * 60_000.0)
}

/// What one pass over the outbox did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub sent: u32,
    pub failed: u32,
    pub in_doubt: u32,
    /// Messages left queued for a later attempt.
    pub waiting: u32,
    /// Why the pass stopped early or the last attempt failed (offline, wrong password, ...).
    pub problem: Option<Explained>,
}

/// What a pass over an account's outbox works with.
pub struct Pass<'a> {
    pub store: &'a Store,
    pub account: &'a Account,
    pub sending: &'a Sending,
    pub password: &'a Secret<String>,
    pub limits: Limits,
    /// Try every queued message now, whatever its backoff: the network just came back, the
    /// app just started, or the user pressed Send.
    pub now_all: bool,
}

/// Sends every queued message of the pass's account that is due at `now`, oldest first. Call
/// it holding the account's outbox lock ([`lock::exclusive`]). `on_sending` hears each
/// message id as its attempt starts.
pub async fn send_queued<C: Connect>(
    pass: &Pass<'_>,
    connect: &mut C,
    now: f64,
    mut on_sending: impl FnMut(&str),
) -> Result<Report, StoreError> {
    let Pass {
        store,
        account,
        sending,
        password,
        limits,
        now_all,
    } = *pass;
    let mut report = Report::default();
    // An OAuth account that sends with its own login: a refused login means the grant is gone.
    let credential = if sending.same_password {
        Credential::of(account)
    } else {
        Credential::Password
    };
    for listed in store.outbox(&account.id).await? {
        // Read again: another tab may have sent it before this one got the lock.
        let Some(mut item) = store.outbox_item(&listed.id).await? else {
            continue;
        };
        if item.state != OutboxState::Queued {
            continue;
        }
        if item.next_attempt > now && !now_all {
            report.waiting += 1;
            continue;
        }
        let Some(raw) = store.outbox_raw(&item.id).await? else {
            continue;
        };
        on_sending(&item.id);
        let mut sock = match connect.connect(&target(account, sending)).await {
            Ok(sock) => sock,
            Err(e) => {
                // Every other message would meet the same wall: stop here.
                let ex = explain(&SendError::Transport(e));
                item.last_error = Some(ex.message.clone());
                // Not an attempt that reached the server: no count, but a later look (the
                // `online` event and the next start look at once).
                item.next_attempt = now + backoff_ms(item.attempts + 1);
                store.put_outbox(&item).await?;
                report.waiting += 1;
                report.problem = Some(ex);
                return Ok(report);
            }
        };
        let message = Submission {
            from: item.envelope_from.clone(),
            to: item.recipients.clone(),
            raw,
        };
        let mut config = client_config(sending, password.clone());
        // An OAuth account that sends with its own login: `password` is its access token.
        if sending.same_password
            && let Some(login) = &account.oauth
        {
            config.auth = crate::account::oauth::smtp_auth_policy(login);
        }
        let marked = OutboxItem {
            state: OutboxState::MayHaveBeenSent,
            ..item.clone()
        };
        let outcome = submit(&mut sock, config, &message, limits, async || {
            store.put_outbox(&marked).await
        })
        .await;
        let stop = settle(
            store,
            &mut item,
            &message.raw,
            outcome,
            credential,
            now,
            &mut report,
        )
        .await?;
        if stop {
            return Ok(report);
        }
    }
    Ok(report)
}

/// The Sent folder's list line for a message sent (or marked sent) at `now`: read already.
pub fn sent_summary(item: &OutboxItem, raw: &[u8], now: f64) -> Summary {
    let folder = crate::store::sent_folder(&item.account);
    Summary {
        read: true,
        ..crate::mail::summarize(raw, &folder, &item.id, now)
    }
}

/// Records what an attempt came to. `Ok(true)`: stop the pass (a wrong password).
async fn settle(
    store: &Store,
    item: &mut OutboxItem,
    raw: &[u8],
    outcome: Outcome,
    credential: Credential<'_>,
    now: f64,
    report: &mut Report,
) -> Result<bool, StoreError> {
    let explain = |error: &SendError| explain::explain_for(error, credential);
    let blocked = matches!(outcome, Outcome::Blocked(_));
    match outcome {
        Outcome::Sent { refused, .. } => {
            item.refused = refused;
            item.last_error = None;
            store
                .mark_sent(item, raw, &sent_summary(item, raw, now))
                .await?;
            report.sent += 1;
            Ok(false)
        }
        Outcome::Failed { error, refused } => {
            let ex = explain(&error);
            item.state = OutboxState::Failed;
            item.refused = refused;
            item.last_error = Some(ex.message.clone());
            store.put_outbox(item).await?;
            report.failed += 1;
            report.problem = Some(ex);
            Ok(false)
        }
        Outcome::Retry(error) | Outcome::Blocked(error) => {
            let ex = explain(&error);
            item.state = OutboxState::Queued;
            item.last_error = Some(ex.message.clone());
            // A wrong password is not the message's fault: it waits for the right one, and
            // the pass stops (every message would be refused the same way).
            if !ex.login_refused {
                item.attempts += 1;
                item.next_attempt = now + backoff_ms(item.attempts);
            }
            store.put_outbox(item).await?;
            report.waiting += 1;
            report.problem = Some(ex);
            Ok(blocked)
        }
        Outcome::InDoubt(error) => {
            let ex = explain(&error);
            item.state = OutboxState::MayHaveBeenSent;
            item.last_error = Some(ex.message.clone());
            store.put_outbox(item).await?;
            report.in_doubt += 1;
            report.problem = Some(ex);
            Ok(false)
        }
    }
}
