//! Full-text search over every stored message, offline (`docs/search-index.md`).
//!
//! - `blocks.rs`: block postings packed and unpacked, and the sorted-list operations of a
//!   query (union, intersection, tombstones out); pure.
//! - `normalise.rs`: text to terms (NFKD, diacritics folded, lowercase, split), shared by
//!   indexing and queries.
//! - `document.rs`: what of a message is searchable (decoded headers, bodies, HTML as text,
//!   attachment names), bounded per message; the phrase check on decoded text.
//! - `edges.rs`: each term's first three characters as a term of its own, so a short prefix
//!   reads a few edge blocks, not every term it starts (pure).
//! - `query.rs`: the search box's language, parsed (pure).
//! - `highlight.rs`: the reader's text split into matched and unmatched runs.
//! - `indexer.rs`: one slice of indexing (queued messages → postings); `find.rs`: a query
//!   answered from the index and the list's summaries, ranked.
//!
//! The index itself lives in IndexedDB (`store/search.rs`); `model/search.rs` runs the
//! indexer in slices after each commit and the search box's queries.

pub mod blocks;
pub mod document;
pub mod edges;
pub mod find;
pub mod highlight;
pub mod indexer;
pub mod normalise;
pub mod query;

pub use query::{Phrase, Query, QueryError, Word, parse};
