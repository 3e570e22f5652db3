//! The command line of `chatio-server`, reusable by other binaries (`chatio server`): the
//! clap [`Args`] and [`run`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

use chatio_wire::Token;

use crate::{
    AgentConfig, ConformanceFault, DeclaredProperty, Error, Quotas, RegisteredApp, ServerBuilder, ServerConfig,
};

const AFTER_HELP: &str = "\
Endpoints (HOST:PORT as printed on start):
  GET  /customer/v0.5/rtm/ws?license_id=N       RTM websocket (every action, pushes)
       /customer/v0.5/rtm/sio/?EIO=3&license_id=N
                                                the same over socket.io (the JS SDK 0.9.1)
  GET  /customer?license_id=N&client_id=…&response_type=token&redirect_uri=…
                                                the accounts iframe page (postMessage)
  POST /customer/v0.5/action/<action>?license_id=N
                                                Web API (Authorization: Bearer TOKEN);
                                                send_file as multipart, 10 MiB max
  POST /customer/                               customer token endpoint (client_id,
                                                response_type=token, redirect_uri,
                                                valid_for, license_id: a new customer, with
                                                a refresh_token; grant_type=refresh_token:
                                                the same customer again; customer_id only
                                                with an --app-token or app client secret)
  GET  /api/file/chatio/att/<license>/<name>    uploaded files
  GET  /licence/<license>/config.json           static config ({})
  GET  /widget/                                 the chat widget (with --widget; build it
                                                with `cargo xtask widget`)
  POST /admin/<op>?customer_id=ID&license_id=N  fault injection (with --admin only, and
                                                Authorization: Bearer <admin secret>): drop,
                                                delay_next_response&ms=N,
                                                swallow_next_response, malformed,
                                                expire_tokens, ban, unban, token, restart;
                                                GET /admin/events?chat_id=ID

Agent commands (send them as chat messages):
  /help        the list          /rich        rich message with buttons
  /file        a served PNG      /form        filled_form
  /annotation  annotation        /custom      custom event
  /system      system_message    /multicast   incoming_multicast
  /props       chat + thread property updates
  /scopes      chat_scopes_updated           /seen    last_seen_timestamp_updated
  /typing      typing on, off    /close       thread_closed by the agent
  /leave       the agent leaves (chat_users_updated, agent_left)
  /echo TEXT   answers TEXT      anything else: \"You said: ...\"

Limits: frames 1 MiB (close 1009); texts 16 384 characters; ids 256 bytes; 100 customer
fields of 4 096 characters; files 10 MiB; an answer larger than 1 MiB is a `validation`
error (ask for fewer items). A websocket client that lets more than --max-queued-kib pile
up unread, or reads nothing for --write-timeout-s, is closed with 4002 slow_consumer.
Invalid UTF-8 closes with 1007, protocol errors with 1002.

Identity: a customer id is never a credential. Tokens go only to the origins of registered
redirect URIs (--apps, --app), compared exactly; with none registered, to the server's own
and loopback origins. Token requests per address: --token-rate after --token-burst (429).

Logs go to stderr (coloured only on a terminal without NO_COLOR or TERM=dumb); RUST_LOG
filters them (default info). Tokens are never logged, at any level (frame contents are never logged, the websocket library's trace output is off).";

/// The chat.io Customer API v0.5 reference server.
///
/// Serves the RTM websocket, the Web API, the customer token endpoint and uploaded files,
/// its data in a SQLite database (`--data`, or in memory with `--memory`), with a scripted agent ("Chatio Bot") that joins every chat and answers.
/// Prints one line containing `http://HOST:PORT` to stdout once it accepts connections,
/// then runs until Ctrl-C (or SIGTERM).
#[derive(Parser, Debug, Clone)]
#[command(name = "chatio-server", version, about, long_about, after_help = AFTER_HELP)]
#[non_exhaustive]
pub struct Args {
    /// Address to listen on: an IP address or a host name, and a port (port 0 = any free
    /// port; the line printed gives the real one).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT", value_parser = listen_addr)]
    pub listen: SocketAddr,
    /// A license to serve (repeat for several; default: 100).
    #[arg(long = "license", value_name = "N")]
    pub licenses: Vec<u64>,
    /// Disable the scripted agent.
    #[arg(long)]
    pub no_agent: bool,
    /// Delay before each step of the agent (join, typing, answer...), in milliseconds; 0
    /// makes every run send the same frames in the same order.
    #[arg(long, default_value_t = 400, value_name = "MS")]
    pub agent_delay_ms: u64,
    /// Logged-in connections allowed per customer; one more gets `customer_disconnected`
    /// `too_many_connections`.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_connections_per_customer: usize,
    /// Close websocket connections silent for this many seconds (close code 4001).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub idle_timeout_s: u64,
    /// Serve the fault-injection routes under /admin/ (see below).
    #[arg(long)]
    pub admin: bool,
    /// Seed of the id generator: the same seed gives the same ids.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub workers: usize,
    /// Chats one customer may start (default 1000; 0: unlimited); one more `start_chat`
    /// fails with `validation` "too many chats".
    #[arg(long, value_name = "N")]
    pub max_chats_per_customer: Option<usize>,
    /// Set a quota (G38): chat_events (10000), chat_bytes (8 MiB), properties (100),
    /// property_value_bytes (4096), chat_files (100), customer_files (500),
    /// customer_upload_bytes (200 MiB), upload_bytes (1 GiB), file_name_chars (255);
    /// repeatable. Past one, the request gets `validation` with `data.limit` naming it.
    #[arg(long = "quota", value_name = "NAME=N", value_parser = Quotas::parse_flag)]
    pub quotas: Vec<(String, u64)>,
    /// Declare a property customers may write (`rw`) or only read (`ro`); repeatable. Once
    /// one is declared, customers' writes of other properties fail with `authorization`.
    #[arg(long = "property", value_name = "NAMESPACE.NAME=rw|ro", value_parser = DeclaredProperty::parse)]
    pub properties: Vec<DeclaredProperty>,
    /// An app access token (`Authorization: Bearer TOKEN` at the token endpoint) that makes
    /// a request a server-side app's, which may name the `customer_id` of its token;
    /// repeatable. Read from the environment variable so that it stays out of `ps`.
    #[arg(
        long = "app-token",
        env = "CHATIO_APP_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        value_parser = app_token
    )]
    pub app_tokens: Vec<Token>,
    /// The registered apps, from a JSON file: `{"apps": [{"license": 100, "client_id":
    /// "shop", "redirect_uris": ["https://shop.example/chat/"], "embed_origins":
    /// ["https://shop.example"], "client_secret_sha256": "<64 hex, server-side apps only>"}]}`.
    /// Without any app, any client_id is accepted on the own and loopback origins only.
    #[arg(long = "apps", value_name = "FILE", value_parser = apps_file)]
    pub apps_files: Vec<AppsFromFile>,
    /// Registers a browser app: `LICENSE:CLIENT_ID=REDIRECT_URI[,REDIRECT_URI…]`; repeatable.
    /// Tokens go only to the origins of its redirect URIs, compared exactly.
    #[arg(long = "app", value_name = "LICENSE:CLIENT_ID=URI[,URI…]", value_parser = RegisteredApp::parse_flag)]
    pub apps: Vec<RegisteredApp>,
    /// An origin allowed to embed the chat widget of a license: `LICENSE:ORIGIN`; repeatable.
    #[arg(long = "embed-origin", value_name = "LICENSE:ORIGIN", value_parser = crate::identity::apps::parse_embed_flag)]
    pub embed_origins: Vec<(u64, String)>,
    /// The secret the `/admin/` routes require (`Authorization: Bearer SECRET`); with
    /// `--admin` and none given, one is drawn and printed at start.
    #[arg(long, env = "CHATIO_ADMIN_SECRET", value_name = "SECRET", hide_env_values = true, value_parser = app_token)]
    pub admin_secret: Option<Token>,
    /// Tokens one client address may get per second (token endpoint and accounts page),
    /// after a burst of --token-burst; past it HTTP 429 `slow_down`.
    #[arg(long, default_value_t = 20.0, value_name = "PER_SECOND")]
    pub token_rate: f64,
    /// The burst of --token-rate.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub token_burst: u32,
    /// How long an access token lives when the request names no `valid_for` (clients
    /// refresh it ahead of expiry; a short one makes them refresh often, as the SDK's
    /// kill-9 soak wants).
    #[arg(long, default_value_t = 3_600, value_name = "SECONDS")]
    pub token_lifetime: u64,
    /// The server's public base URL (file URLs; its origin may receive tokens without
    /// registration). Default: http://HOST:PORT as bound.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Register an agent of the first license with a fixed access token for scripts and
    /// tests (Agent API, `/agent/v0.5/rtm/ws`); repeatable. TOKEN: at least 16 characters,
    /// never logged. Read from the environment variable (comma-separated) so that it stays
    /// out of `ps`.
    #[arg(
        long = "agent-token",
        env = "CHATIO_AGENT_TOKEN",
        value_name = "EMAIL=TOKEN",
        hide_env_values = true,
        value_delimiter = ',',
        value_parser = AgentTokenParser
    )]
    pub agent_tokens: Vec<AgentToken>,
    /// Register an agent (a person) of the first license without a token: they sign in with
    /// a one-time link (--agent-sign-in); repeatable.
    #[arg(long = "agent", value_name = "EMAIL", value_parser = agent_email)]
    pub agent_emails: Vec<String>,
    /// Print a one-time sign-in link (single use, 24 hours) for each configured agent at
    /// start, on standard error: opened in a browser, it signs that person in to the agent
    /// page (with --widget) or shows them an 8-hour access token for `chatio agent`. The
    /// links are secrets: hand each to its person only.
    #[arg(long)]
    pub agent_sign_in: bool,
    /// Open TCP connections allowed in total; one more gets HTTP 503 and is closed
    /// (default: 4096, or fewer to fit the open-file limit).
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Open TCP connections allowed from one IP address.
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub max_connections_per_address: usize,
    /// KiB queued for one websocket client and not yet written to it; past it the session
    /// is closed with 4002 `slow_consumer`.
    #[arg(long, default_value_t = 2048, value_name = "KIB")]
    pub max_queued_kib: usize,
    /// Seconds queued frames may wait without write progress (then close 4002), and a
    /// close handshake may take (then the connection is dropped).
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub write_timeout_s: u64,
    /// Seconds an HTTP request body may take to arrive in full (then HTTP 408 and the
    /// connection is closed).
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub body_timeout_s: u64,
    /// Test-only: break the protocol on purpose (`timestamps-ms`, `drop-push`), to show that
    /// `chatio conformance server` catches it.
    #[arg(long, hide = true, value_name = "FAULT", value_parser = ConformanceFault::parse)]
    pub conformance_fault: Option<ConformanceFault>,
    /// Serve the chat widget (built by `cargo xtask widget`) at `/widget/`.
    #[arg(long)]
    pub widget: bool,
    /// Where the widget's assets are (default: `target/widget` of the current directory, or
    /// of this source tree). Implies `--widget`.
    #[arg(long, value_name = "DIR")]
    pub widget_dir: Option<PathBuf>,
    /// Keep the data (customers, tokens, chats, events, files) in a SQLite database in DIR,
    /// created private to the user, so that it survives restarts. Default:
    /// `$XDG_DATA_HOME/chatio-server`, else `$HOME/.local/share/chatio-server`, else
    /// `./chatio-data` (printed at start).
    #[arg(long = "data", value_name = "DIR", conflicts_with = "memory")]
    pub data: Option<PathBuf>,
    /// Keep everything in memory instead, gone when the server stops (tests, demos).
    #[arg(long)]
    pub memory: bool,
    /// The most MiB the database may hold; past it writes fail with a typed error
    /// (`internal`, data `{"storage": "full"}`) and nothing acknowledged is lost.
    #[arg(long, default_value_t = 8192, value_name = "MIB")]
    pub max_db_mib: u64,
    /// Delete closed threads, with their events, whose last activity is older than DAYS
    /// (each chat's last thread is kept). Default: history is kept.
    #[arg(long, value_name = "DAYS")]
    pub retain_days: Option<u64>,
    /// Delete an uploaded file no event has referred to for SECS (an agent's
    /// `upload_image` no event names); a file also goes with the last event naming it.
    #[arg(long, default_value_t = 3_600, value_name = "SECS")]
    pub unreferenced_files_after: u64,
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The data directory without `--data`: `$XDG_DATA_HOME/chatio-server`, else
/// `$HOME/.local/share/chatio-server`, else `./chatio-data`.
pub fn default_data_dir() -> PathBuf {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(xdg) = nonempty("XDG_DATA_HOME") {
        return xdg.join("chatio-server");
    }
    match nonempty("HOME") {
        Some(home) => home.join(".local/share/chatio-server"),
        None => PathBuf::from("chatio-data"),
    }
}

/// A command of `chatio-server` other than serving.
#[derive(clap::Subcommand, Debug, Clone)]
#[non_exhaustive]
pub enum Command {
    /// Copy the database of the data directory (`--data DIR` given before `backup`, else the
    /// default one) to PATH, consistent, while a server may be using it (SQLite's online
    /// backup). To restore, put the copy as `chatio.db` in an empty directory and start the
    /// server with `--data` on it.
    Backup {
        /// The file to write.
        path: PathBuf,
    },
}

/// The widget's assets: `./target/widget` when it exists, else this source tree's.
pub fn default_widget_dir() -> PathBuf {
    let here = PathBuf::from("target/widget");
    if here.join("index.html").is_file() {
        return here;
    }
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/widget");
    if tree.join("index.html").is_file() { tree } else { here }
}

/// The apps of one `--apps FILE`.
#[derive(Clone, Debug)]
pub struct AppsFromFile(pub Vec<RegisteredApp>);

fn apps_file(path: &str) -> Result<AppsFromFile, String> {
    crate::identity::apps::read_apps_file(Path::new(path)).map(AppsFromFile)
}

/// An `--agent-token EMAIL=TOKEN`: the token is redacted in `Debug` output.
#[derive(Clone)]
pub struct AgentToken {
    /// The agent's e-mail, lower case.
    pub email: String,
    /// The fixed token.
    pub token: Token,
}

impl std::fmt::Debug for AgentToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AgentToken({}=[redacted])", self.email)
    }
}

impl AgentToken {
    /// Parses `EMAIL=TOKEN`.
    ///
    /// # Errors
    /// A message saying what is wrong, never repeating the token.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (email, token) = crate::agents::directory::parse_agent_token(text)?;
        Ok(Self { email, token: Token::new(token) })
    }
}

/// Parses `--agent-token` without clap's usual error text, which would repeat the value
/// (the token) on the terminal.
#[derive(Clone, Copy, Debug)]
struct AgentTokenParser;

impl clap::builder::TypedValueParser for AgentTokenParser {
    type Value = AgentToken;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<AgentToken, clap::Error> {
        let text = value
            .to_str()
            .ok_or_else(|| clap::Error::raw(clap::error::ErrorKind::InvalidUtf8, "--agent-token: not UTF-8\n"))?;
        AgentToken::parse(text)
            .map_err(|e| clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("--agent-token: {e}\n")))
    }
}

/// An `--agent` e-mail address, checked and in lower case.
fn agent_email(text: &str) -> Result<String, String> {
    crate::agents::directory::parse_agent_email(text)
}

/// Wraps an `--app-token` at once, so that it is redacted in `Debug` output.
fn app_token(text: &str) -> Result<Token, String> {
    if text.trim().is_empty() { Err("the app token is empty".into()) } else { Ok(Token::new(text)) }
}

impl Args {
    /// The server configuration these options describe.
    pub fn config(&self) -> ServerConfig {
        let mut c = ServerConfig {
            listen: self.listen,
            agent: !self.no_agent,
            agent_delay: Duration::from_millis(self.agent_delay_ms),
            max_connections_per_customer: self.max_connections_per_customer.max(1),
            idle_timeout: Duration::from_secs(self.idle_timeout_s.max(1)),
            admin: self.admin,
            seed: self.seed,
            workers: self.workers.max(1),
            max_chats_per_customer: match self.max_chats_per_customer {
                Some(0) => None,
                Some(n) => Some(n),
                None => Some(crate::config::DEFAULT_MAX_CHATS_PER_CUSTOMER),
            },
            declared_properties: self.properties.clone(),
            app_tokens: self.app_tokens.clone(),
            apps: self.apps_files.iter().flat_map(|f| f.0.iter().cloned()).chain(self.apps.iter().cloned()).collect(),
            admin_secret: self.admin_secret.clone(),
            token_rate_per_s: self.token_rate.max(0.0),
            token_burst: self.token_burst.max(1),
            token_lifetime: Duration::from_secs(self.token_lifetime.max(1)),
            public_url: self.public_url.clone(),
            max_connections_per_address: self.max_connections_per_address.max(1),
            max_queued_bytes: self.max_queued_kib.max(1).saturating_mul(1024),
            write_timeout: Duration::from_secs(self.write_timeout_s.max(1)),
            body_timeout: Duration::from_secs(self.body_timeout_s.max(1)),
            conformance_fault: self.conformance_fault,
            max_db_bytes: self.max_db_mib.max(1).saturating_mul(1 << 20),
            retain_history: self.retain_days.map(|d| Duration::from_secs(d.max(1).saturating_mul(86_400))),
            unreferenced_files_after: Duration::from_secs(self.unreferenced_files_after.max(1)),
            data_dir: if self.memory { None } else { Some(self.data.clone().unwrap_or_else(default_data_dir)) },
            ..ServerConfig::default()
        };
        if let Some(n) = self.max_connections {
            c.max_connections = n.max(1);
        }
        for (name, value) in &self.quotas {
            // Checked by the parser: every name here is known.
            let _ = c.quotas.set(name, *value);
        }
        if !self.licenses.is_empty() {
            c.licenses = self.licenses.clone();
        }
        for (license, origin) in &self.embed_origins {
            c.embed_origins.entry(*license).or_default().push(origin.clone());
        }
        let license = c.licenses.first().copied().unwrap_or(100);
        for email in &self.agent_emails {
            if !c.agents.iter().any(|a| a.license == license && &a.email == email) {
                c.agents.push(AgentConfig::new(license, email));
            }
        }
        for t in &self.agent_tokens {
            let i = match c.agents.iter().position(|a| a.license == license && a.email == t.email) {
                Some(i) => i,
                None => {
                    c.agents.push(AgentConfig::new(license, &t.email));
                    c.agents.len() - 1
                }
            };
            c.agents[i].tokens.push(t.token.clone());
        }
        if self.widget || self.widget_dir.is_some() {
            c.widget_dir = Some(self.widget_dir.clone().unwrap_or_else(default_widget_dir));
        }
        c
    }
}

/// Runs the server until Ctrl-C or SIGTERM: logs to stderr (`RUST_LOG` filters, default
/// `info`) and prints the `http://HOST:PORT` line to stdout once it accepts connections.
///
/// # Errors
/// When the address cannot be bound or the runtime cannot start.
pub fn run(args: Args) -> Result<(), Error> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr)
        .with_ansi(log_colors())
        .try_init();
    // Signal handlers first: a SIGTERM sent as soon as the line is read must not find the
    // default action (an abrupt exit) still in place.
    if let Some(Command::Backup { path }) = &args.command {
        if args.memory {
            return Err(Error::Store(crate::error::StoreError::new("`--memory` has nothing to back up")));
        }
        let dir = &args.data.clone().unwrap_or_else(default_data_dir);
        crate::store::backup(dir, path)?;
        println!("chatio-server: {} copied to {}", dir.join("chatio.db").display(), path.display());
        return Ok(());
    }
    let signals = Signals::install();
    let config = args.config();
    let licenses = config.licenses.clone();
    let widget = config.widget_dir.clone();
    let data = config.data_dir.clone();
    let drawn_secret = config.admin && config.admin_secret.is_none();
    let people: Vec<(u64, String)> =
        config.agents.iter().filter(|a| a.bot_owner.is_none()).map(|a| (a.license, a.email.clone())).collect();
    let handle = ServerBuilder::from_config(config).start_blocking()?;
    // `println!` flushes at the newline: scripts can read the line at once.
    println!("chatio-server listening on {} (licenses {licenses:?})", handle.http_url());
    if let (true, Some(secret)) = (drawn_secret, handle.admin_secret()) {
        // Shown once, on the terminal of whoever started the server (drawn anew each start;
        // never through the log). The registered apps are listed in the log.
        eprintln!("admin routes: Authorization: Bearer {secret}");
    }
    if args.agent_sign_in {
        // Like the admin secret: on the terminal of whoever started the server, never logged.
        if people.is_empty() {
            eprintln!("--agent-sign-in: no agent is configured (add one with --agent EMAIL)");
        }
        for (license, email) in &people {
            match handle.agent_sign_in_link(*license, email) {
                Ok(link) => eprintln!("agent sign-in for {email} (license {license}, one use, 24 h): {link}"),
                Err(e) => eprintln!("agent sign-in for {email}: {e}"),
            }
        }
    }
    match data {
        Some(dir) => eprintln!("chatio-server: data in {} (SQLite)", dir.display()),
        None => eprintln!("chatio-server: data in memory, gone when it stops (--memory)"),
    }
    if let Some(dir) = widget {
        println!("chat widget: {}/widget/", handle.http_url());
        println!(
            "chat widget snippet: <script src=\"{}/widget/loader.js\" data-license=\"{}\" async></script>",
            handle.http_url(),
            licenses.first().copied().unwrap_or(100)
        );
        println!("agent page: {}/agent/ (sign in with an agent token)", handle.http_url());
        for license in &licenses {
            let origins = match handle.config().embed_origins.get(license) {
                Some(list) => list.join(", "),
                None => format!("{} (own origin and loopback: the default)", crate::DEFAULT_EMBED_ORIGINS.join(", ")),
            };
            println!("chat widget: license {license} may be embedded by {origins}");
        }
        if !dir.join("index.html").is_file() {
            eprintln!(
                "chat widget: not built ({} has no index.html): run `cargo xtask widget`, then reload the page",
                dir.display()
            );
        }
    }
    signals.wait();
    tracing::info!("stopping");
    futures::executor::block_on(handle.shutdown());
    Ok(())
}

/// Colours in the log only on a terminal, and not with `NO_COLOR` (non-empty) or
/// `TERM=dumb`: a log redirected to a file stays plain text.
fn log_colors() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    !no_color && !dumb && std::io::stderr().is_terminal()
}

/// Targets whose trace output prints websocket frames as they are (login tokens
/// included): held at `debug` whatever `RUST_LOG` asks, so that tokens are never logged.
const FRAME_DUMPERS: &[&str] = &["tungstenite", "async_tungstenite"];

/// The log filter: `RUST_LOG` (default `info`), with [`FRAME_DUMPERS`] capped at `debug`.
pub(crate) fn log_filter() -> tracing_subscriber::EnvFilter {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Only a filter that lets trace through somewhere needs the cap (adding it to an
    // `info` filter would turn those targets' debug output on).
    let traces = filter.max_level_hint().is_none_or(|l| l >= tracing_subscriber::filter::LevelFilter::TRACE);
    if traces {
        for target in FRAME_DUMPERS {
            if let Ok(d) = format!("{target}=debug").parse() {
                filter = filter.add_directive(d);
            }
        }
    }
    filter
}

/// Ctrl-C and (on Unix) SIGTERM, caught from the moment [`Signals::install`] returns.
struct Signals {
    rt: Option<tokio::runtime::Runtime>,
    #[cfg(unix)]
    caught: Vec<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let caught = match &rt {
                Some(rt) => rt.block_on(async {
                    [SignalKind::interrupt(), SignalKind::terminate()]
                        .into_iter()
                        .filter_map(|k| signal(k).ok())
                        .collect()
                }),
                None => Vec::new(),
            };
            Self { rt, caught }
        }
        #[cfg(not(unix))]
        Self { rt }
    }

    /// Blocks until a signal arrives.
    fn wait(self) {
        let Some(rt) = self.rt else {
            // No signal handling possible: park (the process is killed from outside).
            loop {
                std::thread::park();
            }
        };
        #[cfg(unix)]
        {
            let mut caught = self.caught;
            if caught.is_empty() {
                loop {
                    std::thread::park();
                }
            }
            rt.block_on(futures::future::select_all(caught.iter_mut().map(|s| Box::pin(s.recv()))));
        }
        #[cfg(not(unix))]
        rt.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
    }
}

/// `--listen HOST:PORT`: an IP address and port, or a host name resolved to its first IPv4
/// address (else its first address): `localhost:8080` listens on 127.0.0.1.
fn listen_addr(given: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = given.parse() {
        return Ok(addr);
    }
    use std::net::ToSocketAddrs as _;
    let addrs: Vec<SocketAddr> = given
        .to_socket_addrs()
        .map_err(|e| format!("{e} (HOST:PORT, like 127.0.0.1:8080, localhost:8080 or [::1]:8080)"))?
        .collect();
    addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()).copied().ok_or_else(|| format!("{given} has no address"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_data_options_and_the_backup_command_parse() {
        Args::command().debug_assert();
        let a = Args::try_parse_from(["chatio-server", "--data", "/srv/chatio"]).unwrap();
        assert_eq!(a.config().data_dir, Some(PathBuf::from("/srv/chatio")));
        assert_eq!(Args::try_parse_from(["chatio-server", "--memory"]).unwrap().config().data_dir, None);
        assert!(Args::try_parse_from(["chatio-server", "--memory", "--data", "x"]).is_err());
        let b = Args::try_parse_from(["chatio-server", "--data", "d", "backup", "copy.db"]).unwrap();
        assert!(matches!(b.command, Some(Command::Backup { ref path }) if path == Path::new("copy.db")));
        // Without either, the data is kept in the default directory.
        let dflt = Args::try_parse_from(["chatio-server"]).unwrap().config().data_dir;
        assert_eq!(dflt, Some(default_data_dir()));
        assert!(default_data_dir().ends_with("chatio-server") || default_data_dir() == Path::new("chatio-data"));
    }

    #[test]
    fn options_map_to_the_configuration() {
        let args = Args::try_parse_from([
            "chatio-server",
            "--listen",
            "127.0.0.1:0",
            "--license",
            "7",
            "--license",
            "8",
            "--no-agent",
            "--agent-delay-ms",
            "0",
            "--max-connections-per-customer",
            "3",
            "--idle-timeout-s",
            "5",
            "--admin",
            "--seed",
            "9",
            "--max-chats-per-customer",
            "4",
            "--property",
            "routing.priority=ro",
            "--property",
            "ui.bold=rw",
            "--app-token",
            "secret-app-token",
            "--app",
            "7:shop=https://shop.example/chat/,http://localhost:3000/",
            "--embed-origin",
            "8:https://blog.example",
            "--admin-secret",
            "secret-admin",
            "--token-rate",
            "5",
            "--token-burst",
            "10",
            "--token-lifetime",
            "30",
            "--public-url",
            "https://chat.example",
            "--quota",
            "chat_events=50",
            "--quota",
            "upload_bytes=1000",
        ])
        .expect("valid options");
        assert!(!format!("{args:?}").contains("secret-app-token"), "the app token shows in Debug");
        assert!(!format!("{args:?}").contains("secret-admin"), "the admin secret shows in Debug");
        let c = args.config();
        assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(c.licenses, vec![7, 8]);
        assert!(!c.agent);
        assert_eq!(c.agent_delay, Duration::ZERO);
        assert_eq!(c.max_connections_per_customer, 3);
        assert_eq!(c.idle_timeout, Duration::from_secs(5));
        assert!(c.admin);
        assert_eq!(c.seed, Some(9));
        assert_eq!(c.max_chats_per_customer, Some(4));
        assert_eq!(
            c.declared_properties,
            vec![
                DeclaredProperty::new("routing", "priority", crate::config::PropertyAccess::ReadOnly),
                DeclaredProperty::new("ui", "bold", crate::config::PropertyAccess::ReadWrite),
            ]
        );
        assert_eq!(c.app_tokens.iter().map(Token::expose).collect::<Vec<_>>(), ["secret-app-token"]);
        assert_eq!(c.apps.len(), 1);
        assert_eq!((c.apps[0].license, c.apps[0].client_id.as_str(), c.apps[0].redirect_uris.len()), (7, "shop", 2));
        assert_eq!(c.embed_origins.get(&8).map(Vec::as_slice), Some(&["https://blog.example".to_owned()][..]));
        assert_eq!(c.admin_secret.as_ref().map(Token::expose), Some("secret-admin"));
        assert_eq!((c.token_rate_per_s, c.token_burst), (5.0, 10));
        assert_eq!(c.token_lifetime, Duration::from_secs(30));
        assert_eq!(c.public_url.as_deref(), Some("https://chat.example"));
        assert_eq!((c.quotas.chat_events, c.quotas.upload_bytes, c.quotas.chat_files), (50, 1000, 100));
        for bad in [["--quota", "chat_eventz=5"], ["--quota", "chat_events=-1"], ["--quota", "chat_events"]] {
            assert!(Args::try_parse_from(["chatio-server", bad[0], bad[1]]).is_err(), "{bad:?}");
        }
        for bad in [["--app", "shop=https://a/"], ["--embed-origin", "x:https://a"], ["--apps", "/no/such/file.json"]] {
            assert!(Args::try_parse_from(["chatio-server", bad[0], bad[1]]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn agent_tokens_register_agents_of_the_first_license_and_stay_secret() {
        let args = Args::try_parse_from([
            "chatio-server",
            "--license",
            "7",
            "--agent-token",
            "Jane@Example.com=jane-secret-token-0001",
            "--agent-token",
            "jane@example.com=jane-second-token-0002",
            "--agent-token",
            "john@example.com=john-secret-token-0003",
        ])
        .expect("valid options");
        let dump = format!("{args:?}");
        assert!(!dump.contains("secret-token") && !dump.contains("second-token"), "{dump}");
        let c = args.config();
        assert_eq!(c.agents.len(), 2);
        assert_eq!((c.agents[0].license, c.agents[0].email.as_str()), (7, "jane@example.com"));
        assert_eq!(c.agents[0].tokens.len(), 2);
        assert!(!format!("{c:?}").contains("secret-token"), "the configuration's Debug shows a token");
        let err = Args::try_parse_from(["chatio-server", "--agent-token", "jane@example.com=short"])
            .expect_err("too short")
            .to_string();
        assert!(err.contains("shorter than 16") && !err.contains("=short"), "{err}");
    }

    #[test]
    fn agents_without_a_token_are_registered_by_their_address() {
        let args = Args::try_parse_from([
            "chatio-server",
            "--agent",
            " Ann@Example.com",
            "--agent",
            "ann@example.com",
            "--agent-token",
            "ann@example.com=ann-secret-token-00001",
            "--agent-sign-in",
        ])
        .expect("valid options");
        assert!(args.agent_sign_in);
        let c = args.config();
        assert_eq!(c.agents.len(), 1, "one agent, however often named");
        assert_eq!((c.agents[0].email.as_str(), c.agents[0].tokens.len()), ("ann@example.com", 1));
        for bad in ["ann", "@example.com", "ann@", "a nn@example.com"] {
            let err = Args::try_parse_from(["chatio-server", "--agent", bad]).expect_err(bad).to_string();
            assert!(err.contains("not an e-mail address"), "{err}");
        }
    }

    #[test]
    fn bad_property_declarations_are_refused_with_the_reason() {
        let err = Args::try_parse_from(["chatio-server", "--property", "routing.priority=write"])
            .expect_err("not rw or ro")
            .to_string();
        assert!(err.contains("neither `rw` nor `ro`"), "{err}");
    }

    #[test]
    fn defaults_follow_the_issue() {
        let c = Args::try_parse_from(["chatio-server"]).expect("no options needed").config();
        assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(c.licenses, vec![100]);
        assert!(c.agent);
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.max_connections_per_customer, 10);
        assert!(!c.admin);
    }

    #[test]
    fn listen_takes_host_names() {
        let c = Args::try_parse_from(["chatio-server", "--listen", "localhost:8090"]).expect("a host name").config();
        assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 8090)));
        let e = Args::try_parse_from(["chatio-server", "--listen", "localhost"]).expect_err("no port");
        assert!(e.to_string().contains("HOST:PORT"), "{e}");
    }

    #[test]
    fn help_documents_every_option_and_the_agent() {
        let help = Args::command().render_long_help().to_string();
        for needle in [
            "--listen",
            "--license",
            "--no-agent",
            "--agent-delay-ms",
            "--max-connections-per-customer",
            "--idle-timeout-s",
            "--admin",
            "--max-chats-per-customer",
            "--property",
            "--app-token",
            "--agent-token",
            "--max-connections",
            "--max-connections-per-address",
            "--max-queued-kib",
            "--write-timeout-s",
            "--body-timeout-s",
            "/rich",
            "/close",
            "/leave",
            "/customer/v0.5/rtm/ws",
        ] {
            assert!(help.contains(needle), "--help lacks {needle}");
        }
    }
}
