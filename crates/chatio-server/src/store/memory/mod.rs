//! The in-memory store: every record in maps, nothing on disk (`--memory`, the tests, the
//! demo). It never fails, and its transactions are free: what a request writes is kept at
//! once (the actions check before they write), and a commit has nothing to do.

use std::collections::HashMap;

use chatio_wire::{ChatId, Event, UserId};

use super::{Agent, ChatRec, Customer, FileRec, Ids, Result, Store, ThreadRec};

mod agents;
mod chats;
mod customers;
mod files;
mod identity;
mod tokens;

/// A thread and its events.
#[derive(Debug)]
struct MemThread {
    rec: ThreadRec,
    events: Vec<Event>,
}

/// A chat and its threads, by order.
#[derive(Debug)]
struct MemChat {
    rec: ChatRec,
    threads: Vec<MemThread>,
}

/// One license's data.
#[derive(Debug, Default)]
struct MemLicense {
    /// In id order, so that the purge can go through them a batch at a time.
    customers: std::collections::BTreeMap<UserId, Customer>,
    chats: HashMap<ChatId, MemChat>,
    /// Chat ids per customer, in creation order.
    chats_of: HashMap<UserId, Vec<ChatId>>,
}

/// Everything in memory (see the module documentation).
#[derive(Debug)]
pub(crate) struct MemoryStore {
    ids: Ids,
    licenses: HashMap<u64, MemLicense>,
    /// Access tokens, kept as digests of their secrets.
    tokens: tokens::AccessTokens,
    /// Refresh-token families and remembered browsers (G11, G36), as digests.
    identity: crate::identity::Identity,
    agents: Vec<Agent>,
    /// Issued agent tokens, oldest first.
    agent_tokens: Vec<crate::store::IssuedAgentToken>,
    /// The agents' presence, by (license, agent).
    agent_presence: HashMap<(u64, String), crate::store::StoredPresence>,
    /// The queues of waiting chats, all licenses', in the order they were queued.
    agent_queue: Vec<(u64, ChatId)>,
    /// Files by path, with how many events refer to each.
    files: HashMap<String, (FileRec, u64)>,
}

impl MemoryStore {
    /// An empty store whose ids come from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            ids: Ids::new(seed),
            licenses: HashMap::new(),
            tokens: Default::default(),
            identity: Default::default(),
            agents: Vec::new(),
            agent_tokens: Vec::new(),
            agent_presence: HashMap::new(),
            agent_queue: Vec::new(),
            files: HashMap::new(),
        }
    }

    fn chat_ref(&self, license: u64, id: &ChatId) -> Option<&MemChat> {
        self.licenses.get(&license)?.chats.get(id)
    }

    fn chat_mut(&mut self, license: u64, id: &ChatId) -> Option<&mut MemChat> {
        self.licenses.get_mut(&license)?.chats.get_mut(id)
    }
}

impl Store for MemoryStore {
    fn ids(&mut self) -> &mut Ids {
        &mut self.ids
    }

    fn begin(&mut self) -> Result<()> {
        Ok(())
    }

    fn end(&mut self, _keep: bool) -> Result<()> {
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        Ok(())
    }
}
