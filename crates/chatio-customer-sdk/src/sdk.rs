//! [`CustomerSdk`]: the JS SDK's methods, each a few lines over the session.

use std::sync::Arc;
use std::time::SystemTime;

use chatio_core::{ConnectionStatus, Error, Operation, Rating, Reply};
use chatio_transport::FromReply;
use chatio_transport::token::{Credentials, TokenProvider};
use chatio_wire::{ChatId, CustomerData, EventId, NewEvent, Postback, Properties, Scopes, StartChat, ThreadId};

use crate::call::Call;
use crate::driver::DriverHandle;
use crate::events::Events;
use crate::history::ChatHistory;
use crate::upload::{File, SendFile};
use chatio_core::model::{Chat, ChatSummary, Event, Thread, ThreadSummary, User};

/// A page request: `offset` and `limit` (`None`: the method's default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pagination {
    /// Items to skip.
    pub offset: u64,
    /// Page size (`None`: 10 for chats, 25 for threads).
    pub limit: Option<u64>,
}

impl Pagination {
    /// A page.
    pub fn new(offset: u64, limit: u64) -> Self {
        Self { offset, limit: Some(limit) }
    }
}

/// A page of the customer's chats.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ChatsSummary {
    /// The chats, most recently active first.
    pub chats_summary: Vec<ChatSummary>,
    /// How many chats the customer has.
    pub total_chats: u64,
}

impl FromReply<Reply> for ChatsSummary {
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        match reply {
            Reply::ChatsSummary { chats_summary, total_chats } => Ok(ChatsSummary { chats_summary, total_chats }),
            other => Err(other),
        }
    }
}

/// A page of a chat's thread summaries.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ThreadsSummary {
    /// The threads, ascending by order.
    pub threads_summary: Vec<ThreadSummary>,
    /// How many threads the chat has.
    pub total_threads: u64,
}

impl FromReply<Reply> for ThreadsSummary {
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        match reply {
            Reply::ThreadsSummary { threads_summary, total_threads } => {
                Ok(ThreadsSummary { threads_summary, total_threads })
            }
            other => Err(other),
        }
    }
}

/// Access to the SDK's tokens (`auth` in the JS SDK).
#[derive(Clone)]
pub struct Auth {
    provider: Arc<dyn TokenProvider>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth")
    }
}

impl Auth {
    /// A token: the cached one while valid, else a fresh one (`auth.getToken()`).
    ///
    /// # Errors
    /// [`Error::Authentication`] when the token endpoint refuses; [`Error::Transport`]
    /// (with [`Operation::FetchToken`](chatio_core::Operation::FetchToken), transient for a
    /// timeout or a 5xx) when it cannot be reached.
    ///
    /// **Cancellation:** safe to drop: a token fetch in flight is abandoned.
    pub async fn token(&self) -> Result<Credentials, Error> {
        self.provider.token(false).await.map_err(|e| e.into_core(Operation::FetchToken))
    }

    /// Forgets the cached token (`auth.invalidate()`): the next [`token`](Self::token) fetches
    /// a new one. The session keeps the token it logged in with until it needs another.
    pub fn invalidate(&self) {
        self.provider.invalidate();
    }

    /// A fresh token, bypassing the cache (`auth.getFreshToken()`).
    ///
    /// # Errors
    /// As [`token`](Self::token).
    ///
    /// **Cancellation:** safe to drop: a token fetch in flight is abandoned.
    pub async fn fresh_token(&self) -> Result<Credentials, Error> {
        self.provider.token(true).await.map_err(|e| e.into_core(Operation::FetchToken))
    }
}

/// A chat.io customer session: connects in the background at [`init`](Self::init), then
/// every method talks to the server. Cheap to clone; the session ends when the last clone
/// is dropped or [`destroy`](Self::destroy) is called.
///
/// # Cancellation
///
/// Every async method hands its command to the session task on its **first poll**; the
/// session then owns it. Dropping the future after that point stops only the *waiting*:
///
/// * requests (`start_chat`, `close_thread`, the `update_*` methods, the `get_*` pages,
///   `send_rating`, postbacks, scopes) still go to the server and take effect; their answer
///   is dropped;
/// * [`send_event`](Self::send_event) / [`send_message`](Self::send_message) are still
///   delivered, exactly once (the outbox resends them across reconnects) — this is by design:
///   a message the user typed is not lost because a UI dropped its future. To be able to
///   take one back, use [`send_event_cancellable`](Self::send_event_cancellable): cancelled
///   before its first poll nothing is sent; after, the session stops waiting for it and
///   stops resending it, but a frame already written may still arrive;
/// * [`send_file`](Self::send_file): dropping the [`Upload`](crate::Upload) **cancels** the
///   upload (no file event is posted);
/// * [`ChatHistory::next_page`](crate::ChatHistory::next_page) is cancel-safe: the page in
///   flight is returned by the next call;
/// * [`once`](Self::once), [`disconnect`](Self::disconnect), [`connect`](Self::connect),
///   [`destroy`](Self::destroy), [`chat_history`](Self::chat_history): safe to drop (the
///   lifecycle commands take effect once sent).
///
/// Dropping a future before its first poll sends nothing.
#[derive(Clone, Debug)]
pub struct CustomerSdk {
    driver: DriverHandle,
    auth: Auth,
}

// `init`, the one method that differs: on the native platform, or in a browser.
#[cfg(not(all(feature = "web", target_arch = "wasm32")))]
#[path = "sdk_native.rs"]
mod native;
#[cfg(all(feature = "web", target_arch = "wasm32"))]
#[path = "sdk_web.rs"]
mod web;

impl CustomerSdk {
    /// Every SDK event from now on, as a `Stream`. Any number of subscribers; dropping the
    /// stream unsubscribes (`on`/`off`/`$$observable` in the JS SDK). The session starts
    /// connecting in [`init`](Self::init), so the *first* stream also receives the events
    /// that happened before it was made (`Connected` included; up to
    /// [`Config::event_buffer`](crate::Config::event_buffer) of them): subscribing right after `init`, even after an
    /// `.await`, misses nothing. Later streams start from their creation.
    ///
    /// Bounded: a subscriber that falls behind by more than [`Config::event_buffer`](crate::Config::event_buffer) events
    /// reads [`SdkEvent::Lagged`](chatio_core::SdkEvent::Lagged) in place of those it missed (see
    /// [`Events`]). Filter by name with [`Events::named`] (the JS SDK's `on(name, …)`).
    pub fn events(&self) -> Events {
        Events::new(self.driver.subscribe())
    }

    /// The next event named `name` ([`SdkEvent::name`](chatio_core::SdkEvent::name), e.g.
    /// `"new_event"`), from now on — the JS SDK's `once(name, …)`. `None` if the session
    /// ends first.
    ///
    /// **Cancellation:** dropping the future unsubscribes; nothing is lost for other
    /// subscribers.
    pub async fn once(&self, name: &str) -> Option<chatio_core::SdkEvent> {
        use futures::StreamExt;
        let mut events = self.events().named(&[name]);
        while let Some(e) = events.next().await {
            if !matches!(e, chatio_core::SdkEvent::Lagged { .. }) {
                return Some(e);
            }
        }
        None
    }

    /// The token access (`auth` in the JS SDK).
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The customer id, once known (no round trip to the session's task: as of its last
    /// step).
    pub fn customer_id(&self) -> Option<chatio_wire::UserId> {
        self.driver.snapshot().customer_id
    }

    /// Whether the session is logged in (as of its task's last step; no round trip).
    pub fn is_connected(&self) -> bool {
        self.driver.snapshot().status == ConnectionStatus::Connected
    }

    /// Messages and events accepted by `send_message`/`send_event` whose delivery is not
    /// confirmed yet, those a store gave back at start included (as of the session task's
    /// last step; no round trip). With a store ([`Config::store`](crate::Config::store)),
    /// each of them is in it.
    pub fn outbox_len(&self) -> usize {
        self.driver.snapshot().outbox
    }

    /// Where the connection is (as of the session task's last step; no round trip).
    pub fn status(&self) -> ConnectionStatus {
        self.driver.snapshot().status
    }

    /// Closes the connection and stays disconnected until [`connect`](Self::connect);
    /// unfinished calls fail with [`Error::Closed`].
    ///
    /// **Cancellation:** once polled, it takes effect even if the future is dropped.
    pub async fn disconnect(&self) {
        let _ = self.driver.exec(|s, now| s.disconnect(now)).await;
    }

    /// Connects again after [`disconnect`](Self::disconnect) (or after the server ended the
    /// session).
    ///
    /// **Cancellation:** once polled, it takes effect even if the future is dropped.
    pub async fn connect(&self) {
        let _ = self.driver.exec(|s, now| s.connect(now)).await;
    }

    /// Ends the session: closes the connection, fails unfinished calls with
    /// [`Error::Closed`], stops the background task. Later calls fail with `Closed`.
    ///
    /// **Cancellation:** once polled, it takes effect even if the future is dropped.
    pub async fn destroy(&self) {
        self.driver.shutdown().await;
    }

    /// Logs out for good: ends the session as [`destroy`](Self::destroy) does and wipes the
    /// store ([`Config::store`](crate::Config::store)) — the kept refresh token and every
    /// message still waiting — before it returns. The next session on the store is a new
    /// customer with nothing to deliver. Without a store it is `destroy`.
    pub async fn forget(&self) {
        let _ = self.driver.exec(|s, now| s.forget(now)).await;
        self.driver.shutdown().await;
    }

    /// Starts a chat (`startChat`): with initial events, properties and scopes if given.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`], [`Error::Server`], [`Error::ConnectionLost`], [`Error::Timeout`].
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn start_chat(&self, chat: StartChat) -> Result<Chat, Error> {
        self.driver.call(move |s, now| s.start_chat(chat, now)).await
    }

    /// Sends an event (`sendEvent`). It gets a `custom_id` if it has none and, with the
    /// default outbox policy, survives reconnects: sent exactly once.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] (system messages, files), [`Error::Server`], [`Error::Timeout`].
    ///
    /// **Cancellation:** once polled, the event is delivered even if the future is dropped
    /// (see [the type's docs](Self#cancellation)).
    pub async fn send_event(&self, chat: &ChatId, event: NewEvent) -> Result<Event, Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.send_event(&chat, event, now)).await
    }

    /// [`send_event`](Self::send_event) that can be cancelled: `.await` the [`Call`] for
    /// the stored event, `cancel()` it (or pass its [`canceller`](Call::canceller) to
    /// another task). Cancelled before its first poll, nothing is sent; after, the session
    /// stops waiting for it and will not resend it, but a frame already written may still be
    /// stored by the server.
    pub fn send_event_cancellable(&self, chat: &ChatId, event: NewEvent) -> Call<Event> {
        let chat = chat.clone();
        Call::new(self.driver.clone(), move |s, now| s.send_event(&chat, event, now))
    }

    /// Sends a text message (`sendMessage`).
    ///
    /// # Errors
    /// As [`send_event`](Self::send_event).
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn send_message(&self, chat: &ChatId, text: impl Into<String>) -> Result<Event, Error> {
        self.send_event(chat, NewEvent::message(text)).await
    }

    /// Sends a text message with a custom id (`sendMessage(chatId, {text, customId})`).
    ///
    /// **Cancellation:** as [`send_event`](Self::send_event).
    ///
    /// # Errors
    /// As [`send_event`](Self::send_event).
    pub async fn send_message_with_custom_id(
        &self,
        chat: &ChatId,
        text: impl Into<String>,
        custom_id: impl Into<String>,
    ) -> Result<Event, Error> {
        self.send_event(chat, NewEvent::message(text).with_custom_id(custom_id)).await
    }

    /// Uploads a file (`sendFile`): `.custom_id(..)`, `.on_progress(..)`, then `.await` it,
    /// or [`start`](SendFile::start) it to get a handle that can `cancel()`.
    pub fn send_file(&self, chat: &ChatId, file: File) -> SendFile {
        SendFile::new(self.driver.clone(), chat.clone(), file)
    }

    /// Rates the chat (`sendRating`, never implemented by the JS SDK): sets the chat
    /// properties `rating.score` and `rating.comment`.
    ///
    /// # Errors
    /// As [`update_chat_properties`](Self::update_chat_properties).
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn send_rating(&self, chat: &ChatId, rating: Rating, comment: Option<&str>) -> Result<(), Error> {
        let (chat, comment) = (chat.clone(), comment.map(str::to_owned));
        self.driver.call(move |s, now| s.send_rating(&chat, rating, comment.as_deref(), now)).await
    }

    /// Sets what the customer is typing, for agents (`setSneakPeek`): sent at most once per
    /// 2 s per chat (the last text wins), only for chats with an active thread.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or text over 16 384 characters;
    /// [`Error::Closed`] after `destroy`.
    pub fn set_sneak_peek(&self, chat: &ChatId, text: &str) -> Result<(), Error> {
        chatio_core::check_sneak_peek(chat, text)?;
        let (chat, text) = (chat.clone(), text.to_owned());
        self.driver.exec_detached(move |s, now| {
            let _ = s.set_sneak_peek(&chat, &text, now);
        })
    }

    /// Closes the chat's active thread (`closeThread`).
    ///
    /// # Errors
    /// [`Error::Server`] (`validation` when there is no active thread, `authorization`).
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn close_thread(&self, chat: &ChatId) -> Result<(), Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.close_thread(&chat, now)).await
    }

    /// Updates the customer's name, e-mail and fields (`updateCustomer`); returns the
    /// customer as stored.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for oversize fields, [`Error::Server`].
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn update_customer(&self, customer: CustomerData) -> Result<User, Error> {
        self.driver.call(move |s, now| s.update_customer(customer, now)).await
    }

    /// Sets chat properties (`updateChatProperties`).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for values other than int32, bool or string; [`Error::Server`].
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn update_chat_properties(&self, chat: &ChatId, properties: Properties) -> Result<(), Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.update_chat_properties(&chat, properties, now)).await
    }

    /// Sets thread properties (`updateChatThreadProperties`).
    ///
    /// # Errors
    /// As [`update_chat_properties`](Self::update_chat_properties).
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn update_chat_thread_properties(
        &self,
        chat: &ChatId,
        thread: &ThreadId,
        properties: Properties,
    ) -> Result<(), Error> {
        let (chat, thread) = (chat.clone(), thread.clone());
        self.driver.call(move |s, now| s.update_chat_thread_properties(&chat, &thread, properties, now)).await
    }

    /// Marks the chat as seen up to `at` (`None`: now, by the server's clock); returns the
    /// stored time (`updateLastSeenTimestamp`).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for a time before 1970, [`Error::Server`].
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn update_last_seen_timestamp(&self, chat: &ChatId, at: Option<SystemTime>) -> Result<SystemTime, Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.update_last_seen_timestamp(&chat, at, now)).await
    }

    /// A page of the customer's chats (`getChatsSummary`; limit at most 25, default 10).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for a limit over 25.
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn chats_summary(&self, page: Pagination) -> Result<ChatsSummary, Error> {
        let limit = page.limit.unwrap_or(chatio_wire::GetChatsSummary::DEFAULT_LIMIT);
        self.driver.call(move |s, now| s.get_chats_summary(page.offset, limit, now)).await
    }

    /// These threads of a chat with all their events, ascending (`getChatThreads`).
    ///
    /// # Errors
    /// [`Error::Server`] (`authorization` for another customer's chat).
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn chat_threads(&self, chat: &ChatId, threads: &[ThreadId]) -> Result<Vec<Thread>, Error> {
        let (chat, threads) = (chat.clone(), threads.to_vec());
        self.driver.call(move |s, now| s.get_chat_threads(&chat, &threads, now)).await
    }

    /// A page of a chat's threads, newest first (`getChatThreadsSummary`; limit at most
    /// 1 000 as in the JS SDK, default 25; the server answers at most 100 a page).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for a limit over 1 000, [`Error::Server`].
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn chat_threads_summary(&self, chat: &ChatId, page: Pagination) -> Result<ThreadsSummary, Error> {
        let chat = chat.clone();
        let limit = page.limit.unwrap_or(chatio_wire::GetChatThreadsSummary::DEFAULT_LIMIT);
        self.driver.call(move |s, now| s.get_chat_threads_summary(&chat, page.offset, limit, now)).await
    }

    /// A history cursor on a chat (`getChatHistory`): older and older pages of about 50
    /// events, with `next().await` or as a `Stream`.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id, [`Error::Closed`].
    ///
    /// **Cancellation:** safe to drop (a cursor created meanwhile stays idle, holding no request, until the session ends).
    pub async fn chat_history(&self, chat: &ChatId) -> Result<ChatHistory, Error> {
        let chat = chat.clone();
        let id = self.driver.exec(move |s, _| s.chat_history(&chat)).await??;
        Ok(ChatHistory::new(self.driver.clone(), id))
    }

    /// Toggles a rich message button (protocol only in the JS SDK).
    ///
    /// # Errors
    /// [`Error::Server`] (`validation` for an unknown event or postback id).
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn send_rich_message_postback(
        &self,
        chat: &ChatId,
        thread: &ThreadId,
        event: &EventId,
        postback: Postback,
    ) -> Result<(), Error> {
        let (chat, thread, event) = (chat.clone(), thread.clone(), event.clone());
        self.driver.call(move |s, now| s.send_rich_message_postback(&chat, &thread, &event, postback, now)).await
    }

    /// Adds and removes agent groups of a chat (protocol only in the JS SDK).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] when both are `None`, [`Error::Server`].
    ///
    /// **Cancellation:** once polled, the request takes effect on the server even if the future is dropped; only its answer is lost (see [the type's docs](Self#cancellation)).
    pub async fn update_chat_scopes(
        &self,
        chat: &ChatId,
        add: Option<Scopes>,
        remove: Option<Scopes>,
    ) -> Result<(), Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.update_chat_scopes(&chat, add, remove, now)).await
    }
}
