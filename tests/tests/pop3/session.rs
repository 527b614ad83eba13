//! Sessions against Dovecot: logins, RETR, TOP, UIDL, DELE.

use super::support::*;

/// Every transport with every login method Dovecot offers; the session reaches STAT.
#[test]
fn login_methods_over_each_transport() {
    let dovecot = Dovecot::start();
    let user = dovecot.new_user();
    dovecot.deliver(&user, &messages::plain(1));
    use AuthMechanism as M;
    use Transport::*;
    let cases = [
        (Plain, AuthPolicy::User, true, M::User),
        (Plain, AuthPolicy::Plain, true, M::Plain),
        (Plain, AuthPolicy::Login, true, M::Login),
        (Plain, AuthPolicy::Apop, false, M::Apop),
        (Plain, AuthPolicy::CramMd5, false, M::CramMd5),
        (Plain, AuthPolicy::Auto, false, M::CramMd5),
        (StartTls, AuthPolicy::Auto, false, M::CramMd5),
        (StartTls, AuthPolicy::User, false, M::User),
        (StartTls, AuthPolicy::Plain, false, M::Plain),
        (Implicit, AuthPolicy::Plain, false, M::Plain),
        (Implicit, AuthPolicy::Apop, false, M::Apop),
        (Implicit, AuthPolicy::Login, false, M::Login),
    ];
    for (transport, auth, allow, expected) in cases {
        let mut login = Login::new(&dovecot, &user).transport(transport).auth(auth);
        if allow {
            login = login.allow_plaintext();
        }
        let mut session = login.ok();
        assert_eq!(session.mechanism, expected, "{transport:?} {auth:?}");
        assert_eq!(session.client().is_encrypted(), transport != Plain);
        assert!(
            session.client().is_pipelining(),
            "Dovecot announces PIPELINING"
        );
        assert_eq!(
            exec(&mut session, &[Command::Stat]),
            [Reply::Stat {
                count: 1,
                size: messages::to_crlf(&messages::plain(1)).len() as u64
            }]
        );
        assert!(session.quit().unwrap());
    }
}

/// Without TLS, password-revealing methods are refused before anything secret is sent.
#[test]
fn plaintext_password_refused_without_tls() {
    let dovecot = Dovecot::start();
    let user = dovecot.new_user();
    for auth in [AuthPolicy::User, AuthPolicy::Plain, AuthPolicy::Login] {
        let err = Login::new(&dovecot, &user)
            .transport(Transport::Plain)
            .auth(auth)
            .password(&user.password)
            .unwrap_err();
        assert!(
            matches!(err, DriverError::Pop3(Pop3Error::PlaintextRefused)),
            "{auth:?}: {err}"
        );
    }
    // STLS is the default and Dovecot offers it; a server without it is covered by the
    // transcript tests (StartTlsUnavailable).
}

/// A wrong password is an AuthFailed server error, whatever the method.
#[test]
fn wrong_password_is_a_typed_auth_error() {
    let dovecot = Dovecot::start();
    let user = dovecot.new_user();
    for auth in [
        AuthPolicy::User,
        AuthPolicy::Plain,
        AuthPolicy::Apop,
        AuthPolicy::CramMd5,
    ] {
        let err = Login::new(&dovecot, &user)
            .auth(auth)
            .password("not-the-password")
            .unwrap_err();
        match err {
            DriverError::Pop3(e) => assert_eq!(
                e.server_kind(),
                Some(ServerErrorKind::AuthFailed),
                "{auth:?}: {e}"
            ),
            other => panic!("{auth:?}: {other}"),
        }
    }
}

/// RETR returns exactly the bytes Dovecot serves (the delivered message with CRLF line
/// ends), for dot lines, 8-bit text, a forwarded message/rfc822 and a 10 MB message; LIST
/// sizes match; pipelined and lockstep sessions give identical bytes.
#[test]
fn retr_is_byte_exact_pipelined_and_lockstep() {
    let dovecot = Dovecot::start();
    let user = dovecot.new_user();
    let expected: Vec<Vec<u8>> = [
        messages::with_dot_lines(),
        messages::eight_bit(),
        messages::multipart_with_rfc822(),
        messages::large(10 * 1024 * 1024),
        messages::plain(7),
    ]
    .iter()
    .map(|m| dovecot.deliver(&user, m))
    .collect();
    let n = expected.len() as u32;

    let mut pipelined = Login::new(&dovecot, &user).ok();
    let sizes: Vec<(u32, u64)> = (1..=n)
        .zip(expected.iter().map(|m| m.len() as u64))
        .collect();
    assert_eq!(
        exec(&mut pipelined, &[Command::List(None)]),
        [Reply::List(sizes)]
    );
    let started = Instant::now();
    let got_pipelined = retr_all(&mut pipelined, n);
    let pipelined_time = started.elapsed();
    assert!(pipelined.quit().unwrap());

    let mut lockstep = Login::new(&dovecot, &user).window(1).ok();
    let started = Instant::now();
    let got_lockstep = retr_all(&mut lockstep, n);
    let lockstep_time = started.elapsed();
    assert!(lockstep.quit().unwrap());

    for (i, want) in expected.iter().enumerate() {
        assert!(
            got_pipelined[i] == *want,
            "message {} differs (pipelined): {} vs {} bytes",
            i + 1,
            got_pipelined[i].len(),
            want.len()
        );
    }
    assert_eq!(got_pipelined, got_lockstep);
    eprintln!(
        "RETR of {n} messages ({} MB): pipelined {pipelined_time:?}, lockstep {lockstep_time:?}",
        expected.iter().map(Vec::len).sum::<usize>() / 1_000_000
    );
}

/// TOP n 0 is the header and the blank line; TOP n 2 adds the first two body lines.
#[test]
fn top_returns_header_and_first_lines() {
    let dovecot = Dovecot::start();
    let user = dovecot.new_user();
    let msg = dovecot.deliver(&user, &messages::with_dot_lines());
    let header_end = msg.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut session = Login::new(&dovecot, &user).ok();
    let replies = exec(
        &mut session,
        &[
            Command::Top { msg: 1, lines: 0 },
            Command::Top { msg: 1, lines: 2 },
            Command::Top { msg: 9, lines: 0 },
        ],
    );
    assert_eq!(replies[0], Reply::Message(msg[..header_end].to_vec()));
    let two_lines: Vec<u8> = [&msg[..header_end], b".\r\n..\r\n"].concat();
    assert_eq!(replies[1], Reply::Message(two_lines));
    assert!(
        matches!(&replies[2], Reply::Failed(e) if e.kind == ServerErrorKind::CommandRejected),
        "{:?}",
        replies[2]
    );
    assert!(session.quit().unwrap());
}

/// UIDLs are the same in every session and agree between UIDL and UIDL n.
#[test]
fn uidl_is_stable_across_sessions() {
    let dovecot = Dovecot::start();
    let user = dovecot.new_user();
    for i in 0..3 {
        dovecot.deliver(&user, &messages::plain(i));
    }
    let listing = |window| {
        let mut s = Login::new(&dovecot, &user).window(window).ok();
        let r = exec(&mut s, &[Command::Uidl(None), Command::Uidl(Some(2))]);
        assert!(s.quit().unwrap());
        r
    };
    let first = listing(16);
    let Reply::Uidl(all) = &first[0] else {
        panic!("{first:?}")
    };
    assert_eq!(all.len(), 3);
    assert_eq!(all.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 2, 3]);
    let uids: std::collections::HashSet<_> = all.iter().map(|(_, u)| u.clone()).collect();
    assert_eq!(uids.len(), 3, "UIDLs are unique");
    assert_eq!(first[1], Reply::Uidl(vec![all[1].clone()]));
    assert_eq!(listing(1), first);
}

/// DELE takes effect only when QUIT commits it: a dropped connection keeps the message,
/// RSET unmarks, QUIT removes.
#[test]
fn dele_commits_on_quit_only() {
    let dovecot = Dovecot::start();
    let user = dovecot.new_user();
    for i in 0..3 {
        dovecot.deliver(&user, &messages::plain(i));
    }
    let stat = |s: &mut Session| exec(s, &[Command::Stat]).pop().unwrap();

    // Dropped connection: nothing is removed.
    let mut s = Login::new(&dovecot, &user).ok();
    assert_eq!(exec(&mut s, &[Command::Dele(1)]), [Reply::Deleted]);
    drop(s.into_stream());
    wait_until(|| {
        let mut s = Login::new(&dovecot, &user).ok();
        let r = stat(&mut s);
        assert!(s.quit().unwrap());
        matches!(r, Reply::Stat { count: 3, .. })
    });
    assert_eq!(dovecot.message_count(&user), 3);

    // RSET unmarks; deleting twice is refused by the server.
    let mut s = Login::new(&dovecot, &user).ok();
    let r = exec(
        &mut s,
        &[
            Command::Dele(2),
            Command::Dele(2),
            Command::Rset,
            Command::Noop,
        ],
    );
    assert_eq!(r[0], Reply::Deleted);
    assert!(
        matches!(&r[1], Reply::Failed(e) if e.kind == ServerErrorKind::CommandRejected),
        "{r:?}"
    );
    assert_eq!(r[2..], [Reply::Reset, Reply::Noop]);
    assert!(s.quit().unwrap());
    assert_eq!(dovecot.message_count(&user), 3);

    // QUIT commits.
    let mut s = Login::new(&dovecot, &user).ok();
    assert_eq!(
        exec(&mut s, &[Command::Dele(1), Command::Dele(3)]),
        [Reply::Deleted, Reply::Deleted]
    );
    assert!(s.quit().unwrap());
    assert_eq!(dovecot.message_count(&user), 1);
    let mut s = Login::new(&dovecot, &user).ok();
    assert!(matches!(stat(&mut s), Reply::Stat { count: 1, .. }));
    assert!(s.quit().unwrap());
}
