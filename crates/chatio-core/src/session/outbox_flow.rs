//! The outbox flow: writing outbox events, and checking after a reconnect which of the
//! events in flight at the drop arrived.
//!
//! The check for a chat: `get_chat_threads_summary` (offset 0, limit one more than the
//! unconfirmed events, at most 25), then further pages (25 threads) while every thread listed
//! is newer than the floor — the highest thread order the session knew for the chat when the
//! events were sent, which no thread they can have gone to is below (thread orders only
//! grow); then `get_chat_threads` of every thread listed from the floor on. Events found
//! there by `custom_id` (and authored by this customer) complete with the stored event; the
//! others are sent again. Nothing of the chat is sent while it is checked, so the order of
//! its events is kept. A chat of which no thread was known has floor 0: all its threads are
//! read. A check that a dropped connection interrupted is started again after the reconnect,
//! however often that happens; but when [`MAX_VERIFY_ATTEMPTS`] checks of a chat in a row
//! ended with a frame too large to read (the chat's newest thread outgrew
//! [`Config::max_frame_len`](crate::Config::max_frame_len)), its unconfirmed events fail with
//! [`Error::DeliveryUnknown`] and the chat moves on.

use std::collections::BTreeMap;
use web_time::Instant;

use chatio_wire::{ChatId, GetChatThreads, GetChatThreadsSummary, Request, ResponseData, SendEvent, ThreadId};

use super::Session;
use crate::config::MAX_VERIFY_ATTEMPTS;
use crate::error::Error;
use crate::history;
use crate::model::Event;
use crate::output::Reply;
use crate::pending::{Pending, Purpose, VerifyPage};

impl Session {
    /// Writes the outbox events that may go now (logged in, nothing unconfirmed before them).
    pub(super) fn flush_outbox(&mut self, now: Instant) {
        if !self.is_ready() {
            return;
        }
        let deadline = crate::timer::later(now, self.config.request_timeout);
        let chats = &self.chats;
        let sendable = self.outbox.take_sendable(deadline, |c| chats.last_thread_order(c));
        for (id, chat, event) in sendable {
            let request = Request::SendEvent(SendEvent::new(chat.clone(), event));
            self.transmit.push_back(chatio_wire::ClientFrame::new(Some(id.clone()), request).encode());
            // The outbox keeps the deadline: an unanswered event is checked, not failed.
            self.pending.insert(id, Pending::new(Purpose::Outbox, chatio_wire::Action::SendEvent, Some(chat)));
        }
    }

    /// Starts checking every chat with unconfirmed events.
    pub(super) fn start_verification(&mut self, now: Instant) {
        for (chat, n, floor) in self.outbox.chats_to_verify() {
            let oversize = self.outbox.start_verifying(chat.clone());
            if oversize >= MAX_VERIFY_ATTEMPTS {
                // Each check so far ended with a frame too large to read (most likely its
                // answer: the chat's newest thread): give up on these events rather than
                // loop on reconnects and block the chat's later events.
                self.verify_failed(&chat, Error::DeliveryUnknown { attempts: MAX_VERIFY_ATTEMPTS }, now);
                continue;
            }
            let limit = (n as u64 + 1).min(history::BATCH);
            let page = VerifyPage { chat: chat.clone(), offset: 0, floor, found: Vec::new() };
            self.verify_page(page, limit, now);
        }
    }

    fn verify_page(&mut self, page: VerifyPage, limit: u64, now: Instant) {
        let id = self.new_id();
        let chat = page.chat.clone();
        let request = Request::GetChatThreadsSummary(GetChatThreadsSummary::new(chat.clone(), page.offset, limit));
        self.submit(id, request, Purpose::VerifySummary(page), Some(chat), now);
    }

    pub(super) fn on_verify_summary(&mut self, page: VerifyPage, data: ResponseData, now: Instant) {
        let ResponseData::GetChatThreadsSummary(r) = data else {
            let message = format!("unexpected `{}` answer to get_chat_threads_summary", data.action());
            self.verify_failed(
                &page.chat,
                Error::Protocol(crate::error::ProtocolError::unexpected_reply(message)),
                now,
            );
            return;
        };
        let VerifyPage { chat, offset, floor, mut found } = page;
        let listed = r.threads_summary.len() as u64;
        let oldest = r.threads_summary.iter().map(|s| s.order).min();
        found.extend(r.threads_summary.into_iter().filter(|s| s.order >= floor).map(|s| s.id));
        let seen = offset.saturating_add(listed);
        if oldest.is_some_and(|o| o > floor) && seen < r.total_threads {
            // Every thread listed is newer than the floor: older ones may hold the events.
            let page = VerifyPage { chat, offset: seen, floor, found };
            self.verify_page(page, history::BATCH, now);
            return;
        }
        if found.is_empty() {
            // The chat has no thread the events can be in: none arrived.
            let arrived = self.outbox.finish_verifying(&chat, |_| false);
            debug_assert!(arrived.is_empty());
            self.flush_outbox(now);
            return;
        }
        let id = self.new_id();
        let request = Request::GetChatThreads(GetChatThreads::new(chat.clone(), found));
        self.submit(id, request, Purpose::VerifyThreads(chat.clone()), Some(chat), now);
    }

    pub(super) fn on_verify_threads(&mut self, chat: ChatId, data: ResponseData, now: Instant) {
        let ResponseData::GetChatThreads(r) = data else {
            let message = format!("unexpected `{}` answer to get_chat_threads", data.action());
            self.verify_failed(&chat, Error::Protocol(crate::error::ProtocolError::unexpected_reply(message)), now);
            return;
        };
        let mut by_custom: BTreeMap<String, Event> = BTreeMap::new();
        for t in r.chat.threads.unwrap_or_default() {
            let tid: ThreadId = t.id.clone();
            for e in t.events {
                let mine = self.customer_id.is_none() || e.author_id.as_ref() == self.customer_id.as_ref();
                if let (true, Some(c)) = (mine, e.custom_id.clone()) {
                    by_custom.insert(c, Event::from_wire(e, &chat, Some(&tid)));
                }
            }
        }
        let arrived = self.outbox.finish_verifying(&chat, |c| by_custom.contains_key(c));
        for e in arrived {
            match e.custom_id().and_then(|c| by_custom.get(c)).cloned() {
                Some(ev) => self.complete(e.id, Ok(Reply::Event(ev))),
                None => self.complete(e.id, Err(Error::protocol("a checked event vanished"))),
            }
        }
        self.flush_outbox(now);
    }

    /// Checking a chat's unconfirmed events failed for good (the server refused): fail them
    /// with the reason, never resend blindly (that could send an event twice).
    pub(super) fn verify_failed(&mut self, chat: &ChatId, err: Error, now: Instant) {
        for e in self.outbox.abandon_verifying(chat) {
            self.pending.remove(&e.id);
            self.complete(e.id, Err(err.clone()));
        }
        self.flush_outbox(now);
    }
}
