//! Servers without UIDL (the command answered `-ERR`): each listed message is named by its
//! headers instead, the way fetchmail and getmail fall back. A `TOP n 0` per message gives its
//! Message-ID, Date and From (`crate::store::identity`); with the listed size they make a key
//! ([`header_key`]) that the planner uses as the UIDL, so every rule of the ledger holds: a
//! message is downloaded once, deleted only once stored and confirmed by `TOP n 0` again.
//!
//! Conservative where the headers do not tell messages apart: a message without an identity
//! (no Message-ID, and not both Date and From) gets no key and is left alone, neither
//! downloaded nor deleted ([`Notice::HeadersOnly`]); two messages with one key are left alone as
//! a shared UIDL is. A `TOP` refused for one message (another program deleted it since LIST)
//! leaves that one alone this time; a server that refuses `TOP` for every message has neither
//! UIDL nor TOP and cannot be synced ([`SyncError::NoUidl`]).

use postbag_protocol::pop3::{Command, CommandId};
use sha2::{Digest, Sha256};

use super::state::State;
use super::{Mode, Run, SyncCtx};
use crate::store::identity;
use crate::sync::error::SyncError;
use crate::sync::report::Notice;

/// The most of one `TOP n 0` reply kept: the identity headers come long before.
const MAX_HEADERS: usize = 256 << 10;

/// The key a message of a server without UIDL is stored and remembered under: a hash of its
/// identity and listed size. It holds a space, which RFC 1939 does not allow in a UIDL, so it
/// never collides with a server's UIDL (should the server list UIDLs one day).
pub fn header_key(identity: &str, size: Option<u64>) -> String {
    let mut h = Sha256::new();
    h.update(identity.as_bytes());
    h.update([0]);
    h.update(size.map(|s| s.to_string()).unwrap_or_default().as_bytes());
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("hdr {hex}")
}

/// Naming the listed messages by their headers: the `TOP n 0` replies still owed.
pub(super) struct Identify {
    pub sizes: Vec<(u32, u64)>,
    /// By command: the message number.
    pub owed: std::collections::HashMap<CommandId, u32>,
    /// The headers of the reply being received (replies come in order).
    pub current: Vec<u8>,
    /// (number, key) of each message named so far.
    pub keys: Vec<(u32, String)>,
    /// Messages without an identity: left alone.
    pub unnamed: Vec<u32>,
    /// Messages whose `TOP` was refused: left alone this time.
    pub refused: Vec<u32>,
}

impl Run<'_> {
    /// UIDL was refused and LIST answered: ask every listed message's headers.
    pub(super) async fn identify(
        &mut self,
        ctx: &SyncCtx<'_>,
        sizes: &[(u32, u64)],
    ) -> Result<(), SyncError> {
        if sizes.is_empty() {
            self.outcome.notices.push(Notice::HeadersOnly {
                unnamed: Vec::new(),
                refused: Vec::new(),
            });
            return self.planned(ctx, &[], sizes).await;
        }
        let mut owed = std::collections::HashMap::new();
        for (n, _) in sizes {
            let id = self.client.enqueue(Command::Top { msg: *n, lines: 0 })?;
            owed.insert(id, *n);
        }
        self.state = State::Identifying(Identify {
            sizes: sizes.to_vec(),
            owed,
            current: Vec::new(),
            keys: Vec::new(),
            unnamed: Vec::new(),
            refused: Vec::new(),
        });
        Ok(())
    }

    /// A chunk of a `TOP n 0` reply while identifying; `false` if it is not one.
    pub(super) fn identify_chunk(&mut self, id: CommandId, bytes: &[u8]) -> bool {
        let State::Identifying(i) = &mut self.state else {
            return false;
        };
        if !i.owed.contains_key(&id) {
            return false;
        }
        let room = MAX_HEADERS.saturating_sub(i.current.len());
        i.current.extend_from_slice(&bytes[..bytes.len().min(room)]);
        true
    }

    /// A `TOP n 0` reply ended (`refused`: answered `-ERR`); once the last is in, the plan is
    /// made from the keys. `false` if it is not one.
    pub(super) async fn identify_end(
        &mut self,
        id: CommandId,
        refused: bool,
    ) -> Result<bool, SyncError> {
        let State::Identifying(i) = &mut self.state else {
            return Ok(false);
        };
        let Some(n) = i.owed.remove(&id) else {
            return Ok(false);
        };
        let headers = std::mem::take(&mut i.current);
        if refused {
            // One message's headers refused (most often: deleted by another program since
            // LIST): only that one goes unnamed. Whether the server has TOP at all is known once
            // every reply is in.
            i.refused.push(n);
        } else {
            let size = i.sizes.iter().find(|(m, _)| *m == n).map(|(_, s)| *s);
            match identity(&headers) {
                Some(id) => i.keys.push((n, header_key(&id, size))),
                None => i.unnamed.push(n),
            }
        }
        if !i.owed.is_empty() {
            return Ok(true);
        }
        if i.refused.len() == i.sizes.len() {
            // Neither UIDL nor TOP: nothing tells this session's messages from the stored ones.
            return Err(SyncError::NoUidl);
        }
        let State::Identifying(done) = std::mem::replace(&mut self.state, State::LoggingIn) else {
            unreachable!("matched above");
        };
        let Identify {
            sizes,
            mut keys,
            unnamed,
            mut refused,
            ..
        } = done;
        keys.sort_unstable_by_key(|(n, _)| *n);
        refused.sort_unstable();
        self.outcome
            .notices
            .push(Notice::HeadersOnly { unnamed, refused });
        self.state = State::Listing { uidls: None };
        if let Mode::Sync(ctx) = self.mode {
            self.planned(&ctx, &keys, &sizes).await?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_key_is_its_identity_and_size_and_never_a_server_uidl() {
        let a = header_key("message-id:<a@x>", Some(100));
        assert_eq!(a, header_key("message-id:<a@x>", Some(100)));
        assert_ne!(a, header_key("message-id:<a@x>", Some(101)), "another size");
        assert_ne!(
            a,
            header_key("message-id:<b@x>", Some(100)),
            "another message"
        );
        assert_ne!(a, header_key("message-id:<a@x>", None));
        assert!(a.contains(' ') && a.len() == 4 + 64);
    }
}
