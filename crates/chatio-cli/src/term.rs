//! Terminal settings shared by the commands: colours (`--plain`, `NO_COLOR`, `TERM=dumb`,
//! output not a terminal) and the tracing subscriber (`-v`, `RUST_LOG`).

use std::io::IsTerminal;

/// Whether the environment allows colours and cursor tricks: not when `NO_COLOR` is set to
/// a non-empty value (<https://no-color.org>) or `TERM` is `dumb`.
pub fn env_allows_color() -> bool {
    allows_color(std::env::var_os("NO_COLOR").as_deref(), std::env::var_os("TERM").as_deref())
}

fn allows_color(no_color: Option<&std::ffi::OsStr>, term: Option<&std::ffi::OsStr>) -> bool {
    let no_color = no_color.is_some_and(|v| !v.is_empty());
    let dumb = term.is_some_and(|t| t == "dumb");
    !no_color && !dumb
}

/// Whether to colour what goes to stdout (and draw progress bars, status lines).
pub fn color_stdout(plain: bool) -> bool {
    !plain && env_allows_color() && std::io::stdout().is_terminal()
}

/// Logs (the SDK's and the server's tracing) go to stderr. `-v` shows `info`, `-vv`
/// `debug`, `-vvv` `trace`; without `-v`, `RUST_LOG` filters them, else `default`.
pub fn init_tracing(verbose: u8, default: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = match verbose {
        0 => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
        1 => EnvFilter::new("info"),
        2 => EnvFilter::new("debug"),
        _ => EnvFilter::new("trace"),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(env_allows_color() && std::io::stderr().is_terminal())
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn no_color_and_dumb_terminals_turn_colours_off() {
        assert!(allows_color(None, Some(OsStr::new("xterm-256color"))));
        assert!(!allows_color(Some(OsStr::new("1")), Some(OsStr::new("xterm"))));
        assert!(allows_color(Some(OsStr::new("")), None), "an empty NO_COLOR does not count");
        assert!(!allows_color(None, Some(OsStr::new("dumb"))));
    }
}
