use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// A summary with the given ids: `refs` as stored (nothing capped on the way in), the
/// remaining fields from their serde defaults, as records stored by older builds read.
fn msg(uidl: &str, date: f64, id: Option<&str>, refs: &[&str], subject: &str) -> Summary {
    let mut s: Summary = serde_json::from_value(serde_json::json!({
        "account": "a", "uidl": uidl, "from": "", "to": "", "subject": subject,
        "date": date, "size": 0, "has_attachments": false, "snippet": "",
        "read": false, "flagged": false,
    }))
    .expect("a summary");
    s.message_id = id.map(str::to_string);
    s.references = refs.iter().map(|r| r.to_string()).collect();
    s.ids_read = true;
    s
}

/// Threads `list` (given oldest first for readability; the store's order is newest first)
/// and returns each conversation's UIDLs, oldest first.
fn check(list: &[Summary], expected: &[&[&str]]) {
    let mut newest_first = list.to_vec();
    newest_first.reverse();
    let got: Vec<Vec<&str>> = conversations(&newest_first)
        .iter()
        .map(|c| {
            c.members
                .iter()
                .map(|&i| newest_first[i].uidl.as_str())
                .collect()
        })
        .collect();
    assert_eq!(got, expected);
}

/// Every message is in exactly one conversation.
fn partition(list: &[Summary]) -> Vec<Conversation> {
    let found = conversations(list);
    let mut seen = vec![0u32; list.len()];
    for c in &found {
        for &m in &c.members {
            seen[m] += 1;
        }
    }
    assert!(seen.iter().all(|&n| n == 1), "each message once: {seen:?}");
    found
}

#[test]
fn a_reply_to_a_reply_joins_its_conversation_in_date_order() {
    check(
        &[
            msg("1", 1.0, Some("a@x"), &[], "Plans"),
            msg("2", 2.0, Some("other@x"), &[], "Lunch"),
            msg("3", 3.0, Some("b@x"), &["a@x"], "Re: Plans"),
            msg("4", 4.0, Some("c@x"), &["a@x", "b@x"], "Re: Re: Plans"),
        ],
        &[&["1", "3", "4"], &["2"]],
    );
}

#[test]
fn in_reply_to_alone_links_and_a_missing_parent_still_joins_siblings() {
    let mut reply = msg("2", 2.0, Some("b@x"), &[], "Re: Plans");
    reply.in_reply_to = Some("a@x".into());
    check(
        &[msg("1", 1.0, Some("a@x"), &[], "Plans"), reply],
        &[&["1", "2"]],
    );
    // Both answer a message that is not here (deleted, or never downloaded).
    check(
        &[
            msg("1", 1.0, Some("b@x"), &["gone@x"], "Plans"),
            msg("2", 2.0, Some("c@x"), &["gone@x"], "Other words"),
        ],
        &[&["1", "2"]],
    );
}

#[test]
fn reference_loops_and_self_references_end_and_lose_nothing() {
    check(
        &[
            msg("1", 1.0, Some("a@x"), &["b@x"], "x"),
            msg("2", 2.0, Some("b@x"), &["a@x"], "y"),
        ],
        &[&["1", "2"]],
    );
    check(
        &[
            msg("1", 1.0, Some("a@x"), &["a@x", "a@x"], "x"),
            msg("2", 2.0, Some("b@x"), &["c@x", "d@x", "c@x", "b@x"], "y"),
        ],
        &[&["2"], &["1"]],
    );
    // A ring of three through their References.
    partition(&[
        msg("1", 1.0, Some("a@x"), &["c@x", "b@x"], "p"),
        msg("2", 2.0, Some("b@x"), &["a@x", "c@x"], "q"),
        msg("3", 3.0, Some("c@x"), &["b@x", "a@x"], "r"),
    ]);
}

#[test]
fn duplicate_message_ids_stay_together_and_missing_ids_stand_alone() {
    let mut twin = msg("1", 1.0, Some("a@x"), &[], "Plans");
    twin.account = "b".into();
    check(
        &[
            msg("1", 1.0, Some("a@x"), &[], "Plans"),
            twin,
            msg("3", 3.0, Some("c@x"), &["a@x"], "Re: Plans"),
        ],
        &[&["1", "1", "3"]],
    );
    check(
        &[
            msg("1", 1.0, None, &[], "One"),
            msg("2", 2.0, None, &[], "Two"),
            msg("3", 3.0, None, &[], ""),
            msg("4", 4.0, None, &[], ""),
        ],
        &[&["4"], &["3"], &["2"], &["1"]],
    );
}

#[test]
fn ten_thousand_references_in_one_record_are_read_capped() {
    let refs: Vec<String> = (0..10_000).map(|i| format!("r{i}@x")).collect();
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let list = [
        msg("1", 1.0, Some("r0@x"), &[], "Root"),
        msg("2", 2.0, Some("z@x"), &refs, "Hostile"),
        msg("3", 3.0, Some("r9999@x"), &[], "Far end"),
    ];
    let found = partition(&list);
    let of = |uidl: &str| {
        found
            .iter()
            .position(|c| c.members.iter().any(|&m| list[m].uidl == uidl))
    };
    // Only the first references are read: r0 links it; r9999, past the cap, is not its parent.
    assert_eq!(of("2"), of("1"), "{found:?}");
    assert_ne!(of("2"), of("3"), "{found:?}");
}

#[test]
fn subjects_group_replies_but_never_two_first_messages() {
    check(
        &[
            msg("1", 1.0, Some("a@x"), &[], "Hello"),
            msg("2", 2.0, Some("b@x"), &[], "hello"),
            msg("3", 3.0, Some("c@x"), &[], "AW: SV: [team] Hello"),
        ],
        &[&["2", "3"], &["1"]],
    );
    assert_eq!(
        base_subject("Re[2]: Fwd:  Big   news"),
        ("big news".into(), true)
    );
    assert_eq!(base_subject("RE : Réunion"), ("réunion".into(), true));
    assert_eq!(base_subject("回复：会议"), ("会议".into(), true));
    assert_eq!(base_subject("Regarding: x"), ("regarding: x".into(), false));
    assert_eq!(base_subject("[list]"), ("[list]".into(), false));
    assert_eq!(base_subject("Re: Re: Re: "), ("".into(), true));
}

#[test]
fn a_deep_chain_and_many_loops_thread_in_bounded_time() {
    // 10,000 replies, each to the one before, listed newest first: one conversation.
    let ids: Vec<String> = (0..10_000).map(|i| format!("m{i}@x")).collect();
    let mut list: Vec<Summary> = (0..10_000usize)
        .map(|i| {
            let refs: Vec<&str> = ids[i.saturating_sub(5)..i]
                .iter()
                .map(String::as_str)
                .collect();
            msg(&i.to_string(), i as f64, Some(&ids[i]), &refs, "Long")
        })
        .collect();
    list.reverse();
    assert_eq!(partition(&list).len(), 1);
    // Each message names every other one of its group of 6 as references, in a rotating order.
    let list: Vec<Summary> = (0..6_000)
        .map(|i| {
            let g = i / 6 * 6;
            let refs: Vec<String> = (1..6).map(|k| format!("m{}@x", g + (i + k) % 6)).collect();
            let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
            msg(
                &i.to_string(),
                i as f64,
                Some(&ids[i]),
                &refs,
                &format!("s{g}"),
            )
        })
        .collect();
    assert_eq!(partition(&list).len(), 1_000);
}

/// A mailbox of `n` messages in conversations of 1 to 8, as mail arrives: replies carry
/// References to their conversation's earlier messages, every 7th conversation's first message
/// is missing, subjects repeat.
pub(crate) fn mailbox(n: usize) -> Vec<Summary> {
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    let mut conv = 0;
    while out.len() < n {
        let size = 1 + conv % 8;
        for k in 0..size.min(n - out.len()) {
            let id = format!("c{conv}-{k}@example.org");
            let refs: Vec<String> = (0..k).map(|j| format!("c{conv}-{j}@example.org")).collect();
            let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
            let subject = format!(
                "{}Subject {}",
                if k > 0 { "Re: " } else { "" },
                conv % 5_000
            );
            i += 1;
            if conv % 7 == 0 && k == 0 && size > 1 {
                continue;
            }
            out.push(msg(&i.to_string(), i as f64, Some(&id), &refs, &subject));
        }
        conv += 1;
    }
    out.reverse();
    out
}

#[test]
fn a_hundred_thousand_messages_thread_quickly() {
    let list = mailbox(100_000);
    let started = now_ms();
    let found = conversations(&list);
    let took = now_ms() - started;
    let line = format!(
        "threading 100,000 summaries: {took:.0} ms, {} conversations",
        found.len()
    );
    #[cfg(target_arch = "wasm32")]
    web_sys::console::log_1(&line.as_str().into());
    #[cfg(not(target_arch = "wasm32"))]
    println!("{line}");
    assert!(found.len() > 20_000, "{line}");
}

fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    return js_sys::Date::now();
    #[cfg(not(target_arch = "wasm32"))]
    return std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0;
}
