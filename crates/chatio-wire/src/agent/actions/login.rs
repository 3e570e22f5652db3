//! `login` (RTM): authenticates the connection, sets the routing status and subscribes it to
//! pushes (agent protocol file, 5.1).

use serde::{Deserialize, Serialize};

use crate::agent::objects::chat_summary::ChatSummary;
use crate::agent::objects::license::License;
use crate::objects::error::name_enum;
use crate::objects::user::User;
use crate::token::Token;

/// `login` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Login {
    /// `"Bearer <agent access token>"` (the prefix is optional, A3).
    pub token: Token,
    /// `true`: restore the last routing status instead of the default (H21).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnect: Option<bool>,
    /// The device to send push notifications to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_notifications: Option<PushNotifications>,
    /// Which client this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<Application>,
}

impl Login {
    /// A login with this token.
    pub fn new(token: Token) -> Self {
        Self { token, reconnect: None, push_notifications: None, application: None }
    }

    /// Marks the login as a reconnection (keeps the last routing status), returning `self`.
    #[must_use]
    pub fn reconnecting(mut self) -> Self {
        self.reconnect = Some(true);
        self
    }

    /// Names the client, returning `self`.
    #[must_use]
    pub fn with_application(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.application = Some(Application { name: Some(name.into()), version: Some(version.into()) });
        self
    }
}

/// `login`'s push notification device. `platform` is required whenever the object is sent
/// (A4).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PushNotifications {
    /// Firebase device token, to merge with an existing push instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firebase_token: Option<String>,
    /// The device's platform.
    pub platform: Platform,
}

impl PushNotifications {
    /// A device.
    pub fn new(platform: Platform, firebase_token: Option<String>) -> Self {
        Self { firebase_token, platform }
    }
}

/// The client application of a `login`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Application {
    /// Name, e.g. `chatio agent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

name_enum!(
    /// A push-notification device's platform.
    Platform {
        /// `ios`.
        Ios = "ios",
        /// `android`.
        Android = "android",
    }
);

/// `login` response payload: the agent's initial state.
///
/// The chat list is read from `last_chats_summary` (the overview's name, A7) when
/// `chats_summary` is absent; `chats_summary` is written.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(from = "LoginResponseRepr")]
#[non_exhaustive]
pub struct LoginResponse {
    /// The license.
    pub license: License,
    /// The agent itself (with `routing_status` and `permission`).
    pub my_profile: User,
    /// The chats it sees with an active thread, newest first (H23).
    pub chats_summary: Vec<ChatSummary>,
}

impl LoginResponse {
    /// A response.
    pub fn new(license: License, my_profile: User, chats_summary: Vec<ChatSummary>) -> Self {
        Self { license, my_profile, chats_summary }
    }
}

#[derive(Deserialize)]
struct LoginResponseRepr {
    license: License,
    my_profile: User,
    #[serde(default)]
    chats_summary: Option<Vec<ChatSummary>>,
    #[serde(default)]
    last_chats_summary: Option<Vec<ChatSummary>>,
}

impl From<LoginResponseRepr> for LoginResponse {
    fn from(r: LoginResponseRepr) -> Self {
        Self {
            license: r.license,
            my_profile: r.my_profile,
            chats_summary: r.chats_summary.or(r.last_chats_summary).unwrap_or_default(),
        }
    }
}
