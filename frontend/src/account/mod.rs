//! Account setup helpers: server defaults from the address, and sealing remembered passwords.

pub mod crypto;
mod providers;

pub use providers::{Guess, guess};
