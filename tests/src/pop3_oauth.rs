//! One POP3 login with an OAuth 2 access token (SASL XOAUTH2 or OAUTHBEARER), by the protocol
//! crate's client over POP3S to the test Dovecot: what the e2e fixture's `oauth-login` command
//! runs for the OIDC tests (tests/e2e/oauth_dovecot.test.mjs), whose tokens come from a real
//! OpenID provider's login page.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use postbag_protocol::pop3::{
    AuthMechanism, AuthPolicy, Client, ClientConfig, Event, Secret, TlsState,
};
use rustls::pki_types::ServerName;

use crate::Dovecot;

/// How long the server may stay silent during the login (Dovecot asks the provider in between).
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// Logs `user` in with `token` and `mechanism` (`xoauth2` or `oauthbearer`), then QUITs.
/// Returns the mechanism the client reports, or the client's error as text (a refused token is
/// `server refused: AuthFailed: ...`).
pub fn login(
    dovecot: &Dovecot,
    user: &str,
    mechanism: &str,
    token: &str,
) -> Result<AuthMechanism, String> {
    let mut config = ClientConfig::new(user, Secret::new(token.to_string()));
    config.auth = match mechanism {
        "xoauth2" => AuthPolicy::XOAuth2,
        "oauthbearer" => AuthPolicy::OAuthBearer,
        other => return Err(format!("unknown mechanism {other}")),
    };
    config.tls = TlsState::Implicit;
    config.want_starttls = false;
    let mut stream = tls_stream(dovecot).map_err(|e| format!("connect: {e}"))?;
    let mut client = Client::new(config);
    let mut logged_in = None;
    let mut buf = [0u8; 4096];
    loop {
        match client.next_event().map_err(|e| e.to_string())? {
            Some(Event::Authenticated { mechanism }) => logged_in = Some(mechanism),
            Some(Event::Ready { .. }) => {
                client
                    .enqueue(postbag_protocol::pop3::Command::Quit)
                    .map_err(|e| e.to_string())?;
            }
            Some(Event::Closed { .. }) => {
                return logged_in.ok_or_else(|| "closed before login".to_string());
            }
            Some(_) => {}
            // Reading input may have queued an answer (to a SASL challenge, say): it goes out
            // before the next wait for the server.
            None => match client.take_outgoing() {
                Some(out) => {
                    stream.write_all(&out).map_err(|e| format!("write: {e}"))?;
                    stream.flush().map_err(|e| format!("flush: {e}"))?;
                }
                None => {
                    let n = stream.read(&mut buf).map_err(|e| format!("read: {e}"))?;
                    if n == 0 {
                        return Err("the server closed the connection".into());
                    }
                    client.receive(&buf[..n]);
                }
            },
        }
    }
}

fn tls_stream(
    dovecot: &Dovecot,
) -> std::io::Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(dovecot.ca_der().into())
        .map_err(std::io::Error::other)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(dovecot.pop3s_addr())?;
    tcp.set_read_timeout(Some(READ_TIMEOUT))?;
    let conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .map_err(std::io::Error::other)?;
    Ok(rustls::StreamOwned::new(conn, tcp))
}
