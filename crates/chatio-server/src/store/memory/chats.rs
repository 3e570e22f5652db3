use std::collections::BTreeMap;

use chatio_wire::{ChatId, Event, EventId, Recipients, ThreadId, UserId};

use super::{MemChat, MemThread, MemoryStore};
use crate::store::{ChatRec, ChatStore, LastEvent, Result, StoreError, ThreadRec};

fn thread_of<'a>(chat: &'a mut MemChat, id: &ThreadId) -> Option<&'a mut MemThread> {
    chat.threads.iter_mut().find(|t| &t.rec.id == id)
}

/// A write to a chat or thread that does not exist: the caller's bug, reported as an error
/// rather than dropped.
fn missing(what: &str) -> StoreError {
    StoreError::new(format!("no such {what}"))
}

impl ChatStore for MemoryStore {
    fn chat(&mut self, license: u64, id: &ChatId) -> Result<Option<ChatRec>> {
        Ok(self.chat_ref(license, id).map(|c| c.rec.clone()))
    }

    fn put_chat(&mut self, license: u64, chat: ChatRec) -> Result<()> {
        let lic = self.licenses.entry(license).or_default();
        match lic.chats.get_mut(&chat.id) {
            Some(c) => c.rec = chat,
            None => {
                lic.chats_of.entry(chat.customer.clone()).or_default().push(chat.id.clone());
                lic.chats.insert(chat.id.clone(), MemChat { rec: chat, threads: Vec::new() });
            }
        }
        Ok(())
    }

    fn chats_of(&mut self, license: u64, customer: &UserId) -> Result<Vec<ChatId>> {
        Ok(self.licenses.get(&license).and_then(|l| l.chats_of.get(customer)).cloned().unwrap_or_default())
    }

    fn chat_count(&mut self, license: u64, customer: &UserId) -> Result<usize> {
        Ok(self.licenses.get(&license).and_then(|l| l.chats_of.get(customer)).map_or(0, Vec::len))
    }

    fn recent_chats(
        &mut self,
        license: u64,
        customer: &UserId,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<ChatRec>, usize)> {
        let Some(lic) = self.licenses.get(&license) else { return Ok((Vec::new(), 0)) };
        let mut chats: Vec<&ChatRec> = lic
            .chats_of
            .get(customer)
            .into_iter()
            .flatten()
            .filter_map(|id| lic.chats.get(id))
            .map(|c| &c.rec)
            .collect();
        chats.sort_by_key(|c| std::cmp::Reverse(c.activity_seq));
        let total = chats.len();
        Ok((chats.into_iter().skip(offset).take(limit).cloned().collect(), total))
    }

    fn license_chats(&mut self, license: u64, offset: usize, limit: usize) -> Result<Vec<ChatRec>> {
        let Some(lic) = self.licenses.get(&license) else { return Ok(Vec::new()) };
        let mut chats: Vec<&ChatRec> = lic.chats.values().map(|c| &c.rec).collect();
        chats.sort_by_key(|c| std::cmp::Reverse(c.activity_seq));
        Ok(chats.into_iter().skip(offset).take(limit).cloned().collect())
    }

    fn agent_load(&mut self, license: u64, agent: &UserId) -> Result<usize> {
        let Some(lic) = self.licenses.get(&license) else { return Ok(0) };
        Ok(lic
            .chats
            .values()
            .filter(|c| c.threads.last().is_some_and(|t| t.rec.active) && c.rec.agents.contains(agent))
            .count())
    }

    fn old_threads(&mut self, before: u64, limit: usize) -> Result<Vec<(u64, ChatId, ThreadId)>> {
        let mut old = Vec::new();
        for (license, lic) in &self.licenses {
            for chat in lic.chats.values() {
                let last = chat.threads.len().saturating_sub(1);
                for t in &chat.threads[..last] {
                    if old.len() < limit && !t.rec.active && t.rec.last_activity < before {
                        old.push((*license, chat.rec.id.clone(), t.rec.id.clone()));
                    }
                }
            }
        }
        Ok(old)
    }

    fn delete_thread(&mut self, license: u64, chat: &ChatId, thread: &ThreadId) -> Result<()> {
        if let Some(c) = self.licenses.get_mut(&license).and_then(|l| l.chats.get_mut(chat)) {
            c.threads.retain(|t| &t.rec.id != thread);
        }
        Ok(())
    }

    fn idle_chats(&mut self, idle_since: u64, limit: usize) -> Result<Vec<(u64, ChatId)>> {
        // The memory store (tests, the demo) looks at every chat; the SQLite store reads
        // only the idle ones, through its index.
        let mut idle = Vec::new();
        for (license, lic) in &self.licenses {
            for chat in lic.chats.values() {
                let last = chat.threads.last().filter(|t| t.rec.active);
                if let Some(t) = last.filter(|t| t.rec.last_activity <= idle_since) {
                    idle.push((t.rec.last_activity, *license, chat.rec.id.clone()));
                }
            }
        }
        idle.sort();
        Ok(idle.into_iter().take(limit).map(|(_, license, chat)| (license, chat)).collect())
    }

    fn threads(&mut self, license: u64, chat: &ChatId) -> Result<Vec<ThreadRec>> {
        Ok(self.chat_ref(license, chat).map(|c| c.threads.iter().map(|t| t.rec.clone()).collect()).unwrap_or_default())
    }

    fn thread(&mut self, license: u64, chat: &ChatId, id: &ThreadId) -> Result<Option<ThreadRec>> {
        Ok(self.chat_ref(license, chat).and_then(|c| c.threads.iter().find(|t| &t.rec.id == id)).map(|t| t.rec.clone()))
    }

    fn last_thread(&mut self, license: u64, chat: &ChatId) -> Result<Option<ThreadRec>> {
        Ok(self.chat_ref(license, chat).and_then(|c| c.threads.last()).map(|t| t.rec.clone()))
    }

    fn put_thread(&mut self, license: u64, chat: &ChatId, thread: ThreadRec) -> Result<()> {
        let c = self.chat_mut(license, chat).ok_or_else(|| missing("chat"))?;
        match thread_of(c, &thread.id) {
            Some(t) => t.rec = thread,
            None => c.threads.push(MemThread { rec: thread, events: Vec::new() }),
        }
        Ok(())
    }

    fn add_event(&mut self, license: u64, chat: &ChatId, thread: &ThreadId, event: &Event) -> Result<()> {
        let c = self.chat_mut(license, chat).ok_or_else(|| missing("chat"))?;
        let t = thread_of(c, thread).ok_or_else(|| missing("thread"))?;
        t.events.push(event.clone());
        Ok(())
    }

    fn put_event(&mut self, license: u64, chat: &ChatId, thread: &ThreadId, event: Event) -> Result<()> {
        let c = self.chat_mut(license, chat).ok_or_else(|| missing("chat"))?;
        let t = thread_of(c, thread).ok_or_else(|| missing("thread"))?;
        let e = t.events.iter_mut().find(|e| e.id == event.id).ok_or_else(|| missing("event"))?;
        *e = event;
        Ok(())
    }

    fn event(&mut self, license: u64, chat: &ChatId, thread: &ThreadId, id: &EventId) -> Result<Option<Event>> {
        let t = self.chat_ref(license, chat).and_then(|c| c.threads.iter().find(|t| &t.rec.id == thread));
        Ok(t.and_then(|t| t.events.iter().find(|e| &e.id == id)).cloned())
    }

    fn events(&mut self, license: u64, chat: &ChatId, thread: &ThreadId) -> Result<Vec<Event>> {
        let t = self.chat_ref(license, chat).and_then(|c| c.threads.iter().find(|t| &t.rec.id == thread));
        Ok(t.map(|t| t.events.clone()).unwrap_or_default())
    }

    fn last_events(&mut self, license: u64, chat: &ChatId) -> Result<Vec<LastEvent>> {
        let Some(c) = self.chat_ref(license, chat) else { return Ok(Vec::new()) };
        let mut last: BTreeMap<&str, (&MemThread, &Event)> = BTreeMap::new();
        for t in &c.threads {
            for e in &t.events {
                if e.recipients == Some(Recipients::Agents) {
                    continue;
                }
                let newer = last.get(e.event_type()).is_none_or(|(_, l)| e.order > l.order);
                if newer {
                    last.insert(e.event_type(), (t, e));
                }
            }
        }
        Ok(last
            .into_values()
            .map(|(t, e)| LastEvent { thread: t.rec.id.clone(), thread_order: t.rec.order, event: e.clone() })
            .collect())
    }
}
