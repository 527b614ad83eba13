//! The real outbox and the real SMTP client against a scripted submission server, with the
//! real IndexedDB in Chromium. Run: `cargo test -p postbag-web --target wasm32-unknown-unknown
//! --test outbox`. Every final `.` the scripted server receives is checked against the outbox
//! record's last COMPLETED strict transaction (`outbox/fake_smtp.rs`).

mod common;
// The scripted server and its check of the commit point.
#[path = "outbox/fake_smtp.rs"]
mod fake_smtp;

use common::{account, fresh_store, idb_watch};
use fake_smtp::{FakeConnect, PostOffice, Script};
use postbag_protocol::Secret;
use postbag_web::compose::{self, Draft, Identity, Stamp};
use postbag_web::outbox::{self, Limits, Pass, Report, lock};
use postbag_web::store::{
    Account, OutboxItem, OutboxState, Security, Sending, ServerPolicy, Store, sent_folder,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const NOW: f64 = 1_780_000_000_000.0;

fn me() -> Account {
    Account {
        sending: Some(Sending {
            name: "Me".into(),
            address: "me@example.org".into(),
            host: "127.0.0.1".into(),
            port: 587,
            security: Security::None,
            username: "me".into(),
            same_password: true,
            max_bytes: 1 << 20,
        }),
        ..account(ServerPolicy::DeleteAfterDownload)
    }
}

/// Builds a message to `to` and queues it as the app's Send does.
async fn queue(store: &Store, to: &str, n: u8) -> OutboxItem {
    let draft = Draft {
        to: to.into(),
        subject: format!("Note {n}"),
        body: "Hello.\n.a line with a leading dot\n".into(),
        ..Draft::default()
    };
    let who = Identity {
        name: "Me".into(),
        address: "me@example.org".into(),
    };
    let stamp = Stamp {
        unix_secs: (NOW / 1000.0) as i64,
        random: [n; 16],
    };
    let built = compose::build(&draft, &who, stamp, 1 << 20).unwrap();
    let item = OutboxItem {
        id: built.message_id.clone(),
        account: me().id,
        envelope_from: built.envelope_from,
        recipients: built.recipients,
        subject: draft.subject.clone(),
        to: draft.to.clone(),
        size: built.raw.len() as u64,
        created: NOW + n as f64,
        state: OutboxState::Queued,
        attempts: 0,
        next_attempt: 0.0,
        last_error: None,
        refused: Vec::new(),
    };
    store.queue_outgoing(&item, &built.raw, None).await.unwrap();
    item
}

async fn pass(
    store: &Store,
    office: &std::rc::Rc<std::cell::RefCell<PostOffice>>,
    now: f64,
) -> Report {
    let account = me();
    let sending = account.sending.clone().unwrap();
    let limits = Limits {
        reply_ms: 2_000,
        commit_ms: 2_000,
    };
    let password = Secret::new("pw".to_string());
    let pass = Pass {
        store,
        account: &account,
        sending: &sending,
        password: &password,
        limits,
        now_all: false,
    };
    outbox::send_queued(&pass, &mut FakeConnect(office.clone()), now, |_| {})
        .await
        .unwrap()
}

async fn state_of(store: &Store, id: &str) -> Option<OutboxItem> {
    store.outbox_item(id).await.unwrap()
}

#[wasm_bindgen_test]
async fn an_accepted_message_moves_to_sent_and_the_dot_follows_the_durable_mark() {
    let store = fresh_store("outbox-ok").await;
    let office = PostOffice::new(&store.name(), [Script::Accept]);
    let item = queue(&store, "bob@example.org, carol@example.org", 1).await;
    let report = pass(&store, &office, NOW).await;
    assert_eq!(
        (report.sent, report.failed, report.in_doubt),
        (1, 0, 0),
        "{report:?}"
    );
    {
        let o = office.borrow();
        assert_eq!(o.violations, Vec::<String>::new());
        assert_eq!(o.delivered.len(), 1);
        assert_eq!(o.delivered[0].0, ["bob@example.org", "carol@example.org"]);
        // Dot-stuffed on the wire, the stored copy as built.
        let wire = String::from_utf8_lossy(&o.delivered[0].1).to_string();
        assert!(wire.contains("\r\n..a line with a leading dot"), "{wire}");
    }
    assert!(
        state_of(&store, &item.id).await.is_none(),
        "left in the outbox"
    );
    assert_eq!(store.outbox_raw(&item.id).await.unwrap(), None);
    let sent = store.list(&sent_folder(&me().id)).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].uidl, item.id);
    assert_eq!(sent[0].subject, "Note 1");
    let raw = store
        .raw(&sent_folder(&me().id), &item.id)
        .await
        .unwrap()
        .unwrap();
    let view = postbag_web::mail::parse_view(&raw).unwrap();
    assert_eq!(view.subject, "Note 1");
}

#[wasm_bindgen_test]
async fn a_refused_recipient_among_accepted_ones_is_named_and_the_others_get_it() {
    let store = fresh_store("outbox-refused").await;
    let office = PostOffice::new(&store.name(), [Script::Accept]);
    office.borrow_mut().unknown = vec!["nobody@example.org".into()];
    let item = queue(&store, "bob@example.org, nobody@example.org", 2).await;
    let report = pass(&store, &office, NOW).await;
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(office.borrow().delivered[0].0, ["bob@example.org"]);
    let kept = state_of(&store, &item.id)
        .await
        .expect("kept to show the refusal");
    assert_eq!(kept.state, OutboxState::PartlySent);
    assert_eq!(kept.refused.len(), 1);
    assert_eq!(kept.refused[0].address, "nobody@example.org");
    assert!(
        kept.refused[0].reply.starts_with("550 5.1.1"),
        "{:?}",
        kept.refused
    );
    assert_eq!(store.list(&sent_folder(&me().id)).await.unwrap().len(), 1);
}

#[wasm_bindgen_test]
async fn every_recipient_refused_fails_with_the_address() {
    let store = fresh_store("outbox-all-refused").await;
    let office = PostOffice::new(&store.name(), [Script::Accept]);
    office.borrow_mut().unknown = vec!["nobody@example.org".into()];
    let item = queue(&store, "nobody@example.org", 3).await;
    let report = pass(&store, &office, NOW).await;
    assert_eq!(report.failed, 1, "{report:?}");
    let failed = state_of(&store, &item.id).await.unwrap();
    assert_eq!(failed.state, OutboxState::Failed);
    let why = failed.last_error.unwrap();
    assert!(why.starts_with("Recipient refused"), "{why}");
    assert!(why.contains("nobody@example.org"), "{why}");
    assert!(office.borrow().delivered.is_empty());
}

#[wasm_bindgen_test]
async fn a_552_fails_as_too_large_and_delivers_nothing() {
    let store = fresh_store("outbox-552").await;
    let office = PostOffice::new(&store.name(), [Script::TooLarge]);
    let item = queue(&store, "bob@example.org", 4).await;
    let report = pass(&store, &office, NOW).await;
    assert_eq!(report.failed, 1, "{report:?}");
    let failed = state_of(&store, &item.id).await.unwrap();
    assert_eq!(failed.state, OutboxState::Failed);
    assert!(
        failed
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("Message too large"),
        "{failed:?}"
    );
    assert!(office.borrow().delivered.is_empty());
    // Failed stays failed: no later pass sends it.
    pass(&store, &office, NOW + 3_600_000.0).await;
    assert_eq!(office.borrow().count("MAIL FROM"), 1);
}

#[wasm_bindgen_test]
async fn a_break_during_data_leaves_it_queued_and_it_is_sent_once_later() {
    let store = fresh_store("outbox-cut-data").await;
    let office = PostOffice::new(&store.name(), [Script::CutInData(40), Script::Accept]);
    let item = queue(&store, "bob@example.org", 5).await;
    let report = pass(&store, &office, NOW).await;
    assert_eq!((report.sent, report.waiting), (0, 1), "{report:?}");
    let queued = state_of(&store, &item.id).await.unwrap();
    assert_eq!(queued.state, OutboxState::Queued);
    assert_eq!(queued.attempts, 1);
    assert_eq!(queued.next_attempt, NOW + outbox::backoff_ms(1));
    assert!(office.borrow().delivered.is_empty());
    // Not before its backoff...
    pass(&store, &office, NOW + 1_000.0).await;
    assert_eq!(office.borrow().count("MAIL FROM"), 1);
    // ...then once.
    let report = pass(&store, &office, NOW + outbox::backoff_ms(1)).await;
    assert_eq!(report.sent, 1, "{report:?}");
    pass(&store, &office, NOW + 3_600_000.0).await;
    let o = office.borrow();
    assert_eq!(o.delivered.len(), 1);
    assert_eq!(o.violations, Vec::<String>::new());
}

#[wasm_bindgen_test]
async fn a_break_after_the_final_dot_may_have_sent_it_and_it_is_never_sent_again_silently() {
    let store = fresh_store("outbox-cut-dot").await;
    let office = PostOffice::new(&store.name(), [Script::CutAfterDot]);
    let item = queue(&store, "bob@example.org", 6).await;
    let report = pass(&store, &office, NOW).await;
    assert_eq!(report.in_doubt, 1, "{report:?}");
    let doubt = state_of(&store, &item.id).await.unwrap();
    assert_eq!(doubt.state, OutboxState::MayHaveBeenSent);
    assert_eq!(office.borrow().delivered.len(), 1, "the server took it");
    // Later passes, at any time, leave it alone.
    for later in [NOW + 60_000.0, NOW + 86_400_000.0] {
        pass(&store, &office, later).await;
    }
    assert_eq!(office.borrow().count("MAIL FROM"), 1);
    assert_eq!(
        state_of(&store, &item.id).await.unwrap().state,
        OutboxState::MayHaveBeenSent
    );
    assert_eq!(office.borrow().violations, Vec::<String>::new());
}

#[wasm_bindgen_test]
async fn a_temporary_refusal_of_the_message_queues_it_again() {
    let store = fresh_store("outbox-451").await;
    let office = PostOffice::new(&store.name(), [Script::Busy]);
    let item = queue(&store, "bob@example.org", 7).await;
    pass(&store, &office, NOW).await;
    let queued = state_of(&store, &item.id).await.unwrap();
    assert_eq!(queued.state, OutboxState::Queued);
    assert_eq!(queued.attempts, 1);
    assert!(office.borrow().delivered.is_empty());
}

#[wasm_bindgen_test]
async fn offline_or_a_wrong_password_waits_without_counting_an_attempt() {
    let store = fresh_store("outbox-wait").await;
    let office = PostOffice::new(&store.name(), [Script::Unreachable, Script::Accept]);
    let a = queue(&store, "bob@example.org", 8).await;
    let b = queue(&store, "bob@example.org", 9).await;
    let report = pass(&store, &office, NOW).await;
    assert!(report.problem.as_ref().unwrap().offline, "{report:?}");
    let waiting = state_of(&store, &a.id).await.unwrap();
    assert_eq!((waiting.state, waiting.attempts), (OutboxState::Queued, 0));
    assert!(waiting.last_error.unwrap().contains("cannot be reached"));

    office.borrow_mut().wrong_password = true;
    let report = pass(&store, &office, NOW).await;
    let problem = report.problem.unwrap();
    assert!(problem.login_refused, "{problem:?}");
    assert!(problem.message.starts_with("Wrong password"), "{problem:?}");
    // The pass stopped at the first refusal: one login, both messages still queued.
    assert_eq!(office.borrow().count("AUTH"), 1);
    for id in [&a.id, &b.id] {
        let item = state_of(&store, id).await.unwrap();
        assert_eq!((item.state, item.attempts), (OutboxState::Queued, 0));
    }
}

#[wasm_bindgen_test]
async fn storage_failing_at_the_commit_point_holds_the_dot_back() {
    idb_watch::install();
    let store = fresh_store("outbox-store-fails").await;
    let office = PostOffice::new(&store.name(), [Script::Accept, Script::Accept]);
    let item = queue(&store, "bob@example.org", 10).await;
    idb_watch::fail_next_put("outbox");
    let report = pass(&store, &office, NOW).await;
    assert_eq!(report.sent, 0, "{report:?}");
    assert!(
        office.borrow().delivered.is_empty(),
        "the dot went out unrecorded"
    );
    assert_eq!(office.borrow().count("DATA"), 1);
    let queued = state_of(&store, &item.id).await.unwrap();
    assert_eq!(queued.state, OutboxState::Queued);
}

#[wasm_bindgen_test]
async fn one_holder_at_a_time_sends_an_outbox() {
    let (first, second) = futures_pair().await;
    assert_eq!(first, Some(1));
    assert_eq!(
        second, None,
        "a second holder ran while the first held the lock"
    );
    // Released afterwards.
    assert_eq!(
        lock::exclusive("postbag-test-lock", async { 3 }).await,
        Some(3)
    );
}

async fn futures_pair() -> (Option<u32>, Option<u32>) {
    let first = lock::exclusive("postbag-test-lock", async {
        gloo_timers::future::TimeoutFuture::new(200).await;
        1
    });
    let second = async {
        gloo_timers::future::TimeoutFuture::new(50).await;
        lock::exclusive("postbag-test-lock", async { 2 }).await
    };
    futures_join(first, second).await
}

/// Both futures, polled together.
async fn futures_join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    use std::pin::pin;
    use std::task::Poll;
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}

#[wasm_bindgen_test]
async fn a_v3_database_migrates_keeping_accounts_and_mail() {
    let name = format!("postbag-test-migrate-v3-{}", js_sys::Math::random());
    let v3 = Store::open_at(&name, 3).await.unwrap();
    let old = account(ServerPolicy::DeleteAfterDownload);
    v3.put_account(&old).await.unwrap();
    v3.close();
    // The message written as a v3 build wrote it (today's commit also writes stores that came
    // later, such as the search queue, which a v3 database does not have).
    let raw = common::fake_pop3::sample(1, 500);
    let s = postbag_web::mail::summarize(&raw, &old.id, "u1", 5.0);
    common::raw_idb::put(&name, "summaries", &serde_json::to_string(&s).unwrap()).await;
    let key = serde_json::to_string(&[old.id.as_str(), "u1"]).unwrap();
    common::raw_idb::put_bytes(&name, "bodies", &key, &raw).await;
    common::raw_idb::put(
        &name,
        "ledger",
        &serde_json::json!({"account": old.id, "uidl": "u1", "first_seen": 5.0, "on_server": true,
            "size": null, "gone_since": null})
        .to_string(),
    )
    .await;
    // An account written by the v3 app has no `sending` field at all.
    common::raw_idb::put(
        &name,
        "accounts",
        r#"{"id":"x@example.org","email":"x@example.org","host":"h","port":995,"security":"Tls","username":"x","policy":"DeleteAfterDownload"}"#,
    )
    .await;

    let cur = Store::open_named(&name).await.unwrap();
    for store in ["drafts", "outbox", "outbox_raw"] {
        assert!(cur.store_names().contains(&store.to_string()), "{store}");
    }
    let accounts = cur.accounts().await.unwrap();
    assert_eq!(accounts.len(), 2);
    assert!(accounts.iter().all(|a| a.sending.is_none()));
    assert_eq!(cur.raw(&old.id, "u1").await.unwrap(), Some(raw));
    assert_eq!(cur.list(&old.id).await.unwrap(), vec![s]);
    assert!(cur.outbox(&old.id).await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn an_account_export_holds_its_sent_mail_and_no_other_account_s() {
    use postbag_web::store::Scope;
    let store = fresh_store("outbox-export").await;
    let office = PostOffice::new(&store.name(), [Script::Accept]);
    let me = me().id;
    let raw = common::fake_pop3::sample(1, 400);
    let s = postbag_web::mail::summarize(&raw, &me, "u1", 5.0);
    store.commit_message(&s, &raw, 5.0).await.unwrap();
    // Another account whose id sorts right after this one's.
    let other = postbag_web::mail::summarize(&raw, &format!("{me}.uk"), "u1", 5.0);
    store.commit_message(&other, &raw, 5.0).await.unwrap();
    let item = queue(&store, "bob@example.org", 11).await;
    assert_eq!(pass(&store, &office, NOW).await.sent, 1);

    let scope = Scope::Account(me.clone());
    assert_eq!(store.count_messages(&scope).await.unwrap(), 2);
    let first = store.summaries_after(&scope, None, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    let key = (first[0].account.clone(), first[0].uidl.clone());
    let rest = store.summaries_after(&scope, Some(&key), 10).await.unwrap();
    let keys: Vec<(String, String)> = first
        .iter()
        .chain(&rest)
        .map(|s| (s.account.clone(), s.uidl.clone()))
        .collect();
    assert_eq!(
        keys,
        [
            (me.clone(), "u1".to_string()),
            (sent_folder(&me), item.id.clone())
        ]
    );
}

/// Removing an account and deleting its mail here takes its drafts and unsent messages too
/// (the prompt says so), bytes included, in the account's own transaction (so a crash never
/// leaves them behind to be sent once the address is added again); another account's stay.
#[wasm_bindgen_test]
async fn removing_an_account_with_its_mail_takes_its_drafts_and_unsent_messages() {
    let store = fresh_store("outbox-remove").await;
    let item = queue(&store, "bob@example.org", 1).await;
    let draft = |id: &str, account: String| postbag_web::store::StoredDraft {
        id: id.into(),
        account,
        updated: NOW,
        draft: Draft::default(),
    };
    store.put_draft(&draft("mine", me().id)).await.unwrap();
    store
        .put_draft(&draft("theirs", "other@example.org".into()))
        .await
        .unwrap();
    store.put_account(&me()).await.unwrap();
    store.remove_account(&me().id, false).await.unwrap();
    assert!(store.outbox(&me().id).await.unwrap().is_empty());
    assert_eq!(
        store.outbox_raw(&item.id).await.unwrap(),
        None,
        "bytes gone"
    );
    assert!(store.drafts(&me().id).await.unwrap().is_empty());
    assert_eq!(store.drafts("other@example.org").await.unwrap().len(), 1);
    // Removed with its mail kept: its draft stays, to come back with the address.
    store
        .remove_account("other@example.org", true)
        .await
        .unwrap();
    assert_eq!(store.drafts("other@example.org").await.unwrap().len(), 1);
}
