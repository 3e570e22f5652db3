//! `get_archives` (RTM): a history search over the threads the agent sees (agent protocol
//! file, 5.2).

use serde::{Deserialize, Serialize};

use crate::agent::objects::filters::{Date, PropertyFilters};
use crate::ids::UserId;
use crate::objects::chat::Chat;

/// `get_archives` payload; everything is optional.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetArchives {
    /// What to look for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<ArchiveFilters>,
    /// Which page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
}

impl GetArchives {
    /// Default page size on the reference server (H22).
    pub const DEFAULT_LIMIT: u64 = 25;
    /// Largest page size (H22).
    pub const MAX_LIMIT: u64 = 100;

    /// A request for one page (pages count from 1).
    pub fn page(filters: Option<ArchiveFilters>, page: u64, limit: u64) -> Self {
        Self { filters, pagination: Some(Pagination { page: Some(page), limit: Some(limit) }) }
    }
}

/// `get_archives` filters; every filter given must hold.
///
/// The agents are read from `agents` (the reference's sample, A10) when `agent_ids` is absent;
/// `agent_ids` is written.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(from = "ArchiveFiltersRepr")]
#[non_exhaustive]
pub struct ArchiveFilters {
    /// Text to find (case-insensitive) in events, customer names and e-mails, file names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Threads created on or after this day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_from: Option<Date>,
    /// Threads created on or before this day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_to: Option<Date>,
    /// Threads with any of these agents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_ids: Option<Vec<UserId>>,
    /// Chats scoped to any of these groups ("teams" are groups, A11).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_ids: Option<Vec<u64>>,
    /// Filters on chat and thread properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<PropertyFilters>,
}

#[derive(Deserialize)]
struct ArchiveFiltersRepr {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    date_from: Option<Date>,
    #[serde(default)]
    date_to: Option<Date>,
    #[serde(default)]
    agent_ids: Option<Vec<UserId>>,
    #[serde(default)]
    agents: Option<Vec<UserId>>,
    #[serde(default, deserialize_with = "crate::agent::objects::group_ids")]
    team_ids: Option<Vec<u64>>,
    #[serde(default)]
    properties: Option<PropertyFilters>,
}

impl From<ArchiveFiltersRepr> for ArchiveFilters {
    fn from(r: ArchiveFiltersRepr) -> Self {
        Self {
            query: r.query,
            date_from: r.date_from,
            date_to: r.date_to,
            agent_ids: r.agent_ids.or(r.agents),
            team_ids: r.team_ids,
            properties: r.properties,
        }
    }
}

/// Which page of `get_archives` to return.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Pagination {
    /// Page number, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    /// Page size (25 by default, at most 100 on the reference server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// `get_archives` response payload: one item per thread, newest first.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetArchivesResponse {
    /// The threads found, each in its chat.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub chats: Vec<ArchivedThread>,
    /// Where the page is.
    pub pagination: ArchivesPage,
}

impl GetArchivesResponse {
    /// A response.
    pub fn new(chats: Vec<ArchivedThread>, pagination: ArchivesPage) -> Self {
        Self { chats, pagination }
    }
}

/// One found thread: `{"chat": {id, users, properties, scopes, thread}}`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArchivedThread {
    /// The chat, its `thread` the found thread (with its events).
    pub chat: Chat,
}

impl ArchivedThread {
    /// An item.
    pub fn new(chat: Chat) -> Self {
        Self { chat }
    }
}

/// The page of a `get_archives` answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArchivesPage {
    /// This page's number.
    pub page: u64,
    /// How many threads match in all.
    pub total: u64,
}

impl ArchivesPage {
    /// A page.
    pub fn new(page: u64, total: u64) -> Self {
        Self { page, total }
    }
}
