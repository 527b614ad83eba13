//! Types of the WebSocket tunnel between the web app and the proxy (see docs/tunnel-protocol.md).
