//! Benchmarks on the recorded corpus (`fixtures/recorded/*.jsonl`):
//!
//! * `recorded_decode/chatio_wire` vs `recorded_decode/ignored_any`: every server frame of the
//!   transcripts decoded by `ServerFrame::decode`, against `serde_json` skipping the same text
//!   (the floor);
//! * `recorded_core/pushes`: every unsolicited push of the transcripts through a logged-in
//!   `chatio_core::Session` (decode, state, events out) — the same frames `cargo xtask bench
//!   js` feeds the JavaScript SDK.
//!
//! `cargo bench -p chatio-conformance --bench recorded`

use std::path::Path;
use std::time::Instant;

use chatio_conformance::transcript::{Line, Transcript};
use chatio_core::{AccessToken, Config, Session};
use chatio_wire::{LicenseId, ServerFrame};
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The recorded server frames, as the reference server writes them: transcripts store frames
/// as normalised JSON values (keys sorted), so each is re-encoded in the canonical order
/// (`action`, `type`, `success` before `payload`; an event's `type` early).
fn corpus() -> (Vec<String>, Vec<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/recorded");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).expect("fixtures/recorded").filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let (mut all, mut pushes) = (Vec::new(), Vec::new());
    for f in files {
        for l in Transcript::read(&f).expect("transcript").lines {
            if let Line::In { frame, .. } = l {
                let text = ServerFrame::decode(&frame.to_string()).expect("recorded frames decode").encode();
                if frame.get("type").and_then(|t| t.as_str()) == Some("push") && frame.get("request_id").is_none() {
                    pushes.push(text.clone());
                }
                all.push(text);
            }
        }
    }
    (all, pushes)
}

/// A session that has logged in, ready for pushes.
pub fn ready_session() -> Session {
    let now = Instant::now();
    let mut s = Session::new(Config::new(LicenseId(100), 1), now);
    s.handle_token(AccessToken::bearer("t").with_customer_id("c"), now);
    s.handle_connected(now);
    let login = s.poll_transmit().expect("login");
    let id = |f: &str| serde_json::from_str::<serde_json::Value>(f).expect("json")["request_id"].clone();
    s.handle_frame(
        &format!(
            r#"{{"request_id":{},"action":"login","type":"response","success":true,"payload":{{"customer_id":"c"}}}}"#,
            id(&login)
        ),
        now,
    );
    let summary = s.poll_transmit().expect("summary");
    s.handle_frame(&format!(r#"{{"request_id":{},"action":"get_chats_summary","type":"response","success":true,"payload":{{"chats_summary":[],"total_chats":0}}}}"#, id(&summary)), now);
    while s.poll_event().is_some() {}
    while s.poll_action().is_some() {}
    assert!(s.is_ready());
    s
}

fn bench(c: &mut Criterion) {
    let (all, pushes) = corpus();
    let mut g = c.benchmark_group("recorded_decode");
    g.throughput(Throughput::Elements(all.len() as u64));
    g.bench_function("chatio_wire", |b| {
        b.iter(|| {
            for f in &all {
                black_box(ServerFrame::decode(black_box(f)).expect("decodes"));
            }
        })
    });
    g.bench_function("ignored_any", |b| {
        b.iter(|| {
            for f in &all {
                black_box(serde_json::from_str::<serde::de::IgnoredAny>(black_box(f)).expect("json"));
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("recorded_core");
    g.throughput(Throughput::Elements(pushes.len() as u64));
    let mut s = ready_session();
    let now = Instant::now();
    g.bench_function("pushes", |b| {
        b.iter(|| {
            for f in &pushes {
                s.handle_frame(black_box(f), now);
                while let Some(o) = s.poll_event() {
                    black_box(o);
                }
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
