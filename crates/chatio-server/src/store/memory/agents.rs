use chatio_wire::{ChatId, UserId};

use super::MemoryStore;
use crate::identity::secret::Digest;
use crate::store::{Agent, AgentStore, IssuedAgentToken, Result, StoredPresence};

impl AgentStore for MemoryStore {
    fn agent(&mut self, id: &UserId) -> Result<Option<Agent>> {
        Ok(self.agents.iter().find(|a| &a.id == id).cloned())
    }

    fn agents(&mut self) -> Result<Vec<Agent>> {
        Ok(self.agents.clone())
    }

    fn put_agent(&mut self, agent: Agent) -> Result<()> {
        match self.agents.iter_mut().find(|a| a.id == agent.id) {
            Some(a) => *a = agent,
            None => self.agents.push(agent),
        }
        Ok(())
    }

    fn issued_agent_tokens(&mut self) -> Result<Vec<IssuedAgentToken>> {
        Ok(self.agent_tokens.clone())
    }

    fn put_issued_agent_token(&mut self, token: IssuedAgentToken) -> Result<()> {
        self.agent_tokens.retain(|t| t.hash != token.hash);
        self.agent_tokens.push(token);
        Ok(())
    }

    fn delete_issued_agent_tokens(&mut self, hashes: &[Digest]) -> Result<()> {
        self.agent_tokens.retain(|t| !hashes.contains(&t.hash));
        Ok(())
    }

    fn agent_presences(&mut self) -> Result<Vec<StoredPresence>> {
        let mut all: Vec<StoredPresence> = self.agent_presence.values().cloned().collect();
        all.sort_by(|a, b| (a.license, &a.agent).cmp(&(b.license, &b.agent)));
        Ok(all)
    }

    fn put_agent_presence(&mut self, presence: StoredPresence) -> Result<()> {
        self.agent_presence.insert((presence.license, presence.agent.clone()), presence);
        Ok(())
    }

    fn queued_chats(&mut self) -> Result<Vec<(u64, ChatId)>> {
        Ok(self.agent_queue.clone())
    }

    fn queue_chat(&mut self, license: u64, chat: &ChatId) -> Result<()> {
        if !self.agent_queue.iter().any(|(l, c)| *l == license && c == chat) {
            self.agent_queue.push((license, chat.clone()));
        }
        Ok(())
    }

    fn unqueue_chat(&mut self, license: u64, chat: &ChatId) -> Result<()> {
        self.agent_queue.retain(|(l, c)| !(*l == license && c == chat));
        Ok(())
    }
}
