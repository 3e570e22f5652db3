//! Properties over random interleavings of commands, server frames (responses, pushes,
//! garbage), lost responses, disconnects, token failures and timeouts, run in [`Sim`]:
//!
//! * no panic;
//! * every command completes exactly once (checked as it happens by [`Sim`], and at the end
//!   after the world settled on a perfect network);
//! * request ids are unique among pending requests, and `poll_timeout` never goes backwards
//!   (checked by [`Sim`] on every step);
//! * the outbox never loses nor duplicates an event: the server never stores a `custom_id`
//!   twice; with [`OutboxPolicy::Resend`] every event for an existing chat ends stored exactly
//!   once and completes with that stored event (unless the user cancelled it or
//!   disconnected), and never fails with `ConnectionLost` or `Timeout`.

use std::time::Duration;

use chatio_core::{Error, FileSpec, OutboxPolicy, Reply};
use chatio_wire::{Annotation, ChatId, EventKind, NewEvent, Properties, StartChat};
use proptest::prelude::*;

use crate::sim::{Issued, Sim};

#[derive(Clone, Debug)]
enum Op {
    StartChat,
    SendMessage(u8),
    SendAnnotation(u8),
    CloseThread(u8),
    ChatsSummary,
    ThreadsSummary(u8),
    Threads(u8),
    LastSeen(u8),
    Properties(u8),
    SneakPeek(u8),
    HistoryOpen(u8),
    HistoryNext(u8),
    SendFile(u8),
    Cancel(u8),
    Invalid(u8),
    DeliverToServer(u8),
    LoseResponse,
    DeliverToClient(u8),
    /// The driver acts, then frames go both ways: a round trip.
    Exchange(u8),
    AgentMessage(u8),
    AgentTyping(u8),
    Garbage(u8),
    Drop,
    Driver,
    Advance(u16),
    LongAdvance(u8),
    ExpireTokens,
    FailNextToken,
    UserDisconnect,
    UserConnect,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::StartChat),
        8 => any::<u8>().prop_map(Op::SendMessage),
        2 => any::<u8>().prop_map(Op::SendAnnotation),
        2 => any::<u8>().prop_map(Op::CloseThread),
        1 => Just(Op::ChatsSummary),
        1 => any::<u8>().prop_map(Op::ThreadsSummary),
        1 => any::<u8>().prop_map(Op::Threads),
        1 => any::<u8>().prop_map(Op::LastSeen),
        1 => any::<u8>().prop_map(Op::Properties),
        2 => any::<u8>().prop_map(Op::SneakPeek),
        1 => any::<u8>().prop_map(Op::HistoryOpen),
        3 => any::<u8>().prop_map(Op::HistoryNext),
        1 => any::<u8>().prop_map(Op::SendFile),
        1 => any::<u8>().prop_map(Op::Cancel),
        1 => any::<u8>().prop_map(Op::Invalid),
        10 => (1u8..6).prop_map(Op::DeliverToServer),
        2 => Just(Op::LoseResponse),
        10 => (1u8..8).prop_map(Op::DeliverToClient),
        14 => (1u8..8).prop_map(Op::Exchange),
        2 => any::<u8>().prop_map(Op::AgentMessage),
        1 => any::<u8>().prop_map(Op::AgentTyping),
        2 => any::<u8>().prop_map(Op::Garbage),
        3 => Just(Op::Drop),
        8 => Just(Op::Driver),
        6 => (0u16..3000).prop_map(Op::Advance),
        1 => (15u8..40).prop_map(Op::LongAdvance),
        1 => Just(Op::ExpireTokens),
        1 => Just(Op::FailNextToken),
        1 => Just(Op::UserDisconnect),
        1 => Just(Op::UserConnect),
    ]
}

const GARBAGE: &[&str] = &[
    "",
    "not json",
    "[1,2,3]",
    "{}",
    r#"{"action":"incoming_event","type":"push","payload":{"chat_id":1}}"#,
    r#"{"action":"incoming_event","type":"push"}"#,
    r#"{"request_id":"nobody","action":"send_event","type":"response","success":true,"payload":{}}"#,
    r#"{"request_id":"nobody","action":"login","type":"response","success":false,"payload":{"error":{"type":"authentication","message":"x"}}}"#,
    r#"{"request_id":"nobody","action":"incoming_event","type":"push","payload":{"chat_id":"C1","thread_id":"T1","event":{"id":"e","order":1,"type":"message","author_id":"a","timestamp":1,"text":"hi"}}}"#,
    r#"{"action":"brand_new_push","type":"push","payload":{"x":1}}"#,
    r#"{"action":"send_sneak_peek","type":"response","success":false,"payload":{"error":{"type":"validation","message":"no"}}}"#,
    r#"{"action":"customer_disconnected","type":"push","payload":{"reason":"internal_error"}}"#,
    "{\"action\":\"incoming_event\",\"type\":\"push\",\"payload\":{\"chat_id\":\"C\u{0}\"",
];

/// A chat to use: one of the server's, or (one pick in eight, or without chats) one that
/// does not exist.
fn chat(sim: &Sim, pick: u8) -> (ChatId, bool) {
    let ids = sim.server.chat_ids();
    if pick % 8 == 7 || ids.is_empty() {
        return (ChatId::new("NO-SUCH-CHAT"), false);
    }
    (ids[pick as usize % ids.len()].clone(), true)
}

fn run(ops: Vec<Op>, policy: OutboxPolicy, seed: u64) -> Result<(), TestCaseError> {
    let mut config = Sim::config(seed);
    config.outbox = policy;
    config.history_page_events = 2;
    let mut sim = Sim::new(config);
    // Most runs start logged in with a chat; some start from nothing.
    if seed % 4 != 0 {
        sim.connect();
        if let Ok(id) = sim.s.start_chat(StartChat::new(), sim.now) {
            sim.issued(id, Issued::Other);
        }
        sim.settle();
    }
    let mut histories = Vec::new();
    let mut user_disconnected = false;
    let mut cancelled = Vec::new();
    let mut counter = 0u32;
    for op in ops {
        let now = sim.now;
        counter += 1;
        match op {
            Op::StartChat => {
                let mut req = StartChat::with_events(vec![NewEvent::message(format!("first {counter}"))]);
                req.chat.properties = Some(Properties::new().with("source", "type", "test"));
                if let Ok(id) = sim.s.start_chat(req, now) {
                    sim.issued(id, Issued::Other);
                }
            }
            Op::SendMessage(p) | Op::SendAnnotation(p) => {
                let (c, exists) = chat(&sim, p);
                let event = match op {
                    Op::SendMessage(_) => NewEvent::message(format!("message {counter}")),
                    _ => NewEvent::new(EventKind::Annotation(Annotation::new("note", Some("a".into())))),
                };
                if let Ok(id) = sim.s.send_event(&c, event, now) {
                    sim.issued(id, Issued::Event { chat_exists: exists });
                }
            }
            Op::CloseThread(p) => {
                let (c, _) = chat(&sim, p);
                if let Ok(id) = sim.s.close_thread(&c, now) {
                    sim.issued(id, Issued::Other);
                }
            }
            Op::ChatsSummary => {
                if let Ok(id) = sim.s.get_chats_summary(0, 25, now) {
                    sim.issued(id, Issued::Other);
                }
            }
            Op::ThreadsSummary(p) => {
                let (c, _) = chat(&sim, p);
                if let Ok(id) = sim.s.get_chat_threads_summary(&c, 0, 100, now) {
                    sim.issued(id, Issued::Other);
                }
            }
            Op::Threads(p) => {
                let (c, _) = chat(&sim, p);
                if let Ok(id) = sim.s.get_chat_threads(&c, &[chatio_wire::ThreadId::new("T2")], now) {
                    sim.issued(id, Issued::Other);
                }
            }
            Op::LastSeen(p) => {
                let (c, _) = chat(&sim, p);
                if let Ok(id) = sim.s.update_last_seen_timestamp(&c, None, now) {
                    sim.issued(id, Issued::Other);
                }
            }
            Op::Properties(p) => {
                let (c, _) = chat(&sim, p);
                if let Ok(id) = sim.s.update_chat_properties(&c, Properties::new().with("a", "b", 1), now) {
                    sim.issued(id, Issued::Other);
                }
            }
            Op::SneakPeek(p) => {
                let (c, _) = chat(&sim, p);
                let _ = sim.s.set_sneak_peek(&c, &format!("typing {counter}"), now);
                sim.pump(false);
            }
            Op::HistoryOpen(p) => {
                let (c, _) = chat(&sim, p);
                if let Ok(h) = sim.s.chat_history(&c) {
                    histories.push(h);
                }
            }
            Op::HistoryNext(p) => {
                if !histories.is_empty() {
                    let h = histories[p as usize % histories.len()];
                    if let Ok(id) = sim.s.history_next(h, now) {
                        sim.issued(id, Issued::Other);
                    }
                }
            }
            Op::SendFile(p) => {
                let (c, _) = chat(&sim, p);
                if let Ok(id) = sim.s.send_file(&c, FileSpec::new("a.png", 10, "image/png"), now) {
                    sim.issued(id, Issued::Other);
                }
            }
            Op::Cancel(p) => {
                let mut ids: Vec<_> = sim.outstanding.keys().cloned().collect();
                ids.sort_by_key(|id| id.to_string());
                if !ids.is_empty() {
                    let id = ids[p as usize % ids.len()].clone();
                    if sim.s.cancel(&id, now) {
                        cancelled.push(id.to_string());
                    }
                    sim.pump(false);
                }
            }
            Op::Invalid(p) => {
                let (c, _) = chat(&sim, p);
                let refused = match p % 4 {
                    0 => sim.s.get_chats_summary(0, 26, now).err(),
                    1 => sim.s.get_chat_threads_summary(&c, 0, 1001, now).err(),
                    2 => sim.s.send_file(&c, FileSpec::new("big", 10 * 1024 * 1024 + 1, "x/y"), now).err(),
                    _ => sim.s.send_event(&ChatId::new(""), NewEvent::message("x"), now).err(),
                };
                prop_assert!(matches!(refused, Some(Error::InvalidArgs { .. })), "{refused:?}");
                sim.pump(false);
            }
            Op::DeliverToServer(n) => sim.deliver_to_server(n as usize, false),
            Op::LoseResponse => sim.deliver_to_server(1, true),
            Op::DeliverToClient(n) => sim.deliver_to_client(n as usize),
            Op::Exchange(n) => {
                sim.perform_actions();
                sim.deliver_to_server(n as usize, false);
                sim.deliver_to_client(3 * n as usize);
            }
            Op::AgentMessage(p) => {
                if let Some(f) = sim.server.agent_message(p as usize) {
                    sim.inject(&f);
                }
            }
            Op::AgentTyping(p) => {
                if let Some(f) = sim.server.agent_typing(p as usize, p % 2 == 0) {
                    sim.inject(&f);
                }
            }
            Op::Garbage(p) => sim.inject(GARBAGE[p as usize % GARBAGE.len()]),
            Op::Drop => sim.drop_connection(),
            Op::Driver => sim.perform_actions(),
            Op::Advance(ms) => sim.advance(Duration::from_millis(ms as u64)),
            Op::LongAdvance(s) => sim.advance(Duration::from_secs(s as u64)),
            Op::ExpireTokens => sim.server.revoke_tokens(),
            Op::FailNextToken => sim.fail_next_token = true,
            Op::UserDisconnect => {
                user_disconnected = true;
                sim.s.disconnect(now);
                sim.pump(false);
                // The driver closes the socket it had.
                sim.perform_actions();
                sim.open = false;
                sim.to_server.clear();
                sim.to_client.clear();
            }
            Op::UserConnect => {
                sim.s.connect(now);
                sim.pump(false);
            }
        }
        for (custom, n) in &sim.server.stored {
            prop_assert!(*n <= 1, "custom_id {custom} stored {n} times");
        }
    }
    sim.settle();
    prop_assert!(sim.outstanding.is_empty());
    for (id, (issued, outcome)) in &sim.finished {
        let Issued::Event { chat_exists } = issued else { continue };
        match outcome {
            Ok(Reply::Event(e)) => {
                let custom = e.custom_id.as_deref().unwrap_or_default();
                prop_assert_eq!(sim.server.stored.get(custom).copied(), Some(1), "event {} ({})", id, custom);
                let stored = sim.server.events_by_custom.get(custom);
                prop_assert_eq!(stored.map(|s| &s.id), Some(&e.id));
            }
            Ok(other) => prop_assert!(false, "send_event {id} completed with {other:?}"),
            Err(e) => {
                if policy == OutboxPolicy::Resend {
                    prop_assert!(!matches!(e, Error::ConnectionLost | Error::Timeout), "{id}: {e:?}");
                    let excused = cancelled.contains(id) || user_disconnected || !chat_exists;
                    prop_assert!(excused, "send_event {id} to an existing chat failed: {e:?}");
                }
            }
        }
    }
    Ok(())
}

proptest! {
    // 160 cases by default; `PROPTEST_CASES=N` runs more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(160),
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_interleavings_keep_the_contracts(
        ops in prop::collection::vec(op(), 1..120),
        resend in prop::bool::weighted(0.75),
        seed in any::<u64>(),
    ) {
        let policy = if resend { OutboxPolicy::Resend } else { OutboxPolicy::FailOnDisconnect };
        run(ops, policy, seed)?;
    }
}

#[test]
fn a_long_unlucky_run_keeps_the_contracts() {
    // Many drops and lost responses around a steady stream of messages.
    let mut ops = vec![Op::Driver, Op::DeliverToServer(5), Op::DeliverToClient(5), Op::StartChat];
    for i in 0..200u8 {
        ops.push(Op::SendMessage(0));
        ops.push(if i % 3 == 0 { Op::LoseResponse } else { Op::DeliverToServer(2) });
        if i % 7 == 0 {
            ops.push(Op::Drop);
        }
        ops.push(Op::DeliverToClient(3));
        ops.push(Op::Driver);
        ops.push(Op::Advance(700));
    }
    run(ops, OutboxPolicy::Resend, 99).expect("contracts hold");
}

#[test]
fn regression_a_push_for_an_unseen_thread_keeps_the_outbox_check_wide_enough() {
    // A push names a thread the session never saw; then an event goes out and its answer is
    // lost with the connection. The event must be found after the reconnect, not resent.
    let ops = vec![
        Op::StartChat,
        Op::Exchange(1),
        Op::Exchange(1),
        Op::DeliverToServer(1),
        Op::Garbage(8),
        Op::Exchange(1),
        Op::SendMessage(0),
        Op::DeliverToServer(1),
        Op::Drop,
    ];
    run(ops, OutboxPolicy::Resend, 0).expect("contracts hold");
}

#[test]
fn regression_threads_opened_by_agents_meanwhile_do_not_hide_the_event() {
    // The answer to an event is lost; agents then open newer threads than the one it went
    // to, more than the first page of the check lists.
    let ops = vec![
        Op::Garbage(8),
        Op::DeliverToClient(1),
        Op::SendMessage(0),
        Op::CloseThread(8),
        Op::LoseResponse,
        Op::DeliverToServer(1),
        Op::AgentMessage(0),
        Op::CloseThread(0),
        Op::Exchange(1),
        Op::AgentMessage(0),
    ];
    run(ops, OutboxPolicy::Resend, 1).expect("contracts hold");
}
