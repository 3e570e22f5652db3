//! What the session hands out: SDK events, request outcomes and driver actions; and the
//! inputs that describe the outside world (disconnects, uploads).

use std::time::{Duration, SystemTime};

use chatio_wire::{
    ChatId, DisconnectReason, EventId, Postback, Properties, RawJson, RequestId, Scopes, SendFile, ThreadId, UserId,
};
use serde_json::Value;

use crate::error::Error;
use crate::model::{Chat, ChatSummary, Event, Thread, ThreadSummary, User};

/// An SDK event: what the JS SDK emits with `on(name, …)`, typed. The pushes it has no
/// event of its own for (`incoming_rich_message_postback`, `incoming_multicast`,
/// `chat_scopes_updated`, `customer_updated`) it emits under their raw push names, and so
/// does [`SdkEvent::name`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SdkEvent {
    /// `connected`: the first successful login; the first page of the chats summary.
    Connected {
        /// The customer's chats, most recently active first.
        chats_summary: Vec<ChatSummary>,
        /// How many chats the customer has.
        total_chats: u64,
    },
    /// `connection_lost`: the connection dropped; the session reconnects by itself.
    ConnectionLost,
    /// `connection_restored`: logged in again after a loss.
    ConnectionRestored {
        /// The customer's chats, most recently active first.
        chats_summary: Vec<ChatSummary>,
        /// How many chats the customer has.
        total_chats: u64,
    },
    /// `connection_unstable` (SDK 4.x): the connection looks half-open — a ping went
    /// unanswered, or nothing arrived for [`Config::unstable_after`](crate::Config::unstable_after).
    /// Followed by [`SdkEvent::ConnectionRecovered`] if something arrives again, or by a
    /// reconnect ([`SdkEvent::ConnectionLost`]) after
    /// [`Config::dead_after`](crate::Config::dead_after) of silence.
    ConnectionUnstable,
    /// `connection_recovered` (SDK 4.x): a frame arrived after [`SdkEvent::ConnectionUnstable`].
    ConnectionRecovered,
    /// Not emitted by the session: an [`events()`](https://docs.rs/chatio-customer-sdk)
    /// subscriber fell behind the bounded event buffer and this many events were dropped
    /// before it read them (as tokio's `broadcast` reports `Lagged(n)`).
    Lagged {
        /// How many events this subscriber missed.
        missed: u64,
    },
    /// Not in the JS SDK: the session will try to connect again after `delay`.
    Reconnecting {
        /// Attempt number, from 1.
        attempt: u32,
        /// How long until the attempt.
        delay: Duration,
    },
    /// `customer_id`: the customer's id (from the token, or the login response).
    CustomerId(UserId),
    /// `disconnected`: the server said why it is closing the connection
    /// (`customer_disconnected`). Final reasons stop the session.
    Disconnected {
        /// Why.
        reason: DisconnectReason,
    },
    /// `chat_properties_updated`.
    ChatPropertiesUpdated {
        /// The chat.
        chat: ChatId,
        /// The properties just set.
        properties: Properties,
    },
    /// `chat_thread_properties_updated`.
    ChatThreadPropertiesUpdated {
        /// The chat.
        chat: ChatId,
        /// The thread.
        thread: ThreadId,
        /// The properties just set.
        properties: Properties,
    },
    /// `last_seen_timestamp_updated`.
    LastSeenTimestampUpdated {
        /// The chat.
        chat: ChatId,
        /// The user.
        user: UserId,
        /// The new time.
        timestamp: SystemTime,
    },
    /// `new_event`: an event from someone else (or from another connection of this customer).
    NewEvent {
        /// The chat.
        chat: ChatId,
        /// The event.
        event: Event,
    },
    /// `user_data`: a user's details, whenever they come with a response or push.
    UserData(User),
    /// `user_joined_chat`.
    UserJoinedChat {
        /// The chat.
        chat: ChatId,
        /// Who joined.
        user: UserId,
    },
    /// `user_left_chat`.
    UserLeftChat {
        /// The chat.
        chat: ChatId,
        /// Who left.
        user: UserId,
    },
    /// `user_is_typing`.
    UserIsTyping {
        /// The chat.
        chat: ChatId,
        /// Who.
        user: UserId,
    },
    /// `user_stopped_typing`.
    UserStoppedTyping {
        /// The chat.
        chat: ChatId,
        /// Who.
        user: UserId,
    },
    /// `thread_closed`.
    ThreadClosed {
        /// The chat.
        chat: ChatId,
        /// The thread.
        thread: ThreadId,
        /// Who closed it (absent when the router did).
        user: Option<UserId>,
    },
    /// `thread_summary`: a thread was started, or loaded by history.
    ThreadSummary(ThreadSummary),
    /// `incoming_rich_message_postback` (emitted by the JS SDK under this raw push name).
    RichMessagePostback {
        /// Who sent it.
        user: UserId,
        /// The chat.
        chat: ChatId,
        /// The thread.
        thread: ThreadId,
        /// The rich message event.
        event: EventId,
        /// The postback.
        postback: Postback,
    },
    /// `incoming_multicast` (emitted by the JS SDK under this raw push name).
    Multicast {
        /// Who sent it.
        author: UserId,
        /// What.
        content: Value,
    },
    /// `chat_scopes_updated` (emitted by the JS SDK under this raw push name).
    ChatScopesUpdated {
        /// The chat.
        chat: ChatId,
        /// Groups added.
        added: Scopes,
        /// Groups removed.
        removed: Scopes,
    },
    /// `customer_updated` (emitted by the JS SDK under this raw push name): one per active
    /// chat.
    CustomerUpdated {
        /// The chat.
        chat: ChatId,
        /// The customer as now stored.
        customer: User,
    },
    /// A push this SDK does not know, kept verbatim.
    UnknownPush {
        /// The push name.
        action: String,
        /// Its payload.
        payload: Option<RawJson>,
    },
    /// Not in the JS SDK: the chats the last login listed, from the SDK's store, emitted
    /// when the session starts — before it is connected — so the first screen can show them
    /// at once. Cached, so possibly stale: the server's list follows in
    /// [`SdkEvent::Connected`], which wins.
    CachedChats {
        /// The customer's chats as last listed, most recently active first.
        chats_summary: Vec<ChatSummary>,
        /// How many chats the customer had.
        total_chats: u64,
    },
    /// Not in the JS SDK: a chat's latest events from the SDK's history cache, emitted when
    /// the session starts — before it is connected, after [`SdkEvent::CachedChats`] — one
    /// event per cached chat, so the first screen can show the conversation at once. Cached,
    /// so possibly stale or incomplete: events the server sends afterwards (pushes, history
    /// pages) win; the same event arriving again has the same `id` (merge by `id`, and by
    /// `custom_id` for the customer's own).
    CachedHistory {
        /// The chat.
        chat: ChatId,
        /// Its latest cached events, in the chat's order (lowest `order` first).
        events: Vec<Event>,
    },
    /// Not in the JS SDK: the SDK's store (outbox kept across restarts) cannot be used — it
    /// would not open, or a write failed (full disk, corrupt or foreign file, another process
    /// holds it). The session goes on in memory: what waits is still delivered while this
    /// process runs, but not kept for the next one. The error's operation is
    /// [`Operation::Store`](crate::Operation::Store); its cause says why.
    StoreUnavailable(crate::error::TransportError),
    /// A problem that is nobody's request: a failed login, an unusable token, a frame that
    /// does not decode. The session goes on (or has stopped, if it says so).
    Error(Error),
}

/// The result of a command.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Reply {
    /// `start_chat`: the new chat with its first thread.
    Chat(Chat),
    /// `send_event`, `send_message`: the stored event.
    Event(Event),
    /// `send_file`: where the file is.
    File {
        /// Download URL.
        url: String,
    },
    /// `get_chats_summary`.
    ChatsSummary {
        /// The page.
        chats_summary: Vec<ChatSummary>,
        /// How many chats the customer has.
        total_chats: u64,
    },
    /// `get_chat_threads`: the threads, ascending by order.
    Threads(Vec<Thread>),
    /// `get_chat_threads_summary`.
    ThreadsSummary {
        /// The page, ascending by order.
        threads_summary: Vec<ThreadSummary>,
        /// How many threads the chat has.
        total_threads: u64,
    },
    /// A history page: older events, ascending; `done` once the first thread is reached.
    History {
        /// The events.
        events: Vec<Event>,
        /// Nothing older remains.
        done: bool,
    },
    /// `update_customer`: the customer as now stored.
    Customer(User),
    /// `update_last_seen_timestamp`: the stored time.
    LastSeen(SystemTime),
    /// Commands without a result: close_thread, properties, scopes, postback, rating.
    Done,
}

/// What the session hands out: an SDK event or a command's outcome.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// An SDK event.
    Event(SdkEvent),
    /// A command finished; every command finishes exactly once.
    Completed {
        /// The id its command returned.
        id: RequestId,
        /// Its result.
        result: Result<Reply, Error>,
    },
}

/// What the driver must do for the session.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DriverAction {
    /// Get a token and give it to [`Session::handle_token`](crate::Session::handle_token)
    /// (or report [`Session::handle_token_error`](crate::Session::handle_token_error)).
    /// `fresh`: the cached one was refused, fetch a new one.
    FetchToken {
        /// Bypass any cache.
        fresh: bool,
    },
    /// Open the RTM websocket to `<server>/customer/v0.5/rtm/ws?license_id=N`, then call
    /// `handle_connected` (or `handle_disconnected` if it fails).
    Connect,
    /// Close the websocket (then call `handle_disconnected`).
    Close,
    /// Upload a file with the Web API `send_file`, then call `handle_upload_result`.
    Upload(UploadRequest),
    /// Stop the upload of this request; its outcome was already reported as `Cancelled`.
    CancelUpload {
        /// The upload's request id.
        id: RequestId,
    },
}

/// A file upload the driver must perform.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadRequest {
    /// The command's id.
    pub id: RequestId,
    /// The multipart text fields (`custom_id` always set, D10).
    pub fields: SendFile,
    /// The file name for the part.
    pub name: String,
    /// The content type for the part.
    pub content_type: String,
    /// The size announced by the caller.
    pub size: u64,
    /// The access token for `Authorization: Bearer`.
    pub access_token: String,
}

impl std::fmt::Debug for UploadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadRequest")
            .field("id", &self.id)
            .field("fields", &self.fields)
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("size", &self.size)
            .field("access_token", &"<redacted>")
            .finish()
    }
}

/// How the connection ended, as the driver saw it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Disconnect {
    /// The websocket was closed (by either side).
    Closed {
        /// The close code, if any.
        code: Option<u16>,
        /// The close reason text.
        reason: String,
    },
    /// The connection failed (I/O error, failed handshake, refused connect), with the
    /// driver's error kept whole. A failed connection attempt is reported to the user as
    /// [`SdkEvent::Error`] with [`Error::Transport`].
    Failed(crate::error::TransportError),
    /// The driver's websocket refused a message from the server longer than
    /// [`Config::max_frame_len`](crate::Config::max_frame_len) and dropped the connection
    /// (a stream cannot be read past such a message).
    FrameTooLarge {
        /// What the websocket said (sizes included).
        message: String,
    },
}

/// What the caller says of a file to upload; the bytes stay with the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileSpec {
    /// File name.
    pub name: String,
    /// Size in bytes (at most 10 MiB).
    pub size: u64,
    /// Content type (`application/octet-stream` if unknown).
    pub content_type: String,
    /// The event's custom id; one is generated if absent.
    pub custom_id: Option<String>,
}

impl FileSpec {
    /// A file of this name, size and type.
    pub fn new(name: impl Into<String>, size: u64, content_type: impl Into<String>) -> Self {
        Self { name: name.into(), size, content_type: content_type.into(), custom_id: None }
    }

    /// Sets the custom id, returning `self`.
    #[must_use]
    pub fn with_custom_id(mut self, custom_id: impl Into<String>) -> Self {
        self.custom_id = Some(custom_id.into());
        self
    }
}

/// A customer's rating of a chat (`send_rating`, G28).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rating {
    /// 👍: score 1.
    Good,
    /// 👎: score 0.
    Bad,
}

/// A history cursor's handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HistoryId(pub(crate) u64);
