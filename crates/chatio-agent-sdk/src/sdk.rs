//! [`AgentSdk`]: every Agent API method, each a few lines over the agent session.

use std::time::SystemTime;

use chatio_core::Error;
use chatio_core::agent::{AgentReply, AgentSession, AgentStatus, ChatView};
use chatio_transport::{DriverHandle, FromReply};
use chatio_wire::agent::{
    ArchiveFilters, AutoChatScopesConfig, AutoChatScopesRules, ChatFilters, License, MulticastScopes, Platform,
};
use chatio_wire::{
    ChatId, EventId, EventKind, Image, NewEvent, Postback, Properties, RichElement, RichMessage, RoutingStatus, Scopes,
    StartChat, ThreadId, ThreadRef, UserId,
};
use serde_json::Value;

use crate::events::AgentEvents;
use crate::upload::{ImageFile, UploadedImage};
use chatio_core::model::{Chat, Event, User};

/// A chat with some of its threads (`get_chat_threads`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ChatThreads {
    /// The chat; its `threads` are the requested ones, ascending, with all their events.
    pub chat: Chat,
    /// Every thread of the chat (id and order), ascending.
    pub threads_summary: Vec<ThreadRef>,
}

impl FromReply<AgentReply> for ChatThreads {
    fn from_reply(reply: AgentReply) -> Result<Self, AgentReply> {
        match reply {
            AgentReply::ChatThreads { chat, threads_summary } => Ok(Self { chat, threads_summary }),
            other => Err(other),
        }
    }
}

/// A page of archived threads (`get_archives`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Archives {
    /// One chat per thread found (its `threads` holding that thread), newest first.
    pub chats: Vec<Chat>,
    /// This page (from 1).
    pub page: u64,
    /// How many threads match in all.
    pub total: u64,
}

impl FromReply<AgentReply> for Archives {
    fn from_reply(reply: AgentReply) -> Result<Self, AgentReply> {
        match reply {
            AgentReply::Archives { chats, page, total } => Ok(Self { chats, page, total }),
            other => Err(other),
        }
    }
}

/// A chat.io agent session: connects in the background at [`init`](Self::init), then every
/// method talks to the server. Cheap to clone; the session ends when the last clone is
/// dropped or [`destroy`](Self::destroy) is called.
///
/// # Cancellation
///
/// Every async method hands its command to the session task on its **first poll**; the
/// session then owns it. Dropping the future after that point stops only the waiting: the
/// request still goes to the server and takes effect, its answer is dropped. Dropping a
/// future before its first poll sends nothing. The state reads ([`chats`](Self::chats),
/// [`me`](Self::me)...) and the lifecycle methods are safe to drop.
///
/// Requests are not resent across a reconnect (the Agent API has no idempotency key): a
/// request the lost connection swallowed fails with [`Error::ConnectionLost`]
/// (delivery unknown), and the caller decides.
#[derive(Clone, Debug)]
pub struct AgentSdk {
    pub(crate) driver: DriverHandle<AgentSession>,
    #[cfg(not(all(feature = "web", target_arch = "wasm32")))]
    pub(crate) images: crate::upload_native::Images,
    #[cfg(all(feature = "web", target_arch = "wasm32"))]
    pub(crate) images: crate::upload_web::Images,
}

impl AgentSdk {
    /// Every event from now on, as a `Stream`. Any number of subscribers; dropping the stream
    /// unsubscribes. The *first* stream also receives the events that happened before it
    /// was made (`Connected` included; up to [`Config::event_buffer`](crate::Config::event_buffer)
    /// of them): subscribing right after `init` misses nothing.
    pub fn events(&self) -> AgentEvents {
        AgentEvents::new(self.driver.subscribe())
    }

    /// Where the connection is (as of the session task's last step; no round trip).
    pub fn status(&self) -> AgentStatus {
        self.driver.snapshot().status
    }

    /// Whether the session is logged in (no round trip).
    pub fn is_connected(&self) -> bool {
        self.status() == AgentStatus::Connected
    }

    /// The agent's id, once logged in (no round trip).
    pub fn my_id(&self) -> Option<UserId> {
        self.driver.snapshot().me
    }

    /// The agent's routing status as the server last said (no round trip).
    pub fn routing_status(&self) -> Option<RoutingStatus> {
        self.driver.snapshot().routing_status
    }

    /// The agent as the login said (with its permission and routing status).
    ///
    /// # Errors
    /// [`Error::Closed`] once the session has ended.
    pub async fn me(&self) -> Result<Option<User>, Error> {
        self.driver.exec(|s, _| s.me().cloned()).await
    }

    /// The license, once logged in.
    ///
    /// # Errors
    /// [`Error::Closed`] once the session has ended.
    pub async fn license(&self) -> Result<Option<License>, Error> {
        self.driver.exec(|s, _| s.license().cloned()).await
    }

    /// The chats the session knows (those the login listed and those that came since, kept
    /// current by the pushes), in no particular order.
    ///
    /// # Errors
    /// [`Error::Closed`] once the session has ended.
    pub async fn chats(&self) -> Result<Vec<ChatView>, Error> {
        self.driver.exec(|s, _| s.chats().cloned().collect()).await
    }

    /// One chat of [`chats`](Self::chats).
    ///
    /// # Errors
    /// [`Error::Closed`] once the session has ended.
    pub async fn chat(&self, chat: &ChatId) -> Result<Option<ChatView>, Error> {
        let chat = chat.clone();
        self.driver.exec(move |s, _| s.chat(&chat).cloned()).await
    }

    /// The chats waiting in the queue (active, no agent), oldest first.
    ///
    /// # Errors
    /// [`Error::Closed`] once the session has ended.
    pub async fn waiting_chats(&self) -> Result<Vec<ChatView>, Error> {
        self.driver.exec(|s, _| s.waiting_chats().into_iter().cloned().collect()).await
    }

    /// The active chats this agent is in, most recently active first.
    ///
    /// # Errors
    /// [`Error::Closed`] once the session has ended.
    pub async fn my_chats(&self) -> Result<Vec<ChatView>, Error> {
        self.driver.exec(|s, _| s.my_chats().into_iter().cloned().collect()).await
    }

    /// Closes the connection and stays disconnected until [`connect`](Self::connect);
    /// unfinished calls fail with [`Error::Closed`].
    pub async fn disconnect(&self) {
        let _ = self.driver.exec(|s, now| s.disconnect(now)).await;
    }

    /// Connects again after [`disconnect`](Self::disconnect) or after the server ended the
    /// session (with a fresh token from the provider).
    pub async fn connect(&self) {
        let _ = self.driver.exec(|s, now| s.connect(now)).await;
    }

    /// Ends the session: closes the connection, fails unfinished calls with
    /// [`Error::Closed`], stops the background task.
    pub async fn destroy(&self) {
        self.driver.shutdown().await;
    }

    /// Sends any command of the session and waits for its outcome: for commands the methods
    /// below do not cover, or to get the raw [`AgentReply`].
    ///
    /// # Errors
    /// The command's refusal, then as every request.
    pub async fn call<T: FromReply<AgentReply> + Send + 'static>(
        &self,
        command: impl FnOnce(&mut AgentSession, chatio_core::Instant) -> Result<chatio_wire::RequestId, Error>
        + Send
        + 'static,
    ) -> Result<T, Error> {
        self.driver.call(command).await
    }

    /// The chats the agent sees (`get_filtered_chats`; those with an active thread unless
    /// the filters say otherwise). They also refresh [`chats`](Self::chats).
    ///
    /// # Errors
    /// [`Error::Server`], [`Error::ConnectionLost`], [`Error::Timeout`], [`Error::Closed`].
    pub async fn get_filtered_chats(&self, filters: Option<ChatFilters>) -> Result<Vec<ChatView>, Error> {
        self.driver.call(move |s, now| s.get_filtered_chats(filters, now)).await
    }

    /// These threads of a chat, with all their events (`get_chat_threads`).
    ///
    /// # Errors
    /// [`Error::Server`] (`authorization` for a chat the agent may not see), and as every
    /// request.
    pub async fn chat_threads(&self, chat: &ChatId, threads: &[ThreadId]) -> Result<ChatThreads, Error> {
        let (chat, threads) = (chat.clone(), threads.to_vec());
        self.driver.call(move |s, now| s.get_chat_threads(&chat, threads, now)).await
    }

    /// A page (from 1) of the archived threads matching `filters`, newest first
    /// (`get_archives`; at most [`MAX_ARCHIVES_LIMIT`](chatio_core::agent::MAX_ARCHIVES_LIMIT)
    /// a page).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for page 0 or a limit out of range, and as every request.
    pub async fn archives(&self, filters: Option<ArchiveFilters>, page: u64, limit: u64) -> Result<Archives, Error> {
        self.driver.call(move |s, now| s.get_archives(filters, page, limit, now)).await
    }

    /// Starts a chat of this agent alone (`start_chat`).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for events agents cannot send, and as every request.
    pub async fn start_chat(&self, chat: StartChat) -> Result<Chat, Error> {
        self.driver.call(move |s, now| s.start_chat(chat, now)).await
    }

    /// Adds agents to a chat (`join_chat`).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for no agent, [`Error::Server`], and as every request.
    pub async fn join_chat(&self, chat: &ChatId, agents: &[UserId]) -> Result<(), Error> {
        let (chat, agents) = (chat.clone(), agents.to_vec());
        self.driver.call(move |s, now| s.join_chat(&chat, agents, now)).await
    }

    /// Takes a chat: joins it (a waiting chat leaves the queue).
    ///
    /// # Errors
    /// [`Error::Server`] (`authorization` for a chat out of the agent's groups), and as
    /// every request.
    pub async fn take_chat(&self, chat: &ChatId) -> Result<(), Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.take_chat(&chat, now)).await
    }

    /// Removes agents from a chat (`remove_from_chat`).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for no agent, and as every request.
    pub async fn remove_from_chat(&self, chat: &ChatId, agents: &[UserId]) -> Result<(), Error> {
        let (chat, agents) = (chat.clone(), agents.to_vec());
        self.driver.call(move |s, now| s.remove_from_chat(&chat, agents, now)).await
    }

    /// Leaves a chat: back to the queue if no other agent is in it (a transfer back to the
    /// queue).
    ///
    /// # Errors
    /// As every request.
    pub async fn leave_chat(&self, chat: &ChatId) -> Result<(), Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.leave_chat(&chat, now)).await
    }

    /// Sends an event (`send_event`); returns it as stored.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for system messages and `file` events (agents send images with
    /// [`upload_image`](Self::upload_image) and a rich message), and as every request.
    pub async fn send_event(&self, chat: &ChatId, event: NewEvent) -> Result<Event, Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.send_event(&chat, event, now)).await
    }

    /// Sends a message to everyone in the chat.
    ///
    /// # Errors
    /// As [`send_event`](Self::send_event).
    pub async fn send_message(&self, chat: &ChatId, text: impl Into<String>) -> Result<Event, Error> {
        self.send_event(chat, NewEvent::message(text)).await
    }

    /// Sends a whisper: a message only agents see (`recipients: agents`).
    ///
    /// # Errors
    /// As [`send_event`](Self::send_event).
    pub async fn send_whisper(&self, chat: &ChatId, text: impl Into<String>) -> Result<Event, Error> {
        let event = NewEvent::message(text).with_recipients(chatio_wire::Recipients::Agents);
        self.send_event(chat, event).await
    }

    /// Toggles a rich message button (`send_rich_message_postback`).
    ///
    /// # Errors
    /// [`Error::Server`] (`validation` for an unknown event or button), and as every request.
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

    /// Sends a JSON object to agents or groups (`multicast`).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for no target or content that is not an object, and as every
    /// request.
    pub async fn multicast(&self, scopes: MulticastScopes, content: Value) -> Result<(), Error> {
        self.driver.call(move |s, now| s.multicast(scopes, content, now)).await
    }

    /// Says the agent started or stopped typing (`send_typing_indicator`), to everyone or to
    /// agents only.
    ///
    /// # Errors
    /// As every request.
    pub async fn send_typing_indicator(
        &self,
        chat: &ChatId,
        is_typing: bool,
        to_agents_only: bool,
    ) -> Result<(), Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.send_typing_indicator(&chat, is_typing, to_agents_only, now)).await
    }

    /// Bans a customer for 1 to 3 650 days (`Ban::MAX_DAYS`; `ban_customer`).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for a length out of range, [`Error::Server`] (`authorization`
    /// for a customer the agent has no chat with), and as every request.
    pub async fn ban_customer(&self, customer: &UserId, days: u32) -> Result<(), Error> {
        let customer = customer.clone();
        self.driver.call(move |s, now| s.ban_customer(&customer, days, now)).await
    }

    /// Closes the chat's active thread (`close_thread`).
    ///
    /// # Errors
    /// [`Error::Server`] (`validation` when there is no active thread), and as every request.
    pub async fn close_thread(&self, chat: &ChatId) -> Result<(), Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.close_thread(&chat, now)).await
    }

    /// Adds and removes groups of a chat (`update_chat_scopes`).
    ///
    /// # Errors
    /// As every request.
    pub async fn update_chat_scopes(
        &self,
        chat: &ChatId,
        add: Option<Scopes>,
        remove: Option<Scopes>,
    ) -> Result<(), Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.update_chat_scopes(&chat, add, remove, now)).await
    }

    /// Sets this agent's routing status (`update_agent`): accepting chats or not.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for `offline` and unknown statuses, and as every request.
    pub async fn set_routing_status(&self, status: RoutingStatus) -> Result<(), Error> {
        self.driver.call(move |s, now| s.set_routing_status(status, now)).await
    }

    /// Sets an agent's routing status (`update_agent`; `None`: this agent).
    ///
    /// # Errors
    /// As [`set_routing_status`](Self::set_routing_status); [`Error::Server`]
    /// (`authorization`) for another agent without the permission.
    pub async fn update_agent(&self, agent: Option<UserId>, status: RoutingStatus) -> Result<(), Error> {
        self.driver.call(move |s, now| s.update_agent(agent, status, now)).await
    }

    /// Registers or unregisters a mobile device for push notifications
    /// (`change_push_notifications`).
    ///
    /// # Errors
    /// As every request.
    pub async fn change_push_notifications(
        &self,
        firebase_token: &str,
        platform: Platform,
        enabled: bool,
    ) -> Result<(), Error> {
        let token = firebase_token.to_owned();
        self.driver.call(move |s, now| s.change_push_notifications(&token, platform, enabled, now)).await
    }

    /// Sets chat properties (`update_chat_properties`).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for values other than int32, bool or string, and as every
    /// request.
    pub async fn update_chat_properties(&self, chat: &ChatId, properties: Properties) -> Result<(), Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.update_chat_properties(&chat, properties, now)).await
    }

    /// Sets thread properties (`update_chat_thread_properties`).
    ///
    /// # Errors
    /// As [`update_chat_properties`](Self::update_chat_properties).
    pub async fn update_chat_thread_properties(
        &self,
        chat: &ChatId,
        thread: &ThreadId,
        properties: Properties,
    ) -> Result<(), Error> {
        let (chat, thread) = (chat.clone(), thread.clone());
        self.driver.call(move |s, now| s.update_chat_thread_properties(&chat, &thread, properties, now)).await
    }

    /// Marks a chat as seen up to `at` (`None`: now, by the server's clock); returns the
    /// stored time (`update_last_seen_timestamp`). The chat's unread count starts again from
    /// zero.
    ///
    /// # Errors
    /// As every request.
    pub async fn update_last_seen_timestamp(&self, chat: &ChatId, at: Option<SystemTime>) -> Result<SystemTime, Error> {
        let chat = chat.clone();
        self.driver.call(move |s, now| s.update_last_seen_timestamp(&chat, at, now)).await
    }

    /// Adds an auto-chat-scopes configuration (`add_auto_chat_scopes`); returns its id.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for no group, and as every request.
    pub async fn add_auto_chat_scopes(
        &self,
        scopes: Scopes,
        rules: AutoChatScopesRules,
        description: Option<String>,
    ) -> Result<String, Error> {
        self.driver.call(move |s, now| s.add_auto_chat_scopes(scopes, rules, description, now)).await
    }

    /// Removes an auto-chat-scopes configuration (`remove_auto_chat_scopes`).
    ///
    /// # Errors
    /// As every request.
    pub async fn remove_auto_chat_scopes(&self, id: &str) -> Result<(), Error> {
        let id = id.to_owned();
        self.driver.call(move |s, now| s.remove_auto_chat_scopes(&id, now)).await
    }

    /// Every auto-chat-scopes configuration, oldest first (`get_auto_chat_scopes_config`).
    ///
    /// # Errors
    /// As every request.
    pub async fn auto_chat_scopes_config(&self) -> Result<Vec<AutoChatScopesConfig>, Error> {
        self.driver.call(|s, now| s.get_auto_chat_scopes_config(now)).await
    }

    /// Uploads an image (`upload_image`, PNG, GIF or JPEG up to 10 MiB): its URL, to send in
    /// a rich message (see [`send_image`](Self::send_image)). Creates no event.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for a file over 10 MiB (nothing is sent), [`Error::Server`]
    /// (`validation` for bytes that are no image), [`Error::Transport`] with
    /// [`Operation::Upload`](crate::Operation::Upload) or [`Operation::ReadFile`](crate::Operation::ReadFile). In a browser an image from a path
    /// is [`Error::InvalidArgs`] (no file system).
    pub async fn upload_image(&self, image: &ImageFile) -> Result<UploadedImage, Error> {
        let token = self.driver.credentials().await;
        self.images.upload(token, image).await
    }

    /// Uploads an image and posts it to a chat: a rich message (`template_id` `cards`) with
    /// one element titled with the file name and holding the image.
    ///
    /// # Errors
    /// As [`upload_image`](Self::upload_image), then as [`send_event`](Self::send_event).
    pub async fn send_image(&self, chat: &ChatId, image: &ImageFile) -> Result<Event, Error> {
        let uploaded = self.upload_image(image).await?;
        self.send_event(chat, image_message(image, uploaded)).await
    }
}

/// The rich message that shows an uploaded image.
fn image_message(file: &ImageFile, uploaded: UploadedImage) -> NewEvent {
    let mut image = Image::new(uploaded.url);
    image.name = Some(file.name().to_owned());
    let mut element = RichElement::new(file.name(), Vec::new());
    element.image = Some(image);
    NewEvent::new(EventKind::RichMessage(RichMessage::new("cards", vec![element])))
}
