//! The TCP stream under a TLS upstream, read in large pieces.
//!
//! rustls asks its transport for at most 4 KiB per read (its deframer's read size), so a TLS
//! download cost one `recvfrom` per 4 KiB: a quarter of a million system calls per GiB, the
//! largest share of the TLS path's CPU in the relay bench. This reads up to [`AHEAD`] from the
//! socket at once and hands it to rustls from memory. It holds the buffer only while bytes are
//! waiting in it or a transfer is under way: once a read was short (a reply of the conversation)
//! and rustls has taken everything, the buffer goes, so an idle tunnel holds none.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Bytes asked of the socket per read.
pub const AHEAD: usize = 64 * 1024;

/// A read shorter than this ends a transfer: the buffer is given back once drained.
const SHORT: usize = 4 * 1024;

pub struct ReadAhead {
    tcp: TcpStream,
    /// What the socket gave and rustls has not taken yet.
    buf: BytesMut,
    /// Whether the last read from the socket was short.
    short: bool,
}

impl ReadAhead {
    pub fn new(tcp: TcpStream) -> ReadAhead {
        ReadAhead {
            tcp,
            buf: BytesMut::new(),
            short: true,
        }
    }

    /// Bytes held now (tests: nothing while idle).
    #[cfg(test)]
    fn held(&self) -> usize {
        self.buf.capacity()
    }
}

impl AsyncRead for ReadAhead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.buf.is_empty() {
            // A caller asking for as much as a read-ahead would get is read into directly.
            if out.remaining() >= AHEAD {
                return Pin::new(&mut this.tcp).poll_read(cx, out);
            }
            this.buf.reserve(AHEAD);
            let n = std::task::ready!(tokio_util::io::poll_read_buf(
                Pin::new(&mut this.tcp),
                cx,
                &mut this.buf
            ))?;
            this.short = n < SHORT;
        }
        let n = out.remaining().min(this.buf.len());
        out.put_slice(&this.buf[..n]);
        this.buf.advance(n);
        if this.buf.is_empty() && this.short {
            this.buf = BytesMut::new();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for ReadAhead {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, b)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn pair() -> (ReadAhead, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
        (ReadAhead::new(client.unwrap()), server.unwrap().0)
    }

    /// Small reads (rustls's 4 KiB) get every byte in order from one large socket read, and
    /// the buffer goes once a short read has been drained.
    #[tokio::test]
    async fn small_reads_from_one_large_read_in_order() {
        let (mut ahead, mut server) = pair().await;
        let sent: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        server.write_all(&sent).await.unwrap();
        server.shutdown().await.unwrap();
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = ahead.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            assert!(n <= 4096);
            got.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(got, sent);
        assert_eq!(ahead.held(), 0, "drained after a short read: nothing held");
    }

    #[tokio::test]
    async fn a_reply_leaves_nothing_held() {
        let (mut ahead, mut server) = pair().await;
        server.write_all(b"+OK ready\r\n").await.unwrap();
        let mut chunk = [0u8; 4096];
        let n = ahead.read(&mut chunk).await.unwrap();
        assert_eq!(&chunk[..n], b"+OK ready\r\n");
        assert_eq!(ahead.held(), 0);
        ahead.write_all(b"QUIT\r\n").await.unwrap();
        let mut line = [0u8; 6];
        server.read_exact(&mut line).await.unwrap();
        assert_eq!(&line, b"QUIT\r\n");
    }
}
