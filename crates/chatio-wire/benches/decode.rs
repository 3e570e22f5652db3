//! Decoding speed of `ServerFrame::decode` against two references:
//!
//! * `plain`: a plain `#[derive(Deserialize)]` struct mirroring exactly the benchmarked frame,
//!   decoded with `serde_json::from_str`: what the frame costs without our dispatch on
//!   `action`, forward compatibility and tolerance (issue 3 target: ours ≤ 1.2× plain);
//! * `ignored_any`: `serde_json::from_str::<serde::de::IgnoredAny>`, which only validates the
//!   JSON: the floor.
//!
//! Groups: the fixture corpus (every server frame in `fixtures/frames`, decoded in a loop; no
//! plain struct can mirror a mix of frames, so only the floor is compared), the agent side's
//! corpus (`fixtures/agent-frames`, decoded with `chatio_wire::agent::ServerFrame`), a ~300-byte
//! `incoming_event` push, and a ~16 KiB `get_chat_threads` response (message events across
//! threads).
//!
//! The benchmarks build with the `agent` feature (a dev-dependency of the crate), as every
//! workspace build that includes the server does: the customer frames are decoded with the
//! agent-view fields of the shared objects compiled in.
//!
//! Run: `cargo bench -p chatio-wire --bench decode -- --warm-up-time 1 --measurement-time 3`.
//! Figures are recorded in `docs/benchmarks.md`.

mod common;

use std::hint::black_box;

use chatio_wire::ServerFrame;
use common::{PlainChatThreads, PlainFrame, PlainIncomingEvent, agent_corpus, chat_threads, corpus, incoming_event};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::de::IgnoredAny;

// ---------------------------------------------------------------------------------------------
// Benchmarks.

fn bench_corpus(c: &mut Criterion) {
    let frames = corpus();
    for f in &frames {
        ServerFrame::decode(f).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    let bytes: usize = frames.iter().map(String::len).sum();
    let mut g = c.benchmark_group("corpus");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("chatio_wire", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(ServerFrame::decode(black_box(f)).ok());
            }
        })
    });
    g.bench_function("ignored_any", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(serde_json::from_str::<IgnoredAny>(black_box(f)).ok());
            }
        })
    });
    g.finish();
    eprintln!("corpus: {} server frames, {bytes} bytes", frames.len());
}

fn bench_agent_corpus(c: &mut Criterion) {
    let frames = agent_corpus();
    for f in &frames {
        chatio_wire::agent::ServerFrame::decode(f).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    let bytes: usize = frames.iter().map(String::len).sum();
    let mut g = c.benchmark_group("agent_corpus");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("chatio_wire", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(chatio_wire::agent::ServerFrame::decode(black_box(f)).ok());
            }
        })
    });
    g.bench_function("ignored_any", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(serde_json::from_str::<IgnoredAny>(black_box(f)).ok());
            }
        })
    });
    g.finish();
    eprintln!("agent_corpus: {} server frames, {bytes} bytes", frames.len());
}

fn bench_incoming_event(c: &mut Criterion) {
    let frame = incoming_event();
    assert!(matches!(ServerFrame::decode(&frame), Ok(ServerFrame::Push(_))));
    let plain: PlainFrame<PlainIncomingEvent> = serde_json::from_str(&frame).expect("plain mirror decodes");
    assert_eq!(plain.payload.event.custom_id.as_deref(), Some("12312.301231238591134"));
    let mut g = c.benchmark_group("incoming_event");
    g.throughput(Throughput::Bytes(frame.len() as u64));
    g.bench_function("chatio_wire", |b| b.iter(|| black_box(ServerFrame::decode(black_box(&frame)).ok())));
    g.bench_function("plain", |b| {
        b.iter(|| black_box(serde_json::from_str::<PlainFrame<PlainIncomingEvent>>(black_box(&frame)).ok()))
    });
    g.bench_function("ignored_any", |b| {
        b.iter(|| black_box(serde_json::from_str::<IgnoredAny>(black_box(&frame)).ok()))
    });
    g.finish();
    eprintln!("incoming_event: {} bytes", frame.len());
}

fn bench_chat_threads(c: &mut Criterion) {
    let frame = chat_threads();
    assert!(matches!(ServerFrame::decode(&frame), Ok(ServerFrame::Response(_))));
    let plain: PlainFrame<PlainChatThreads> = serde_json::from_str(&frame).expect("plain mirror decodes");
    assert_eq!(plain.payload.chat.threads.iter().map(|t| t.events.len()).sum::<usize>(), 90);
    let mut g = c.benchmark_group("get_chat_threads");
    g.throughput(Throughput::Bytes(frame.len() as u64));
    g.bench_function("chatio_wire", |b| b.iter(|| black_box(ServerFrame::decode(black_box(&frame)).ok())));
    g.bench_function("plain", |b| {
        b.iter(|| black_box(serde_json::from_str::<PlainFrame<PlainChatThreads>>(black_box(&frame)).ok()))
    });
    g.bench_function("ignored_any", |b| {
        b.iter(|| black_box(serde_json::from_str::<IgnoredAny>(black_box(&frame)).ok()))
    });
    g.finish();
    eprintln!("get_chat_threads: {} bytes", frame.len());
}

criterion_group!(benches, bench_corpus, bench_agent_corpus, bench_incoming_event, bench_chat_threads);
criterion_main!(benches);
