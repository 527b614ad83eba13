//! The `send` example run against Postfix, as a person would run it: the file lands in bob's
//! mailbox, a refused recipient and a wrong password are told in words with their exit status.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use super::support::*;

/// The built `send` example (built on first use, next to this test binary), or the binary
/// `POSTBAG_SEND_BIN` names: to run these tests against another build of send.
fn send_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("POSTBAG_SEND_BIN") {
        return path.into();
    }
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
        .args(["build", "-q", "-p", "postbag-protocol", "--example", "send"])
        .arg("--manifest-path")
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", target_debug.parent().unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "building the send example failed");
    target_debug.join("examples/send")
}

struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs send as alice with `password` (through the environment, as a person would), over
/// `tls` ("starttls" or "implicit"), trusting the run's CA.
fn run_send(servers: &Servers, tls: &str, password: &str, to: &[String], file: &Path) -> Run {
    let port = match tls {
        "starttls" => servers.postfix.submission_addr().port(),
        _ => servers.postfix.submissions_addr().port(),
    };
    let mut cmd = Process::new(send_binary());
    cmd.args([
        "--host",
        "localhost",
        "--tls",
        tls,
        "--password-env",
        "POSTBAG_TEST_PW",
    ])
    .args(["--port", &port.to_string()])
    .args(["--user", &servers.alice.name])
    .arg("--ca-file")
    .arg(servers.dovecot.ca_pem_path())
    .args(["--from", &address(&servers.alice)]);
    for address in to {
        cmd.args(["--to", address]);
    }
    let out = cmd
        .arg(file)
        .env("POSTBAG_TEST_PW", password)
        .output()
        .unwrap();
    Run {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A message file as a mail program saves it (LF line ends: send makes them CRLF).
fn message_file(dir: &Path, servers: &Servers, subject: &str) -> (PathBuf, Vec<u8>) {
    let crlf = message(&address(&servers.alice), &address(&servers.bob), subject);
    let lf = String::from_utf8(crlf.clone())
        .unwrap()
        .replace("\r\n", "\n");
    let path = dir.join(format!("{subject}.eml"));
    std::fs::write(&path, lf).unwrap();
    (path, crlf)
}

/// Exit 0 with the queue reply over either TLS mode; bob's mailbox holds the file's message.
#[test]
fn send_example_delivers_to_bobs_mailbox() {
    let servers = Servers::start();
    let dir = tempfile::tempdir().unwrap();
    let bob = [address(&servers.bob)];
    let mut sent = Vec::new();
    for tls in ["starttls", "implicit"] {
        let (file, expected) = message_file(dir.path(), &servers, &format!("send-{tls}"));
        let run = run_send(&servers, tls, &servers.alice.password, &bob, &file);
        assert_eq!(run.status, Some(0), "{tls}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains(&format!("<{}>: accepted", bob[0])),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("queued as"), "{}", run.stdout);
        sent.push(expected);
    }
    let mut mailbox = servers.mailbox(&servers.bob, 2);
    for expected in &sent {
        let at = mailbox
            .iter()
            .position(|m| m.ends_with(expected))
            .expect("each file delivered");
        assert_delivered_intact(&mailbox.remove(at), expected, &address(&servers.alice));
    }
}

/// A refused recipient among accepted ones: exit 3, the refused address and Postfix's reason
/// printed; the message still reaches bob.
#[test]
fn send_example_names_a_refused_recipient() {
    let servers = Servers::start();
    let dir = tempfile::tempdir().unwrap();
    let (file, expected) = message_file(dir.path(), &servers, "partly");
    let to = [
        address(&servers.bob),
        postfix::REFUSED_RECIPIENT.to_string(),
    ];
    let run = run_send(&servers, "implicit", &servers.alice.password, &to, &file);
    assert_eq!(run.status, Some(3), "{}{}", run.stdout, run.stderr);
    let refused = format!(
        "<{}>: the recipient was refused",
        postfix::REFUSED_RECIPIENT
    );
    assert!(run.stdout.contains(&refused), "{}", run.stdout);
    assert!(run.stdout.contains("5.1.1"), "{}", run.stdout);
    let mailbox = servers.mailbox(&servers.bob, 1);
    assert_delivered_intact(&mailbox[0], &expected, &address(&servers.alice));
}

/// A wrong password: exit 1, said in words, nothing delivered.
#[test]
fn send_example_wrong_password() {
    let servers = Servers::start();
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = message_file(dir.path(), &servers, "wrong");
    let bob = [address(&servers.bob)];
    let run = run_send(&servers, "starttls", "not-the-password", &bob, &file);
    assert_eq!(run.status, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("wrong user name or password"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("not-the-password"), "{}", run.stderr);
    assert_eq!(servers.dovecot.message_count(&servers.bob), 0);
}
