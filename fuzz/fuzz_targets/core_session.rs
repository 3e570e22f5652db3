//! A logged-in session fed arbitrary input never panics, and its deadlines never go back.
//!
//! The input is text, one operation per line: a line starting with `!` is a driver event
//! (`!d` disconnect, `!D` disconnect for a too-large frame, `!c` connected, `!t` timeout,
//! `!k` token, `!s…` send a message, `!h` next history page, `!p…` sneak peek), any other
//! line is a frame from the server. Frames are limited to 2 KiB so that the too-large path
//! is reached too.
#![no_main]

use std::time::{Duration, Instant};

use chatio_core::{AccessToken, Config, Disconnect, Session};
use chatio_wire::{ChatId, LicenseId};
use libfuzzer_sys::fuzz_target;

fn drain(s: &mut Session) {
    while s.poll_transmit().is_some() {}
    while s.poll_action().is_some() {}
    while s.poll_event().is_some() {}
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let t0 = Instant::now();
    let mut now = t0;
    let mut config = Config::new(LicenseId(100), 1);
    config.max_frame_len = 2048;
    let mut s = Session::new(config, now);
    s.handle_token(AccessToken::bearer("t").with_customer_id("c"), now);
    s.handle_connected(now);
    drain(&mut s);
    let chat = ChatId::new("C1");
    let history = s.chat_history(&chat).ok();
    for line in text.lines().take(256) {
        now += Duration::from_millis(7);
        match line.as_bytes().first() {
            Some(b'!') => match line.as_bytes().get(1) {
                Some(b'd') => s.handle_disconnected(Disconnect::Failed(chatio_core::TransportError::msg(chatio_core::Operation::Socket, "x")), now),
                Some(b'D') => s.handle_disconnected(Disconnect::FrameTooLarge { message: "x".into() }, now),
                Some(b'c') => s.handle_connected(now),
                Some(b't') => {
                    if let Some(d) = s.poll_timeout() {
                        now = now.max(d);
                    }
                    s.handle_timeout(now);
                }
                Some(b'k') => s.handle_token(AccessToken::bearer("t2"), now),
                Some(b's') => {
                    let _ = s.send_message(&chat, line.get(2..).unwrap_or(""), now);
                }
                Some(b'h') => {
                    if let Some(h) = history {
                        let _ = s.history_next(h, now);
                    }
                }
                Some(b'p') => {
                    let _ = s.set_sneak_peek(&chat, line.get(2..).unwrap_or(""), now);
                }
                _ => {}
            },
            _ => s.handle_frame(line, now),
        }
        drain(&mut s);
        if let Some(d) = s.poll_timeout() {
            assert!(d >= t0, "a deadline before the session began");
        }
    }
});
