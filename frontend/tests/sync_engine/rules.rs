//! Rules at download: a message a rule files away is committed once, already in its folder
//! (and read or flagged), in the same batch as the rest; the DELE still waits for that commit.

use postbag_web::store::{ARCHIVE, INBOX, Rule, RuleField, RuleTest, ServerPolicy, UserFolder};
use wasm_bindgen_test::*;

use super::common::fake_pop3::{FakeServer, Mailbox, sample};
use super::common::fresh_store;
use super::{ME, NOW, run};

fn list_mail(i: usize) -> Vec<u8> {
    format!(
        "From: Robot <robot@lists.example.org>\r\nTo: team@lists.example.org\r\n\
         List-Id: Team talk <team.lists.example.org>\r\nSubject: Digest {i}\r\n\
         Message-ID: <list{i}@example.org>\r\n\r\nDigest body {i}\r\n"
    )
    .into_bytes()
}

#[wasm_bindgen_test]
async fn a_rule_files_list_mail_before_the_commit() {
    let store = fresh_store("rules-sync").await;
    let lists = UserFolder {
        id: "f-lists".into(),
        name: "Lists".into(),
    };
    store.put_folder(&lists).await.unwrap();
    let rule = |value: &str, field, move_to: Option<&str>, mark_read, flag| Rule {
        id: value.into(),
        position: 0,
        field,
        test: RuleTest::Contains,
        value: value.into(),
        move_to: move_to.map(str::to_string),
        mark_read,
        flag,
    };
    store
        .put_rules(&[
            rule(
                "team.lists.example.org",
                RuleField::ListId,
                Some("f-lists"),
                true,
                false,
            ),
            rule("Message 2", RuleField::Subject, Some(ARCHIVE), false, true),
            // A folder deleted since: files nothing.
            rule("Message 3", RuleField::Subject, Some("f-gone"), false, true),
        ])
        .await
        .unwrap();
    let mailbox = Mailbox::with(0, 0);
    {
        let mut mb = mailbox.borrow_mut();
        for i in 1..=3 {
            mb.messages.push((format!("uid-{i}"), sample(i, 900)));
        }
        mb.messages.push(("uid-list-1".into(), list_mail(1)));
        mb.messages.push(("uid-list-2".into(), list_mail(2)));
    }
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = run(&mut server, &store, ServerPolicy::DeleteAfterDownload, NOW)
        .await
        .unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (5, 5));
    assert!(
        mailbox.borrow().violations.is_empty(),
        "DELE before its commit"
    );
    let mut got: Vec<(String, String, bool, bool)> = store
        .list(ME)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.uidl, s.folder, s.read, s.flagged))
        .collect();
    got.sort();
    let row = |u: &str, f: &str, r, fl| (u.to_string(), f.to_string(), r, fl);
    assert_eq!(
        got,
        [
            row("uid-1", INBOX, false, false),
            row("uid-2", ARCHIVE, false, true),
            row("uid-3", INBOX, false, true),
            row("uid-list-1", "f-lists", true, false),
            row("uid-list-2", "f-lists", true, false),
        ]
    );
}
