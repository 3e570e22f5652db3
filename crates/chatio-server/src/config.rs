//! Server configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chatio_wire::Token;

pub use crate::identity::apps::RegisteredApp;

/// How the server behaves. Build it with [`Server::builder`](crate::Server::builder).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Where to listen (port 0 = any free port).
    pub listen: SocketAddr,
    /// The licenses served (default: one, `100`).
    pub licenses: Vec<u64>,
    /// Licenses whose `login` and Web API calls fail with `license_expired`.
    pub expired_licenses: Vec<u64>,
    /// Whether the scripted agent joins chats and answers.
    pub agent: bool,
    /// How long the agent waits before each of its steps (0 = at once, deterministic).
    pub agent_delay: Duration,
    /// Logged-in RTM connections allowed per customer (G10, default 10).
    pub max_connections_per_customer: usize,
    /// A connection silent this long is closed with code 4001 `ping_timeout` (default 60 s).
    pub idle_timeout: Duration,
    /// Whether the `/admin/...` fault-injection routes are served.
    pub admin: bool,
    /// Seed of the id generator (`None`: a random seed).
    pub seed: Option<u64>,
    /// The registered apps (G11): per license, `client_id` → exact redirect URIs (the
    /// origins allowed to receive tokens and read answers), embed origins, and the secret
    /// of a server-side app. Empty, the default: any `client_id`, but only redirect URIs
    /// and origins on the server's own origin or a loopback origin.
    pub apps: Vec<RegisteredApp>,
    /// The secret the `/admin/...` routes require (`Authorization: Bearer <secret>`); with
    /// [`admin`](Self::admin) and no secret, the server draws one at start
    /// ([`ServerHandle::admin_secret`](crate::ServerHandle::admin_secret)).
    pub admin_secret: Option<Token>,
    /// How long a refresh token stays usable without being used (30 days); each use
    /// rotates it and restarts the period.
    pub refresh_lifetime: Duration,
    /// How long the accounts page remembers a browser by its cookie (365 days).
    pub remember_lifetime: Duration,
    /// Tokens one client address may get from the token endpoint and the accounts page:
    /// this many per second on average (default 20)...
    pub token_rate_per_s: f64,
    /// ... after a first burst of this many (default 200). Past it: HTTP 429 `slow_down`.
    pub token_burst: u32,
    /// Live access tokens kept per customer (default 32): one more pushes out the oldest.
    pub max_tokens_per_customer: usize,
    /// The agents of the Agent API, per license (protocol file H7, H8): never created
    /// through the API. Empty, the default: only the scripted agent.
    pub agents: Vec<AgentConfig>,
    /// How long an agent counts as logged in after its last connection closed (H33,
    /// default 30 s); then it is offline and its active chats are routed again.
    pub agent_grace: Duration,
    /// Logged-in RTM connections allowed per agent (H6, default 20); one more `login`
    /// fails with `authorization`.
    pub max_connections_per_agent: usize,
    /// Default token lifetime (3600 s).
    pub token_lifetime: Duration,
    /// Threads idle this long are archived by the router (`None`: never, the default).
    pub archive_after: Option<Duration>,
    /// Worker threads of the server's own tokio runtime (default 2).
    pub workers: usize,
    /// Public base URL used in file URLs and `static_config_path` (default: the bound
    /// `http://HOST:PORT`).
    pub public_url: Option<String>,
    /// How long an expired token is kept (so that using it says "expired") before it is
    /// purged (default 5 minutes). Customers with no token, chat or connection left are
    /// purged with their last token.
    pub expired_token_grace: Duration,
    /// Largest uploaded file (10 MiB, G14).
    pub max_file_size: u64,
    /// Chats one customer may start (G4; default 1 000; `None`: unlimited). The
    /// `start_chat` over the cap fails with `validation` "too many chats" (`data.limit`
    /// `chats_per_customer`).
    pub max_chats_per_customer: Option<usize>,
    /// The quotas on what customers and agents make the server hold: events and bytes per
    /// chat, properties, uploads, file names (G38; protocol file 2.10).
    pub quotas: Quotas,
    /// Properties customers may write (G15). Empty, the default: any namespace and name.
    /// Otherwise a customer's write of a property that is not declared, or declared
    /// [`PropertyAccess::ReadOnly`], fails with `authorization` (chat, thread and event
    /// properties alike; the agent is not restricted).
    pub declared_properties: Vec<DeclaredProperty>,
    /// App access tokens (G11): a request to the token endpoint that carries one in
    /// `Authorization: Bearer <token>` is a server-side app's, which may name the
    /// `customer_id` of the token (for backends that map their own users to customers, and
    /// tests that pin ids). Without one, `customer_id` is refused.
    pub app_tokens: Vec<Token>,
    /// Open TCP connections allowed in total (default 4096, lowered to fit the process's
    /// open-file limit when it is known); one more gets HTTP 503 and is closed.
    pub max_connections: usize,
    /// Open TCP connections allowed from one client IP address (default 512).
    pub max_connections_per_address: usize,
    /// Bytes queued for one websocket session and not yet written to its socket (default
    /// 2 MiB, room for two frames of the largest size): past it the session is closed with 4002 `slow_consumer`.
    pub max_queued_bytes: usize,
    /// How long queued frames may wait without any write progress, and how long a close
    /// handshake may take, before the session is closed (4002) or dropped (default 10 s).
    pub write_timeout: Duration,
    /// How long an HTTP request body may take to arrive in full (default 30 s): a slower
    /// one ends the connection (HTTP 408 when it can still be written).
    pub body_timeout: Duration,
    /// A directory of static files served under `/widget/` (the chat widget built by
    /// `cargo xtask widget`, in `target/widget/`). `None`, the default: not served.
    pub widget_dir: Option<PathBuf>,
    /// Per license, the origins allowed to embed the chat widget (`scheme://host[:port]`,
    /// or CSP source expressions such as `http://localhost:*` and `self`). A license not
    /// listed: the server's own origin and loopback origins
    /// ([`DEFAULT_EMBED_ORIGINS`](crate::DEFAULT_EMBED_ORIGINS)).
    pub embed_origins: std::collections::BTreeMap<u64, Vec<String>>,
    /// A deliberate protocol fault, for testing conformance checkers only (`None`, the
    /// default: none). Never set it in production.
    pub conformance_fault: Option<ConformanceFault>,
    /// Where the data is kept: a SQLite database (and the uploaded files) in this
    /// directory, made private to the user, so that it survives restarts. `None`, the
    /// default: in memory, gone when the server stops.
    pub data_dir: Option<PathBuf>,
    /// The most bytes the database in `data_dir` may hold (default 8 GiB): past it a write
    /// fails with a typed `internal` error whose `data` is `{"storage": "full"}`, and
    /// nothing acknowledged is lost (a full disk behaves the same).
    pub max_db_bytes: u64,
    /// Retention: closed threads whose last activity is older than this are deleted with
    /// their events, except each chat's last thread (checked every second, at most
    /// 256 threads at a time). `None`, the default: history is kept.
    pub retain_history: Option<Duration>,
    /// How long an uploaded file may stay with no event referring to it (default 1 h;
    /// an agent's `upload_image` file that no event names, G38): then it is deleted, from
    /// the disk and the store. A file whose last referring event is deleted (retention)
    /// goes with it.
    pub unreferenced_files_after: Duration,
}

/// The default of [`ServerConfig::max_chats_per_customer`].
pub(crate) const DEFAULT_MAX_CHATS_PER_CUSTOMER: usize = 1_000;

/// The quotas on what clients make the server hold (G38; protocol file 2.10). Each has a
/// default; past one, the request is refused with a `validation` error whose `data` names
/// the limit (`{"limit": "<name>", "max": N}`, the names below) and nothing is stored.
/// Set one from the command line with `--quota NAME=N`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quotas {
    /// `chat_events`: events one chat holds, every author together (default 10 000). Past
    /// it, customers' and agents' events are refused; the server's own (the scripted
    /// agent's answers, system messages) are not added.
    pub chat_events: u64,
    /// `chat_bytes`: bytes of events one chat holds, each event counted as its JSON
    /// (default 8 MiB); past it, the same.
    pub chat_bytes: u64,
    /// `properties`: properties one chat, thread or event holds once a write is merged
    /// (default 100).
    pub properties: usize,
    /// `property_value_bytes`: bytes of one string property value (default 4 096).
    pub property_value_bytes: usize,
    /// `chat_files`: files uploaded to one chat (default 100).
    pub chat_files: u64,
    /// `customer_files`: files one customer uploads, every chat together (default 500).
    pub customer_files: u64,
    /// `customer_upload_bytes`: bytes one customer uploads (default 200 MiB).
    pub customer_upload_bytes: u64,
    /// `upload_bytes`: bytes of uploaded files the server holds, every customer together
    /// (default 1 GiB).
    pub upload_bytes: u64,
    /// `file_name_chars`: characters of an uploaded file's name (default 255). A name with
    /// control characters or bidirectional formatting characters (U+061C, U+200E, U+200F,
    /// U+202A–U+202E, U+2066–U+2069) is refused as well (`file_name`).
    pub file_name_chars: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            chat_events: 10_000,
            chat_bytes: 8 * 1024 * 1024,
            properties: 100,
            property_value_bytes: 4_096,
            chat_files: 100,
            customer_files: 500,
            customer_upload_bytes: 200 * 1024 * 1024,
            upload_bytes: 1024 * 1024 * 1024,
            file_name_chars: 255,
        }
    }
}

impl Quotas {
    /// The names `--quota` and error `data.limit` use, with their current values.
    pub fn entries(&self) -> [(&'static str, u64); 9] {
        [
            ("chat_events", self.chat_events),
            ("chat_bytes", self.chat_bytes),
            ("properties", self.properties as u64),
            ("property_value_bytes", self.property_value_bytes as u64),
            ("chat_files", self.chat_files),
            ("customer_files", self.customer_files),
            ("customer_upload_bytes", self.customer_upload_bytes),
            ("upload_bytes", self.upload_bytes),
            ("file_name_chars", self.file_name_chars as u64),
        ]
    }

    /// Sets one quota by name.
    ///
    /// # Errors
    /// A message naming the known quotas when `name` is none of them.
    pub fn set(&mut self, name: &str, value: u64) -> Result<(), String> {
        let small = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        match name {
            "chat_events" => self.chat_events = value,
            "chat_bytes" => self.chat_bytes = value,
            "properties" => self.properties = small(value),
            "property_value_bytes" => self.property_value_bytes = small(value),
            "chat_files" => self.chat_files = value,
            "customer_files" => self.customer_files = value,
            "customer_upload_bytes" => self.customer_upload_bytes = value,
            "upload_bytes" => self.upload_bytes = value,
            "file_name_chars" => self.file_name_chars = small(value),
            other => {
                let known: Vec<&str> = self.entries().iter().map(|(n, _)| *n).collect();
                return Err(format!("unknown quota `{other}` (known: {})", known.join(", ")));
            }
        }
        Ok(())
    }

    /// Parses `NAME=N` (the `--quota` option) into `(name, value)`.
    ///
    /// # Errors
    /// A message saying what is wrong with the text.
    pub fn parse_flag(text: &str) -> Result<(String, u64), String> {
        let (name, value) = text.split_once('=').ok_or_else(|| format!("`{text}`: expected NAME=N"))?;
        let value = value.trim().parse::<u64>().map_err(|_| format!("`{text}`: `{value}` is not a whole number"))?;
        Quotas::default().set(name.trim(), value)?;
        Ok((name.trim().to_owned(), value))
    }
}
/// Threads the retention deletes per pass of the 1 s sweep.
pub(crate) const RETENTION_BATCH: usize = 256;

/// Customers the purge examines per pass of the 1 s sweep (it goes on where it stopped).
pub(crate) const PURGE_BATCH: usize = 1_024;

/// Idle chats archived per pass of the 1 s sweep (the longest idle first).
pub(crate) const ARCHIVE_BATCH: usize = 256;

/// The default of [`ServerConfig::unreferenced_files_after`]: one hour.
pub(crate) const DEFAULT_UNREFERENCED_FILES_AFTER: Duration = Duration::from_secs(3_600);

/// The most unreferenced files one sweep deletes (the next sweep, a second later, goes on).
pub(crate) const FILE_EXPIRY_BATCH: usize = 256;

/// A deliberate deviation from the protocol, so that `chatio conformance server` can be
/// shown to fail on a broken server (hidden option `--conformance-fault`). Test-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConformanceFault {
    /// Events stamped by customer requests carry timestamps in milliseconds.
    TimestampsMs,
    /// The first `incoming_event` push caused by a customer request is not sent.
    DropPush,
    /// The answer to a refresh grant is written 200 ms after its rotation was stored: the
    /// moment a client killed then loses the new refresh token (G39), made wide enough for
    /// the SDK's kill-9 soak to land in it.
    SlowRefresh,
}

impl ConformanceFault {
    /// Parses `timestamps-ms`, `drop-push` or `slow-refresh`.
    ///
    /// # Errors
    /// A message naming the accepted values.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "timestamps-ms" => Ok(Self::TimestampsMs),
            "drop-push" => Ok(Self::DropPush),
            "slow-refresh" => Ok(Self::SlowRefresh),
            other => Err(format!("`{other}`: expected `timestamps-ms`, `drop-push` or `slow-refresh`")),
        }
    }
}

/// An agent's level (scopes.md): what its tokens may do (protocol file §3.1, H11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AgentPermission {
    /// Every scope, including `chats.meta--all:write`, `agents--all:write` and the auto
    /// chat scopes.
    Administrator,
    /// Every scope but the administrator ones.
    #[default]
    Normal,
}

/// The default `max_chats_count` of an agent (the Configuration API's).
pub(crate) const DEFAULT_AGENT_MAX_CHATS: usize = 6;

/// One agent of a license (protocol file §3.2, H7, H8).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentConfig {
    /// The license it belongs to.
    pub license: u64,
    /// Its id, an e-mail address (kept in lower case, H40).
    pub email: String,
    /// Its name (default: the e-mail's local part).
    pub name: String,
    /// An absolute avatar URL (`None`: the server's default avatar).
    pub avatar: Option<String>,
    /// Its level (default [`AgentPermission::Normal`]).
    pub permission: AgentPermission,
    /// Chats with an active thread routing may give it (`max_chats_count`, default 6).
    pub max_chats: usize,
    /// Its groups (default: group 0): chats whose scopes name none of them are not routed
    /// to it.
    pub groups: Vec<u64>,
    /// Fixed access tokens (`--agent-token EMAIL=TOKEN`): every scope of its permission,
    /// no expiry, never logged.
    pub tokens: Vec<Token>,
    /// For a bot agent (§9, H34): the id of the agent whose token acts as it with
    /// `author_id`; a bot cannot log in itself.
    pub bot_owner: Option<String>,
}

impl std::fmt::Debug for AgentConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentConfig")
            .field("license", &self.license)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("permission", &self.permission)
            .field("max_chats", &self.max_chats)
            .field("groups", &self.groups)
            .field("tokens", &self.tokens.len())
            .field("bot_owner", &self.bot_owner)
            .finish_non_exhaustive()
    }
}

impl AgentConfig {
    /// An agent of `license` with the defaults (name from the e-mail, normal, 6 chats,
    /// group 0, no token).
    pub fn new(license: u64, email: &str) -> Self {
        let email = email.trim().to_lowercase();
        let name = email.split('@').next().unwrap_or(&email).to_owned();
        Self {
            license,
            email,
            name,
            avatar: None,
            permission: AgentPermission::Normal,
            max_chats: DEFAULT_AGENT_MAX_CHATS,
            groups: vec![0],
            tokens: Vec::new(),
            bot_owner: None,
        }
    }

    /// A bot agent of `license` (§9, H34): `id` (kept in lower case; the docs' bots have 32
    /// hexadecimal digits), `name`, acting through the token of the agent `owner`.
    pub fn bot(license: u64, id: &str, name: &str, owner: &str) -> Self {
        Self { name: name.to_owned(), bot_owner: Some(owner.trim().to_lowercase()), ..Self::new(license, id) }
    }
}

/// What a customer may do with a declared property (G15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropertyAccess {
    /// The customer reads and writes it.
    ReadWrite,
    /// The customer reads it; writes fail with `authorization`.
    ReadOnly,
}

/// A property declared in the server's configuration (G15; the hosted service declared
/// them with its Configuration API, which v0.5 customers cannot reach).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeclaredProperty {
    /// The namespace, e.g. `"routing"`.
    pub namespace: String,
    /// The property's name within the namespace.
    pub name: String,
    /// The customer's rights.
    pub access: PropertyAccess,
}

impl DeclaredProperty {
    /// Declares `namespace.name` with the customer's `access`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>, access: PropertyAccess) -> Self {
        Self { namespace: namespace.into(), name: name.into(), access }
    }

    /// Parses `NAMESPACE.NAME=rw` or `NAMESPACE.NAME=ro` (the `--property` option).
    ///
    /// # Errors
    /// A message saying what is wrong with the text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (key, access) = text
            .rsplit_once('=')
            .ok_or_else(|| format!("`{text}`: expected NAMESPACE.NAME=rw or NAMESPACE.NAME=ro"))?;
        let access = match access {
            "rw" => PropertyAccess::ReadWrite,
            "ro" => PropertyAccess::ReadOnly,
            other => return Err(format!("`{text}`: access `{other}` is neither `rw` nor `ro`")),
        };
        match key.split_once('.') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() => Ok(Self::new(ns, name, access)),
            _ => Err(format!("`{text}`: expected NAMESPACE.NAME before `=`")),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            licenses: vec![100],
            expired_licenses: Vec::new(),
            agent: true,
            agent_delay: Duration::from_millis(0),
            max_connections_per_customer: 10,
            idle_timeout: Duration::from_secs(60),
            admin: false,
            seed: None,
            apps: Vec::new(),
            admin_secret: None,
            refresh_lifetime: Duration::from_secs(30 * 86_400),
            remember_lifetime: Duration::from_secs(365 * 86_400),
            token_rate_per_s: 20.0,
            token_burst: 200,
            max_tokens_per_customer: 32,
            agents: Vec::new(),
            agent_grace: Duration::from_secs(30),
            max_connections_per_agent: 20,
            token_lifetime: Duration::from_secs(3600),
            archive_after: None,
            workers: 2,
            public_url: None,
            max_file_size: chatio_wire::limits::MAX_FILE_SIZE,
            expired_token_grace: Duration::from_secs(300),
            max_chats_per_customer: Some(DEFAULT_MAX_CHATS_PER_CUSTOMER),
            quotas: Quotas::default(),
            declared_properties: Vec::new(),
            app_tokens: Vec::new(),
            max_connections: default_max_connections(),
            max_connections_per_address: 512,
            max_queued_bytes: 2 * 1024 * 1024,
            write_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            conformance_fault: None,
            widget_dir: None,
            embed_origins: std::collections::BTreeMap::new(),
            data_dir: None,
            max_db_bytes: 8 << 30,
            retain_history: None,
            unreferenced_files_after: DEFAULT_UNREFERENCED_FILES_AFTER,
        }
    }
}

/// 4096, or fewer when the open-file limit (read from `/proc/self/limits` on Linux) would
/// not leave room for them: a server out of descriptors cannot even refuse politely.
pub(crate) fn default_max_connections() -> usize {
    const DEFAULT: usize = 4096;
    let limit = std::fs::read_to_string("/proc/self/limits").ok().and_then(|text| {
        let line = text.lines().find(|l| l.starts_with("Max open files"))?;
        line.split_whitespace().nth(3)?.parse::<usize>().ok()
    });
    match limit {
        // Leave room for the listener, logs, files and the process's own needs.
        Some(n) => DEFAULT.min(n.saturating_sub(32).max(16)),
        None => DEFAULT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_properties_parse_from_the_command_line_form() {
        assert_eq!(
            DeclaredProperty::parse("routing.priority=ro"),
            Ok(DeclaredProperty::new("routing", "priority", PropertyAccess::ReadOnly))
        );
        assert_eq!(
            DeclaredProperty::parse("a.b.c=rw"),
            Ok(DeclaredProperty::new("a", "b.c", PropertyAccess::ReadWrite))
        );
        for bad in ["routing.priority", "routing.priority=x", ".p=rw", "ns.=ro", "nodot=rw"] {
            let err = DeclaredProperty::parse(bad).expect_err(bad);
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn app_tokens_do_not_show_in_debug_output() {
        let config = ServerConfig {
            app_tokens: vec![Token::new("app-secret-123")],
            admin_secret: Some(Token::new("admin-secret-456")),
            apps: vec![RegisteredApp::new(100, "b", &[]).unwrap().with_secret("client-secret-789")],
            ..ServerConfig::default()
        };
        let text = format!("{config:?}");
        for secret in ["app-secret-123", "admin-secret-456", "client-secret-789"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
