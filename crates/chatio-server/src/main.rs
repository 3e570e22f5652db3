//! `chatio-server`: the reference chat.io Customer API v0.5 server. See `--help`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = chatio_server::cli::Args::parse();
    match chatio_server::cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chatio-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
