//! Exposure judged for loopback, public and fronted listeners; the origins each allows.

use super::*;
use postbag_protocol::Secret;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// `adjust` applied to the embedded default, checked as if listening on `listen`.
fn check(listen: &str, adjust: impl FnOnce(&mut Config)) -> Result<(), Vec<Missing>> {
    let mut c = Config::default();
    adjust(&mut c);
    match c.check_exposure(addr(listen)) {
        Ok(()) => Ok(()),
        Err(StartRefused::Exposed(Exposed { missing, .. })) => Err(missing),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_embedded_default_is_fine_on_loopback_only() {
    for listen in [
        "127.0.0.1:8080",
        "127.0.0.2:1",
        "[::1]:8080",
        "[::ffff:127.0.0.1]:80",
    ] {
        assert_eq!(check(listen, |_| {}), Ok(()), "{listen}");
    }
    for listen in ["0.0.0.0:8080", "[::]:8080", "192.168.1.5:8080"] {
        assert_eq!(
            check(listen, |_| {}),
            Err(vec![Missing::Origins, Missing::RelayRestriction]),
            "{listen}"
        );
    }
}

#[test]
fn a_public_listener_needs_origins_and_a_relay_restriction() {
    let origins = |c: &mut Config| c.allowed_origins = vec!["https://mail.example.org".into()];
    let public = "0.0.0.0:8080";
    assert_eq!(check(public, origins), Err(vec![Missing::RelayRestriction]));
    assert_eq!(
        check(public, |c| c.public_relay = true),
        Err(vec![Missing::Origins])
    );
    assert_eq!(
        check(public, |c| {
            origins(c);
            c.token = Some(Secret::new("0123456789abcdef".into()));
        }),
        Ok(())
    );
    assert_eq!(
        check(public, |c| {
            origins(c);
            c.token = Some(Secret::new("short-token".into()));
        }),
        Err(vec![Missing::LongerToken])
    );
    assert_eq!(
        check(public, |c| {
            origins(c);
            c.allow_any_public_host = false;
            c.allow_hosts = vec!["pop.example.org".into()];
        }),
        Ok(())
    );
    assert_eq!(
        check(public, |c| {
            origins(c);
            c.public_relay = true;
        }),
        Ok(())
    );
}

#[test]
fn loopback_behind_a_reverse_proxy_is_reachable_from_elsewhere() {
    let loopback = "127.0.0.1:8080";
    // The reverse proxy's public URL as the allowed origin: an open relay without more.
    let fronted = |c: &mut Config| c.allowed_origins = vec!["https://mail.example.org".into()];
    assert_eq!(
        check(loopback, fronted),
        Err(vec![Missing::RelayRestriction])
    );
    assert_eq!(
        check(loopback, |c| c.trust_forwarded_for = true),
        Err(vec![Missing::Origins, Missing::RelayRestriction])
    );
    assert_eq!(
        check(loopback, |c| {
            fronted(c);
            c.public_relay = true;
        }),
        Ok(())
    );
    // Pages on this machine only: still private.
    assert_eq!(
        check(loopback, |c| {
            c.allowed_origins = vec![
                "http://localhost:3000".into(),
                "http://127.0.0.1:8080".into(),
                "http://[::1]:8080".into(),
            ]
        }),
        Ok(())
    );
}

#[test]
fn any_origin_on_loopback_counts_as_exposed() {
    // `*` is what a reverse proxy's unknown public URL gets replaced with in a hurry.
    for origins in [&["*"][..], &["http://localhost:3000", "*"]] {
        let any =
            |c: &mut Config| c.allowed_origins = origins.iter().map(|o| o.to_string()).collect();
        assert_eq!(
            check("127.0.0.1:8080", any),
            Err(vec![Missing::RelayRestriction]),
            "{origins:?}"
        );
        assert_eq!(
            check("127.0.0.1:8080", |c| {
                any(c);
                c.token = Some(Secret::new("0123456789abcdef".into()));
            }),
            Ok(())
        );
    }
}

#[test]
fn own_origins_leave_out_the_default_port() {
    let own = own_origins(addr("127.0.0.1:80"));
    assert!(own.contains(&"http://127.0.0.1".to_string()), "{own:?}");
    assert!(own.contains(&"http://localhost".to_string()), "{own:?}");
    assert!(own_origins(addr("127.0.0.1:8080")).contains(&"http://localhost:8080".to_string()));
    assert!(own_origins(addr("127.0.0.2:8080")).contains(&"http://127.0.0.2:8080".to_string()));
}

#[test]
fn what_contradicts_itself_is_refused_everywhere() {
    for listen in ["127.0.0.1:8080", "0.0.0.0:8080"] {
        let c = Config {
            allow_hosts: vec!["pop.example.org".into()],
            allowed_origins: vec!["https://mail.example.org".into()],
            ..Config::default()
        };
        let err = c.check_exposure(addr(listen)).unwrap_err();
        assert!(
            matches!(err, StartRefused::Config(ConfigError::HostsIgnored)),
            "{err}"
        );
        let c = Config {
            token: Some(Secret::new("two words".into())),
            allowed_origins: vec!["https://mail.example.org".into()],
            ..Config::default()
        };
        let err = c.check_exposure(addr(listen)).unwrap_err();
        assert!(
            matches!(err, StartRefused::Config(ConfigError::TokenUnsendable)),
            "{err}"
        );
    }
}

/// What `main` does before it binds: the command line's configuration, judged on its
/// `listen` address.
fn from_cli(args: &[&str]) -> Result<(), StartRefused> {
    use clap::Parser as _;
    let all = std::iter::once("postbag-proxy").chain(args.iter().copied());
    let config = Config::from_cli(crate::config::Cli::try_parse_from(all).unwrap())?;
    config.check_exposure(config.listen)
}

#[test]
fn a_public_listen_address_needs_origins_and_a_relay_restriction() {
    let err = from_cli(&["--listen", "0.0.0.0:8080"]).unwrap_err();
    assert!(
        matches!(&err, StartRefused::Exposed(Exposed { missing, .. }) if missing.len() == 2),
        "{err}"
    );
    let origin = [
        "--listen",
        "0.0.0.0:8080",
        "--allowed-origin",
        "https://m.example.org",
    ];
    for extra in [
        &["--public-relay"][..],
        &["--public-relay", "true"],
        &["--token", "0123456789abcdef0123"],
        &[
            "--allow-host",
            "pop.example.org",
            "--allow-any-public-host",
            "false",
        ],
    ] {
        let args: Vec<&str> = origin.iter().chain(extra).copied().collect();
        assert!(from_cli(&args).is_ok(), "{extra:?}");
    }
    let args: Vec<&str> = origin
        .iter()
        .chain(&["--public-relay", "false"])
        .copied()
        .collect();
    assert!(from_cli(&args).is_err());
}

#[test]
fn the_error_says_what_to_set() {
    let err = Config::default()
        .check_exposure(addr("0.0.0.0:8080"))
        .unwrap_err()
        .to_string();
    for hint in [
        "0.0.0.0:8080",
        "--allowed-origin",
        "--allow-host",
        "--token",
        "--public-relay",
    ] {
        assert!(err.contains(hint), "{hint} missing from: {err}");
    }
}

#[test]
fn own_origins_of_a_loopback_listener() {
    assert_eq!(
        own_origins(addr("127.0.0.1:5000")),
        [
            "http://127.0.0.1:5000",
            "http://localhost:5000",
            "http://[::1]:5000"
        ]
    );
    assert_eq!(own_origins(addr("[::1]:5000")).len(), 3);
    assert_eq!(
        own_origins(addr("127.0.0.2:5000")).last().unwrap(),
        "http://127.0.0.2:5000"
    );
    assert!(own_origins(addr("0.0.0.0:5000")).is_empty());
    assert!(own_origins(addr("10.0.0.1:5000")).is_empty());
}

fn origins(configured: &[&str], listen: &str) -> Origins {
    let configured: Vec<String> = configured.iter().map(|o| o.to_string()).collect();
    Origins::new(&configured, addr(listen))
}

#[test]
fn an_empty_list_means_the_own_loopback_origins() {
    let own = origins(&[], "127.0.0.1:8080");
    for ok in [
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://[::1]:8080",
        "HTTP://LOCALHOST:8080",
    ] {
        assert!(own.allow(Some(ok)), "{ok}");
    }
    for refused in [
        "http://evil.example:8080",
        "http://127.0.0.1:8081",
        "https://127.0.0.1:8080",
        "http://localhost",
        "null",
    ] {
        assert!(!own.allow(Some(refused)), "{refused}");
    }
    assert!(own.allow(None));
    assert_eq!(origins(&[], "0.0.0.0:8080"), Origins::Only(Vec::new()));
}

#[test]
fn a_configured_list_replaces_the_own_origins() {
    let listed = origins(&["https://mail.example.org/"], "127.0.0.1:8080");
    assert!(listed.allow(Some("https://mail.example.org")));
    assert!(!listed.allow(Some("http://127.0.0.1:8080")));
    assert_eq!(
        origins(&["https://a.example", "*"], "0.0.0.0:1"),
        Origins::Any
    );
}

#[test]
fn a_confidential_oauth_client_needs_a_token_where_other_machines_reach_the_proxy() {
    let confidential = |c: &mut Config| {
        c.allowed_origins = vec!["https://mail.example.org".into()];
        c.allow_any_public_host = false;
        c.allow_hosts = vec!["pop.example.org".into()];
        c.oauth_clients = vec![
            toml::from_str(
                "provider = \"oidc\"\nclient_id = \"postbag\"\nissuer = \"https://id.example.org\"\n\
                 client_secret = \"s3cret\"\ntoken_endpoint = \"https://id.example.org/token\"",
            )
            .unwrap(),
        ];
    };
    let public = "0.0.0.0:8080";
    assert_eq!(
        check(public, confidential),
        Err(vec![Missing::TokenForClientSecret])
    );
    assert_eq!(
        check(public, |c| {
            confidential(c);
            c.token = Some(Secret::new("0123456789abcdef".into()));
        }),
        Ok(())
    );
    // On loopback only this machine reaches /oauth/token.
    assert_eq!(
        check("127.0.0.1:8080", |c| {
            confidential(c);
            c.allowed_origins.clear();
        }),
        Ok(())
    );
    // A public client (no secret) adds nothing to refuse.
    assert_eq!(
        check(public, |c| {
            confidential(c);
            c.oauth_clients[0].client_secret = None;
            c.oauth_clients[0].token_endpoint = None;
        }),
        Ok(())
    );
}
