//! The SDK commands: one method per method of the facade (design document), each checking its
//! arguments before anything is queued.

use std::time::SystemTime;

use web_time::Instant;

use chatio_wire as wire;
use chatio_wire::{
    Action, ChatId, EventId, GetChatThreads, GetChatThreadsSummary, GetChatsSummary, NewEvent, Postback, Properties,
    Request, RequestId, Scopes, SendEvent, SendFile, StartChat, ThreadId, Timestamp,
};

use super::Session;
use crate::config::OutboxPolicy;
use crate::error::Error;
use crate::history::History;
use crate::output::{DriverAction, FileSpec, HistoryId, Rating, UploadRequest};
use crate::pending::{Pending, Purpose};
use crate::validate::{check_chat, check_fields, check_id, check_new_event, check_properties, check_text};

impl Session {
    /// `start_chat`: a new chat with its first thread (and initial events, properties,
    /// scopes). Events without a `custom_id` get one. Sent in the reference shape, or in the
    /// legacy `{routing_scope, events, properties}` shape with [`Config::legacy_start_chat`]
    /// (D1). Outcome: [`Reply::Chat`](crate::Reply::Chat).
    ///
    /// [`Config::legacy_start_chat`]: crate::Config::legacy_start_chat
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for system messages or files among the events, oversize text or
    /// ids, non-scalar properties; [`Error::Closed`] or [`Error::Disconnected`] when the
    /// session does not take commands.
    pub fn start_chat(&mut self, req: StartChat, now: Instant) -> Result<RequestId, Error> {
        let now = self.tick(now);
        if let Some(t) = &req.chat.thread {
            for e in &t.events {
                check_new_event(e)?;
            }
            if let Some(p) = &t.properties {
                check_properties(p)?;
            }
        }
        if let Some(p) = &req.chat.properties {
            check_properties(p)?;
        }
        self.check_open()?;
        let mut req = req;
        if let Some(t) = &mut req.chat.thread {
            for e in &mut t.events {
                if e.custom_id.is_none() {
                    e.custom_id = Some(self.new_custom_id());
                }
            }
        }
        let id = self.new_id();
        if self.config.legacy_start_chat {
            let mut m = serde_json::Map::new();
            m.insert("request_id".into(), serde_json::Value::String(id.to_string()));
            m.insert("action".into(), Action::StartChat.as_str().into());
            m.insert("payload".into(), req.to_legacy_json());
            let frame = serde_json::Value::Object(m).to_string();
            self.submit_frame(id.clone(), Action::StartChat, frame, Purpose::User, None, now);
        } else {
            self.submit(id.clone(), Request::StartChat(req), Purpose::User, None, now);
        }
        self.rearm();
        Ok(id)
    }

    /// `send_event`: adds an event to a chat. The event gets a `custom_id` if it has none.
    /// With [`OutboxPolicy::Resend`] (the default) it survives connection losses: it is sent
    /// exactly once, and never times out (it waits for a connection); with
    /// [`OutboxPolicy::FailOnDisconnect`] it fails with [`Error::ConnectionLost`] or
    /// [`Error::Timeout`] like any request. Outcome: [`Reply::Event`](crate::Reply::Event).
    ///
    /// With a store attached ([`restore`](Self::restore)), an outbox event is queued for the
    /// store ([`poll_change`](Self::poll_change)) before its frame.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id, a `system_message` or `file` event (files
    /// go through [`send_file`](Self::send_file)), oversize text or ids;
    /// [`Error::OutboxFull`] when [`Config::max_outbox`](crate::Config::max_outbox) events
    /// already wait (outbox policy `Resend`).
    pub fn send_event(&mut self, chat: &ChatId, event: NewEvent, now: Instant) -> Result<RequestId, Error> {
        let now = self.tick(now);
        check_chat(chat)?;
        check_new_event(&event)?;
        self.check_open()?;
        if self.config.outbox == OutboxPolicy::Resend && self.outbox.len() >= self.config.max_outbox {
            return Err(Error::OutboxFull { limit: self.config.max_outbox });
        }
        let mut event = event;
        if event.custom_id.is_none() {
            event.custom_id = Some(self.new_custom_id());
        }
        let id = self.new_id();
        match self.config.outbox {
            OutboxPolicy::Resend => {
                self.outbox.push(id.clone(), chat.clone(), event);
                self.flush_outbox(now);
            }
            OutboxPolicy::FailOnDisconnect => {
                let request = Request::SendEvent(SendEvent::new(chat.clone(), event));
                self.submit(id.clone(), request, Purpose::User, Some(chat.clone()), now);
            }
        }
        self.rearm();
        Ok(id)
    }

    /// `send_message`: a `message` event with this text.
    ///
    /// # Errors
    /// As [`send_event`](Self::send_event).
    pub fn send_message(&mut self, chat: &ChatId, text: &str, now: Instant) -> Result<RequestId, Error> {
        self.send_event(chat, NewEvent::message(text), now)
    }

    /// `send_file`: asks the driver to upload a file with the Web API
    /// ([`DriverAction::Upload`], with the chat id, the custom id — generated if absent, D10 —
    /// and the bearer token to use; after a token is fetched if the session has none yet).
    /// The bytes never pass through the session. Outcome:
    /// [`Reply::File`](crate::Reply::File) once the driver calls
    /// [`handle_upload_result`](Self::handle_upload_result); no timeout of its own (the
    /// driver's applies). [`cancel`](Self::cancel) stops it.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for a file over 10 MiB, an empty name or chat id, an oversize
    /// custom id.
    pub fn send_file(&mut self, chat: &ChatId, file: FileSpec, now: Instant) -> Result<RequestId, Error> {
        self.tick(now);
        check_chat(chat)?;
        if file.size > chatio_wire::limits::MAX_FILE_SIZE {
            return Err(Error::invalid(format!(
                "the file is too big: {} bytes (at most {} bytes, 10 MiB)",
                file.size,
                chatio_wire::limits::MAX_FILE_SIZE
            )));
        }
        if file.name.is_empty() {
            return Err(Error::invalid("the file needs a name"));
        }
        if let Some(c) = &file.custom_id {
            check_id("custom_id", c)?;
        }
        self.check_open()?;
        let id = self.new_id();
        let custom_id = match file.custom_id {
            Some(c) => c,
            None => self.new_custom_id(),
        };
        let content_type =
            if file.content_type.is_empty() { "application/octet-stream".to_owned() } else { file.content_type };
        let upload = UploadRequest {
            id: id.clone(),
            fields: SendFile::new(chat.clone(), Some(custom_id)),
            name: file.name,
            content_type,
            size: file.size,
            access_token: self.token.as_ref().map(|t| t.secret().to_owned()).unwrap_or_default(),
        };
        self.pending.insert(id.clone(), Pending::new(Purpose::Upload, Action::SendFile, Some(chat.clone())));
        if self.token.is_some() {
            self.actions.push_back(DriverAction::Upload(upload));
        } else {
            self.uploads_waiting.push(upload);
            if !self.token_requested {
                self.request_token(false);
            }
        }
        Ok(id)
    }

    /// `send_rating` (never implemented by the JS SDK): sets the chat properties
    /// `rating.score` (1 good, 0 bad) and `rating.comment` (G28). Outcome:
    /// [`Reply::Done`](crate::Reply::Done).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or an oversize comment.
    pub fn send_rating(
        &mut self,
        chat: &ChatId,
        rating: Rating,
        comment: Option<&str>,
        now: Instant,
    ) -> Result<RequestId, Error> {
        let mut p = Properties::new().with("rating", "score", if rating == Rating::Good { 1 } else { 0 });
        if let Some(c) = comment {
            check_text("comment", c)?;
            p.insert("rating", "comment", c);
        }
        self.update_chat_properties(chat, p, now)
    }

    /// `set_sneak_peek`: what the customer is typing, for agents. Throttled to one frame per
    /// [`Config::sneak_peek_interval`](crate::Config::sneak_peek_interval) per chat (the
    /// first text at once, the last text of the interval when it ends); dropped while not
    /// logged in and for chats whose last thread is known to be inactive (the chats summary
    /// does not say whether a thread is active: a chat only seen there gets its peeks, and
    /// the server drops peeks for inactive chats, 4.9). No outcome.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or oversize text.
    pub fn set_sneak_peek(&mut self, chat: &ChatId, text: &str, now: Instant) -> Result<(), Error> {
        let now = self.tick(now);
        check_chat(chat)?;
        check_text("text", text)?;
        self.check_open()?;
        if !self.is_ready() || self.chats.is_active(chat) == Some(false) {
            return Ok(());
        }
        if let Some(text) = self.sneak.set(chat, text, now) {
            self.transmit_sneak_peek(chat, &text);
        }
        self.rearm();
        Ok(())
    }

    /// `close_thread`: closes the chat's active thread. Outcome:
    /// [`Reply::Done`](crate::Reply::Done).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id.
    pub fn close_thread(&mut self, chat: &ChatId, now: Instant) -> Result<RequestId, Error> {
        let now = self.tick(now);
        check_chat(chat)?;
        self.check_open()?;
        Ok(self.user_request(Request::CloseThread(wire::CloseThread::new(chat.clone())), Some(chat), now))
    }

    /// `update_customer`: name, e-mail, custom fields, monitoring data. Outcome:
    /// [`Reply::Customer`](crate::Reply::Customer), the customer as stored.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for over 100 custom fields or values over 4096 characters.
    pub fn update_customer(&mut self, customer: wire::CustomerData, now: Instant) -> Result<RequestId, Error> {
        let now = self.tick(now);
        if let Some(f) = &customer.fields {
            check_fields(f.iter())?;
        }
        self.check_open()?;
        Ok(self.user_request(Request::UpdateCustomer(wire::UpdateCustomer::new(customer)), None, now))
    }

    /// `update_chat_properties`. Outcome: [`Reply::Done`](crate::Reply::Done).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id, no properties, or values other than
    /// int32, bool or string.
    pub fn update_chat_properties(
        &mut self,
        chat: &ChatId,
        properties: Properties,
        now: Instant,
    ) -> Result<RequestId, Error> {
        let now = self.tick(now);
        check_chat(chat)?;
        check_properties(&properties)?;
        if properties.is_empty() {
            return Err(Error::invalid("no properties to update"));
        }
        let req = Request::UpdateChatProperties(wire::UpdateChatProperties::new(chat.clone(), properties));
        self.check_open()?;
        Ok(self.user_request(req, Some(chat), now))
    }

    /// `update_chat_thread_properties`. Outcome: [`Reply::Done`](crate::Reply::Done).
    ///
    /// # Errors
    /// As [`update_chat_properties`](Self::update_chat_properties), and an empty thread id.
    pub fn update_chat_thread_properties(
        &mut self,
        chat: &ChatId,
        thread: &ThreadId,
        properties: Properties,
        now: Instant,
    ) -> Result<RequestId, Error> {
        let now = self.tick(now);
        check_chat(chat)?;
        check_id("thread id", thread.as_str())?;
        check_properties(&properties)?;
        if properties.is_empty() {
            return Err(Error::invalid("no properties to update"));
        }
        let req = Request::UpdateChatThreadProperties(wire::UpdateChatThreadProperties::new(
            chat.clone(),
            thread.clone(),
            properties,
        ));
        self.check_open()?;
        Ok(self.user_request(req, Some(chat), now))
    }

    /// `update_last_seen_timestamp`: `None` means the server's current time. The time is sent
    /// in whole seconds (the JS SDK never managed to send it, 6.10). Outcome:
    /// [`Reply::LastSeen`](crate::Reply::LastSeen), the stored time.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or a time before 1970.
    pub fn update_last_seen_timestamp(
        &mut self,
        chat: &ChatId,
        at: Option<SystemTime>,
        now: Instant,
    ) -> Result<RequestId, Error> {
        let now = self.tick(now);
        check_chat(chat)?;
        let ts = match at {
            Some(t) => match t.duration_since(SystemTime::UNIX_EPOCH) {
                Ok(d) => Some(Timestamp::from_secs(d.as_secs())),
                Err(_) => return Err(Error::invalid("the timestamp is before 1970")),
            },
            None => None,
        };
        let req = Request::UpdateLastSeenTimestamp(wire::UpdateLastSeenTimestamp::new(chat.clone(), ts));
        self.check_open()?;
        Ok(self.user_request(req, Some(chat), now))
    }

    /// `get_chats_summary`: a page of the customer's chats, most recently active first (the
    /// JS SDK's defaults are offset 0, limit 10). Outcome:
    /// [`Reply::ChatsSummary`](crate::Reply::ChatsSummary).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for a limit of 0 or over 25.
    pub fn get_chats_summary(&mut self, offset: u64, limit: u64, now: Instant) -> Result<RequestId, Error> {
        let now = self.tick(now);
        if limit == 0 || limit > GetChatsSummary::MAX_LIMIT {
            return Err(Error::invalid(format!(
                "the limit must be between 1 and {} (got {limit})",
                GetChatsSummary::MAX_LIMIT
            )));
        }
        self.check_open()?;
        Ok(self.user_request(Request::GetChatsSummary(GetChatsSummary::new(offset, limit)), None, now))
    }

    /// `get_chat_threads`: these threads of a chat with all their events. Outcome:
    /// [`Reply::Threads`](crate::Reply::Threads), ascending by order; a
    /// [`SdkEvent::UserData`](crate::SdkEvent::UserData) per user of the chat comes first.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or thread id.
    pub fn get_chat_threads(&mut self, chat: &ChatId, threads: &[ThreadId], now: Instant) -> Result<RequestId, Error> {
        let now = self.tick(now);
        check_chat(chat)?;
        for t in threads {
            check_id("thread id", t.as_str())?;
        }
        let req = Request::GetChatThreads(GetChatThreads::new(chat.clone(), threads.to_vec()));
        self.check_open()?;
        Ok(self.user_request(req, Some(chat), now))
    }

    /// `get_chat_threads_summary`: a page of a chat's threads, offset 0 being the newest
    /// (limit 1 to 1 000 as the JS SDK; the server answers at most 100 a page, D3). Outcome: [`Reply::ThreadsSummary`](crate::Reply::ThreadsSummary),
    /// ascending by order.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or a limit of 0 or over 1 000.
    pub fn get_chat_threads_summary(
        &mut self,
        chat: &ChatId,
        offset: u64,
        limit: u64,
        now: Instant,
    ) -> Result<RequestId, Error> {
        let now = self.tick(now);
        check_chat(chat)?;
        if limit == 0 || limit > GetChatThreadsSummary::MAX_REQUEST_LIMIT {
            return Err(Error::invalid(format!(
                "the limit must be between 1 and {} (got {limit})",
                GetChatThreadsSummary::MAX_REQUEST_LIMIT
            )));
        }
        let req = Request::GetChatThreadsSummary(GetChatThreadsSummary::new(chat.clone(), offset, limit));
        self.check_open()?;
        Ok(self.user_request(req, Some(chat), now))
    }

    /// `send_rich_message_postback`: toggles a button of a rich message. Outcome:
    /// [`Reply::Done`](crate::Reply::Done).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for empty ids.
    pub fn send_rich_message_postback(
        &mut self,
        chat: &ChatId,
        thread: &ThreadId,
        event: &EventId,
        postback: Postback,
        now: Instant,
    ) -> Result<RequestId, Error> {
        let now = self.tick(now);
        check_chat(chat)?;
        check_id("thread id", thread.as_str())?;
        check_id("event id", event.as_str())?;
        check_id("postback id", &postback.id)?;
        let req = Request::SendRichMessagePostback(wire::SendRichMessagePostback::new(
            chat.clone(),
            thread.clone(),
            event.clone(),
            postback,
        ));
        self.check_open()?;
        Ok(self.user_request(req, Some(chat), now))
    }

    /// `update_chat_scopes`: adds and removes agent groups. Outcome:
    /// [`Reply::Done`](crate::Reply::Done).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or when both sets are absent.
    pub fn update_chat_scopes(
        &mut self,
        chat: &ChatId,
        add: Option<Scopes>,
        remove: Option<Scopes>,
        now: Instant,
    ) -> Result<RequestId, Error> {
        let now = self.tick(now);
        check_chat(chat)?;
        if add.is_none() && remove.is_none() {
            return Err(Error::invalid("give scopes to add or to remove"));
        }
        let req = Request::UpdateChatScopes(wire::UpdateChatScopes::new(chat.clone(), add, remove));
        self.check_open()?;
        Ok(self.user_request(req, Some(chat), now))
    }

    /// Opens a history cursor on a chat (`getChatHistory`); nothing is sent until
    /// [`history_next`](Self::history_next).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id; [`Error::Closed`] or
    /// [`Error::Disconnected`] when the session does not take commands.
    pub fn chat_history(&mut self, chat: &ChatId) -> Result<HistoryId, Error> {
        check_chat(chat)?;
        self.check_open()?;
        self.next_history += 1;
        let id = HistoryId(self.next_history);
        self.histories.insert(id, History::new(chat.clone(), self.config.history_page_events));
        Ok(id)
    }

    /// Loads the next (older) page of a history cursor. Outcome:
    /// [`Reply::History`](crate::Reply::History): the events of the newest threads not
    /// loaded yet (about [`Config::history_page_events`](crate::Config::history_page_events)
    /// of them, whole threads, ascending), with a
    /// [`SdkEvent::ThreadSummary`](crate::SdkEvent::ThreadSummary) per loaded thread first;
    /// `done` once the chat's first thread is loaded, and every later call answers
    /// `{events: [], done: true}`. Calls made while a page loads are queued and answered in
    /// order. A page that fails (server error, timeout) fails its call only; the next call
    /// retries it. A connection loss fails the running and queued calls
    /// ([`Error::ConnectionLost`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an unknown (closed) cursor.
    pub fn history_next(&mut self, history: HistoryId, now: Instant) -> Result<RequestId, Error> {
        let now = self.tick(now);
        if !self.histories.contains_key(&history) {
            return Err(Error::invalid("no such history cursor (it was closed?)"));
        }
        self.check_open()?;
        let id = self.new_id();
        if let Some(h) = self.histories.get_mut(&history) {
            h.queue.push_back(id.clone());
        }
        self.history_advance(history, now);
        self.rearm();
        Ok(id)
    }

    /// Forgets a history cursor; its waiting calls fail with [`Error::Cancelled`].
    pub fn close_history(&mut self, history: HistoryId) {
        if let Some(h) = self.histories.remove(&history) {
            let _ = self.pending.take_where(|p| p.purpose == Purpose::History(history));
            for id in h.queue {
                self.complete(id, Err(Error::Cancelled));
            }
            self.rearm();
        }
    }
}
