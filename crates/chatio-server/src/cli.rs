//! The command line of `chatio-server` (and of `chatio server`).

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

use crate::{Server, ServerConfig};

/// The chat.io Customer API v0.5 reference server.
///
/// Serves the RTM websocket (`/customer/v0.5/rtm/ws?license_id=N`), the Web API
/// (`/customer/v0.5/action/<action>`), the customer token endpoint (`POST /customer/`) and
/// uploaded files, in memory, with a scripted agent ("Chatio Bot") that joins every chat and
/// answers; type `/help` in a chat for its commands. Prints one line with `http://HOST:PORT`
/// once it accepts connections.
#[derive(Parser, Debug, Clone)]
#[command(name = "chatio-server", version, about, long_about)]
pub struct Args {
    /// Address to listen on (port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub listen: SocketAddr,
    /// A license to serve (repeat for several; default 100).
    #[arg(long = "license", value_name = "N")]
    pub licenses: Vec<u64>,
    /// Disable the scripted agent.
    #[arg(long)]
    pub no_agent: bool,
    /// Delay before each step of the agent, in milliseconds.
    #[arg(long, default_value_t = 400, value_name = "MS")]
    pub agent_delay_ms: u64,
    /// Logged-in connections allowed per customer.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_connections_per_customer: usize,
    /// Close connections silent for this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub idle_timeout_s: u64,
    /// Serve the fault-injection routes under /admin/ (drop, ban, unban, expire_tokens,
    /// delay_next_response, swallow_next_response, malformed, token).
    #[arg(long)]
    pub admin: bool,
    /// Seed of the id generator (same seed, same ids).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Worker threads.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub workers: usize,
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
            ..ServerConfig::default()
        };
        if !self.licenses.is_empty() {
            c.licenses = self.licenses.clone();
        }
        c
    }
}

/// Runs the server until Ctrl-C: logs to stderr (`RUST_LOG` filters, default `info`), prints
/// the URL line to stdout.
///
/// # Errors
/// When the address cannot be bound.
pub fn run(args: Args) -> std::io::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let handle = Server::builder().listen(args.listen).start_blocking_with(args.config())?;
    println!("chatio-server listening on {} (licenses {:?})", handle.http_url(), args.config().licenses);
    wait_for_ctrl_c();
    futures::executor::block_on(handle.shutdown());
    Ok(())
}

fn wait_for_ctrl_c() {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(_) => return,
    };
    rt.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
}
