//! Upstream TLS: who is trusted, and what the app is told about the session.
//!
//! Two ways to trust a server, never a third: its chain verifies against the web PKI roots (plus
//! the configured extra CAs) for the requested name, or the client pinned the SHA-256 of its
//! leaf certificate. Either way the handshake signature is checked, so the server proves it holds
//! the key. A verifier that records the presented leaf lets a failure say what was presented.

use std::path::Path;
use std::sync::{Arc, Mutex};

use postbag_protocol::tunnel::{CertificateInfo, ErrorKind, TlsInfo, TunnelError, Verification};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read extra CA file {0}: {1}")]
    CaFile(String, String),
    #[error("extra CA file {0} holds no certificate")]
    NoCa(String),
    #[error("rustls: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("webpki verifier: {0}")]
    Verifier(#[from] rustls::client::VerifierBuilderError),
}

/// Built once at startup and shared by every tunnel.
#[derive(Debug, Clone)]
pub struct Trust {
    provider: Arc<CryptoProvider>,
    webpki: Arc<WebPkiServerVerifier>,
}

impl Trust {
    pub fn new(extra_ca_file: Option<&Path>) -> Result<Trust, TlsSetupError> {
        let provider = Arc::new(prefer_aes_128(rustls::crypto::ring::default_provider()));
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(path) = extra_ca_file {
            let shown = path.display().to_string();
            let mut added = 0;
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| TlsSetupError::CaFile(shown.clone(), e.to_string()))?
            {
                let cert = cert.map_err(|e| TlsSetupError::CaFile(shown.clone(), e.to_string()))?;
                roots.add(cert)?;
                added += 1;
            }
            if added == 0 {
                return Err(TlsSetupError::NoCa(shown));
            }
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()?;
        Ok(Trust { provider, webpki })
    }

    /// A client configuration for one connection, and the slot where its verifier records the
    /// presented leaf certificate.
    pub fn client_config(&self, pin: Option<[u8; 32]>) -> (Arc<ClientConfig>, Arc<Recorder>) {
        let recorder = Arc::new(Recorder {
            trust: self.clone(),
            pin,
            presented: Mutex::new(None),
        });
        let config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default TLS versions")
            .dangerous()
            .with_custom_certificate_verifier(recorder.clone())
            .with_no_client_auth();
        (Arc::new(config), recorder)
    }

    /// A client configuration for an HTTPS request (a confidential OAuth client's token
    /// endpoint, `oauth_token/forward.rs`): the chain must verify against the same roots as a
    /// mail server's (web PKI plus the extra CAs); no pin, nothing recorded; HTTP/1.1 offered.
    pub fn https_config(&self) -> Arc<ClientConfig> {
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default TLS versions")
            .with_webpki_verifier(self.webpki.clone())
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// The provider with AES-128-GCM offered first, as browsers do where the CPU has AES
/// instructions: servers that follow the client's order (OpenSSL's default, so Dovecot's and
/// Postfix's) then pick it over AES-256-GCM, and the proxy decrypts downloads with 10 AES rounds
/// per block instead of 14. Both are in rustls's safe defaults; nothing is added or removed.
fn prefer_aes_128(mut provider: CryptoProvider) -> CryptoProvider {
    use rustls::crypto::ring::cipher_suite::{
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS13_AES_128_GCM_SHA256,
    };
    let first = [
        TLS13_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ];
    // TLS 1.3 suites stay before TLS 1.2 ones; within each, AES-128-GCM first.
    provider.cipher_suites.sort_by_key(|s| {
        (
            s.tls13().is_none(),
            !first.iter().any(|f| f.suite() == s.suite()),
        )
    });
    provider
}

/// Parses a pin: 64 hex digits, optionally separated by colons (as browsers and openssl print).
pub fn parse_pin(text: &str) -> Option<[u8; 32]> {
    let digits: String = text.chars().filter(|c| *c != ':').collect();
    let bytes = hex::decode(digits).ok()?;
    bytes.try_into().ok()
}

pub fn fingerprint(cert: &[u8]) -> String {
    hex::encode(Sha256::digest(cert))
}

pub fn certificate_info(cert: &[u8]) -> CertificateInfo {
    CertificateInfo {
        subject: crate::x509::subject(cert).unwrap_or_default(),
        sha256: fingerprint(cert),
    }
}

/// Verifies by pin or by chain, and remembers what the server presented.
#[derive(Debug)]
pub struct Recorder {
    trust: Trust,
    pin: Option<[u8; 32]>,
    presented: Mutex<Option<CertificateDer<'static>>>,
}

impl Recorder {
    pub fn presented(&self) -> Option<CertificateInfo> {
        let cert = self.presented.lock().unwrap();
        cert.as_ref().map(|c| certificate_info(c))
    }

    /// The provider's signature algorithms: the handshake signature is checked with these
    /// whether the server is trusted by chain or by pin.
    fn algorithms(&self) -> &WebPkiSupportedAlgorithms {
        &self.trust.provider.signature_verification_algorithms
    }

    pub fn verification(&self) -> Verification {
        if self.pin.is_some() {
            Verification::Pinned
        } else {
            Verification::Trusted
        }
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.presented.lock().unwrap() = Some(end_entity.clone().into_owned());
        // A pin accepts its certificate whatever the certificate says of itself: a self-signed
        // certificate made with `openssl req -x509` is marked CA:TRUE, which the chain check
        // rightly refuses as a server's own (CaUsedAsEndEntity), and pinning is how such a
        // server is trusted (tests/tests/proxy/pin.rs).
        match self.pin {
            Some(pin) if Sha256::digest(end_entity.as_ref()).as_slice() == pin => {
                Ok(ServerCertVerified::assertion())
            }
            Some(_) => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            )),
            None => self.trust.webpki.verify_server_cert(
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
        verify_tls12_signature(message, cert, dss, self.algorithms())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, self.algorithms())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms().supported_schemes()
    }
}

/// What the app is told about an established session.
pub fn session_info(conn: &rustls::ClientConnection, recorder: &Recorder) -> TlsInfo {
    let certificate = conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|c| certificate_info(c))
        .unwrap_or_else(|| CertificateInfo {
            subject: String::new(),
            sha256: String::new(),
        });
    TlsInfo {
        protocol: conn
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default(),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default(),
        certificate,
        verification: recorder.verification(),
    }
}

/// Turns a failed handshake into the tunnel's typed error.
pub fn handshake_error(err: &std::io::Error, recorder: &Recorder) -> TunnelError {
    let rustls_err = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_err {
        Some(rustls::Error::InvalidCertificate(why)) => TunnelError {
            kind: ErrorKind::TlsVerificationFailed,
            message: match (why, recorder.pin.is_some()) {
                (rustls::CertificateError::ApplicationVerificationFailure, true) => {
                    "certificate does not match the pinned SHA-256".to_string()
                }
                _ => format!("certificate not trusted: {why:?}"),
            },
            certificate: recorder.presented(),
        },
        Some(other) => TunnelError::new(ErrorKind::TlsHandshakeFailed, other.to_string()),
        None => TunnelError::new(ErrorKind::TlsHandshakeFailed, err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins() {
        let hex64 = "00".repeat(31) + "ff";
        assert_eq!(parse_pin(&hex64).unwrap()[31], 0xff);
        let colons: Vec<String> = (0..32).map(|i| format!("{i:02X}")).collect();
        assert_eq!(parse_pin(&colons.join(":")).unwrap()[31], 31);
        assert_eq!(parse_pin("abcd"), None);
        assert_eq!(parse_pin(&"zz".repeat(32)), None);
        assert_eq!(parse_pin(""), None);
    }

    #[test]
    fn aes_128_gcm_first_and_nothing_else_changed() {
        let default = rustls::crypto::ring::default_provider();
        let ours = prefer_aes_128(rustls::crypto::ring::default_provider());
        let names = |p: &CryptoProvider| -> Vec<String> {
            p.cipher_suites
                .iter()
                .map(|s| format!("{:?}", s.suite()))
                .collect()
        };
        assert_eq!(names(&ours)[0], "TLS13_AES_128_GCM_SHA256");
        let (mut a, mut b) = (names(&ours), names(&default));
        a.sort();
        b.sort();
        assert_eq!(a, b);
        // TLS 1.3 suites still come before TLS 1.2 ones.
        let first_12 = ours
            .cipher_suites
            .iter()
            .position(|s| s.tls13().is_none())
            .unwrap();
        assert!(
            ours.cipher_suites[first_12..]
                .iter()
                .all(|s| s.tls13().is_none())
        );
    }

    #[test]
    fn the_default_trust_has_roots() {
        assert!(Trust::new(None).is_ok());
        let missing = Trust::new(Some(Path::new("/nonexistent/ca.pem")));
        assert!(matches!(missing, Err(TlsSetupError::CaFile(..))));
    }
}
