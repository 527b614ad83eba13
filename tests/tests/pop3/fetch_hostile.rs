//! The `fetch` example against servers that misbehave on purpose (issue 11, item 13): each test
//! runs the real binary against the scripted mailbox and checks what a user relies on: only
//! whole messages are saved, every whole message is, no two messages share a file, names stay
//! inside the folder, a failing message is named with its cause and the run goes on, and the
//! run ends by itself in bounded time. Item 14: a self-signed `CA:TRUE` certificate is pinned.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command as Process;
use std::sync::OnceLock;

use postbag_tests::scripted_pop3::mailbox::{Mailbox, Retr, Running, SelfSigned};
use sha2::Digest;

use super::fetch_example::fetch_binary;
use super::support::*;

/// What one run left behind.
struct Outcome {
    ok: bool,
    stdout: String,
    stderr: String,
    took: Duration,
    /// Every file in the output folder, by name.
    files: BTreeMap<String, Vec<u8>>,
    /// The folder around the output folder: nothing may appear there.
    around: Vec<String>,
}

fn body(subject: &str) -> Vec<u8> {
    format!("From: a@example.com\r\nSubject: {subject}\r\n\r\nThis is {subject}.\r\n.dot line\r\n")
        .into_bytes()
}

/// The fetch binary, built once per test run (so a test's time is the binary's own).
fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(fetch_binary)
}

/// Runs fetch against `server` over plain TCP with `extra` flags.
fn fetch_from(server: &Running, extra: &[&str]) -> Outcome {
    let binary = binary();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let port = server.addr().port().to_string();
    let started = Instant::now();
    let run = Process::new(binary)
        .args(["--host", "127.0.0.1", "--port", &port, "--tls", "none"])
        .args([
            "--user",
            "u",
            "--password-env",
            "POSTBAG_TEST_PW",
            "--allow-plaintext",
        ])
        .arg("--out")
        .arg(&out)
        .args(extra)
        .env("POSTBAG_TEST_PW", "pw")
        .output()
        .unwrap();
    let took = started.elapsed();
    let files = match std::fs::read_dir(&out) {
        Ok(dir) => dir
            .map(|e| {
                let e = e.unwrap();
                assert!(
                    e.file_type().unwrap().is_file(),
                    "{:?} is not a file",
                    e.path()
                );
                (
                    e.file_name().into_string().unwrap(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect(),
        Err(_) => BTreeMap::new(),
    };
    Outcome {
        ok: run.status.success(),
        stdout: String::from_utf8_lossy(&run.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&run.stderr).into_owned(),
        took,
        files,
        around: names_in(tmp.path()),
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

impl Outcome {
    /// Only `.eml` files, no temporary or partial file, and exactly these contents.
    fn saved_exactly(&self, want: &[&[u8]]) {
        for name in self.files.keys() {
            assert!(
                name.ends_with(".eml") && !name.starts_with('.'),
                "unexpected file {name:?}: {}",
                self.stderr
            );
        }
        let mut got: Vec<&[u8]> = self.files.values().map(Vec::as_slice).collect();
        let mut want = want.to_vec();
        got.sort();
        want.sort();
        assert!(
            got == want,
            "saved {:?}\nstdout: {}\nstderr: {}",
            self.files.keys(),
            self.stdout,
            self.stderr
        );
        assert_eq!(self.around, ["out"], "nothing outside the output folder");
    }

    fn failed_naming(&self, what: &[&str]) {
        assert!(!self.ok, "the run must fail: {}", self.stdout);
        for w in what {
            assert!(
                self.stderr.contains(w),
                "{w:?} not in stderr:\n{}",
                self.stderr
            );
        }
    }

    fn within(&self, limit: Duration) {
        assert!(self.took < limit, "took {:?} (limit {limit:?})", self.took);
    }
}

/// A short reply deadline for the tests that must end soon.
const QUICK: &[&str] = &["--reply-timeout", "2", "--min-rate", "100"];

#[test]
fn two_messages_with_one_uidl_are_saved_to_two_files() {
    let (a, b, c) = (body("first"), body("second"), body("third"));
    let server = Mailbox::new()
        .message("same", &a)
        .message("same", &b)
        .message("SAME", &c)
        .start();
    let run = fetch_from(&server, QUICK);
    assert!(run.ok, "{}", run.stderr);
    run.saved_exactly(&[&a, &b, &c]);
    assert!(run.files.contains_key("same.eml"), "{:?}", run.files.keys());
}

#[test]
fn a_refused_retr_is_named_and_the_later_messages_still_arrive() {
    let (a, b, c) = (body("first"), body("second"), body("third"));
    let server = Mailbox::new()
        .message("a", &a)
        .message_with(
            "b",
            &b,
            Retr::Refuse("[SYS/TEMP] message is being scanned".into()),
        )
        .message("c", &c)
        .start();
    let run = fetch_from(&server, &[QUICK, &["--delete"][..]].concat());
    run.saved_exactly(&[&a, &c]);
    run.failed_naming(&["message 2", "UIDL \"b\"", "refused RETR", "being scanned"]);
    // Deleted only what was saved; the session went on to QUIT.
    let dele: Vec<String> = server
        .commands()
        .into_iter()
        .filter(|c| c.starts_with("DELE") || c == "QUIT")
        .collect();
    assert_eq!(dele, ["DELE 1", "DELE 3", "QUIT"]);
    assert!(
        run.stdout.contains("2 deleted (committed)"),
        "{}",
        run.stdout
    );
}

/// Three messages, the second misbehaving with `retr`.
fn second_misbehaves(retr: Retr) -> (Running, [Vec<u8>; 3]) {
    let bodies = [body("first"), body("second"), body("third")];
    let server = Mailbox::new()
        .message("a", &bodies[0])
        .message_with("b", &bodies[1], retr)
        .message("c", &bodies[2])
        .start();
    (server, bodies)
}

/// The message numbers the server was asked to delete, in order.
fn deleted(server: &Running) -> Vec<String> {
    server
        .commands()
        .into_iter()
        .filter(|c| c.starts_with("DELE"))
        .collect()
}

#[test]
fn a_cut_inside_a_message_leaves_no_partial_file_and_the_run_reconnects() {
    let (server, [a, b, c]) = second_misbehaves(Retr::CutAfter(30));
    let run = fetch_from(&server, &[QUICK, &["--delete"][..]].concat());
    run.saved_exactly(&[&a, &c]);
    run.failed_naming(&["message 2", "closed the connection", "reconnecting"]);
    assert!(!run.stderr.contains("message 1 ("), "{}", run.stderr);
    assert!(!run.stderr.contains("message 3 ("), "{}", run.stderr);
    // Message 1's DELE went unanswered in the first session (the server had closed after the
    // cut) and is sent again in the second, which commits; never DELE 2.
    assert_eq!(deleted(&server), ["DELE 1", "DELE 3"]);
    assert!(
        run.stdout.contains("2 deleted (committed)"),
        "{}",
        run.stdout
    );
    run.within(Duration::from_secs(10));
    let _ = b;
}

#[test]
fn a_line_that_never_ends_is_refused() {
    let (server, [a, _, c]) = second_misbehaves(Retr::LineNeverEnds);
    let run = fetch_from(&server, QUICK);
    run.saved_exactly(&[&a, &c]);
    run.failed_naming(&["message 2", "line longer than"]);
    run.within(Duration::from_secs(10));
}

#[test]
fn an_endless_reply_is_stopped_past_its_listed_size() {
    let (server, [a, b, c]) = second_misbehaves(Retr::Endless);
    let run = fetch_from(&server, QUICK);
    run.saved_exactly(&[&a, &c]);
    let listed = format!("listed at {} bytes", b.len());
    run.failed_naming(&["message 2", listed.as_str()]);
    run.within(Duration::from_secs(10));
}

#[test]
fn a_drip_of_one_byte_a_second_ends_soon_after_the_reply_timeout() {
    let (server, [a, _, c]) = second_misbehaves(Retr::Drip(Duration::from_secs(1)));
    let run = fetch_from(&server, QUICK);
    run.saved_exactly(&[&a, &c]);
    run.failed_naming(&["message 2", "too slow", "minimum of 100 bytes/s"]);
    // 2 s of reply timeout, plus what a few bytes buy at 100 B/s, plus a reconnection.
    run.within(Duration::from_secs(6));
}

#[test]
fn a_fast_start_does_not_buy_a_long_drip() {
    // 100 kB at once, then a byte a second: averaged over the reply, 100 kB at 100 B/s would
    // buy 1000 s of drip; judged per window, the drip fails in the window after the fast part.
    let big: Vec<u8> =
        b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n".repeat(3000);
    let (a, c) = (body("first"), body("third"));
    let server = Mailbox::new()
        .message("a", &a)
        .message_with(
            "b",
            &big,
            Retr::FastThenDrip(100_000, Duration::from_secs(1)),
        )
        .message("c", &c)
        .start();
    let run = fetch_from(&server, QUICK);
    run.saved_exactly(&[&a, &c]);
    run.failed_naming(&["message 2", "too slow"]);
    run.within(Duration::from_secs(8));
}

#[test]
fn reconnections_are_bounded() {
    let bodies: Vec<Vec<u8>> = (0..5).map(|i| body(&format!("m{i}"))).collect();
    let mut mailbox = Mailbox::new();
    for (i, b) in bodies.iter().enumerate() {
        mailbox = mailbox.message_with(&format!("u{i}"), b, Retr::CutAfter(10));
    }
    let server = mailbox.start();
    let run = fetch_from(&server, &[QUICK, &["--reconnects", "2"][..]].concat());
    run.saved_exactly(&[]);
    // Three sessions, each costing the message it was reading; two never asked for again.
    run.failed_naming(&[
        "message 3",
        "message 4 (UIDL \"u3\"): not downloaded: the session ended",
    ]);
    let logins = server.commands().iter().filter(|c| *c == "PASS").count();
    assert_eq!(logins, 3);
}

#[test]
fn a_silent_server_ends_at_the_reply_timeout() {
    let server = Mailbox::new()
        .message_with("a", &body("first"), Retr::Silent)
        .start();
    let run = fetch_from(&server, QUICK);
    run.saved_exactly(&[]);
    run.failed_naming(&["message 1", "timed out", "sent nothing for 2.0 s"]);
    run.within(Duration::from_secs(6));
}

#[test]
fn hostile_uidls_become_safe_distinct_names() {
    let long = "long".repeat(200);
    let uidls = [
        "../../escaped",
        "a/b",
        "..",
        ".hidden",
        "\u{1b}[2J\u{1b}[31mred\u{7}",
        "%2E.",
        long.as_str(),
    ];
    let bodies: Vec<Vec<u8>> = (0..uidls.len()).map(|i| body(&format!("m{i}"))).collect();
    let mut mailbox = Mailbox::new();
    for (uidl, body) in uidls.iter().zip(&bodies) {
        mailbox = mailbox.message(uidl, body);
    }
    let server = mailbox.start();
    let run = fetch_from(&server, QUICK);
    assert!(run.ok, "{}", run.stderr);
    let want: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    run.saved_exactly(&want);
    // What the server chose never reaches the terminal raw.
    for output in [&run.stdout, &run.stderr] {
        assert!(
            !output.contains('\u{1b}') && !output.contains('\u{7}'),
            "raw control characters printed: {output:?}"
        );
    }
    assert!(run.stdout.contains("\\u{1b}[2J"), "{}", run.stdout);
}

#[test]
fn a_server_without_capa_is_fetched_in_lockstep() {
    let (a, b) = (body("first"), body("second"));
    let server = Mailbox::new()
        .without_capa()
        .message("a", &a)
        .message("b", &b)
        .start();
    let run = fetch_from(&server, QUICK);
    assert!(run.ok, "{}", run.stderr);
    run.saved_exactly(&[&a, &b]);
}

#[test]
fn a_message_over_the_cap_is_skipped_from_its_listed_size() {
    let (a, big, c) = (body("first"), vec![b'x'; 5000], body("third"));
    let server = Mailbox::new()
        .message("a", &a)
        .message("big", &big)
        .message("c", &c)
        .start();
    let run = fetch_from(&server, &[QUICK, &["--max-size", "1000"][..]].concat());
    assert!(run.ok, "a skip is a notice, not a failure: {}", run.stderr);
    run.saved_exactly(&[&a, &c]);
    assert!(
        run.stderr.contains("skipping message 2") && run.stderr.contains("5000 bytes"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("1 skipped"), "{}", run.stdout);
    assert!(!server.commands().contains(&"RETR 2".to_string()));
}

/// Item 14: `openssl req -x509` certificates mark themselves CA:TRUE. Through --ca-file that is
/// refused (rightly: a CA is not a server's own certificate), and the refusal says how to pin;
/// --pin-sha256 with the certificate's SHA-256 (of the whole DER certificate) then works, and a
/// wrong pin does not.
#[test]
fn a_self_signed_ca_certificate_is_pinned() {
    let cert = SelfSigned::generate();
    let a = body("first");
    let server = Mailbox::new()
        .tls(cert.server_config.clone())
        .message("a", &a)
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let pem = tmp.path().join("self-signed.pem");
    std::fs::write(&pem, &cert.cert_pem).unwrap();
    let pin = hex::encode(sha2::Sha256::digest(&cert.cert_der));
    let port = server.addr().port().to_string();
    let run = |trust: &[&str]| {
        let out = tmp.path().join("out");
        let _ = std::fs::remove_dir_all(&out);
        let r = Process::new(binary())
            .args(["--host", "localhost", "--port", &port, "--tls", "implicit"])
            .args(["--user", "u", "--password-env", "POSTBAG_TEST_PW", "--out"])
            .arg(&out)
            .args(["--reply-timeout", "5"])
            .args(trust)
            .env("POSTBAG_TEST_PW", "pw")
            .output()
            .unwrap();
        let saved = std::fs::read_dir(&out).map_or(0, |d| d.count());
        (
            r.status.success(),
            String::from_utf8_lossy(&r.stderr).into_owned(),
            saved,
        )
    };

    let (ok, stderr, saved) = run(&["--ca-file", pem.to_str().unwrap()]);
    assert!(!ok && saved == 0);
    assert!(stderr.contains("CaUsedAsEndEntity"), "{stderr}");
    let advice = format!("--pin-sha256 {pin}");
    assert!(stderr.contains(advice.as_str()), "{stderr}");

    let upper = pin.to_uppercase();
    let (ok, stderr, saved) = run(&["--pin-sha256", upper.as_str()]);
    assert!(ok, "{stderr}");
    assert_eq!(saved, 1);

    let wrong = "ab".repeat(32);
    let (ok, stderr, saved) = run(&["--pin-sha256", wrong.as_str()]);
    assert!(!ok && saved == 0);
    assert!(stderr.contains("not the pinned one"), "{stderr}");
}
