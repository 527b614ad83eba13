//! Fixtures shared by the integration tests: a real Dovecot POP3 server, test certificates.
