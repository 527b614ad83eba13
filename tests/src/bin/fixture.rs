//! The end-to-end fixture: starts a real Dovecot, a real Postfix in front of it and the real
//! proxy serving `dist/`, prints one JSON line describing them, then answers commands on stdin, one JSON line each. The
//! Playwright tests (tests/e2e/fixture.mjs) drive it; a person can too.
//!
//! Commands: `new-user` | `deliver USER KIND N` | `count USER` | `raw USER` | `proxy-stop` |
//! `proxy-start` | `quit`. KIND is one of `plain`, `html`, `multipart`, `cid`, `dots`,
//! `eightbit`, `from-lines`, `large:BYTES`, `sized:BYTES` (and the hostile kinds below). `raw`
//! answers what Dovecot serves by RETR for each of the user's messages, `{"messages": [{"uidl",
//! "base64"}]}`, read by a few lines of POP3 here rather than by the app's client, so a test
//! compares the app against an independent reading. It exits when stdin closes.
//!
//! `new-user` answers `{"name", "password", "address"}`: the same name and password log in over
//! POP3 and SMTP AUTH, and mail to `address` submitted to Postfix (`submission_port` with
//! STARTTLS, `submissions_port` with implicit TLS; the proxy allows both) lands in the user's
//! POP3 mailbox. Postfix refuses `refused_recipient` (550 5.1.1) and messages over `size_limit`
//! (552); see postbag_tests::postfix.
//!
//! With `POSTBAG_FIXTURE_OAUTH_INTROSPECTION=<url>` Dovecot also takes OAuth 2 tokens (XOAUTH2,
//! OAUTHBEARER) checked at that introspection endpoint (tests/oidc/provider.mjs prints one);
//! `oauth-login USER MECHANISM TOKEN` logs in with the protocol crate's client over POP3S and
//! answers `{"mechanism"}` or `{"refused"}`, `log-count TEXT` how many times Dovecot's log
//! holds the text (logins counted by `Login: user=<NAME>`), and `log-has TEXT` answers whether Dovecot's log
//! contains TEXT (`{"found"}`). The token is never printed.
//!
//! Beside Dovecot runs a scripted plain-TCP POP3 server (`scripted_port`, see
//! postbag_tests::scripted_pop3) for the login refusals Dovecot cannot be made to give.
//!
//! The proxy trusts the run's test CA, as a self-hoster's proxy configured with their CA would.
//! With `POSTBAG_FIXTURE_UNTRUSTED=1` it does not, so the server's certificate is rejected
//! unless the app pins it (the self-signed-server case). With `POSTBAG_FIXTURE_TOKEN=<token>`
//! every tunnel must present that access token (a private deployment).
//! With `POSTBAG_FIXTURE_ALLOW_PORT=<port>` the proxy also allows that loopback port (a
//! bench's delaying relay in front of Dovecot). `POSTBAG_FIXTURE_PROXY_PORT=<port>` makes the
//! proxy listen there (an OAuth provider started first must know the app's redirect URI), and
//! `POSTBAG_FIXTURE_OAUTH_CLIENTS=<json>` is the proxy's `oauth_clients` list.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use postbag_proxy::{Config, Secret};
use postbag_tests::proxy_harness::{ProxyHandle, base_config, start_proxy};
use postbag_tests::{Dovecot, Postfix, TestUser, hostile_mail, messages, postfix};
use serde_json::json;

fn main() {
    let dist = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("dist"));
    // A port the test chose: an OAuth provider started before the fixture must already know
    // the app's redirect URI, which names it. Bound before Dovecot, Postfix and the scripted
    // server pick their ports, so none of them can take the port the test freed for it.
    let port: u16 = std::env::var("POSTBAG_FIXTURE_PROXY_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the proxy");
    let dovecot = match std::env::var("POSTBAG_FIXTURE_OAUTH_INTROSPECTION") {
        Ok(url) => Dovecot::start_oauth2(&url),
        Err(_) => Dovecot::start(),
    };
    let postfix = Postfix::start(&dovecot);
    let scripted = postbag_tests::scripted_pop3::start();
    let proxy_addr = listener.local_addr().unwrap();
    let app_url = format!("http://127.0.0.1:{}/", proxy_addr.port());
    let config = fixture_config(&dovecot, &postfix, scripted, &dist, &app_url);
    let mut proxy = Some(start_proxy(config.clone(), listener).expect("start the proxy"));
    let mut users: HashMap<String, TestUser> = HashMap::new();

    reply(json!({
        "app_url": app_url,
        "proxy_port": proxy_addr.port(),
        "pop3_port": dovecot.pop3_addr().port(),
        "pop3s_port": dovecot.pop3s_addr().port(),
        "scripted_port": scripted.port(),
        "submission_port": postfix.submission_addr().port(),
        "submissions_port": postfix.submissions_addr().port(),
        "refused_recipient": postfix::REFUSED_RECIPIENT,
        "size_limit": postfix::SIZE_LIMIT,
        "ca_pem": dovecot.ca_pem_path(),
        "server_cert_sha256": dovecot.server_cert_sha256(),
    }));

    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap_or_default();
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            ["new-user"] => {
                let user = dovecot.new_user();
                users.insert(user.name.clone(), user.clone());
                json!({
                    "name": user.name,
                    "password": user.password,
                    "address": Postfix::address(&user),
                })
            }
            ["deliver", name, kind, n] => match (users.get(*name), n.parse::<usize>()) {
                (Some(user), Ok(n)) => deliver(&dovecot, user, kind, n),
                _ => json!({ "error": format!("unknown user or count in: {line}") }),
            },
            ["raw", name] => match users.get(*name) {
                Some(user) => match retr_all(dovecot.pop3_addr(), user) {
                    Ok(messages) => json!({ "messages": messages }),
                    Err(e) => json!({ "error": format!("raw {name}: {e}") }),
                },
                None => json!({ "error": format!("unknown user {name}") }),
            },
            ["count", name] => match users.get(*name) {
                Some(user) => json!({ "count": dovecot.message_count(user) }),
                None => json!({ "error": format!("unknown user {name}") }),
            },
            ["oauth-login", name, mechanism, token] => {
                match postbag_tests::pop3_oauth::login(&dovecot, name, mechanism, token) {
                    Ok(m) => json!({ "mechanism": m.sasl_name() }),
                    Err(why) => json!({ "refused": why }),
                }
            }
            ["log-has", text @ ..] => json!({ "found": dovecot.log().contains(&text.join(" ")) }),
            ["log-count", text @ ..] => {
                json!({ "count": dovecot.log().matches(&text.join(" ")).count() })
            }
            ["proxy-stop"] => {
                if let Some(p) = proxy.take() {
                    p.stop(false);
                }
                json!({ "ok": true })
            }
            ["proxy-start"] => {
                if proxy.is_none() {
                    proxy = Some(start_again(&config, proxy_addr));
                }
                json!({ "ok": true })
            }
            ["quit"] => break,
            _ => json!({ "error": format!("unknown command: {line}") }),
        };
        reply(answer);
    }
    if let Some(p) = proxy.take() {
        p.stop(false);
    }
}

fn fixture_config(
    dovecot: &Dovecot,
    postfix: &Postfix,
    scripted: SocketAddr,
    dist: &std::path::Path,
    app_url: &str,
) -> Config {
    let mut config = base_config(Some(dist.to_path_buf()));
    config.allow_ports = vec![
        dovecot.pop3_addr().port(),
        dovecot.pop3s_addr().port(),
        scripted.port(),
        postfix.submission_addr().port(),
        postfix.submissions_addr().port(),
    ];
    // A bench's own relay in front of Dovecot (tests/e2e/bench_support.mjs: a link with delay).
    if let Some(port) = std::env::var("POSTBAG_FIXTURE_ALLOW_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
    {
        config.allow_ports.push(port);
    }
    if std::env::var_os("POSTBAG_FIXTURE_UNTRUSTED").is_none() {
        config.extra_ca_file = Some(dovecot.ca_pem_path());
    }
    config.allowed_origins = vec![app_url.trim_end_matches('/').to_string()];
    config.token = std::env::var("POSTBAG_FIXTURE_TOKEN").ok().map(Secret::new);
    if let Ok(json) = std::env::var("POSTBAG_FIXTURE_OAUTH_CLIENTS") {
        config.oauth_clients = serde_json::from_str(&json).expect("POSTBAG_FIXTURE_OAUTH_CLIENTS");
    }
    config
}

/// The proxy comes back on the same port, as a restarted deployment would.
fn start_again(config: &Config, addr: SocketAddr) -> ProxyHandle {
    let listener = TcpListener::bind(addr).expect("re-bind the proxy port");
    start_proxy(config.clone(), listener).expect("restart the proxy")
}

fn deliver(dovecot: &Dovecot, user: &TestUser, kind: &str, n: usize) -> serde_json::Value {
    let mut bytes = 0usize;
    for i in 0..n {
        let raw = match kind.split_once(':') {
            Some(("large", size)) => messages::large(size.parse().unwrap_or(1 << 20)),
            Some(("sized", size)) => messages::of_size(i, size.parse().unwrap_or(20_000)),
            Some(("remote", variant)) => hostile_mail::remote_only(variant),
            Some(("cid-amplify", copies)) => {
                hostile_mail::cid_amplification(1 << 20, copies.parse().unwrap_or(2000))
            }
            _ => match kind {
                "plain" => messages::plain(i),
                "list" => messages::mailing_list(i),
                "thread" => messages::thread(i),
                "html" => messages::html_with_remote_image_and_script(),
                "multipart" => messages::multipart_with_rfc822(),
                "cid" => messages::multipart_alternative_with_cid_image(),
                "dots" => messages::with_dot_lines(),
                "eightbit" => messages::eight_bit(),
                "legacy-japanese" => messages::legacy_japanese(),
                "from-lines" => messages::with_from_lines(),
                "cid-inject" => hostile_mail::cid_attribute_injection(),
                "two-charsets" => hostile_mail::two_text_parts_two_charsets(),
                other => return json!({ "error": format!("unknown kind {other}") }),
            },
        };
        bytes += dovecot.deliver(user, &raw).len();
    }
    json!({ "delivered": n, "bytes": bytes })
}

/// Every message of `user` as Dovecot serves it: UIDL, then RETR of each, dot-unstuffed.
fn retr_all(addr: SocketAddr, user: &TestUser) -> std::io::Result<Vec<serde_json::Value>> {
    use base64::Engine as _;
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    let mut command = |line: &str, multi: bool| -> std::io::Result<Vec<u8>> {
        if !line.is_empty() {
            out.write_all(format!("{line}\r\n").as_bytes())?;
        }
        let mut status = Vec::new();
        input.read_until(b'\n', &mut status)?;
        if !status.starts_with(b"+OK") {
            let said = String::from_utf8_lossy(&status).trim_end().to_string();
            return Err(std::io::Error::other(format!("{line:?} answered {said:?}")));
        }
        let mut body = Vec::new();
        if !multi {
            return Ok(body);
        }
        loop {
            let mut l = Vec::new();
            if input.read_until(b'\n', &mut l)? == 0 {
                return Err(std::io::Error::other("connection closed in a reply"));
            }
            if l == b".\r\n" {
                return Ok(body);
            }
            body.extend_from_slice(l.strip_prefix(b".").unwrap_or(&l));
        }
    };
    command("", false)?; // the greeting
    command(&format!("USER {}", user.name), false)?;
    command(&format!("PASS {}", user.password), false)?;
    let listing = String::from_utf8_lossy(&command("UIDL", true)?).into_owned();
    let mut messages = Vec::new();
    for line in listing.lines() {
        let Some((n, uidl)) = line.split_once(' ') else {
            continue;
        };
        let raw = command(&format!("RETR {n}"), true)?;
        let base64 = base64::engine::general_purpose::STANDARD.encode(raw);
        messages.push(json!({ "uidl": uidl, "base64": base64 }));
    }
    command("QUIT", false)?;
    Ok(messages)
}

fn reply(value: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{value}").unwrap();
    out.flush().unwrap();
}
