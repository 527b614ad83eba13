//! The POP3 client (RFC 1939, 2449, 2595, 5034, 3206).
