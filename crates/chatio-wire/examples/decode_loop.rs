//! Decodes one benchmark input in a loop, for profilers and instruction counters (the
//! criterion benchmark's timings need a quiet machine; instruction counts do not).
//!
//! ```text
//! cargo build --profile bench -p chatio-wire --example decode_loop
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/decode_loop incoming_event/chatio_wire 1000
//! ```
//!
//! Cases: `<input>/<decoder>` with input `corpus`, `incoming_event` or `get_chat_threads` and
//! decoder `chatio_wire`, `plain` (not for `corpus`) or `ignored_any`. Running a case with 0 and
//! with N iterations and dividing the difference by N gives the cost of one decode.

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::process::ExitCode;

use chatio_wire::ServerFrame;
use common::{PlainChatThreads, PlainFrame, PlainIncomingEvent};
use serde::de::IgnoredAny;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_default();
    let Some(n) = args.next().and_then(|s| s.parse::<usize>().ok()) else {
        eprintln!("usage: decode_loop <input>/<decoder> <iterations>");
        return ExitCode::FAILURE;
    };
    let Some((input, decoder)) = case.split_once('/') else {
        eprintln!("case must be <input>/<decoder>, e.g. incoming_event/chatio_wire");
        return ExitCode::FAILURE;
    };
    let frames = match input {
        "corpus" => common::corpus(),
        "incoming_event" => vec![common::incoming_event()],
        "get_chat_threads" => vec![common::chat_threads()],
        other => {
            eprintln!("unknown input {other}");
            return ExitCode::FAILURE;
        }
    };
    let decode: fn(&str) -> bool = match (input, decoder) {
        (_, "chatio_wire") => |f| ServerFrame::decode(f).is_ok(),
        (_, "ignored_any") => |f| serde_json::from_str::<IgnoredAny>(f).is_ok(),
        ("incoming_event", "plain") => |f| serde_json::from_str::<PlainFrame<PlainIncomingEvent>>(f).is_ok(),
        ("get_chat_threads", "plain") => |f| serde_json::from_str::<PlainFrame<PlainChatThreads>>(f).is_ok(),
        _ => {
            eprintln!("no decoder {decoder} for {input}");
            return ExitCode::FAILURE;
        }
    };
    if !frames.iter().all(|f| decode(f)) {
        eprintln!("{case}: an input does not decode");
        return ExitCode::FAILURE;
    }
    for _ in 0..n {
        for f in &frames {
            black_box(decode(black_box(f)));
        }
    }
    ExitCode::SUCCESS
}
