use chatio_wire::{ChatId, UserId};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, failed, json};
use crate::identity::secret::Digest;
use crate::store::{Agent, AgentStore, IssuedAgentToken, Result, StoredPresence};

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
        self.write(
            "cannot write an agent",
            "INSERT INTO agents (id, data) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET data = ?2",
            params![agent.id.as_str(), data],
        )?;
        Ok(())
    }

    fn issued_agent_tokens(&mut self) -> Result<Vec<IssuedAgentToken>> {
        let rows: Vec<(Vec<u8>, i64, String, i64)> = self
            .conn
            .prepare_cached("SELECT hash, license, agent, expires_at FROM agent_tokens ORDER BY seq")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect())
            .map_err(failed("cannot list agent tokens"))?;
        Ok(rows
            .into_iter()
            .filter_map(|(hash, license, agent, expires_at)| {
                let hash: [u8; 32] = hash.try_into().ok()?;
                Some(IssuedAgentToken {
                    hash: Digest::from_bytes(hash),
                    license: u64::try_from(license).ok()?,
                    agent,
                    expires_at: u64::try_from(expires_at).unwrap_or(0),
                })
            })
            .collect())
    }

    fn put_issued_agent_token(&mut self, token: IssuedAgentToken) -> Result<()> {
        let license = i64::try_from(token.license).unwrap_or(i64::MAX);
        let expires_at = i64::try_from(token.expires_at).unwrap_or(i64::MAX);
        self.write(
            "cannot write an agent token",
            "INSERT INTO agent_tokens (hash, license, agent, expires_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (hash) DO NOTHING",
            params![token.hash.as_bytes().as_slice(), license, token.agent, expires_at],
        )?;
        Ok(())
    }

    fn delete_issued_agent_tokens(&mut self, hashes: &[Digest]) -> Result<()> {
        for hash in hashes {
            self.write(
                "cannot delete an agent token",
                "DELETE FROM agent_tokens WHERE hash = ?1",
                params![hash.as_bytes().as_slice()],
            )?;
        }
        Ok(())
    }

    fn agent_presences(&mut self) -> Result<Vec<StoredPresence>> {
        let rows: Vec<(i64, String, bool, bool, Option<i64>)> = self
            .conn
            .prepare_cached(
                "SELECT license, agent, accepting, online, gone_since FROM agent_presence ORDER BY license, agent",
            )
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?.collect()
            })
            .map_err(failed("cannot list the agents' presence"))?;
        Ok(rows
            .into_iter()
            .filter_map(|(license, agent, accepting, online, gone_since)| {
                Some(StoredPresence {
                    license: u64::try_from(license).ok()?,
                    agent,
                    accepting,
                    online,
                    gone_since: gone_since.map(|t| u64::try_from(t).unwrap_or(0)),
                })
            })
            .collect())
    }

    fn put_agent_presence(&mut self, p: StoredPresence) -> Result<()> {
        let license = i64::try_from(p.license).unwrap_or(i64::MAX);
        let gone_since = p.gone_since.map(|t| i64::try_from(t).unwrap_or(i64::MAX));
        self.write(
            "cannot write an agent's presence",
            "INSERT INTO agent_presence (license, agent, accepting, online, gone_since) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (license, agent) \
                 DO UPDATE SET accepting = ?3, online = ?4, gone_since = ?5",
            params![license, p.agent, p.accepting, p.online, gone_since],
        )?;
        Ok(())
    }

    fn queued_chats(&mut self) -> Result<Vec<(u64, ChatId)>> {
        let rows: Vec<(i64, String)> = self
            .conn
            .prepare_cached("SELECT license, chat FROM agent_queue ORDER BY seq")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(failed("cannot list the queued chats"))?;
        Ok(rows.into_iter().filter_map(|(l, c)| Some((u64::try_from(l).ok()?, ChatId::new(c)))).collect())
    }

    fn queue_chat(&mut self, license: u64, chat: &ChatId) -> Result<()> {
        let license = i64::try_from(license).unwrap_or(i64::MAX);
        self.write(
            "cannot queue a chat",
            "INSERT INTO agent_queue (license, chat) VALUES (?1, ?2) ON CONFLICT (license, chat) DO NOTHING",
            params![license, chat.as_str()],
        )?;
        Ok(())
    }

    fn unqueue_chat(&mut self, license: u64, chat: &ChatId) -> Result<()> {
        let license = i64::try_from(license).unwrap_or(i64::MAX);
        self.write(
            "cannot take a chat out of the queue",
            "DELETE FROM agent_queue WHERE license = ?1 AND chat = ?2",
            params![license, chat.as_str()],
        )?;
        Ok(())
    }
}
