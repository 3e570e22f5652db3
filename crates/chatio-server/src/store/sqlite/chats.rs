use chatio_wire::{ChatId, Event, EventId, Recipients, ThreadId, UserId};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, failed, json};
use crate::store::{ChatRec, ChatStore, LastEvent, Result, StoreError, ThreadRec};

fn decode<T: serde::de::DeserializeOwned>(data: &str) -> Result<T> {
    serde_json::from_str(data).map_err(json)
}

fn decode_all<T: serde::de::DeserializeOwned>(rows: &[String]) -> Result<Vec<T>> {
    rows.iter().map(|d| decode(d)).collect()
}

impl SqliteStore {
    fn exists(&mut self, sql: &str, p: impl rusqlite::Params) -> Result<bool> {
        self.conn.prepare_cached(sql).and_then(|mut s| s.exists(p)).map_err(failed("cannot read the database"))
    }

    /// The first column of every row, as text.
    fn texts(&mut self, sql: &str, p: impl rusqlite::Params) -> Result<Vec<String>> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.query_map(p, |r| r.get(0))?.collect())
            .map_err(failed("cannot read events"))
    }
}

impl ChatStore for SqliteStore {
    fn chat(&mut self, license: u64, id: &ChatId) -> Result<Option<ChatRec>> {
        if let Some(chat) = self.hot.chat(license, id) {
            return Ok(Some(chat.clone()));
        }
        let data: Option<String> = self
            .conn
            .prepare_cached("SELECT data FROM chats WHERE license = ?1 AND id = ?2")
            .and_then(|mut s| s.query_row(params![license as i64, id.as_str()], |r| r.get(0)).optional())
            .map_err(failed("cannot read a chat"))?;
        let chat: Option<ChatRec> = data.map(|d| decode(&d)).transpose()?;
        if let Some(c) = &chat {
            self.hot.put_chat(license, c);
        }
        Ok(chat)
    }

    fn put_chat(&mut self, license: u64, chat: ChatRec) -> Result<()> {
        let data = serde_json::to_string(&chat).map_err(json)?;
        let updated = self.write(
            "cannot write a chat",
            "UPDATE chats SET activity_seq = ?3, data = ?4 WHERE license = ?1 AND id = ?2",
            params![license as i64, chat.id.as_str(), chat.activity_seq as i64, data],
        )?;
        if updated == 0 {
            self.write(
                "cannot write a chat",
                "INSERT INTO chats (license, id, customer, created, activity_seq, data) VALUES (?1, ?2, ?3, \
                     (SELECT coalesce(max(created), 0) + 1 FROM chats WHERE license = ?1 AND customer = ?3), ?4, ?5)",
                params![license as i64, chat.id.as_str(), chat.customer.as_str(), chat.activity_seq as i64, data],
            )?;
        }
        self.hot.put_chat(license, &chat);
        Ok(())
    }

    fn chats_of(&mut self, license: u64, customer: &UserId) -> Result<Vec<ChatId>> {
        self.conn
            .prepare_cached("SELECT id FROM chats WHERE license = ?1 AND customer = ?2 ORDER BY created")
            .and_then(|mut s| {
                s.query_map(params![license as i64, customer.as_str()], |r| Ok(ChatId::new(r.get::<_, String>(0)?)))?
                    .collect()
            })
            .map_err(failed("cannot list chats"))
    }

    fn chat_count(&mut self, license: u64, customer: &UserId) -> Result<usize> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM chats WHERE license = ?1 AND customer = ?2")
            .and_then(|mut s| s.query_row(params![license as i64, customer.as_str()], |r| r.get(0)))
            .map_err(failed("cannot count chats"))?;
        Ok(n as usize)
    }

    fn recent_chats(
        &mut self,
        license: u64,
        customer: &UserId,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<ChatRec>, usize)> {
        let total = self.chat_count(license, customer)?;
        let rows: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT data FROM chats WHERE license = ?1 AND customer = ?2 ORDER BY activity_seq DESC \
                 LIMIT ?3 OFFSET ?4",
            )
            .and_then(|mut s| {
                s.query_map(params![license as i64, customer.as_str(), limit as i64, offset as i64], |r| r.get(0))?
                    .collect()
            })
            .map_err(failed("cannot list chats"))?;
        Ok((decode_all(&rows)?, total))
    }

    fn license_chats(&mut self, license: u64, offset: usize, limit: usize) -> Result<Vec<ChatRec>> {
        let rows: Vec<String> = self
            .conn
            .prepare_cached("SELECT data FROM chats WHERE license = ?1 ORDER BY activity_seq DESC LIMIT ?2 OFFSET ?3")
            .and_then(|mut s| {
                s.query_map(params![license as i64, limit as i64, offset as i64], |r| r.get(0))?.collect()
            })
            .map_err(failed("cannot list chats"))?;
        decode_all(&rows)
    }

    fn agent_load(&mut self, license: u64, agent: &UserId) -> Result<usize> {
        // The agents are inside the chat's JSON record: the active threads of the license
        // are found by index, their chats' agent lists read with json_each.
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM threads t JOIN chats c ON c.license = t.license AND c.id = t.chat \
                 WHERE t.license = ?1 AND t.active = 1 \
                 AND EXISTS (SELECT 1 FROM json_each(c.data, '$.agents') WHERE value = ?2)",
            )
            .and_then(|mut s| s.query_row(params![license as i64, agent.as_str()], |r| r.get(0)))
            .map_err(failed("cannot count an agent's chats"))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn old_threads(&mut self, before: u64, limit: usize) -> Result<Vec<(u64, ChatId, ThreadId)>> {
        self.conn
            .prepare_cached(
                "SELECT license, chat, id FROM threads t WHERE active = 0 AND last_activity < ?1 \
                 AND ord < (SELECT max(ord) FROM threads x WHERE x.license = t.license AND x.chat = t.chat) LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![before as i64, limit as i64], |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        ChatId::new(r.get::<_, String>(1)?),
                        ThreadId::new(r.get::<_, String>(2)?),
                    ))
                })?
                .collect()
            })
            .map_err(failed("cannot list old threads"))
    }

    fn delete_thread(&mut self, license: u64, chat: &ChatId, thread: &ThreadId) -> Result<()> {
        let key = params![license as i64, chat.as_str(), thread.as_str()];
        self.write(
            "cannot delete a thread",
            "DELETE FROM events WHERE license = ?1 AND chat = ?2 AND thread = ?3",
            key,
        )?;
        self.write("cannot delete a thread", "DELETE FROM threads WHERE license = ?1 AND chat = ?2 AND id = ?3", key)?;
        self.hot.deleted_thread(license, chat);
        Ok(())
    }

    fn idle_chats(&mut self, idle_since: u64, limit: usize) -> Result<Vec<(u64, ChatId)>> {
        self.conn
            .prepare_cached(
                "SELECT license, chat FROM threads WHERE active = 1 AND last_activity <= ?1 \
                 ORDER BY last_activity LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![idle_since as i64, limit as i64], |r| {
                    Ok((r.get::<_, i64>(0)? as u64, ChatId::new(r.get::<_, String>(1)?)))
                })?
                .collect()
            })
            .map_err(failed("cannot list idle chats"))
    }

    fn threads(&mut self, license: u64, chat: &ChatId) -> Result<Vec<ThreadRec>> {
        let rows = self.texts(
            "SELECT data FROM threads WHERE license = ?1 AND chat = ?2 ORDER BY ord",
            params![license as i64, chat.as_str()],
        )?;
        decode_all(&rows)
    }

    fn thread(&mut self, license: u64, chat: &ChatId, id: &ThreadId) -> Result<Option<ThreadRec>> {
        let rows = self.texts(
            "SELECT data FROM threads WHERE license = ?1 AND chat = ?2 AND id = ?3",
            params![license as i64, chat.as_str(), id.as_str()],
        )?;
        rows.first().map(|d| decode(d)).transpose()
    }

    fn last_thread(&mut self, license: u64, chat: &ChatId) -> Result<Option<ThreadRec>> {
        if let Some(thread) = self.hot.last_thread(license, chat) {
            return Ok(Some(thread.clone()));
        }
        let rows = self.texts(
            "SELECT data FROM threads WHERE license = ?1 AND chat = ?2 ORDER BY ord DESC LIMIT 1",
            params![license as i64, chat.as_str()],
        )?;
        let thread: Option<ThreadRec> = rows.first().map(|d| decode(d)).transpose()?;
        if let Some(t) = &thread {
            self.hot.put_last_thread(license, chat, t);
        }
        Ok(thread)
    }

    fn put_thread(&mut self, license: u64, chat: &ChatId, thread: ThreadRec) -> Result<()> {
        let data = serde_json::to_string(&thread).map_err(json)?;
        // A stored thread whose indexed columns did not change (every event but a thread's
        // first in a second): only its record is rewritten, none of the indexes.
        let same = self.write(
            "cannot write a thread",
            "UPDATE threads SET data = ?4 \
                 WHERE license = ?1 AND chat = ?2 AND id = ?3 AND ord = ?5 AND active = ?6 AND last_activity = ?7",
            params![
                license as i64,
                chat.as_str(),
                thread.id.as_str(),
                data,
                thread.order as i64,
                thread.active,
                thread.last_activity as i64
            ],
        )?;
        if same == 1 {
            self.hot.wrote_thread(license, chat, &thread);
            return Ok(());
        }
        let known = self.hot.chat(license, chat).is_some();
        if !known
            && !self
                .exists("SELECT 1 FROM chats WHERE license = ?1 AND id = ?2", params![license as i64, chat.as_str()])?
        {
            return Err(StoreError::new("no such chat"));
        }
        self.write(
            "cannot write a thread",
            "INSERT OR REPLACE INTO threads (license, chat, id, ord, active, last_activity, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                license as i64,
                chat.as_str(),
                thread.id.as_str(),
                thread.order as i64,
                thread.active,
                thread.last_activity as i64,
                data
            ],
        )?;
        self.hot.wrote_thread(license, chat, &thread);
        Ok(())
    }

    fn add_event(&mut self, license: u64, chat: &ChatId, thread: &ThreadId, event: &Event) -> Result<()> {
        let body = serde_json::to_string(event).map_err(json)?;
        // One statement: the insert happens only if the thread exists.
        let added = self.write(
            "cannot write an event",
            "INSERT INTO events (license, chat, ord, thread, id, type, agents_only, body) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 \
                 WHERE EXISTS (SELECT 1 FROM threads WHERE license = ?1 AND chat = ?2 AND id = ?4)",
            params![
                license as i64,
                chat.as_str(),
                event.order as i64,
                thread.as_str(),
                event.id.as_str(),
                event.event_type(),
                event.recipients == Some(Recipients::Agents),
                body
            ],
        )?;
        if added == 0 {
            return Err(StoreError::new("no such thread"));
        }
        Ok(())
    }

    fn put_event(&mut self, license: u64, chat: &ChatId, thread: &ThreadId, event: Event) -> Result<()> {
        let body = serde_json::to_string(&event).map_err(json)?;
        let n = self.write(
            "cannot write an event",
            "UPDATE events SET body = ?5, type = ?6, agents_only = ?7 \
                 WHERE license = ?1 AND chat = ?2 AND thread = ?3 AND id = ?4",
            params![
                license as i64,
                chat.as_str(),
                thread.as_str(),
                event.id.as_str(),
                body,
                event.event_type(),
                event.recipients == Some(Recipients::Agents)
            ],
        )?;
        if n == 0 {
            return Err(StoreError::new("no such event"));
        }
        Ok(())
    }

    fn event(&mut self, license: u64, chat: &ChatId, thread: &ThreadId, id: &EventId) -> Result<Option<Event>> {
        let rows = self.texts(
            "SELECT body FROM events WHERE license = ?1 AND chat = ?2 AND thread = ?3 AND id = ?4",
            params![license as i64, chat.as_str(), thread.as_str(), id.as_str()],
        )?;
        rows.first().map(|d| decode(d)).transpose()
    }

    fn events(&mut self, license: u64, chat: &ChatId, thread: &ThreadId) -> Result<Vec<Event>> {
        let rows = self.texts(
            "SELECT body FROM events WHERE license = ?1 AND chat = ?2 AND thread = ?3 ORDER BY ord",
            params![license as i64, chat.as_str(), thread.as_str()],
        )?;
        decode_all(&rows)
    }

    fn last_events(&mut self, license: u64, chat: &ChatId) -> Result<Vec<LastEvent>> {
        // One index seek per type: the newest event of each type that customers see.
        let rows: Vec<(String, i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT e.body, t.ord, e.thread FROM events e \
                 JOIN threads t ON t.license = e.license AND t.chat = e.chat AND t.id = e.thread \
                 WHERE e.license = ?1 AND e.chat = ?2 AND e.agents_only = 0 AND e.ord = ( \
                   SELECT max(x.ord) FROM events x \
                   WHERE x.license = e.license AND x.chat = e.chat AND x.type = e.type AND x.agents_only = 0)",
            )
            .and_then(|mut s| {
                s.query_map(params![license as i64, chat.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .map_err(failed("cannot read the last events"))?;
        rows.into_iter()
            .map(|(body, order, thread)| {
                Ok(LastEvent { thread: ThreadId::new(thread), thread_order: order as u64, event: decode(&body)? })
            })
            .collect()
    }
}
