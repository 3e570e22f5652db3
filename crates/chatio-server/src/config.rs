//! Server configuration.

use std::net::SocketAddr;
use std::time::Duration;

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
    /// Client ids accepted by the token endpoint (empty: any).
    pub allowed_client_ids: Vec<String>,
    /// Redirect URI prefixes accepted by the token endpoint (empty: any).
    pub allowed_redirect_uris: Vec<String>,
    /// Default token lifetime (3600 s).
    pub token_lifetime: Duration,
    /// Threads idle this long are archived by the router (`None`: never, the default).
    pub archive_after: Option<Duration>,
    /// Worker threads of the server's own tokio runtime (default 2).
    pub workers: usize,
    /// Public base URL used in file URLs and `static_config_path` (default: the bound
    /// `http://HOST:PORT`).
    pub public_url: Option<String>,
    /// Largest uploaded file (10 MiB, G14).
    pub max_file_size: u64,
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
            allowed_client_ids: Vec::new(),
            allowed_redirect_uris: Vec::new(),
            token_lifetime: Duration::from_secs(3600),
            archive_after: None,
            workers: 2,
            public_url: None,
            max_file_size: 10 * 1024 * 1024,
        }
    }
}
