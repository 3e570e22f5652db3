//! Pushes processed per second by one session on one core: `handle_frame` of a realistic
//! push (decode, chat state, typed event with converted times) and draining `poll_event`.
//!
//! `cargo bench -p chatio-core --bench pushes`; results in `docs/benchmarks.md`.

use std::hint::black_box;
use std::time::Instant;

use chatio_core::{AccessToken, Config, Output, Session};
use chatio_wire::LicenseId;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// An agent's message in an existing thread, as a v0.5 server sends it.
const INCOMING_EVENT: &str = r#"{"action":"incoming_event","type":"push","payload":{"chat_id":"OU0V0P0OWT","thread_id":"OU0V0U3IMN","event":{"id":"OU0V0U3IMN_3","order":3,"type":"message","author_id":"75a90b82-e6a4-4ded-b3eb-cb531741ee0d","timestamp":1520000000,"text":"Hello! How can I help you today?","properties":{}}}}"#;

const TYPING: &str = r#"{"action":"incoming_typing_indicator","type":"push","payload":{"chat_id":"OU0V0P0OWT","typing_indicator":{"author_id":"75a90b82-e6a4-4ded-b3eb-cb531741ee0d","timestamp":1520000000,"is_typing":true}}}"#;

const USERS: &str = r#"{"action":"chat_users_updated","type":"push","payload":{"chat_id":"OU0V0P0OWT","updated_users":{"added":[{"id":"75a90b82-e6a4-4ded-b3eb-cb531741ee0d","type":"agent","name":"Support Team","avatar":"cdn.livechatinc.com/avatars/1.png","present":true}],"removed_ids":[]}}}"#;

/// A logged-in session.
fn ready() -> (Session, Instant) {
    let t0 = Instant::now();
    let mut s = Session::new(Config::new(LicenseId(100), 1), t0);
    while s.poll_action().is_some() {}
    s.handle_token(AccessToken::bearer("token").with_customer_id("b7eff798"), t0);
    s.handle_connected(t0);
    let id =
        |f: &str| serde_json::from_str::<serde_json::Value>(f).map(|v| v["request_id"].clone()).unwrap_or_default();
    let login = s.poll_transmit().unwrap_or_default();
    s.handle_frame(
        &format!(
            r#"{{"request_id":{},"action":"login","type":"response","success":true,"payload":{{"customer_id":"b7eff798"}}}}"#,
            id(&login)
        ),
        t0,
    );
    let summary = s.poll_transmit().unwrap_or_default();
    s.handle_frame(
        &format!(
            r#"{{"request_id":{},"action":"get_chats_summary","type":"response","success":true,"payload":{{"chats_summary":[],"total_chats":0}}}}"#,
            id(&summary)
        ),
        t0,
    );
    assert!(s.is_ready(), "the session logs in");
    while s.poll_event().is_some() {}
    (s, t0)
}

fn drain(s: &mut Session) -> usize {
    let mut n = 0;
    while let Some(o) = s.poll_event() {
        if let Output::Event(e) = o {
            black_box(e);
            n += 1;
        }
    }
    n
}

fn pushes(c: &mut Criterion) {
    let mut g = c.benchmark_group("chatio-core: pushes");
    g.throughput(Throughput::Elements(1));
    g.bench_function("incoming_event", |b| {
        let (mut s, now) = ready();
        b.iter(|| {
            s.handle_frame(black_box(INCOMING_EVENT), now);
            assert_eq!(drain(&mut s), 1);
        });
    });
    g.bench_function("incoming_typing_indicator", |b| {
        let (mut s, now) = ready();
        b.iter(|| {
            s.handle_frame(black_box(TYPING), now);
            assert_eq!(drain(&mut s), 1);
        });
    });
    g.bench_function("chat_users_updated", |b| {
        let (mut s, now) = ready();
        b.iter(|| {
            s.handle_frame(black_box(USERS), now);
            assert_eq!(drain(&mut s), 2);
        });
    });
    // The same push with 1 000 requests and 1 000 outbox events waiting for answers: every
    // input re-arms the timers, which must not cost in proportion to what waits.
    g.bench_function("incoming_event, 2 000 waiting", |b| {
        let (mut s, now) = ready();
        let chat = chatio_wire::ChatId::new("OU0V0P0OWT");
        for i in 0..1000 {
            let _ = s.send_message(&chat, &format!("m{i}"), now);
            let _ = s.get_chats_summary(0, 10, now);
        }
        while s.poll_transmit().is_some() {}
        b.iter(|| {
            s.handle_frame(black_box(INCOMING_EVENT), now);
            assert_eq!(drain(&mut s), 1);
        });
    });
    g.finish();
}

criterion_group!(benches, pushes);
criterion_main!(benches);
