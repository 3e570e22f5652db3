//! `change_push_notifications` (RTM): turns a device's push notifications on or off (agent
//! protocol file, 5.16).

use serde::{Deserialize, Serialize};

use crate::agent::actions::login::Platform;

/// `change_push_notifications` payload. No response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChangePushNotifications {
    /// The device's Firebase token.
    pub firebase_token: String,
    /// The device's platform.
    pub platform: Platform,
    /// On or off.
    pub enabled: bool,
}

impl ChangePushNotifications {
    /// A request.
    pub fn new(firebase_token: impl Into<String>, platform: Platform, enabled: bool) -> Self {
        Self { firebase_token: firebase_token.into(), platform, enabled }
    }
}
