//! Drives the Rust SDK through a recorded transcript's scenario against a URL, typically
//! `chatio conformance serve --transcript NAME`:
//!
//! ```sh
//! cargo run -p chatio-conformance --example drive -- methods http://127.0.0.1:PORT
//! ```

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [name, url] = args.as_slice() else {
        eprintln!("usage: drive NAME URL");
        return std::process::ExitCode::from(2);
    };
    match async_std::task::block_on(chatio_conformance::record::drive(name, url, 6)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("drive: {}", e.chain());
            std::process::ExitCode::FAILURE
        }
    }
}
