//! Recorded Dovecot transcripts replayed (and saved as fuzz seeds), and a scripted server
//! for an edge case Dovecot does not produce on demand.

use super::support::*;
use postbag_protocol::pop3::replay::{push_merged, seed_script as fuzz_script};

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
