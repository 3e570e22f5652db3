use chatio_wire::UserId;

use super::MemoryStore;
use crate::identity::secret::Digest;
use crate::store::{Agent, AgentStore, IssuedAgentToken, Result};

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
}
