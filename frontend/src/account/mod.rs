//! Accounts: server defaults from the address, the one mapping of an account to a tunnel target
//! and a client configuration (`connection.rs`), the setup form as a value (`form.rs`), and
//! sealing what the user asked to remember (the password, and the proxy's access code with it),
//! and "Sign in with …" (`oauth/`: OAuth 2 with PKCE, tokens sealed like passwords); the
//! secrets of accounts checked in the background, sealed under this device's key
//! (`background.rs`).

pub mod background;
mod connection;
pub mod crypto;
mod expire;
pub mod form;
pub mod oauth;
mod providers;
pub mod remembered;

pub use connection::{client_config, scram_nonce, target};
pub use expire::expire_warning;
pub use providers::{Guess, guess, submission_guess};
