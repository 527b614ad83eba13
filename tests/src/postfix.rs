//! A real Postfix MTA for tests: a private instance with its own config directory, queue and log
//! in a temp dir, submission on two free loopback ports (STARTTLS, the "587" role, and implicit
//! TLS, the "465" role), SMTP AUTH through Dovecot's auth socket (the same users and passwords
//! as POP3), and delivery over Dovecot's LMTP socket into the same Maildirs POP3 serves.
//!
//! Postfix's `master` runs in the foreground (`-d`) as our child, in a process group of its
//! own: on drop the whole group is killed, so no daemon outlives the test and nothing is left
//! but the temp dir, which goes with it. The queue is thrown away, so no graceful stop is
//! needed.
//!
//! The instance needs root (the master starts its daemons as the `postfix` user) and Dovecot's
//! LMTP (`dovecot-lmtpd`); `scripts/bootstrap.sh test` installs both packages.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::dovecot::{command_output, free_ports};
use crate::{Dovecot, TestUser};

/// The mail domain of the test users: `user0@postbag.test` is Dovecot's `user0`.
pub const DOMAIN: &str = "postbag.test";
/// A recipient Postfix always refuses at RCPT time, with
/// `550 5.1.1 <nobody@postbag.test>: Recipient address rejected: User unknown in virtual
/// mailbox table`, so tests can mix a refused recipient with accepted ones.
pub const REFUSED_RECIPIENT: &str = "nobody@postbag.test";
/// `message_size_limit`, announced in EHLO as `SIZE 20971520`. Big enough for a 10 MB
/// attachment in base64 (13.7 MB), so the benchmark's large message goes through; a message
/// over it is refused with 552 5.3.4.
pub const SIZE_LIMIT: u64 = 20 * 1024 * 1024;

/// A setting for [`Postfix::start_with`]: EHLO does not announce PIPELINING, so a client
/// waits for each reply (lockstep), as with a server without RFC 2920.
pub const NO_PIPELINING: (&str, &str) = ("smtpd_discard_ehlo_keywords", "pipelining");

/// How long Postfix may take to greet on its submission port before the fixture gives up.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a message accepted by Postfix may take to reach the Maildir.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(20);
/// Starting again with fresh ports when another process took one between our probe and
/// Postfix's bind (tests start servers in parallel threads).
const START_ATTEMPTS: usize = 3;
/// Where Debian's package puts the master daemon.
const MASTER_BINARY: &str = "/usr/lib/postfix/sbin/master";
/// The queue's subdirectories: name, mode, and whether the `postdrop` group owns it (as in
/// Postfix's own `postfix-files`; `postfix start` would create them, but takes seconds).
const QUEUE_DIRS: [(&str, u32, bool); 14] = [
    ("active", 0o700, false),
    ("bounce", 0o700, false),
    ("corrupt", 0o700, false),
    ("defer", 0o700, false),
    ("deferred", 0o700, false),
    ("flush", 0o700, false),
    ("hold", 0o700, false),
    ("incoming", 0o700, false),
    ("private", 0o700, false),
    ("saved", 0o700, false),
    ("trace", 0o700, false),
    ("maildrop", 0o730, true),
    ("public", 0o710, true),
    ("pid", 0o755, false),
];

/// A running private Postfix instance in front of a [`Dovecot`].
pub struct Postfix {
    // Declared first so that it is dropped first: the daemons go before their directory.
    _master: Master,
    dir: tempfile::TempDir,
    submission: SocketAddr,
    submissions: SocketAddr,
}

impl Postfix {
    /// Starts Postfix in front of `dovecot`, whose users it authenticates and delivers to, and
    /// whose certificate (from the run's test CA, for `localhost` and `127.0.0.1`) it presents.
    /// Panics with a clear message when Postfix or Dovecot's LMTP is missing.
    pub fn start(dovecot: &Dovecot) -> Postfix {
        Postfix::start_with(dovecot, &[])
    }

    /// [`start`](Postfix::start) with extra `main.cf` settings, which override the defaults
    /// (for instance [`NO_PIPELINING`]).
    pub fn start_with(dovecot: &Dovecot, settings: &[(&str, &str)]) -> Postfix {
        assert!(
            Path::new(MASTER_BINARY).exists(),
            "Postfix is not installed. Run the README's test command (./test.sh), which \
             installs postfix, or `apt-get install postfix`."
        );
        assert_eq!(
            command_output("id", &["-u"]),
            "0",
            "the test Postfix runs as root: its master starts the daemons as the postfix user"
        );
        let (Some(lmtp), Some(auth)) = (dovecot.lmtp_socket(), dovecot.auth_socket()) else {
            panic!(
                "Dovecot serves no LMTP: install dovecot-lmtpd (./test.sh does) for the test MTA"
            )
        };
        let dir = tempfile::Builder::new()
            .prefix("postbag-postfix-")
            .tempdir()
            .expect("temp dir");
        let owner = Owner::lookup();
        prepare_dirs(dir.path(), &owner);
        let (cert, key) = dovecot.server_cert_files();
        let mut main_cf = render_main_cf(dir.path(), &lmtp, &auth, &cert, &key);
        for (name, value) in settings {
            main_cf.push_str(&format!("{name} = {value}\n"));
        }
        write_config(&dir.path().join("conf/main.cf"), &main_cf);
        write_config(&dir.path().join("recipients"), RECIPIENTS);

        let mut last_log = String::new();
        for _ in 0..START_ATTEMPTS {
            let [submission_port, submissions_port] = free_ports();
            let master_cf = render_master_cf(submission_port, submissions_port);
            write_config(&dir.path().join("conf/master.cf"), &master_cf);
            let mut master = Master::spawn(dir.path());
            let submission = SocketAddr::from(([127, 0, 0, 1], submission_port));
            if master.wait_until_greeting(submission, dir.path()) {
                return Postfix {
                    dir,
                    _master: master,
                    submission,
                    submissions: SocketAddr::from(([127, 0, 0, 1], submissions_port)),
                };
            }
            // The master exited, most likely because a port was taken: try fresh ones.
            last_log = read_log(dir.path());
        }
        panic!("postfix did not start in {START_ATTEMPTS} attempts:\n{last_log}")
    }

    /// Submission with STARTTLS required before AUTH and MAIL (the port 587 role).
    pub fn submission_addr(&self) -> SocketAddr {
        self.submission
    }

    /// Submission over implicit TLS (the port 465 role).
    pub fn submissions_addr(&self) -> SocketAddr {
        self.submissions
    }

    /// The address mail for `user` is delivered to, into their POP3 mailbox.
    pub fn address(user: &TestUser) -> String {
        format!("{}@{DOMAIN}", user.name)
    }

    /// Waits until `user`'s mailbox holds at least `count` messages: Postfix answers "queued"
    /// before its LMTP client hands the message to Dovecot. Panics with Postfix's log on
    /// timeout.
    pub fn wait_for_messages(&self, dovecot: &Dovecot, user: &TestUser, count: usize) {
        let deadline = Instant::now() + DELIVERY_TIMEOUT;
        while dovecot.message_count(user) < count {
            assert!(
                Instant::now() < deadline,
                "{} has {} of {count} messages after {DELIVERY_TIMEOUT:?}. Postfix:\n{}",
                user.name,
                dovecot.message_count(user),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Postfix's own log (connections, refusals, deliveries), for test failure messages.
    pub fn log(&self) -> String {
        read_log(self.dir.path())
    }
}

/// The master process. Dropped before the temp dir (field order in [`Postfix`]), and on a
/// panic during start-up.
struct Master(Child);

impl Master {
    fn spawn(dir: &Path) -> Master {
        let stderr = fs::File::create(dir.join("master.stderr")).unwrap();
        let child = Command::new(MASTER_BINARY)
            .arg("-d")
            .arg("-c")
            .arg(dir.join("conf"))
            // The master's SIGTERM handler signals its whole process group; a group of its own
            // keeps that away from the test process, and lets the fixture kill the group.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {MASTER_BINARY}: {e}"));
        Master(child)
    }

    /// True once the submission port greets; false when the master exited first.
    fn wait_until_greeting(&mut self, submission: SocketAddr, dir: &Path) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.0.try_wait().unwrap().is_some() {
                return false;
            }
            if greets(submission) {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "postfix did not greet in time:\n{}",
                read_log(dir)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Master {
    /// Kills the master and every daemon it started (they share its process group).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn read_log(dir: &Path) -> String {
    let log = fs::read_to_string(dir.join("postfix.log")).unwrap_or_default();
    // Before its log daemon runs, the master can only say why it stopped on stderr.
    let stderr = fs::read_to_string(dir.join("master.stderr")).unwrap_or_default();
    format!("{log}{stderr}")
}

/// Who owns the queue: Postfix's daemons run as `postfix`, and `postdrop` owns the directories
/// local submission writes to.
struct Owner {
    uid: u32,
    gid: u32,
    postdrop_gid: u32,
}

impl Owner {
    fn lookup() -> Owner {
        let number = |cmd: &str, args: &[&str]| -> u32 {
            let out = command_output(cmd, args);
            // `getent group` answers `name:x:gid:members`.
            let field = out.split(':').nth(2).unwrap_or(&out);
            field
                .parse()
                .unwrap_or_else(|_| panic!("{cmd} {args:?} answered {out:?}"))
        };
        Owner {
            uid: number("id", &["-u", "postfix"]),
            gid: number("id", &["-g", "postfix"]),
            postdrop_gid: number("getent", &["group", "postdrop"]),
        }
    }
}

/// Writes a file Postfix reads, dated a minute ago. Postfix re-reads a table or `main.cf`
/// every 300 ms until its modification time is over a second old (it might still be being
/// written), which made each start take about two seconds.
fn write_config(path: &Path, contents: &str) {
    let file = fs::File::create(path).unwrap();
    (&file).write_all(contents.as_bytes()).unwrap();
    let past = SystemTime::now() - Duration::from_secs(60);
    file.set_modified(past).unwrap();
}

fn prepare_dirs(dir: &Path, owner: &Owner) {
    // The daemons, running as `postfix`, must reach the queue, the data dir and the config.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    for sub in ["conf", "queue", "data"] {
        fs::create_dir(dir.join(sub)).unwrap();
    }
    chown(dir.join("data"), Some(owner.uid), Some(owner.gid)).unwrap();
    for (name, mode, postdrop) in QUEUE_DIRS {
        let path = dir.join("queue").join(name);
        fs::create_dir(&path).unwrap();
        let gid = if postdrop {
            owner.postdrop_gid
        } else {
            owner.gid
        };
        let uid = if name == "pid" { 0 } else { owner.uid };
        chown(&path, Some(uid), Some(gid)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// Valid recipients: Dovecot's test users are `user<n>` (see [`Dovecot::new_user`]). Anything
/// else in the domain, [`REFUSED_RECIPIENT`] among them, is refused at RCPT time; a `user<n>`
/// Dovecot does not know is accepted and then bounced by LMTP, as a real split setup would.
const RECIPIENTS: &str = "/^user[0-9]+@postbag\\.test$/ OK\n";

fn render_main_cf(dir: &Path, lmtp: &Path, auth: &Path, cert: &Path, key: &Path) -> String {
    let d = dir.display();
    format!(
        r#"# Generated by postbag-tests for one test run.
compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {d}/postfix.log
maillog_file_prefixes = {d}
myhostname = mta.{DOMAIN}
mydomain = {DOMAIN}
myorigin = {DOMAIN}
mydestination =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# Only trace fields are added: the message arrives as the client wrote it.
local_header_rewrite_clients =
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_maps = regexp:{d}/recipients
virtual_transport = lmtp:unix:{lmtp}
message_size_limit = {SIZE_LIMIT}
mailbox_size_limit = 0
# A burst of submissions (the benchmark's 100 messages) is not slowed down to the delivery rate.
in_flow_delay = 0
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_sasl_type = dovecot
smtpd_sasl_path = {auth}
smtpd_sasl_auth_enable = yes
smtpd_tls_auth_only = yes
# Submission only: nothing is accepted from a client that has not logged in.
smtpd_relay_restrictions = permit_sasl_authenticated, reject
biff = no
"#,
        lmtp = lmtp.display(),
        auth = auth.display(),
        cert = cert.display(),
        key = key.display(),
    )
}

/// Two submission services and the daemons Postfix needs to queue and deliver; none chrooted
/// (the sockets and Maildirs are outside any jail).
fn render_master_cf(submission_port: u16, submissions_port: u16) -> String {
    format!(
        r#"# Generated by postbag-tests for one test run.
127.0.0.1:{submission_port} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
127.0.0.1:{submissions_port} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
lmtp       unix  - - n -     - lmtp
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
"#
    )
}

fn greets(addr: SocketAddr) -> bool {
    let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("220")
}
