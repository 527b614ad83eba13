//! The `fetch` example binary run against Dovecot.

use std::process::Command as Process;

use super::support::*;

/// The built `fetch` example binary (built on first use, next to this test binary), or the
/// binary `POSTBAG_FETCH_BIN` names: to run these tests against another build of fetch (for
/// instance an older one, to see that they fail without a fix).
pub fn fetch_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("POSTBAG_FETCH_BIN") {
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

pub struct FetchRun {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

pub fn fetch(args: &[&str], password: &str) -> FetchRun {
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
    // Auto with the example's nonce from /dev/urandom: SCRAM-SHA-256, as Dovecot offers it.
    assert!(
        dovecot
            .log()
            .contains(&format!("user=<{}>, method=SCRAM-SHA-256", user.name)),
        "{}",
        dovecot.log()
    );
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
