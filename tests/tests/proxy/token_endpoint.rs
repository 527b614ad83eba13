//! A scripted token endpoint and the app's requests to `/oauth/token`, shared by the tests of
//! what the proxy forwards (`oauth_token.rs`) and of how often one address may ask
//! (`oauth_token_rate.rs`): the endpoint records each request and answers with a script; the
//! proxy's log is captured once for the whole binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, OnceLock};

use postbag_proxy::{ClientAuth, OAuthClient, OAuthProvider, Secret};
use postbag_tests::certs::TestPki;
use postbag_tests::proxy_harness::{ProxyHandle, base_config, spawn_proxy};

use super::http::{Response, request};

pub(crate) const SECRET: &str = "GOCSPX-the-deployments-secret";
pub(crate) const REFRESH: &str = "rt-refresh-token-1";
pub(crate) const CODE: &str = "code-from-the-callback";
pub(crate) const VERIFIER: &str = "pkce-verifier-0123456789";
pub(crate) const ACCESS: &str = "at-access-token-granted";

/// What the proxy logs, captured for the whole test binary (one subscriber per process);
/// only these modules' unique strings are looked for in it.
pub(crate) fn log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
            .init();
        log
    })
}

#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// One request as the token endpoint received it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub head: String,
    pub body: String,
}

/// A token endpoint that records each request and answers every one with `answer` (raw
/// HTTP), over TLS with the test PKI's server certificate when `tls` is given.
pub(crate) struct TokenEndpoint {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl TokenEndpoint {
    pub(crate) fn start(answer: Vec<u8>, tls: Option<&TestPki>) -> TokenEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let config = tls.map(server_config);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (log, answer, config) = (log.clone(), answer.clone(), config.clone());
                std::thread::spawn(move || {
                    let _ = match config {
                        Some(config) => {
                            let conn = rustls::ServerConnection::new(config).unwrap();
                            serve(rustls::StreamOwned::new(conn, stream), &log, &answer)
                        }
                        None => serve(stream, &log, &answer),
                    };
                });
            }
        });
        TokenEndpoint { addr, received }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

pub(crate) fn server_config(pki: &TestPki) -> Arc<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    let cert =
        rustls_pki_types::CertificateDer::from_pem_slice(pki.server_cert_pem.as_bytes()).unwrap();
    let key =
        rustls_pki_types::PrivateKeyDer::from_pem_slice(pki.server_key_pem.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap(),
    )
}

pub(crate) fn serve(
    mut stream: impl Read + Write,
    log: &Mutex<Vec<Received>>,
    answer: &[u8],
) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    log.lock().unwrap().push(Received {
        head,
        body: String::from_utf8(body).unwrap(),
    });
    stream.write_all(answer)?;
    stream.flush()
}

pub(crate) fn json_answer(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nSet-Cookie: provider-session=1\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub(crate) fn granted() -> Vec<u8> {
    json_answer(
        "200 OK",
        &format!(r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":3600}}"#),
    )
}

pub(crate) fn confidential(
    endpoint: &TokenEndpoint,
    auth: ClientAuth,
    scheme: &str,
) -> OAuthClient {
    OAuthClient {
        provider: OAuthProvider::Oidc,
        client_id: "postbag-web".into(),
        issuer: Some(format!("{scheme}://127.0.0.1:{}", endpoint.addr.port())),
        name: Some("Test ID".into()),
        scopes: Vec::new(),
        client_secret: Some(Secret::new(SECRET.into())),
        client_auth: auth,
        token_endpoint: Some(format!(
            "{scheme}://127.0.0.1:{}/token",
            endpoint.addr.port()
        )),
    }
}

pub(crate) fn public_client() -> OAuthClient {
    OAuthClient {
        provider: OAuthProvider::Oidc,
        client_id: "postbag-public".into(),
        issuer: Some("https://id.example.org".into()),
        name: None,
        scopes: Vec::new(),
        client_secret: None,
        client_auth: ClientAuth::default(),
        token_endpoint: None,
    }
}

pub(crate) fn proxy_for(
    clients: Vec<OAuthClient>,
    adjust: impl FnOnce(&mut postbag_proxy::Config),
) -> ProxyHandle {
    log();
    let mut config = base_config(None);
    config.oauth_clients = clients;
    adjust(&mut config);
    spawn_proxy(config)
}

/// POSTs `body` to `/oauth/token` as the app's page does (its own origin), with `extra`
/// header lines.
pub(crate) fn post(proxy: &ProxyHandle, body: &str, extra: &str) -> Response {
    let addr = proxy.addr();
    request(
        addr,
        &format!(
            "POST /oauth/token HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{extra}\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

pub(crate) fn refresh_form(client_id: &str) -> String {
    format!("grant_type=refresh_token&refresh_token={REFRESH}&client_id={client_id}")
}

pub(crate) fn error_code(answer: &Response) -> String {
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    json["error"].as_str().unwrap().to_string()
}

/// Sends `raw` and reads the answer to the end, waiting up to 30 s (the shared helper waits
/// 10 s, shorter than the proxy's own limits measured here).
pub(crate) fn slow_request(addr: SocketAddr, raw: &str) -> Response {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream.write_all(raw.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    Response {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        headers: Default::default(),
        body: answer[split + 4..].to_vec(),
    }
}

/// The forwarded requests were logged (so the capture works), and nothing secret was.
pub(crate) fn assert_nothing_secret_logged() {
    let text = log().text();
    assert!(
        text.contains("oauth token request"),
        "nothing captured: {text}"
    );
    for secret in [SECRET, REFRESH, CODE, VERIFIER, ACCESS] {
        assert!(!text.contains(secret), "{secret} is in the log");
    }
}
