//! The Postbag proxy: relays POP3 bytes between a browser WebSocket and a mail server over TCP or
//! TLS, and serves the built web app.
//!
//! Architecture invariant: the proxy never parses POP3. It sees only the tunnel's control
//! messages and opaque bytes.
