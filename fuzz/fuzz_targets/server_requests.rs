//! The reference server's request handling never panics on what a logged-in customer sends.
//!
//! The input is text, one request per line: a websocket frame, or `W:<action>:<body>` for a
//! Web API call. A valid `login` is sent first so that the fuzzer reaches every action. An
//! input whose first line is `P` runs with the optional rules on (chat cap, declared
//! properties: `Harness::with_policy`).
#![no_main]

use chatio_server::fuzzing::Harness;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut h = if data.starts_with(b"P\n") { Harness::with_policy() } else { Harness::new() };
    let login = format!(r#"{{"request_id":"l","action":"login","payload":{{"token":"Bearer {}"}}}}"#, Harness::TOKEN);
    let _ = h.frame(login.as_bytes());
    for line in data.split(|b| *b == b'\n').take(64) {
        match line.strip_prefix(b"W:") {
            Some(rest) => {
                let mut parts = rest.splitn(2, |b| *b == b':');
                let action = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
                let _ = h.web(&action, parts.next().unwrap_or_default());
            }
            None => {
                let _ = h.frame(line);
            }
        }
    }
});
