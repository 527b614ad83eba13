//! A real Dovecot POP3 server for tests: its own config file in a temp dir, free loopback ports,
//! a per-run test CA, passwd-file users and Maildirs the test can fill directly.
//!
//! Dovecot runs in the foreground (`-F`) as our child, so it is stopped by PID when the
//! [`Dovecot`] value is dropped, which also happens when a test panics.
//!
//! When `dovecot-lmtpd` is installed it also serves LMTP and a SASL auth socket on Unix sockets
//! in its run directory, for the test MTA ([`crate::postfix`]): mail submitted over SMTP lands in
//! the same Maildirs, and SMTP AUTH checks the same users and passwords as POP3.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::certs::TestPki;

/// How long Dovecot may take to start listening before the fixture gives up.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a SIGTERM may take before the fixture kills Dovecot outright.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Starting again with fresh ports when another process took one between our probe and
/// Dovecot's bind (tests start servers in parallel threads).
const START_ATTEMPTS: usize = 3;
/// Dovecot's LMTP server, from the `dovecot-lmtpd` package.
const LMTP_BINARY: &str = "/usr/lib/dovecot/lmtp";

/// A POP3 user of the test server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestUser {
    pub name: String,
    pub password: String,
}

/// A running Dovecot with POP3 (offering STLS) and POP3S on loopback.
pub struct Dovecot {
    dir: tempfile::TempDir,
    child: Child,
    pop3: SocketAddr,
    pop3s: SocketAddr,
    pki: TestPki,
    mail_owner: Option<(u32, u32)>,
    users: AtomicUsize,
    delivered: AtomicUsize,
}

impl Dovecot {
    /// Starts a fresh server with no users. Panics with a clear message when Dovecot is missing
    /// (the README's test command installs it).
    pub fn start() -> Dovecot {
        Dovecot::start_with(None)
    }

    /// Starts a server that also takes OAuth 2 bearer tokens (SASL XOAUTH2 and OAUTHBEARER)
    /// through `passdb oauth2`, which asks `introspection_url` (RFC 7662, with the client's
    /// credentials in the URL's user-info part) about each token and accepts it when the
    /// answer says `active: true` and its `sub` is the user logging in.
    pub fn start_oauth2(introspection_url: &str) -> Dovecot {
        Dovecot::start_with(Some(introspection_url))
    }

    fn start_with(oauth2_introspection: Option<&str>) -> Dovecot {
        let binary = dovecot_binary();
        let dir = tempfile::Builder::new()
            .prefix("postbag-dovecot-")
            .tempdir()
            .expect("temp dir");
        // Dovecot's unprivileged processes (and the mail user) must reach the files below.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        for sub in ["run", "state", "mail"] {
            fs::create_dir(dir.path().join(sub)).unwrap();
        }
        fs::set_permissions(dir.path().join("mail"), fs::Permissions::from_mode(0o777)).unwrap();

        let pki = TestPki::generate();
        fs::write(dir.path().join("ca.pem"), &pki.ca_pem).unwrap();
        fs::write(dir.path().join("server.pem"), &pki.server_cert_pem).unwrap();
        fs::write(dir.path().join("server.key"), &pki.server_key_pem).unwrap();
        fs::create_dir(dir.path().join("users")).unwrap();
        fs::set_permissions(dir.path().join("users"), fs::Permissions::from_mode(0o755)).unwrap();

        let identity = ProcessIdentity::current();
        let config_path = dir.path().join("dovecot.conf");
        let mut attempt = 1;
        let (child, pop3_port, pop3s_port) = loop {
            let [pop3_port, pop3s_port] = free_ports();
            let mut config = render_config(dir.path(), pop3_port, pop3s_port, &identity);
            if Path::new(LMTP_BINARY).exists() {
                config.push_str(MTA_SOCKETS);
            }
            if let Some(url) = oauth2_introspection {
                config.push_str(&oauth2_config(dir.path(), url));
            }
            fs::write(&config_path, config).unwrap();
            let mut child = Command::new(&binary)
                .arg("-F")
                .arg("-c")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("could not start {}: {e}", binary.display()));
            let pop3 = SocketAddr::from(([127, 0, 0, 1], pop3_port));
            match wait_until_listening(&mut child, pop3, dir.path()) {
                Ok(()) => break (child, pop3_port, pop3s_port),
                // Another server of a test running in parallel took a port between our probe
                // and Dovecot's bind: try fresh ones.
                Err(why) if why.contains("Address already in use") && attempt < START_ATTEMPTS => {
                    attempt += 1;
                }
                Err(why) => panic!("{why}"),
            }
        };

        Dovecot {
            pop3: SocketAddr::from(([127, 0, 0, 1], pop3_port)),
            pop3s: SocketAddr::from(([127, 0, 0, 1], pop3s_port)),
            dir,
            child,
            pki,
            mail_owner: identity.mail_owner,
            users: AtomicUsize::new(0),
            delivered: AtomicUsize::new(0),
        }
    }

    /// Plain POP3 on 127.0.0.1, offering STLS.
    pub fn pop3_addr(&self) -> SocketAddr {
        self.pop3
    }

    /// POP3 over implicit TLS (POP3S) on 127.0.0.1.
    pub fn pop3s_addr(&self) -> SocketAddr {
        self.pop3s
    }

    /// PEM file of this run's test CA, which signed the server certificate for `localhost` and
    /// `127.0.0.1`.
    pub fn ca_pem_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// DER of this run's test CA.
    pub fn ca_der(&self) -> Vec<u8> {
        self.pki.ca_der.clone()
    }

    /// The server certificate (PEM) and its key, for another server of this run (the test MTA)
    /// to present the same identity.
    pub fn server_cert_files(&self) -> (PathBuf, PathBuf) {
        (
            self.dir.path().join("server.pem"),
            self.dir.path().join("server.key"),
        )
    }

    /// Dovecot's LMTP socket, which delivers into the users' Maildirs, when this Dovecot serves
    /// LMTP (`dovecot-lmtpd` installed). The local part of an LMTP recipient is the user name.
    pub fn lmtp_socket(&self) -> Option<PathBuf> {
        let path = self.dir.path().join("run/lmtp");
        path.exists().then_some(path)
    }

    /// The SASL socket an MTA authenticates its clients through (Postfix's
    /// `smtpd_sasl_type = dovecot`), served with LMTP.
    pub fn auth_socket(&self) -> Option<PathBuf> {
        let path = self.dir.path().join("run/auth-smtp");
        path.exists().then_some(path)
    }

    /// SHA-256 fingerprint (lower-case hex) of the server's leaf certificate.
    pub fn server_cert_sha256(&self) -> String {
        self.pki.server_sha256_hex()
    }

    /// Adds a user with a unique name, a random-enough password and an empty Maildir.
    pub fn new_user(&self) -> TestUser {
        let n = self.users.fetch_add(1, Ordering::SeqCst);
        let user = TestUser {
            name: format!("user{n}"),
            password: format!("pw-{n}-{}", std::process::id()),
        };
        for sub in [
            "",
            "/Maildir",
            "/Maildir/new",
            "/Maildir/cur",
            "/Maildir/tmp",
        ] {
            let path = self.home(&user).join(sub.trim_start_matches('/'));
            fs::create_dir_all(&path).unwrap();
            self.give_to_mail_owner(&path, 0o700);
        }
        self.write_passwd_entry(&user, &format!("{{PLAIN}}{}", user.password));
        user
    }

    /// Each user has a passwd-file of their own, written whole and renamed into place. One
    /// shared file appended to raced Dovecot: it checks a passwd-file's mtime at most once per
    /// second, so a user added in the same second as another login could not log in (a CI run
    /// failed on "Authentication failed" for a fresh user). A new file is read on first use.
    fn write_passwd_entry(&self, user: &TestUser, password: &str) {
        let dir = self.dir.path().join("users");
        let tmp = dir.join(format!(".{}.tmp", user.name));
        fs::write(&tmp, format!("{}:{password}\n", user.name)).unwrap();
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644)).unwrap();
        fs::rename(&tmp, dir.join(&user.name)).unwrap();
    }

    /// Adds a user whose passwd-file entry is a SCRAM-SHA-256 hash made by `doveadm pw`, as a
    /// server that never stores the password would have it: such a user can log in with
    /// SCRAM-SHA-256, PLAIN or LOGIN, not with CRAM-MD5 or APOP.
    pub fn new_scram_user(&self) -> TestUser {
        let user = self.new_user();
        let hash = command_output(
            "doveadm",
            &["pw", "-s", "SCRAM-SHA-256", "-p", &user.password],
        );
        assert!(hash.starts_with("{SCRAM-SHA-256}"), "doveadm pw: {hash}");
        self.write_passwd_entry(&user, &hash);
        user
    }

    /// Puts one RFC 5322 message into the user's Maildir, as a delivery agent would. Returns
    /// the bytes as POP3 will serve them (line endings normalised to CRLF).
    pub fn deliver(&self, user: &TestUser, raw: &[u8]) -> Vec<u8> {
        let n = self.delivered.fetch_add(1, Ordering::SeqCst);
        // Maildir file names must be unique and sort by delivery: time, sequence, host.
        let name = format!(
            "{}.P{}Q{n:06}.postbag-test",
            1_700_000_000 + n,
            std::process::id()
        );
        let tmp = self.home(user).join("Maildir/tmp").join(&name);
        fs::write(&tmp, raw).unwrap();
        self.give_to_mail_owner(&tmp, 0o600);
        fs::rename(&tmp, self.home(user).join("Maildir/new").join(&name)).unwrap();
        crate::messages::to_crlf(raw)
    }

    /// Messages currently in the user's Maildir (new and cur), that is, on the server.
    pub fn message_count(&self, user: &TestUser) -> usize {
        ["new", "cur"]
            .iter()
            .map(|d| {
                fs::read_dir(self.home(user).join("Maildir").join(d))
                    .map(|r| r.count())
                    .unwrap_or(0)
            })
            .sum()
    }

    /// Dovecot's own log, for test failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    fn home(&self, user: &TestUser) -> PathBuf {
        self.dir.path().join("mail").join(&user.name)
    }

    fn give_to_mail_owner(&self, path: &Path, mode: u32) {
        if let Some((uid, gid)) = self.mail_owner {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
        }
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// Waits until Dovecot greets on `pop3`. Err when it exited at start, with its stderr and log.
/// On a timeout it is killed and the test fails.
fn wait_until_listening(child: &mut Child, pop3: SocketAddr, dir: &Path) -> Result<(), String> {
    let log = || fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default();
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return Err(format!(
                "dovecot exited at start ({status}): {err}\n{}",
                log()
            ));
        }
        if greets(pop3) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dovecot did not listen in time:\n{}", log());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets Dovecot's master stop its children; SIGKILL is the fallback.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Who Dovecot's processes run as. As root, Dovecot uses its packaged `dovecot`/`dovenull`
/// users and refuses mail access as UID 0, so mail belongs to `nobody`. As an ordinary user,
/// everything runs as that user.
struct ProcessIdentity {
    login_user: String,
    internal_user: String,
    mail_owner: Option<(u32, u32)>,
    mail_uid: u32,
    mail_gid: u32,
}

impl ProcessIdentity {
    fn current() -> ProcessIdentity {
        let uid = command_output("id", &["-u"]).parse::<u32>().unwrap();
        let gid = command_output("id", &["-g"]).parse::<u32>().unwrap();
        if uid == 0 {
            ProcessIdentity {
                login_user: "dovenull".into(),
                internal_user: "dovecot".into(),
                mail_owner: Some((65534, 65534)),
                mail_uid: 65534,
                mail_gid: 65534,
            }
        } else {
            let name = command_output("id", &["-un"]);
            ProcessIdentity {
                login_user: name.clone(),
                internal_user: name,
                mail_owner: None,
                mail_uid: uid,
                mail_gid: gid,
            }
        }
    }
}

fn render_config(dir: &Path, pop3_port: u16, pop3s_port: u16, id: &ProcessIdentity) -> String {
    let d = dir.display();
    format!(
        r#"# Generated by postbag-tests for one test run.
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = pop3
listen = 127.0.0.1
default_login_user = {login}
default_internal_user = {internal}
first_valid_uid = 1
first_valid_gid = 1
ssl = yes
ssl_cert = <{d}/server.pem
ssl_key = <{d}/server.key
# Tests log in over plain connections on purpose (the client must refuse unless allowed).
disable_plaintext_auth = no
# SCRAM works for {{PLAIN}} users (Dovecot derives the keys) and for users stored as SCRAM-SHA-256
# hashes (new_scram_user), who cannot use CRAM-MD5 or APOP.
auth_mechanisms = plain login cram-md5 apop scram-sha-1 scram-sha-256
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/mail/%u
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = {pop3s_port}
    ssl = yes
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"#,
        login = id.login_user,
        internal = id.internal_user,
        uid = id.mail_uid,
        gid = id.mail_gid,
    )
}

/// What the test MTA needs from Dovecot. LMTP recipients are full addresses; `%Ln` keeps the
/// local part, the user name of the passwd-file. The static userdb still asks the passdb whether
/// a user exists, so LMTP refuses unknown users. The sockets are world-writable because
/// Postfix's daemons run as the `postfix` user.
const MTA_SOCKETS: &str = r#"protocols = $protocols lmtp
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service auth {
  unix_listener auth-smtp {
    mode = 0666
  }
}
protocol lmtp {
  auth_username_format = %Ln
}
"#;

/// The oauth2 passdb beside the passwd-file one: only the OAuth mechanisms reach it, and a
/// token is checked by introspection on every login (no cache), so a revoked grant is refused
/// at once. The settings file holds the introspection client's secret (fresh per run, in the
/// run's own directory).
fn oauth2_config(dir: &Path, introspection_url: &str) -> String {
    let settings = dir.join("dovecot-oauth2.conf.ext");
    fs::write(
        &settings,
        format!(
            "introspection_mode = post\nintrospection_url = {introspection_url}\n\
             force_introspection = yes\nusername_attribute = sub\n\
             active_attribute = active\nactive_value = true\n"
        ),
    )
    .unwrap();
    fs::set_permissions(&settings, fs::Permissions::from_mode(0o644)).unwrap();
    format!(
        "auth_mechanisms = $auth_mechanisms xoauth2 oauthbearer\n\
         passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {}\n}}\n",
        settings.display()
    )
}

fn dovecot_binary() -> PathBuf {
    for candidate in ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "Dovecot is not installed. Run the README's test command (./test.sh), which installs \
         dovecot-core and dovecot-pop3d, or `apt-get install dovecot-core dovecot-pop3d`."
    )
}

pub(crate) fn command_output(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Two distinct loopback ports that were free a moment ago. Both listeners are held at once,
/// or the kernel may hand out the same port twice (seen in a full test run). Dovecot binds them
/// by number, so another process could still take one in between; the start-up check would
/// then fail loudly.
pub(crate) fn free_ports() -> [u16; 2] {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    [
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    ]
}

fn greets(addr: SocketAddr) -> bool {
    let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("+OK")
}
