//! The sync as the screen sees it: starting one, Cancel, what it shows while it runs (told by
//! the engine through [`ToScreen`], never polled), and the sentence it ends with. Which
//! account is checked when is `scheduler.rs`'s business; this runs one session of one account.

use leptos::prelude::*;
use postbag_protocol::pop3::{Pop3Error, ProtocolError, Secret, ServerErrorKind};
use postbag_protocol::scram::ScramError;

use super::checking::Ended;
use super::scheduler::Checked;
use super::{Model, SyncState, session_access_code, store};
use crate::account::{client_config, target};
use crate::store::{Account, ServerPolicy, Summary};
use crate::sync::{
    self, Answer, CancelHandle, Limits, Observer, Outcome, Progress, SyncError, SyncRequest,
};
use crate::tunnel::{TunnelSocket, default_url};

/// How often a step that cannot see the cancel flag itself is interrupted to look at it.
const CANCEL_TICK_MS: u32 = 100;
/// New mail joins the list at most this often while a sync runs: each hand-over re-renders
/// the list, and a batch commits every few tens of milliseconds on a fast link. What is held
/// back joins at the next hand-over, or with the list read once the sync ends.
const LIST_EVERY_MS: f64 = 1000.0;

/// What the engine tells the screen while a sync runs.
struct ToScreen {
    model: Model,
    /// Committed, not yet in the list (see [`LIST_EVERY_MS`]).
    held: Vec<Summary>,
    last_shown: f64,
    /// The `LOGIN-DELAY` the server announced, for the scheduler.
    login_delay: Option<u32>,
}

impl Observer for ToScreen {
    fn progress(&mut self, progress: &Progress) {
        self.model.sync.set(SyncState::Running(progress.clone()));
    }

    /// New mail shows as batches are stored, without reading the list again.
    fn committed(&mut self, summaries: &[Summary]) {
        self.held.extend_from_slice(summaries);
        let now = js_sys::Date::now();
        if now - self.last_shown >= LIST_EVERY_MS {
            self.last_shown = now;
            self.model.add_messages(&std::mem::take(&mut self.held));
        }
    }

    fn login_delay(&mut self, seconds: u32) {
        self.login_delay = Some(seconds);
    }

    /// The PWA layer's quota check (`pwa.rs`); when the plan does not fit, storage.js has
    /// warned the user and nothing is downloaded. No Storage API: sync anyway.
    fn room_for(&mut self, bytes: u64) -> Answer {
        Box::pin(
            async move { !matches!(crate::pwa::ensure_room(bytes).await, Ok(room) if !room.ok) },
        )
    }
}

/// Whether the server refused the login (the password, or an OAuth account's token).
pub(super) fn login_refused(result: &Result<Outcome, SyncError>) -> bool {
    matches!(result, Err(SyncError::Pop3(e)) if e.server_kind() == Some(ServerErrorKind::AuthFailed))
}

/// How a session's end counts for the schedule: a refused sign-in stops automatic checks.
pub(super) fn ended(result: &Result<Outcome, SyncError>) -> Ended {
    match result {
        Ok(_) => Ended::Ok,
        _ if login_refused(result) => Ended::SignInRefused,
        // A server that could not prove it knows the password may be an impostor: retrying on
        // a timer would hand it a fresh client proof each time. The user decides.
        Err(SyncError::Pop3(Pop3Error::Protocol(ProtocolError::Scram(
            ScramError::ServerSignatureMismatch | ScramError::MissingServerSignature,
        )))) => Ended::SignInRefused,
        Err(_) => Ended::Failed,
    }
}

impl Model {
    /// Stops the running sync (see [`sync::Cancel`]).
    pub fn cancel_sync(self) {
        self.cancel.with_value(CancelHandle::cancel);
    }

    /// Sync: checks the accounts of the inbox shown now, one after the other (the password
    /// is asked first where this session has none).
    pub fn start_sync(self) {
        let shown = self.inbox.get_untracked();
        let ids = self.accounts.with_untracked(|all| {
            all.iter()
                .filter(|a| shown.shows(&a.id))
                .map(|a| a.id.clone())
                .collect()
        });
        self.ask_checks(ids);
    }

    /// Checks the account `id` now (never sooner than its server's login delay).
    pub fn sync_now(self, id: &str) {
        self.ask_checks(vec![id.to_string()]);
    }

    /// One session of `account`: the screen follows it, the list gets its mail, and the
    /// result line tells how it ended (naming the account when there are several). An OAuth
    /// account whose token the server refuses gets one refresh and one more session
    /// (`oauth::with_one_retry`); a second refusal asks for "Sign in again".
    pub(super) async fn sync_account(self, account: &Account, password: Secret<String>) -> Checked {
        let cancel = CancelHandle::default();
        self.cancel.set_value(cancel.clone());
        self.sync.set(SyncState::Connecting);
        let mut screen = ToScreen {
            model: self,
            held: Vec::new(),
            last_shown: f64::NEG_INFINITY,
            login_delay: None,
        };
        let result = self
            .logged_in(account, password, async |secret| {
                self.run_sync(account, secret, &cancel, &mut screen).await
            })
            .await;
        // What a session set aside (a reused UIDL's old copy) moved to a new key: read the
        // list once now that the store is settled.
        self.reload().await;
        self.runs.update(|n| *n += 1);
        // Some texts name the account already (a sign-in to renew says whose).
        let named = |text: String| {
            if self.accounts.with_untracked(|all| all.len() > 1)
                && !text.starts_with(&format!("{}: ", account.email))
            {
                format!("{}: {text}", account.email)
            } else {
                text
            }
        };
        let checked = Checked {
            ended: ended(&result),
            login_delay_s: screen.login_delay,
        };
        match result {
            Ok(o) => {
                self.offline.set(false);
                if o.downloaded > 0 {
                    crate::pwa::notify_new_mail(&account.email, o.downloaded);
                }
                self.sync
                    .set(SyncState::Done(named(done_text(&o, &account.policy))));
            }
            Err(e) => {
                let mut ex = sync::explain_for(&e, sync::Credential::of(account));
                self.offline.set(ex.offline);
                self.needs_access_code.set(ex.asks_access_code);
                ex.message = named(ex.message);
                self.sync.set(SyncState::Failed(ex));
            }
        }
        // Indexing gave way while the session wrote (`Model::add_messages`, `search.rs`); now
        // that the sync has ended, it catches up.
        self.index_soon();
        checked
    }

    async fn run_sync(
        self,
        account: &Account,
        password: Secret<String>,
        cancel: &CancelHandle,
        screen: &mut ToScreen,
    ) -> Result<Outcome, SyncError> {
        self.in_session(account, password, cancel, screen, async |sock, request| {
            sync::sync(sock, request).await
        })
        .await
    }

    /// Runs `attempt` with the account's secret; for an OAuth account, a token the server
    /// refuses gets one refresh and one more attempt, and a refused refresh asks the user to
    /// sign in again (a check and "Download the rest" alike).
    pub(super) async fn logged_in(
        self,
        account: &Account,
        secret: Secret<String>,
        mut attempt: impl AsyncFnMut(Secret<String>) -> Result<Outcome, SyncError>,
    ) -> Result<Outcome, SyncError> {
        if account.oauth.is_none() {
            return attempt(secret).await;
        }
        let (retried, updated) =
            super::oauth::with_one_retry(account, secret, login_refused, attempt).await;
        self.refreshed(updated);
        if retried.sign_in_again {
            self.checks.want_sign_in.update(|w| {
                w.insert(account.id.clone());
            });
        }
        retried.result
    }

    /// One POP3 session of `account` through the proxy, `run` on it: a check and a "Download
    /// the rest" (`model/rest.rs`) open, gate and follow up their sessions alike.
    pub(super) async fn in_session(
        self,
        account: &Account,
        password: Secret<String>,
        cancel: &CancelHandle,
        screen: &mut dyn Observer,
        run: impl AsyncFnOnce(&mut TunnelSocket, SyncRequest<'_>) -> Result<Outcome, SyncError>,
    ) -> Result<Outcome, SyncError> {
        // With the live copy on: what the folder lacks is written first (before the server
        // waits on an open session), so that what is stored may be deleted there now; the
        // session DELEs only what is in IndexedDB and in the folder.
        let disk = self.disk_gate(&account.id, cancel).await;
        let code = session_access_code();
        // Cancel works while connecting too: the half-open socket is dropped (and closed).
        let (url, to) = (default_url(), target(account));
        let open = TunnelSocket::open(&url, &to, code.as_ref());
        let Some(opened) = sync::unless_cancelled(cancel, CANCEL_TICK_MS, open).await else {
            return Ok(Outcome {
                cancelled: true,
                ..Outcome::default()
            });
        };
        let (mut sock, connected) = opened?;
        self.offline.set(false);
        self.needs_access_code.set(false);
        let store = store();
        let request = SyncRequest {
            store: &store,
            account,
            config: client_config(account, password),
            tls: connected.tls,
            now_ms: js_sys::Date::now(),
            limits: Limits::default(),
            cancel,
            observer: screen,
            disk: disk.as_ref(),
        };
        let outcome = run(&mut sock, request).await?;
        self.disk_copy_after_sync(&outcome.notices);
        Ok(outcome)
    }
}

fn done_text(o: &Outcome, policy: &ServerPolicy) -> String {
    let mut parts = vec![match o.downloaded {
        0 => "No new messages".to_string(),
        1 => "1 new message".to_string(),
        n => format!("{n} new messages"),
    }];
    if o.deleted_on_server > 0 {
        parts.push(format!("{} removed from the server", o.deleted_on_server));
    }
    if o.failed > 0 {
        parts.push(format!("{} could not be downloaded", o.failed));
    }
    // Which messages were not downloaded or not deleted, and why (sync::Notice).
    parts.extend(o.notices.iter().map(sync::notice));
    // A server whose EXPIRE undoes "Leave on the server" (the copy here may be the only one).
    let expire = o.session.capabilities.as_ref().and_then(|c| c.expire);
    parts.extend(crate::account::expire_warning(policy, expire));
    if o.cancelled {
        // A cancel during a download closes the connection without QUIT (see sync::Cancel), so
        // nothing was deleted on the server. That only defers something when the policy
        // deletes after download; under Leave the server keeps its copies anyway.
        let deferred = matches!(policy, ServerPolicy::DeleteAfterDownload)
            && o.deleted_on_server == 0
            && o.downloaded > 0;
        parts.push(if deferred {
            "sync cancelled (what was downloaded is kept; the server keeps its copy until the next sync)".into()
        } else if o.downloaded > 0 {
            "sync cancelled (what was downloaded is kept)".into()
        } else {
            "sync cancelled".into()
        });
    }
    parts.join(", ") + "."
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A server that could not prove it knows the password stops automatic checks as a
    /// refused sign-in does: retrying on a timer would hand a possible impostor a fresh
    /// client proof each time. Other protocol slips back off and retry.
    #[test]
    fn a_server_that_cannot_prove_itself_pauses_checks() {
        let scram = |e| {
            Err(SyncError::Pop3(Pop3Error::Protocol(ProtocolError::Scram(
                e,
            ))))
        };
        for e in [
            ScramError::ServerSignatureMismatch,
            ScramError::MissingServerSignature,
        ] {
            assert_eq!(ended(&scram(e.clone())), Ended::SignInRefused, "{e:?}");
        }
        assert_eq!(ended(&scram(ScramError::NonceMismatch)), Ended::Failed);
    }

    const LEAVE: ServerPolicy = ServerPolicy::Leave {
        after_days: None,
        mirror_deletes: false,
    };

    fn check(downloaded: u32, deleted_on_server: u32, policy: &ServerPolicy, expected: &str) {
        let o = Outcome {
            downloaded,
            deleted_on_server,
            cancelled: true,
            ..Outcome::default()
        };
        assert_eq!(done_text(&o, policy), expected, "{o:?}, {policy:?}");
    }

    #[test]
    fn a_cancelled_sync_says_what_the_server_keeps_per_policy() {
        use ServerPolicy::DeleteAfterDownload as Delete;
        check(
            2,
            0,
            &Delete,
            "2 new messages, sync cancelled (what was downloaded is kept; the server keeps its \
             copy until the next sync).",
        );
        // Under Leave nothing was going to be deleted after download: nothing is deferred.
        check(
            2,
            0,
            &LEAVE,
            "2 new messages, sync cancelled (what was downloaded is kept).",
        );
        check(0, 0, &Delete, "No new messages, sync cancelled.");
        check(0, 0, &LEAVE, "No new messages, sync cancelled.");
    }
}
