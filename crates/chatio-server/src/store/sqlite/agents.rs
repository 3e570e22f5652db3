use chatio_wire::UserId;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, failed, json};
use crate::store::{Agent, AgentStore, Result};

impl AgentStore for SqliteStore {
    fn agent(&mut self, id: &UserId) -> Result<Option<Agent>> {
        let data: Option<String> = self
            .conn
            .prepare_cached("SELECT data FROM agents WHERE id = ?1")
            .and_then(|mut s| s.query_row(params![id.as_str()], |r| r.get(0)).optional())
            .map_err(failed("cannot read an agent"))?;
        data.map(|d| serde_json::from_str(&d).map_err(json)).transpose()
    }

    fn agents(&mut self) -> Result<Vec<Agent>> {
        let rows: Vec<String> = self
            .conn
            .prepare_cached("SELECT data FROM agents ORDER BY seq")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(failed("cannot list agents"))?;
        rows.iter().map(|d| serde_json::from_str(d).map_err(json)).collect()
    }

    fn put_agent(&mut self, agent: Agent) -> Result<()> {
        let data = serde_json::to_string(&agent).map_err(json)?;
        self.conn
            .prepare_cached("INSERT INTO agents (id, data) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET data = ?2")
            .and_then(|mut s| s.execute(params![agent.id.as_str(), data]))
            .map_err(failed("cannot write an agent"))?;
        Ok(())
    }
}
