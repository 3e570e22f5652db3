use chatio_wire::UserId;

use super::MemoryStore;
use crate::store::{Agent, AgentStore, Result};

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
}
