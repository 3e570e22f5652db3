//! What only agents see in the shared objects (agent protocol file, 4.2–4.3): a customer's
//! visits and ban, an agent's routing status, one's own permission, and the thread list of
//! `get_chat_threads`. Built with the `agent` feature only.

use serde::{Deserialize, Serialize};

use crate::ids::ThreadId;
use crate::objects::error::name_enum;
use crate::time::Timestamp;

name_enum!(
    /// Whether an agent takes new chats (`routing_status`). The Configuration API's spellings
    /// with spaces are read too (A30); the underscored form is written.
    RoutingStatus {
        /// `accepting_chats`: routed new chats.
        AcceptingChats = "accepting_chats" | "accepting chats",
        /// `not_accepting_chats`: logged in, but not routed new chats.
        NotAcceptingChats = "not_accepting_chats" | "not accepting chats",
        /// `offline`: not logged in (only in `agent_updated`, H21, H33).
        Offline = "offline",
    }
);

name_enum!(
    /// An agent's permission level (`my_profile.permission`): which scopes it may hold.
    Permission {
        /// `administrator`: every scope.
        Administrator = "administrator",
        /// `normal`: the scopes marked normal in the scopes table (agent protocol file, 3.1).
        Normal = "normal",
    }
);

/// What agents see of a customer's visits: the agent-view `monitoring` of a customer user.
/// Every part is optional; the reference server leaves out `host` and `geolocation` (H28).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerMonitoring {
    /// The visit under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_visit: Option<CurrentVisit>,
    /// Counts over every visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<VisitStats>,
    /// The page the customer came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// The customer's IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The reverse DNS name of that address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The browser's `User-Agent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Where the address is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geolocation: Option<Geolocation>,
}

/// The visit under way.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CurrentVisit {
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Timestamp>,
    /// The pages seen, oldest first.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub pages: Vec<VisitedPage>,
}

/// A page seen during a visit.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VisitedPage {
    /// When it was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Timestamp>,
    /// Its URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl VisitedPage {
    /// A page.
    pub fn new(start: Timestamp, url: impl Into<String>, title: Option<String>) -> Self {
        Self { start: Some(start), url: Some(url.into()), title }
    }
}

/// Counts over a customer's visits.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VisitStats {
    /// Visits (logins separated by at least 30 minutes, on the reference server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits: Option<u64>,
    /// Threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
    /// Pages seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_views: Option<u64>,
    /// When the previous visit was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_visit: Option<Timestamp>,
}

/// Where an IP address is.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Geolocation {
    /// Country name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// ISO country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Time zone name, e.g. `Europe/Warsaw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// An item of the agent-side `get_chat_threads` chat's `threads_summary`: a thread and its
/// order (no event count, unlike the customer side's). The customer side's key `id` is read
/// when `thread_id` is absent (A14).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(try_from = "ThreadRefRepr")]
#[non_exhaustive]
pub struct ThreadRef {
    /// The thread.
    pub thread_id: ThreadId,
    /// Its order among the chat's threads.
    pub order: u64,
}

impl ThreadRef {
    /// An item.
    pub fn new(thread_id: impl Into<ThreadId>, order: u64) -> Self {
        Self { thread_id: thread_id.into(), order }
    }
}

#[derive(Deserialize)]
struct ThreadRefRepr {
    #[serde(default)]
    thread_id: Option<ThreadId>,
    #[serde(default)]
    id: Option<ThreadId>,
    order: u64,
}

impl TryFrom<ThreadRefRepr> for ThreadRef {
    type Error = &'static str;

    fn try_from(r: ThreadRefRepr) -> Result<Self, Self::Error> {
        let thread_id = r.thread_id.or(r.id).ok_or("missing field `thread_id`")?;
        Ok(Self { thread_id, order: r.order })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_status_reads_both_spellings() {
        let s: RoutingStatus = serde_json::from_str(r#""not accepting chats""#).unwrap();
        assert_eq!(s, RoutingStatus::NotAcceptingChats);
        assert_eq!(serde_json::to_string(&s).unwrap(), r#""not_accepting_chats""#);
        assert_eq!(RoutingStatus::parse("away"), RoutingStatus::Other("away".into()));
    }

    #[test]
    fn thread_ref_reads_the_customer_key() {
        let t: ThreadRef = serde_json::from_str(r#"{"id":"T1","order":3,"total_events":4}"#).unwrap();
        assert_eq!(t, ThreadRef::new("T1", 3));
        assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"thread_id":"T1","order":3}"#);
        let both: ThreadRef = serde_json::from_str(r#"{"id":"X","thread_id":"T1","order":3}"#).unwrap();
        assert_eq!(both.thread_id, "T1");
        let err = serde_json::from_str::<ThreadRef>(r#"{"order":3}"#).unwrap_err();
        assert!(err.to_string().contains("thread_id"), "{err}");
    }
}
