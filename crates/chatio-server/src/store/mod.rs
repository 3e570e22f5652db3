//! The storage boundary: everything the server keeps about customers, tokens, agents,
//! chats, threads, events and files goes through the [`Store`] trait.
//!
//! The state layer (`crate::state`) holds one `Box<dyn Store>` behind its lock and hands it
//! to the actions; nothing else touches it. Every method is synchronous (it runs under that
//! lock), takes plain keys, returns owned records and is fallible: an implementation on a
//! database reports a full disk or an I/O error as a [`StoreError`], which the request that
//! hit it answers as an `internal` error. [`MemoryStore`] is the in-memory implementation
//! (the default: tests, the demo), [`SqliteStore`] the one in a data directory (`--data`);
//! both run the same behaviour suite (`suite.rs`).
//!
//! ## Transactions
//!
//! The state brackets the writes of each request with [`Store::begin`] and
//! [`Store::end`]: `end(true)` keeps them, `end(false)` (the request failed) undoes them
//! where the store can (a database rolls back to the request's start). The actions check
//! everything before they write, so a refused request writes nothing in any store; the
//! rollback is what keeps a storage error half-way through a request from leaving half its
//! writes. [`Store::commit`] makes everything kept so far durable;
//! the state calls it before a request's response and pushes are sent, so that an
//! acknowledged write survives a crash. A store whose commits cost (SQLite) says so with
//! [`Store::groups_commits`]: the state then groups the writes of the requests that arrive
//! while a commit is pending into one transaction, holding their answers until it commits
//! (`crate::state`, group commit). The memory store keeps everything at once and its commit
//! is free.
//!
//! ## Adding data
//!
//! One file per concern, record types next to their trait: `customers.rs`
//! ([`CustomerStore`]), `tokens.rs` ([`TokenStore`]), `identity.rs` ([`IdentityStore`]:
//! refresh-token families, remembered browsers), `agents.rs` ([`AgentStore`]),
//! `chats.rs` ([`ChatStore`]: chats, threads, events), `files.rs` ([`FileStore`]). To add a
//! kind of data:
//!
//! 1. Define its record (plain data, `Clone + Debug`, public-in-crate fields) and a trait
//!    with the operations the actions need, in a new file here (`foo.rs`, `FooStore`) or
//!    the file of its concern. Methods take keys and return owned values, `Result<_>`;
//!    name each query after what it answers (`recent_chats`, `idle_chats`), never expose
//!    a map or an iterator of the implementation. Every list is either bounded by
//!    a limit the protocol or the configuration sets, or paged (`offset`, `limit`).
//! 2. Add the trait to [`Store`]'s supertraits.
//! 3. Implement it for [`MemoryStore`] in `memory/foo.rs`.
//! 4. Add its cases to the behaviour suite (`suite.rs`), which every implementation runs.
//! 5. Implement it for [`SqliteStore`] in `sqlite/foo.rs`, with its tables in a new
//!    migration `sqlite/NNN_foo.sql` listed in `sqlite/mod.rs` (a landed migration is never
//!    edited: a database may already have run it).
//!
//! Secrets (tokens, refresh secrets) are stored so that reading the store does not reveal
//! them: the token trait takes the secret and decides how to keep it.

use std::fmt;

pub use crate::error::StoreError;

mod agents;
mod chats;
mod customers;
mod files;
mod identity;
mod ids;
mod memory;
mod sqlite;
#[cfg(test)]
mod suite;
mod tokens;

pub(crate) use agents::{Agent, AgentStore, IssuedAgentToken, StoredPresence};
pub(crate) use chats::{ChatRec, ChatStore, LastEvent, ThreadRec};
pub(crate) use customers::{Customer, CustomerStore};
pub(crate) use files::{FileRec, FileStore};
pub(crate) use identity::{IdentityStore, Rotation};
pub(crate) use ids::Ids;
pub(crate) use memory::MemoryStore;
pub(crate) use sqlite::{SqliteStore, backup};
pub(crate) use tokens::{TokenRecord, TokenStore};

/// The result of a store operation.
pub(crate) type Result<T> = std::result::Result<T, StoreError>;

/// Everything the server keeps (see the module documentation).
pub(crate) trait Store:
    CustomerStore + TokenStore + IdentityStore + AgentStore + ChatStore + FileStore + Send + fmt::Debug
{
    /// The id generator; its position is part of the stored state (the same seed never
    /// draws an id twice across restarts).
    fn ids(&mut self) -> &mut Ids;

    /// Starts the writes of one request.
    fn begin(&mut self) -> Result<()>;

    /// Ends the writes of the request [`begin`](Self::begin) started: keeps them, or undoes
    /// them.
    fn end(&mut self, keep: bool) -> Result<()>;

    /// Makes every kept write durable (an answer is sent only after it).
    fn commit(&mut self) -> Result<()>;

    /// Whether commits cost enough to be shared by concurrent requests (group commit): the
    /// state then leaves a request's writes uncommitted, holds its answers, and commits
    /// the writes of every request that ran meanwhile at once, before releasing them.
    fn groups_commits(&self) -> bool {
        false
    }

    /// How many commits failed since the store was opened (the writes since the previous
    /// commit were lost each time): whoever holds answers for uncommitted writes compares
    /// it before releasing them.
    fn failed_commits(&self) -> u64 {
        0
    }
}
