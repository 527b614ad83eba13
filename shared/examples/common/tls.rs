//! Whom `fetch` and `send` trust, never a third way: the web PKI roots plus an optional CA
//! file, checked for the host name, or exactly one certificate pinned by the SHA-256 of its DER
//! encoding (the whole certificate, as the proxy and the app pin). Either way the handshake
//! signature is checked, so the server proves it holds the certificate's key. The verifier
//! remembers the presented certificate, so a refusal can say what to pin.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postbag_protocol::blocking::Stream;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// SHA-256 of `bytes`, with the hash rustls already carries (no extra dependency).
pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256
        .tls13()
        .expect("a TLS 1.3 suite")
        .common
        .hash_provider
        .hash(bytes)
        .as_ref()
        .to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A pin as the proxy takes it: 64 hex digits, any case, colons allowed (as openssl prints).
pub fn parse_pin(text: &str) -> Result<[u8; 32], String> {
    let digits: Vec<u8> = text.bytes().filter(|b| *b != b':').collect();
    let bad = || "--pin-sha256 wants 64 hex digits (colons allowed)".to_string();
    if digits.len() != 64 {
        return Err(bad());
    }
    let mut pin = [0; 32];
    for (i, pair) in digits.chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).map_err(|_| bad())?;
        pin[i] = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
    }
    Ok(pin)
}

/// Verifies by pin or by chain, and remembers the presented certificate.
#[derive(Debug)]
pub struct Verifier {
    provider: Arc<CryptoProvider>,
    /// `None` when a pin decides.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    pin: Option<[u8; 32]>,
    presented: Mutex<Option<Vec<u8>>>,
}

impl Verifier {
    pub fn new(ca_file: Option<&Path>, pin: Option<[u8; 32]>) -> Result<Arc<Verifier>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let webpki = match pin {
            Some(_) => None,
            None => {
                let mut roots = rustls::RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                if let Some(path) = ca_file {
                    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                        .and_then(|it| it.collect())
                        .map_err(|e| format!("cannot read CA file {}: {e}", path.display()))?;
                    if certs.is_empty() {
                        return Err(format!("no certificate in CA file {}", path.display()));
                    }
                    for cert in certs {
                        roots.add(cert).map_err(|e| {
                            format!("bad CA certificate in {}: {e}", path.display())
                        })?;
                    }
                }
                let verifier =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| e.to_string())?;
                Some(verifier)
            }
        };
        Ok(Arc::new(Verifier {
            provider,
            webpki,
            pin,
            presented: Mutex::new(None),
        }))
    }

    pub fn client_config(self: &Arc<Self>) -> Result<Arc<rustls::ClientConfig>, String> {
        let config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(self.clone())
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    /// What to tell a user whose handshake failed on the certificate: its fingerprint, and how
    /// to pin it if they have checked it by other means.
    pub fn advice(&self) -> Option<String> {
        let presented = self.presented.lock().unwrap();
        let fingerprint = hex(&sha256(presented.as_ref()?));
        Some(match self.pin {
            Some(_) => format!("the server presented SHA-256 {fingerprint}, not the pinned one"),
            None => format!(
                "the server presented a certificate with SHA-256 {fingerprint}; if you have \
                 checked that this is your server's certificate, trust it alone with \
                 --pin-sha256 {fingerprint}"
            ),
        })
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.presented.lock().unwrap() = Some(end_entity.to_vec());
        match (&self.pin, &self.webpki) {
            (Some(pin), _) if sha256(end_entity.as_ref()) == pin => {
                Ok(ServerCertVerified::assertion())
            }
            (Some(_), _) | (None, None) => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            )),
            (None, Some(webpki)) => webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Wraps `stream` in TLS and completes the handshake now, so certificate errors surface here.
/// The handshake must finish `within` (a drip cannot stretch it); `set_read_timeout` bounds
/// each read of the socket under it by the time left.
pub fn wrap_tls(
    stream: Box<dyn Stream>,
    config: &Arc<rustls::ClientConfig>,
    host: &str,
    within: Duration,
    set_read_timeout: &mut dyn FnMut(Duration) -> io::Result<()>,
) -> io::Result<Box<dyn Stream>> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| io::Error::other(format!("bad host name: {e}")))?;
    let conn = rustls::ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let deadline = Instant::now() + within;
    while tls.conn.is_handshaking() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the TLS handshake took longer than {:.1} s",
                    within.as_secs_f64()
                ),
            ));
        }
        set_read_timeout(left.max(Duration::from_millis(1)))?;
        match tls.conn.complete_io(&mut tls.sock) {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Box::new(tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_read_as_the_proxy_reads_them() {
        let hex64 = "00".repeat(31) + "FF";
        assert_eq!(parse_pin(&hex64).unwrap()[31], 0xff);
        let colons: Vec<String> = (0..32).map(|i| format!("{i:02x}")).collect();
        assert_eq!(parse_pin(&colons.join(":")).unwrap()[31], 31);
        assert!(parse_pin("abcd").is_err());
        assert!(parse_pin(&"zz".repeat(32)).is_err());
        assert!(parse_pin(&"é".repeat(32)).is_err());
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
