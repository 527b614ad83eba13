//! Client-side TLS and TCP for the native integration tests (POP3 and SMTP binaries alike):
//! the run's CA as the only root, the server verified as `localhost`.

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use postbag_protocol::blocking::Stream;
use rustls::pki_types::ServerName;

pub fn tls_config(ca_der: Vec<u8>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der.into()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// Wraps a stream in TLS, verifying the server as `localhost` against the run's CA.
pub fn wrap_tls(
    stream: Box<dyn Stream>,
    config: &Arc<rustls::ClientConfig>,
) -> std::io::Result<Box<dyn Stream>> {
    let conn =
        rustls::ClientConnection::new(config.clone(), ServerName::try_from("localhost").unwrap())
            .map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, stream);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(Box::new(tls))
}

pub fn tcp(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}
