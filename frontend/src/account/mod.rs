//! Account setup helpers: server defaults from the address, and sealing what the user asked to
//! remember (the password, and the proxy's access code with it).

pub mod crypto;
mod providers;
pub mod remembered;

pub use providers::{Guess, guess};
