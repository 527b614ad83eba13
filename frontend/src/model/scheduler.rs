//! Runs the checks `checking.rs` plans: at launch, when the network comes back, when the user
//! presses Sync, and on a ticker while the app is open. One check at a time in this tab, and
//! one POP3 session per account across tabs: each check holds the Web Lock
//! `postbag-pop3 <account>` and reads the account's remembered logins again inside it, so a
//! tab never logs in right after another tab did (LOGIN-DELAY), nor while it is logged in
//! (which servers answer with `[IN-USE]`).

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::check_account::account_to_check;
use super::check_record;
use super::checking::{CheckRecord, Ended, Next, Schedule, wait_text};
use super::oauth::{Login, login_for};
use super::{Model, SyncState, store};
use crate::outbox::lock;
use crate::store::device::DeviceDb;
use crate::store::{Account, MessageKey};

/// How often the ticker looks for due checks (and the "Next check in …" line moves on).
const TICK_MS: u32 = 10_000;
/// Where an account's [`CheckRecord`] is kept: localStorage, shared by every tab at once.
const RECORD_PREFIX: &str = "postbag.checks.";

/// The automatic checks' state, part of the [`Model`].
#[derive(Clone, Copy)]
pub struct Checks {
    /// Each account's schedule, by id.
    pub schedules: RwSignal<HashMap<String, Schedule>>,
    /// Accounts whose automatic checks wait for this session's password.
    pub want_password: RwSignal<HashSet<String>>,
    /// OAuth accounts whose grant is gone (refresh refused, or no tokens this session and
    /// none sealed): checks wait for "Sign in again".
    pub want_sign_in: RwSignal<HashSet<String>>,
    /// The clock the "Next check in …" line reads (ms since the epoch), moved by the ticker.
    pub now: RwSignal<f64>,
    /// Accounts the user asked to check now (Sync), in order.
    asked: StoredValue<Vec<String>>,
    /// Messages whose rest the user asked for ("Download the rest"): (account, UIDL), served
    /// before anything else, each as a check of its account.
    rests: StoredValue<Vec<(String, String)>>,
    running: StoredValue<bool>,
    /// Something asked for a run while one was under way (the network came back, Sync, a
    /// saved account): the run goes round once more when it ends, instead of dropping it
    /// until the next tick.
    again: StoredValue<bool>,
}

impl Checks {
    pub fn new() -> Checks {
        Checks {
            schedules: RwSignal::new(HashMap::new()),
            want_password: RwSignal::new(HashSet::new()),
            want_sign_in: RwSignal::new(HashSet::new()),
            now: RwSignal::new(js_sys::Date::now()),
            asked: StoredValue::new(Vec::new()),
            rests: StoredValue::new(Vec::new()),
            running: StoredValue::new(false),
            again: StoredValue::new(false),
        }
    }
}

impl Default for Checks {
    fn default() -> Self {
        Self::new()
    }
}

/// What the mailbox says about an account's next check.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckLine {
    Manual,
    /// "Next check in …".
    In(String),
    /// "Checking paused: sign-in failed".
    SignInFailed,
    /// Automatic checks wait for the password of this session.
    NeedsPassword,
    /// An OAuth account's sign-in expired, was revoked or refused: "Sign in again".
    SignInAgain,
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn remembered(id: &str) -> CheckRecord {
    local_storage()
        .and_then(|s| s.get_item(&format!("{RECORD_PREFIX}{id}")).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn remember(id: &str, record: &CheckRecord) {
    if let (Some(s), Ok(text)) = (local_storage(), serde_json::to_string(record)) {
        let _ = s.set_item(&format!("{RECORD_PREFIX}{id}"), &text);
    }
    // The copy the service worker's background check reads (`check_record.rs`).
    let (id, record) = (id.to_string(), record.clone());
    spawn_local(async move {
        if let Ok(device) = DeviceDb::open().await {
            check_record::write(&device, &id, &record).await;
            device.close();
        }
    });
}

/// `id`'s record inside its lock: this tab's, or the device copy if a later session (the
/// service worker's background check) wrote it.
async fn remembered_now(id: &str) -> CheckRecord {
    let tab = remembered(id);
    match DeviceDb::open().await {
        Ok(device) => {
            let record = check_record::later(tab, check_record::read(&device, id).await);
            device.close();
            record
        }
        Err(_) => tab,
    }
}

/// What a check does once it holds the account's lock.
#[derive(Clone, Debug, PartialEq)]
enum Task {
    /// A sync: new mail, and the account's policy.
    Sync,
    /// "Download the rest" of this message (account, UIDL), stored headers-first; nothing else.
    Rest(MessageKey),
}

/// How a check that reached (or tried to reach) the server went.
pub struct Checked {
    pub ended: Ended,
    /// The `LOGIN-DELAY` the server announced in this session, if it did.
    pub login_delay_s: Option<u32>,
}

impl Model {
    /// Starts automatic checking: every account with an interval is checked as soon as its
    /// login delay allows, then on its interval; the network coming back asks again.
    pub fn start_checking(self) {
        let accounts = self.accounts.get_untracked();
        self.checks.schedules.update(|all| {
            for a in &accounts {
                all.entry(a.id.clone())
                    .or_insert_with(|| Schedule::new(remembered(&a.id)));
            }
        });
        if let Some(window) = web_sys::window() {
            let online = gloo_events::EventListener::new(&window, "online", move |_| {
                self.check_soon_all();
            });
            // Another tab finished a check: its record is the one that counts here too.
            let storage = gloo_events::EventListener::new(&window, "storage", move |_| {
                self.reread_records();
            });
            let ticker = gloo_timers::callback::Interval::new(TICK_MS, move || {
                self.checks.now.set(js_sys::Date::now());
                self.run_due();
            });
            // The service worker's background check stored mail (register.js tells the page):
            // the list reads the store again. (Its check record is read inside the lock.)
            let background =
                gloo_events::EventListener::new(&window, "postbag-background-checked", move |_| {
                    spawn_local(self.reload());
                });
            // The app's lifetime: the page owns them until it goes away.
            std::mem::forget((online, storage, ticker, background));
            // The periodic check again, if an account is opted in: the browser may allow it
            // only now (the app installed since, the site's setting turned on).
            spawn_local(async {
                super::background_opt_in::refresh().await;
            });
        }
        self.run_due();
    }

    /// Every account is checked as soon as its login delay allows (the network came back).
    fn check_soon_all(self) {
        self.checks.schedules.update(|all| {
            for s in all.values_mut() {
                s.soon = true;
            }
        });
        self.run_due();
    }

    fn reread_records(self) {
        self.checks.schedules.update(|all| {
            for (id, s) in all.iter_mut() {
                s.record = remembered(id);
            }
        });
    }

    /// `account` was saved or its password typed: checks may start again, soon.
    pub fn resume_checks(self, id: &str) {
        self.checks.want_password.update(|w| {
            w.remove(id);
        });
        self.checks.schedules.update(|all| {
            let s = all
                .entry(id.to_string())
                .or_insert_with(|| Schedule::new(remembered(id)));
            s.resume();
            remember(id, &s.record);
        });
        self.run_due();
    }

    /// Forgets a removed account's schedule and record.
    pub(super) fn forget_checks(self, id: &str) {
        self.checks.schedules.update(|all| {
            all.remove(id);
        });
        if let Some(s) = local_storage() {
            let _ = s.remove_item(&format!("{RECORD_PREFIX}{id}"));
        }
        // Its device copy and background secret go with it.
        let id = id.to_string();
        spawn_local(async move {
            if let Ok(device) = DeviceDb::open().await {
                let _ = device.delete(crate::store::device::Part::Checks, &id).await;
                let _ = crate::account::background::forget(&device, &id).await;
                device.close();
            }
        });
    }

    /// The user pressed Sync: checks `accounts` now, one after the other (never sooner than
    /// the server's login delay).
    pub(super) fn ask_checks(self, accounts: Vec<String>) {
        self.checks.asked.update_value(|asked| {
            for id in accounts {
                if !asked.contains(&id) {
                    asked.push(id);
                }
            }
        });
        self.run_due();
    }

    /// The user asked for the rest of a message: a check of its account that fetches only it,
    /// as soon as the server's login delay allows.
    pub(super) fn ask_rest(self, account: String, uidl: String) {
        self.checks.rests.update_value(|rests| {
            if !rests.iter().any(|(a, u)| *a == account && *u == uidl) {
                rests.push((account, uidl));
            }
        });
        self.run_due();
    }

    /// What the mailbox says about `account`'s next check, at the ticker's time.
    pub fn check_line(self, account: &Account) -> CheckLine {
        let now = self.checks.now.get();
        if self.checks.want_password.with(|w| w.contains(&account.id)) {
            return CheckLine::NeedsPassword;
        }
        if self.checks.want_sign_in.with(|w| w.contains(&account.id)) {
            return CheckLine::SignInAgain;
        }
        let next = self
            .checks
            .schedules
            .with(|all| all.get(&account.id).map(|s| s.next(account.check_minutes)));
        match next {
            None | Some(Next::Manual) => CheckLine::Manual,
            // A refused OAuth login or refresh is fixed by signing in, never by a password.
            Some(Next::Paused(_)) if account.oauth.is_some() => CheckLine::SignInAgain,
            Some(Next::Paused(_)) => CheckLine::SignInFailed,
            Some(Next::At(at)) => CheckLine::In(wait_text(now, at)),
        }
    }

    /// Runs what is due, one check at a time, unless a run is already under way.
    pub(super) fn run_due(self) {
        if self.checks.running.get_value() {
            self.checks.again.set_value(true);
            return;
        }
        self.checks.running.set_value(true);
        spawn_local(async move {
            loop {
                // Each account at most once per round: one whose lock another tab holds stays
                // due until that tab's record arrives.
                let mut tried = HashSet::new();
                while let Some((account, asked, task)) = self.next_check(&tried) {
                    if task == Task::Sync {
                        tried.insert(account.id.clone());
                    }
                    self.check(account, asked, task).await;
                }
                // An account checked in this round before the network came back is due again
                // ("soon"): one more round, only when something asked during this one.
                if !self
                    .checks
                    .again
                    .try_update_value(std::mem::take)
                    .unwrap_or(false)
                {
                    break;
                }
            }
            self.checks.running.set_value(false);
            self.checks.now.set(js_sys::Date::now());
        });
    }

    /// The next account to check: a rest the user asked for, then a Sync the user asked for,
    /// then what is due.
    fn next_check(self, tried: &HashSet<String>) -> Option<(Account, bool, Task)> {
        let accounts = self.accounts.get_untracked();
        let rest = self
            .checks
            .rests
            .try_update_value(|rests| (!rests.is_empty()).then(|| rests.remove(0)));
        if let Some((id, uidl)) = rest.flatten() {
            let Some(account) = accounts.into_iter().find(|a| a.id == id) else {
                self.rest_not_run(&(id, uidl), "This account was removed.".into());
                return self.next_check(tried);
            };
            return Some((account, true, Task::Rest((id, uidl))));
        }
        let asked = self
            .checks
            .asked
            .try_update_value(|asked| (!asked.is_empty()).then(|| asked.remove(0)));
        if let Some(id) = asked.flatten() {
            return accounts
                .into_iter()
                .find(|a| a.id == id)
                .map(|a| (a, true, Task::Sync));
        }
        let now = js_sys::Date::now();
        let due = self.checks.schedules.with_untracked(|all| {
            accounts.into_iter().find(|a| {
                !tried.contains(&a.id)
                    && all.get(&a.id).is_some_and(|s| s.due(a.check_minutes, now))
            })
        })?;
        Some((due, false, Task::Sync))
    }

    /// One check of `account`: `asked` by the user (Sync, "Download the rest"), or automatic.
    async fn check(self, account: Account, asked: bool, task: Task) {
        let id = account.id.clone();
        let paused = self
            .checks
            .schedules
            .with_untracked(|all| all.get(&id).is_some_and(|s| s.record.paused.is_some()));
        // `Some(None)`: an OAuth account, whose access token is read inside the lock.
        let login = match login_for(&account) {
            Login::Password(p) if !(asked && paused) => Some(Some(p)),
            Login::OAuth if !(asked && paused) => Some(None),
            // After a refusal only a new sign-in helps an OAuth account.
            Login::NeedsSignIn | Login::OAuth => {
                self.checks.want_sign_in.update(|w| {
                    w.insert(id);
                });
                if asked {
                    self.checks.asked.set_value(Vec::new());
                }
                self.rest_not_run_if(&task, "Sign in again first.".into());
                return;
            }
            Login::Password(_) | Login::NeedsSecret => None,
        };
        let Some(password) = login else {
            self.rest_not_run_if(&task, "Postbag needs this account's password first.".into());
            if asked {
                // The user is here: ask (again, after a refused sign-in).
                self.checks.asked.set_value(Vec::new());
                self.needs_password.set(Some(account));
            } else {
                self.checks.want_password.update(|w| {
                    w.insert(id);
                });
            }
            return;
        };
        let name = format!("postbag-pop3 {id}");
        let held = lock::exclusive(&name, async {
            // The account as stored now: another tab may have changed its policy or server,
            // or removed it, since this tab loaded it.
            let account = match account_to_check(&store(), &account).await {
                Ok(Some(stored)) => stored,
                Ok(None) => {
                    self.checks.schedules.update(|all| {
                        all.remove(&id);
                    });
                    if asked {
                        let text = format!(
                            "{}: this account was removed in another Postbag tab.",
                            account.email
                        );
                        self.rest_not_run_if(&task, text.clone());
                        self.told(text);
                    }
                    return;
                }
                Err(e) => {
                    self.rest_not_run_if(&task, format!("Could not read the account: {e}"));
                    return self.storage_error.set(Some(e.to_string()));
                }
            };
            // Read inside the lock: another tab, or the background check, may have just
            // logged in.
            let mut schedule = Schedule {
                record: remembered_now(&id).await,
                soon: self
                    .checks
                    .schedules
                    .with_untracked(|all| all.get(&id).is_some_and(|s| s.soon)),
            };
            let now = js_sys::Date::now();
            let allowed = schedule.login_allowed_at();
            let go = if asked {
                now >= allowed
            } else {
                schedule.due(account.check_minutes, now)
            };
            if go {
                // This check serves every "soon" asked until now; one asked while it runs (the
                // network came back mid-check) stays for the next round.
                self.checks.schedules.update(|all| {
                    if let Some(s) = all.get_mut(&id) {
                        s.soon = false;
                    }
                });
                let password = match password {
                    Some(p) => p,
                    None => match self.access_token(&account).await {
                        Ok(token) => token,
                        Err(e) => {
                            // A grant that is gone pauses checks until "Sign in again"; a
                            // provider that did not answer is retried later, backing off.
                            let how = if e.needs_sign_in() {
                                self.checks.want_sign_in.update(|w| {
                                    w.insert(id.clone());
                                });
                                Ended::SignInRefused
                            } else {
                                Ended::Failed
                            };
                            schedule.ended(js_sys::Date::now(), how, None);
                            remember(&id, &schedule.record);
                            self.checks.schedules.update(|all| {
                                all.insert(id.clone(), schedule);
                            });
                            let text = format!("{}: {e}", account.email);
                            self.rest_not_run_if(&task, text.clone());
                            if asked {
                                self.told(text);
                            }
                            return;
                        }
                    },
                };
                let checked = match &task {
                    Task::Sync => self.sync_account(&account, password).await,
                    Task::Rest(key) => self.rest_account(&account, password, key).await,
                };
                schedule.ended(js_sys::Date::now(), checked.ended, checked.login_delay_s);
                remember(&id, &schedule.record);
            } else if asked {
                let text = format!(
                    "{}: the server allows the next login in {} (LOGIN-DELAY).",
                    account.email,
                    wait_text(now, allowed)
                );
                self.rest_not_run_if(&task, text.clone());
                self.told(text);
            }
            self.checks.schedules.update(|all| {
                schedule.soon |= all.get(&id).is_some_and(|s| s.soon);
                all.insert(id.clone(), schedule);
            });
        })
        .await;
        if held.is_none() && asked {
            let text = format!("{}: being checked in another Postbag tab.", account.email);
            self.rest_not_run_if(&task, text.clone());
            self.told(text);
        }
    }

    /// A rest asked for did not run (`why`): the reader says so, and its button is back.
    fn rest_not_run_if(self, task: &Task, why: String) {
        if let Task::Rest(key) = task {
            self.rest_not_run(key, why);
        }
    }

    /// Shows `text` as the result of a Sync that did not reach the server.
    fn told(self, text: String) {
        self.sync.set(SyncState::Done(text));
        self.runs.update(|n| *n += 1);
    }
}
