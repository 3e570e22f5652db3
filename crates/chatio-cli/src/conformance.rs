//! `chatio conformance`: check another implementation of the Customer API v0.5 against the
//! recorded transcripts (the logic is in `chatio-conformance`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chatio_conformance::check_server::{self, ServerTarget};
use chatio_conformance::report::{self, Report};
use chatio_conformance::serve;
use chatio_conformance::transcript::Transcript;
use clap::{Args, Subcommand};

/// `chatio conformance …`
#[derive(Args, Debug)]
pub struct ConformanceArgs {
    #[command(subcommand)]
    command: Mode,
}

#[derive(Subcommand, Debug)]
enum Mode {
    /// Replays the recorded client side against a running server and compares what it
    /// sends (ids paired as they come, key order free, times in seconds).
    Server(Box<ServerArgs>),
    /// Plays the recorded server side on a local port (RTM websocket, token endpoint, Web
    /// API upload) for a client to connect to, and reports each client frame that differs.
    Serve(ServeArgs),
}

#[derive(Args, Debug)]
struct Common {
    /// Read the transcripts from this directory instead of the ones built in (those of
    /// `fixtures/recorded/`).
    #[arg(long, value_name = "DIR")]
    transcripts: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct ServerArgs {
    /// The server's base URL, e.g. http://127.0.0.1:8080.
    url: url::Url,
    /// The license to use.
    #[arg(long, default_value_t = 100, value_name = "N")]
    license: u64,
    /// The base URL of the customer token endpoint (`<URL>/customer/`); the server's URL by
    /// default.
    #[arg(long, value_name = "URL")]
    token_endpoint: Option<url::Url>,
    /// Run only this transcript (e.g. `methods`).
    #[arg(long, value_name = "NAME")]
    only: Option<String>,
    /// The server serves the reference server's /admin/ fault routes (`chatio server
    /// --admin`): run the transcripts with faults (reconnect, token refresh, outbox).
    #[arg(long)]
    admin: bool,
    /// The secret of the /admin/ routes (`chatio server --admin-secret`).
    #[arg(long, env = "CHATIO_ADMIN_SECRET", value_name = "SECRET", hide_env_values = true)]
    admin_secret: Option<String>,
    /// The server has no scripted agent (any server but the reference one, or `chatio
    /// server --no-agent`): run the transcripts recorded without it, skip the others.
    #[arg(long)]
    no_agent: bool,
    /// How long to wait for each frame, in milliseconds.
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    timeout_ms: u64,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Play only this transcript (by default every one, one after the other).
    #[arg(long, value_name = "NAME")]
    transcript: Option<String>,
    /// The local port (0: any free one; the line printed gives the URL).
    #[arg(long, default_value_t = 0, value_name = "P")]
    port: u16,
    /// How long to wait for each thing the client does, in milliseconds.
    #[arg(long, default_value_t = 60_000, value_name = "MS")]
    timeout_ms: u64,
    #[command(flatten)]
    common: Common,
}

fn transcripts(c: &Common, only: Option<&str>) -> Result<Vec<(String, Transcript)>, chatio_conformance::Error> {
    match &c.transcripts {
        Some(dir) => report::load(dir, only),
        None => report::embedded(only),
    }
}

fn print(report: &Report, json: bool) -> ExitCode {
    use std::io::Write;
    let text = if json { format!("{}\n", report.json()) } else { report.text() };
    // A closed pipe (`| head`) is not an error worth a panic.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Runs `chatio conformance …`: exit 0 when nothing failed, 1 on a failure, 2 when the
/// check could not run.
pub fn run(args: ConformanceArgs) -> ExitCode {
    let r = match args.command {
        Mode::Server(a) => server(*a),
        Mode::Serve(a) => serve_mode(a),
    };
    r.unwrap_or_else(|e| {
        eprintln!("chatio conformance: {}", e.chain());
        ExitCode::from(2)
    })
}

fn server(a: ServerArgs) -> Result<ExitCode, chatio_conformance::Error> {
    let ts = transcripts(&a.common, a.only.as_deref())?;
    let mut target = ServerTarget::new(a.url);
    target.license = a.license;
    target.token_endpoint = a.token_endpoint;
    target.admin = a.admin;
    target.admin_secret = a.admin_secret.clone();
    target.agent = !a.no_agent;
    target.timeout = Duration::from_millis(a.timeout_ms.max(1));
    let report = async_std::task::block_on(check_server::check(&target, &ts));
    Ok(print(&report, a.common.json))
}

fn serve_mode(a: ServeArgs) -> Result<ExitCode, chatio_conformance::Error> {
    let ts = transcripts(&a.common, a.transcript.as_deref())?;
    let options = serve::Options { port: a.port, timeout: Duration::from_millis(a.timeout_ms.max(1)) };
    // Progress on stderr, the report on stdout.
    let mut first = true;
    let report = async_std::task::block_on(serve::serve(&options, &ts, |what| {
        if std::mem::take(&mut first) {
            eprintln!("chatio conformance serve: listening on {what} (license 100; point your client at it)");
        } else {
            eprintln!("chatio conformance serve: playing `{what}`: run your client through that scenario");
        }
    }))?;
    Ok(print(&report, a.common.json))
}
