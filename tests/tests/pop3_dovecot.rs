//! The POP3 client core against a real Dovecot: every transport (plain, STLS, POP3S), every
//! login method Dovecot offers, byte-exact RETR and TOP, UIDL stability, DELE semantics,
//! typed login errors, pipelined vs lockstep, and the `fetch` example end to end.
//!
//! The client runs through `postbag_protocol::pop3::blocking`, the library's own small driver
//! over `std::net::TcpStream` + rustls.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command as Process;
use std::sync::Arc;
use std::time::{Duration, Instant};

use postbag_protocol::pop3::blocking::{DriverError, Reply, Session, Stream};
use postbag_protocol::pop3::{
    AuthMechanism, AuthPolicy, ClientConfig, Command, Pop3Error, Secret, ServerErrorKind, TlsState,
};
use postbag_tests::{Dovecot, TestUser, messages};
use rustls::pki_types::ServerName;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Transport {
    Plain,
    StartTls,
    Implicit,
}

fn tls_config(ca_der: Vec<u8>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der.into()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn wrap_tls(
    stream: Box<dyn Stream>,
    config: &Arc<rustls::ClientConfig>,
) -> std::io::Result<Box<dyn Stream>> {
    let conn =
        rustls::ClientConnection::new(config.clone(), ServerName::try_from("localhost").unwrap())
            .map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, stream);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(Box::new(tls))
}

fn tcp(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Logs in with the given transport and settings.
struct Login<'a> {
    dovecot: &'a Dovecot,
    user: &'a TestUser,
    transport: Transport,
    auth: AuthPolicy,
    allow_plaintext: bool,
    window: usize,
}

impl<'a> Login<'a> {
    fn new(dovecot: &'a Dovecot, user: &'a TestUser) -> Login<'a> {
        Login {
            dovecot,
            user,
            transport: Transport::StartTls,
            auth: AuthPolicy::Auto,
            allow_plaintext: false,
            window: 16,
        }
    }

    fn transport(mut self, t: Transport) -> Self {
        self.transport = t;
        self
    }

    fn auth(mut self, a: AuthPolicy) -> Self {
        self.auth = a;
        self
    }

    fn allow_plaintext(mut self) -> Self {
        self.allow_plaintext = true;
        self
    }

    fn window(mut self, w: usize) -> Self {
        self.window = w;
        self
    }

    fn password(&self, password: &str) -> Result<Session, DriverError> {
        let mut config =
            ClientConfig::new(self.user.name.clone(), Secret::new(password.to_string()));
        config.auth = self.auth;
        config.allow_plaintext_password = self.allow_plaintext;
        config.pipeline_window = self.window;
        config.want_starttls = self.transport == Transport::StartTls;
        let tls = tls_config(self.dovecot.ca_der());
        let mut upgrade = |s: Box<dyn Stream>| wrap_tls(s, &tls);
        let stream: Box<dyn Stream> = match self.transport {
            Transport::Implicit => {
                config.tls = TlsState::Implicit;
                wrap_tls(Box::new(tcp(self.dovecot.pop3s_addr())), &tls).unwrap()
            }
            _ => Box::new(tcp(self.dovecot.pop3_addr())),
        };
        Session::login(stream, config, Some(&mut upgrade))
    }

    fn ok(&self) -> Session {
        self.password(&self.user.password)
            .unwrap_or_else(|e| panic!("login failed: {e}\n{}", self.dovecot.log()))
    }
}

fn exec(session: &mut Session, commands: &[Command]) -> Vec<Reply> {
    session.execute(commands).unwrap()
}

fn retr_all(session: &mut Session, count: u32) -> Vec<Vec<u8>> {
    let cmds: Vec<Command> = (1..=count).map(Command::Retr).collect();
    exec(session, &cmds)
        .into_iter()
        .map(|r| match r {
            Reply::Message(m) => m,
            other => panic!("RETR: {other:?}"),
        })
        .collect()
}

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

fn wait_until(mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "condition not reached in 10 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The built `fetch` example binary (built on first use, next to this test binary).
fn fetch_binary() -> PathBuf {
    let target_debug = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Process::new(cargo)
        .args([
            "build",
            "-q",
            "-p",
            "postbag-protocol",
            "--example",
            "fetch",
            "--manifest-path",
        ])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", target_debug.parent().unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "building the fetch example failed");
    target_debug.join("examples/fetch")
}

struct FetchRun {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn fetch(args: &[&str], password: &str) -> FetchRun {
    let out = Process::new(fetch_binary())
        .args(args)
        .env("POSTBAG_TEST_PW", password)
        .output()
        .unwrap();
    FetchRun {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `fetch` downloads every message into DIR/<uidl>.eml byte for byte, deletes with --delete,
/// and fails with a clear message on a wrong password, an untrusted certificate or an
/// unreachable server.
#[test]
fn fetch_example_end_to_end() {
    let dovecot = Dovecot::start();
    let user = dovecot.new_user();
    let expected = [
        dovecot.deliver(&user, &messages::with_dot_lines()),
        dovecot.deliver(&user, &messages::eight_bit()),
        dovecot.deliver(&user, &messages::multipart_with_rfc822()),
    ];
    let uidls = {
        let mut s = Login::new(&dovecot, &user).ok();
        let Reply::Uidl(u) = exec(&mut s, &[Command::Uidl(None)]).pop().unwrap() else {
            panic!()
        };
        assert!(s.quit().unwrap());
        u
    };
    let out = tempfile::tempdir().unwrap();
    let port = dovecot.pop3_addr().port().to_string();
    let sport = dovecot.pop3s_addr().port().to_string();
    let ca = dovecot.ca_pem_path();
    let ca = ca.to_str().unwrap();
    let dir = out.path().to_str().unwrap();
    let base = |tls: &'static str, port: &str| -> Vec<String> {
        [
            "--host",
            "localhost",
            "--port",
            port,
            "--tls",
            tls,
            "--user",
            &user.name,
            "--password-env",
            "POSTBAG_TEST_PW",
            "--out",
            dir,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |args: Vec<String>, pw: &str| {
        fetch(&args.iter().map(String::as_str).collect::<Vec<_>>(), pw)
    };

    // STARTTLS with the test CA, no delete.
    let mut args = base("starttls", &port);
    args.extend(["--ca-file".into(), ca.into()]);
    let r = run(args.clone(), &user.password);
    assert!(r.ok, "fetch failed: {}\n{}", r.stderr, dovecot.log());
    assert_eq!(
        r.stdout.lines().count(),
        4,
        "one line per message and a summary: {}",
        r.stdout
    );
    assert!(
        r.stdout.lines().last().unwrap().starts_with("3 message(s)"),
        "{}",
        r.stdout
    );
    for ((_, uidl), want) in uidls.iter().zip(&expected) {
        let got = std::fs::read(out.path().join(format!("{uidl}.eml"))).unwrap();
        assert!(got == *want, "{uidl}.eml differs");
    }
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        3,
        "no .part files left"
    );
    assert_eq!(dovecot.message_count(&user), 3);

    // Implicit TLS with --delete and USER/PASS: files rewritten, messages removed.
    let mut args = base("implicit", &sport);
    args.extend([
        "--ca-file".into(),
        ca.into(),
        "--delete".into(),
        "--auth".into(),
        "user".into(),
    ]);
    let r = run(args, &user.password);
    assert!(r.ok, "fetch --delete failed: {}", r.stderr);
    assert!(r.stdout.contains("3 deleted (committed)"), "{}", r.stdout);
    assert_eq!(dovecot.message_count(&user), 0);

    // Wrong password.
    let mut args = base("starttls", &port);
    args.extend(["--ca-file".into(), ca.into()]);
    let r = run(args, "wrong");
    assert!(!r.ok);
    assert!(
        r.stderr.contains("wrong user name or password"),
        "{}",
        r.stderr
    );

    // Certificate from an unknown CA (no --ca-file).
    let r = run(base("implicit", &sport), &user.password);
    assert!(!r.ok);
    assert!(
        r.stderr.contains("TLS failed") && r.stderr.to_lowercase().contains("certificate"),
        "{}",
        r.stderr
    );

    // Plain transport and a password-revealing method without --allow-plaintext.
    let mut args = base("none", &port);
    args.extend(["--auth".into(), "plain".into()]);
    let r = run(args, &user.password);
    assert!(!r.ok);
    assert!(r.stderr.contains("unencrypted"), "{}", r.stderr);

    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let r = run(base("none", &closed), &user.password);
    assert!(!r.ok);
    assert!(r.stderr.contains("cannot connect"), "{}", r.stderr);
}

/// The commands the fuzz target `client` enqueues on `Ready` (shared/fuzz/fuzz_targets/client.rs).
fn fuzz_script() -> Vec<Command> {
    vec![
        Command::Stat,
        Command::List(None),
        Command::Uidl(None),
        Command::List(Some(1)),
        Command::Uidl(Some(1)),
        Command::Top { msg: 1, lines: 0 },
        Command::Retr(1),
        Command::Retr(2),
        Command::Dele(1),
        Command::Rset,
        Command::Noop,
        Command::Quit,
    ]
}

/// A stream that keeps a copy of everything the server sent.
struct Recorder {
    inner: TcpStream,
    seen: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl std::io::Read for Recorder {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl std::io::Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Appends an event, merging adjacent chunks of one body so chunking does not matter.
fn push_merged(events: &mut Vec<postbag_protocol::pop3::Event>, ev: postbag_protocol::pop3::Event) {
    use postbag_protocol::pop3::Event;
    if let (
        Event::MessageChunk { id, bytes },
        Some(Event::MessageChunk {
            id: last,
            bytes: acc,
        }),
    ) = (&ev, events.last_mut())
        && id == last
    {
        acc.extend_from_slice(bytes);
        return;
    }
    events.push(ev);
}

/// A real Dovecot transcript replayed into a fresh client, whole and byte by byte, gives the
/// same events as the live session. With `POSTBAG_FUZZ_SEED_DIR` set, the transcript is also
/// written there as a seed for the fuzz targets (how shared/fuzz/corpus/seed was made).
#[test]
fn recorded_dovecot_transcript_replays_identically() {
    use postbag_protocol::pop3::{Client, Event};
    let dovecot = Dovecot::start();
    let user = dovecot.new_user();
    dovecot.deliver(&user, &messages::with_dot_lines());
    dovecot.deliver(&user, &messages::eight_bit());
    for (name, auth) in [
        ("dovecot-cram-md5", AuthPolicy::Auto),
        ("dovecot-apop", AuthPolicy::Apop),
        ("dovecot-user", AuthPolicy::User),
    ] {
        // The fuzz target's configuration: plain transport, plaintext allowed, no STLS.
        let mut config = ClientConfig::new(user.name.clone(), Secret::new(user.password.clone()));
        config.auth = auth;
        config.allow_plaintext_password = true;
        config.want_starttls = false;
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stream = Recorder {
            inner: tcp(dovecot.pop3_addr()),
            seen: seen.clone(),
        };
        let mut session = Session::login(Box::new(stream), config.clone(), None).unwrap();
        let mut live = Vec::new();
        for c in fuzz_script() {
            session.enqueue(c).unwrap();
        }
        loop {
            let ev = session.next_event().unwrap();
            let closed = matches!(ev, Event::Closed { .. });
            push_merged(&mut live, ev);
            if closed {
                break;
            }
        }
        let transcript = seen.lock().unwrap().clone();
        assert!(
            live.iter().any(|e| matches!(e, Event::MessageEnd { .. })),
            "{live:?}"
        );

        for step in [transcript.len(), 1, 13] {
            let mut client = Client::new(config.clone());
            let mut replayed = Vec::new();
            let mut ready = false;
            for chunk in transcript.chunks(step) {
                client.receive(chunk);
                while let Some(ev) = client.next_event().unwrap() {
                    if matches!(ev, Event::Ready { .. }) {
                        ready = true;
                        for c in fuzz_script() {
                            client.enqueue(c).unwrap();
                        }
                    } else if ready {
                        push_merged(&mut replayed, ev);
                    }
                }
            }
            assert_eq!(replayed, live, "{name}: replay in steps of {step}");
            assert!(client.is_closed());
        }
        if let Ok(dir) = std::env::var("POSTBAG_FUZZ_SEED_DIR") {
            // Byte 0 selects the fuzz target's configuration (see fuzz_targets/client.rs).
            let selector = match auth {
                AuthPolicy::Auto => 0u8,
                AuthPolicy::Apop => 1,
                _ => 2,
            };
            // The fuzz target supplies its own greeting and fuzzes what follows it.
            let after_greeting =
                &transcript[transcript.iter().position(|&b| b == b'\n').unwrap() + 1..];
            let seed = [&[selector][..], after_greeting].concat();
            std::fs::write(PathBuf::from(dir).join(name), seed).unwrap();
        }
    }
}

/// Edge case Dovecot will not produce on demand: a scripted server that closes the connection
/// in the middle of a RETR body. The driver reports `ConnectionLost` naming the RETR and the
/// QUIT that were still unanswered; the partial body was streamed before that.
#[test]
fn scripted_server_closing_mid_retr_reports_what_was_lost() {
    use postbag_protocol::pop3::Event;
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(sock.try_clone().unwrap());
        let mut sock = sock;
        let mut line = String::new();
        let mut expect = |reader: &mut BufReader<TcpStream>, want: &str| {
            line.clear();
            reader.read_line(&mut line).unwrap();
            assert_eq!(line, want);
        };
        sock.write_all(b"+OK scripted\r\n").unwrap();
        expect(&mut reader, "CAPA\r\n");
        sock.write_all(b"+OK\r\nUSER\r\n.\r\n").unwrap();
        expect(&mut reader, "USER u\r\n");
        sock.write_all(b"+OK\r\n").unwrap();
        expect(&mut reader, "PASS p\r\n");
        sock.write_all(b"+OK\r\n").unwrap();
        expect(&mut reader, "CAPA\r\n");
        sock.write_all(b"+OK\r\nUSER\r\n.\r\n").unwrap();
        expect(&mut reader, "RETR 1\r\n");
        sock.write_all(b"+OK 1000 octets\r\nSubject: cut\r\n\r\nhalf a bo")
            .unwrap();
        // Dropping the socket closes the connection mid-body.
    });
    let mut config = ClientConfig::new("u", Secret::new("p".to_string()));
    config.want_starttls = false;
    config.allow_plaintext_password = true;
    let mut session = Session::login(Box::new(tcp(addr)), config, None).unwrap();
    let retr = session.enqueue(Command::Retr(1)).unwrap();
    let quit = session.enqueue(Command::Quit).unwrap();
    let mut body = Vec::new();
    let err = loop {
        match session.next_event() {
            Ok(Event::MessageChunk { bytes, .. }) => body.extend(bytes),
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    server.join().unwrap();
    assert_eq!(body, b"Subject: cut\r\n\r\nhalf a bo");
    match err {
        DriverError::Pop3(Pop3Error::ConnectionLost { during, in_flight }) => {
            assert_eq!(during, "transaction");
            assert_eq!(
                in_flight,
                vec![(retr, Command::Retr(1)), (quit, Command::Quit)]
            );
        }
        other => panic!("{other}"),
    }
}
