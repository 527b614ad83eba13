//! The SMTP client driven over any byte transport: the tunnel, or a direct TLS connection.

use std::net::SocketAddr;
use std::sync::Arc;

use postbag_protocol::smtp::{Client, ClientConfig, Envelope, Event};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Bytes to the server and back. `recv` is `None` when the connection ended.
pub trait Wire {
    async fn send(&mut self, bytes: &[u8]);
    async fn recv(&mut self) -> Option<Vec<u8>>;
}

/// Implicit TLS straight to the server, for comparison with the tunnel.
pub struct Direct(TlsStream<TcpStream>);

impl Direct {
    pub async fn connect(addr: SocketAddr, tls: Arc<rustls::ClientConfig>) -> Direct {
        let tcp = TcpStream::connect(addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        Direct(TlsConnector::from(tls).connect(name, tcp).await.unwrap())
    }
}

impl Wire for Direct {
    async fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).await.unwrap();
        self.0.flush().await.unwrap();
    }

    async fn recv(&mut self) -> Option<Vec<u8>> {
        let mut buf = vec![0; 64 * 1024];
        match self.0.read(&mut buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => {
                buf.truncate(n);
                Some(buf)
            }
        }
    }
}

/// One session: log in, send every message to the envelope's recipients, QUIT. Returns how
/// many messages the server took; any refusal or protocol error is an error.
pub async fn submit(
    wire: &mut impl Wire,
    config: ClientConfig,
    envelope: Envelope,
    messages: &[Vec<u8>],
) -> Result<usize, String> {
    let mut client = Client::new(config);
    let mut accepted = 0;
    loop {
        while let Some(event) = client.next_event().map_err(|e| e.to_string())? {
            match event {
                Event::Ready { .. } => {
                    for message in messages {
                        client
                            .send(envelope.clone(), message.clone())
                            .map_err(|e| e.to_string())?;
                    }
                    client.quit().map_err(|e| e.to_string())?;
                }
                // The app records "may have been sent" here; the bench has nothing to record.
                Event::ReadyToCommit { message, .. } => {
                    client.commit(message).map_err(|e| e.to_string())?
                }
                Event::Accepted { .. } => accepted += 1,
                Event::Rejected { reply, .. } => return Err(format!("rejected: {reply}")),
                Event::Closed => return Ok(accepted),
                Event::StartTls => return Err("the bench uses implicit TLS".into()),
                _ => {}
            }
        }
        if let Some(out) = client.take_outgoing() {
            wire.send(&out).await;
            continue;
        }
        match wire.recv().await {
            Some(bytes) => client.receive(&bytes),
            None => return Err(client.connection_lost().to_string()),
        }
    }
}
