//! `chatio`: the demo, a terminal chat client, and the reference server in one binary.

mod agent;
mod chat;
mod conformance;
mod demo;
mod errors;
mod render;
mod term;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// chatio-rs: the Rust SDK for the chat.io Customer API v0.5.
#[derive(Parser, Debug)]
#[command(name = "chatio", version, about, long_about = None, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Show logs on stderr: -v info, -vv debug, -vvv trace (the SDK's in `chat` and `demo`,
    /// the server's in `server` and `demo`). Without it, RUST_LOG filters them (`chatio
    /// server` logs `info` by default, the others nothing).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Starts the reference server in-process and plays a scripted conversation with its
    /// agent, showing every capability of the SDK (exits 0 on success).
    Demo(demo::DemoArgs),
    /// An interactive terminal chat client against any v0.5 server.
    Chat(chat::ChatArgs),
    /// A terminal console for a person answering chats (Agent API v0.5): the queue, take a
    /// chat, reply, whisper, send an image, close, ban, give a chat back.
    Agent(agent::AgentArgs),
    /// Runs the reference server (same options as `chatio-server`).
    Server(Box<chatio_server::cli::Args>),
    /// Checks another v0.5 server or client against the recorded transcripts.
    Conformance(conformance::ConformanceArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    term::init_tracing(cli.verbose, if matches!(cli.command, Command::Server(_)) { "info" } else { "off" });
    match cli.command {
        Command::Server(args) => match chatio_server::cli::run(*args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("chatio server: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Demo(args) => finish("demo", async_std::task::block_on(demo::run(args))),
        Command::Chat(args) => match async_std::task::block_on(chat::run(args)) {
            Ok(chat::Outcome::Done) => ExitCode::SUCCESS,
            Ok(chat::Outcome::Failed(n)) => {
                eprintln!("chatio chat: {} failed", render::plural(n, "command"));
                ExitCode::FAILURE
            }
            Err(e) => finish("chat", Err(e)),
        },
        Command::Agent(args) => match async_std::task::block_on(agent::run(args)) {
            Ok(chat::Outcome::Done) => ExitCode::SUCCESS,
            Ok(chat::Outcome::Failed(n)) => {
                eprintln!("chatio agent: {} failed", render::plural(n, "command"));
                ExitCode::FAILURE
            }
            Err(e) => finish("agent", Err(e)),
        },
        Command::Conformance(args) => conformance::run(args),
    }
}

fn finish(what: &str, r: Result<(), String>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chatio {what} failed: {e}");
            ExitCode::FAILURE
        }
    }
}
