//! Properties of the agent session over random interleavings of commands, server frames
//! (responses, pushes from the customer's side, garbage), lost responses, disconnects, token
//! failures and timeouts, run in [`AgentSim`]:
//!
//! * no panic;
//! * every command completes exactly once (checked as it happens by the sim, and at the end
//!   after the world settled on a perfect network); request ids are unique among pending
//!   requests and `poll_timeout` never goes backwards (checked on every step);
//! * after a fresh login the session's state is the server's: the chats with an active
//!   thread, their members, the queue and this agent's chats.

use std::collections::BTreeSet;
use std::time::Duration;

use chatio_core::Error;
use chatio_core::agent::AgentConfig;
use chatio_wire::{ChatId, RoutingStatus};
use proptest::prelude::*;

use super::server::{CUSTOMER, ME};
use super::sim::AgentSim;

#[derive(Clone, Debug)]
enum Op {
    Take(u8),
    Message(u8),
    Whisper(u8),
    Close(u8),
    Leave(u8),
    Typing(u8),
    Status(bool),
    LastSeen(u8),
    Filtered,
    Threads(u8),
    StartChat,
    Cancel(u8),
    Invalid(u8),
    DeliverToServer(u8),
    LoseResponse,
    DeliverToClient(u8),
    Exchange(u8),
    CustomerStarts,
    CustomerMessage(u8),
    OtherAgentJoins(u8),
    RouterCloses(u8),
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
        4 => any::<u8>().prop_map(Op::Take),
        6 => any::<u8>().prop_map(Op::Message),
        2 => any::<u8>().prop_map(Op::Whisper),
        2 => any::<u8>().prop_map(Op::Close),
        1 => any::<u8>().prop_map(Op::Leave),
        1 => any::<u8>().prop_map(Op::Typing),
        1 => any::<bool>().prop_map(Op::Status),
        1 => any::<u8>().prop_map(Op::LastSeen),
        1 => Just(Op::Filtered),
        1 => any::<u8>().prop_map(Op::Threads),
        1 => Just(Op::StartChat),
        1 => any::<u8>().prop_map(Op::Cancel),
        1 => any::<u8>().prop_map(Op::Invalid),
        10 => (1u8..6).prop_map(Op::DeliverToServer),
        2 => Just(Op::LoseResponse),
        10 => (1u8..8).prop_map(Op::DeliverToClient),
        14 => (1u8..8).prop_map(Op::Exchange),
        3 => Just(Op::CustomerStarts),
        3 => any::<u8>().prop_map(Op::CustomerMessage),
        1 => any::<u8>().prop_map(Op::OtherAgentJoins),
        1 => any::<u8>().prop_map(Op::RouterCloses),
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
    r#"{"request_id":"nobody","action":"join_chat","type":"response","success":true,"payload":{}}"#,
    r#"{"request_id":"nobody","action":"login","type":"response","success":false,"payload":{"error":{"type":"authentication","message":"x"}}}"#,
    r#"{"action":"brand_new_push","type":"push","payload":{"x":1}}"#,
    r#"{"action":"agent_disconnected","type":"push","payload":{"reason":"maintenance"}}"#,
    r#"{"action":"incoming_event","type":"push","payload":{"chat_id":"C404","event":{"id":"e","order":1,"type":"message","author_id":"x","timestamp":1,"text":"hi"}}}"#,
    r#"{"action":"chat_users_updated","type":"push","payload":{"chat_id":"C404","updated_users":{"agents":{"removed_ids":["john@example.com"]}}}}"#,
];

/// A chat to act on: one of the server's, or (one pick in eight, or without chats) one that
/// does not exist.
fn chat(sim: &AgentSim, pick: u8) -> ChatId {
    let ids: Vec<ChatId> = sim.server.chats.iter().map(|c| c.id.clone()).collect();
    if pick % 8 == 7 || ids.is_empty() {
        return ChatId::new("NO-SUCH-CHAT");
    }
    ids[pick as usize % ids.len()].clone()
}

fn run(ops: Vec<Op>, seed: u64) -> Result<(), TestCaseError> {
    let mut sim = AgentSim::new(AgentConfig::new(seed));
    if seed % 4 != 0 {
        sim.connect();
        let frames = sim.server.customer_starts_chat();
        sim.inject(frames);
        sim.settle();
    }
    let mut counter = 0u32;
    for op in ops {
        let now = sim.now;
        counter += 1;
        match op {
            Op::Take(p) => {
                let r = sim.s.take_chat(&chat(&sim, p), now);
                sim.issued(r, "take");
            }
            Op::Message(p) => {
                let r = sim.s.send_message(&chat(&sim, p), &format!("message {counter}"), now);
                sim.issued(r, "message");
            }
            Op::Whisper(p) => {
                let r = sim.s.send_whisper(&chat(&sim, p), &format!("whisper {counter}"), now);
                sim.issued(r, "whisper");
            }
            Op::Close(p) => {
                let r = sim.s.close_thread(&chat(&sim, p), now);
                sim.issued(r, "close");
            }
            Op::Leave(p) => {
                let r = sim.s.leave_chat(&chat(&sim, p), now);
                sim.issued(r, "leave");
            }
            Op::Typing(p) => {
                let r = sim.s.send_typing_indicator(&chat(&sim, p), p % 2 == 0, p % 3 == 0, now);
                sim.issued(r, "typing");
            }
            Op::Status(on) => {
                let status = if on { RoutingStatus::AcceptingChats } else { RoutingStatus::NotAcceptingChats };
                let r = sim.s.set_routing_status(status, now);
                sim.issued(r, "status");
            }
            Op::LastSeen(p) => {
                let r = sim.s.update_last_seen_timestamp(&chat(&sim, p), None, now);
                sim.issued(r, "last_seen");
            }
            Op::Filtered => {
                let r = sim.s.get_filtered_chats(None, now);
                sim.issued(r, "filtered");
            }
            Op::Threads(p) => {
                let r = sim.s.get_chat_threads(&chat(&sim, p), vec![chatio_wire::ThreadId::new("T2")], now);
                sim.issued(r, "threads");
            }
            Op::StartChat => {
                let r = sim.s.start_chat(chatio_wire::StartChat::new(), now);
                sim.issued(r, "start_chat");
            }
            Op::Cancel(p) => {
                let mut ids: Vec<_> = sim.outstanding.keys().cloned().collect();
                ids.sort_by_key(|id| id.to_string());
                if !ids.is_empty() {
                    let id = ids[p as usize % ids.len()].clone();
                    sim.s.cancel(&id, now);
                    sim.pump(false);
                }
            }
            Op::Invalid(p) => {
                let c = chat(&sim, p);
                let refused = match p % 4 {
                    0 => sim.s.ban_customer(&chatio_wire::UserId::new(CUSTOMER), 0, now).err(),
                    1 => sim.s.get_archives(None, 0, 25, now).err(),
                    2 => sim.s.set_routing_status(RoutingStatus::Offline, now).err(),
                    _ => sim.s.join_chat(&c, Vec::new(), now).err(),
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
            Op::CustomerStarts => {
                let f = sim.server.customer_starts_chat();
                sim.inject(f);
            }
            Op::CustomerMessage(p) => {
                let f = sim.server.customer_message(p as usize);
                sim.inject(f);
            }
            Op::OtherAgentJoins(p) => {
                let f = sim.server.other_agent_joins(p as usize);
                sim.inject(f);
            }
            Op::RouterCloses(p) => {
                let f = sim.server.router_closes(p as usize);
                sim.inject(f);
            }
            Op::Garbage(p) => sim.inject(vec![GARBAGE[p as usize % GARBAGE.len()].to_owned()]),
            Op::Drop => sim.drop_connection(),
            Op::Driver => sim.perform_actions(),
            Op::Advance(ms) => sim.advance(Duration::from_millis(u64::from(ms))),
            Op::LongAdvance(s) => sim.advance(Duration::from_secs(u64::from(s))),
            Op::ExpireTokens => sim.server.revoke_tokens(),
            Op::FailNextToken => sim.fail_next_token = true,
            Op::UserDisconnect => {
                sim.s.disconnect(now);
                sim.pump(false);
                sim.perform_actions();
                sim.open = false;
                sim.to_server.clear();
                sim.lose_pushes();
            }
            Op::UserConnect => {
                sim.s.connect(now);
                sim.pump(false);
            }
        }
    }
    sim.settle();
    prop_assert!(sim.outstanding.is_empty(), "{:?}", sim.outstanding);
    prop_assert_eq!(sim.s.pending_count(), 0);
    // Kept up to date by pushes alone, when none was lost since the last login.
    if sim.lossless && sim.s.is_ready() {
        same_view(&sim)?;
    }
    // A fresh login: the session's view is the server's.
    sim.drop_connection();
    sim.settle();
    same_view(&sim)
}

/// The session's chats are the server's: the chats with an active thread, their members,
/// this agent's chats, the queue, the routing status.
fn same_view(sim: &AgentSim) -> Result<(), TestCaseError> {
    let server_active: BTreeSet<String> =
        sim.server.chats.iter().filter(|c| c.active()).map(|c| c.id.to_string()).collect();
    let known_active: BTreeSet<String> = sim.s.chats().filter(|c| c.is_active()).map(|c| c.id.to_string()).collect();
    prop_assert_eq!(&known_active, &server_active);
    for c in sim.server.chats.iter().filter(|c| c.active()) {
        let view = sim.s.chat(&c.id).expect("listed");
        let members: BTreeSet<String> = view.users.iter().map(|u| u.id.to_string()).collect();
        let expected: BTreeSet<String> = c.users.iter().map(ToString::to_string).collect();
        prop_assert_eq!(members, expected, "users of {}", c.id);
    }
    let mine: BTreeSet<String> = sim.s.my_chats().iter().map(|c| c.id.to_string()).collect();
    let server_mine: BTreeSet<String> = sim
        .server
        .chats
        .iter()
        .filter(|c| c.active() && c.users.iter().any(|u| u == ME))
        .map(|c| c.id.to_string())
        .collect();
    prop_assert_eq!(mine, server_mine);
    let waiting: BTreeSet<String> = sim.s.waiting_chats().iter().map(|c| c.id.to_string()).collect();
    let server_waiting: BTreeSet<String> = sim
        .server
        .chats
        .iter()
        .filter(|c| c.active() && c.users.iter().all(|u| u == CUSTOMER))
        .map(|c| c.id.to_string())
        .collect();
    prop_assert_eq!(waiting, server_waiting);
    prop_assert_eq!(sim.s.routing_status(), Some(&sim.server.status));
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
    fn random_interleavings_keep_the_contracts(ops in prop::collection::vec(op(), 1..120), seed in any::<u64>()) {
        run(ops, seed)?;
    }
}

#[test]
fn a_long_unlucky_run_keeps_the_contracts() {
    let mut ops = vec![Op::Driver, Op::CustomerStarts, Op::Exchange(3), Op::Take(0), Op::Exchange(3)];
    for i in 0..200u8 {
        ops.push(Op::Message(0));
        ops.push(if i % 3 == 0 { Op::LoseResponse } else { Op::DeliverToServer(2) });
        if i % 7 == 0 {
            ops.push(Op::Drop);
        }
        if i % 11 == 0 {
            ops.push(Op::CustomerStarts);
        }
        ops.push(Op::DeliverToClient(3));
        ops.push(Op::Driver);
        ops.push(Op::Advance(700));
    }
    run(ops, 99).expect("contracts hold");
}
