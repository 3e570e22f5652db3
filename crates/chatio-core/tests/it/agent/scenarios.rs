//! Behaviours of the agent session on the simulated world.

use std::time::Duration;

use chatio_core::Error;
use chatio_core::agent::{AgentConfig, AgentEvent, AgentReply, AgentStatus};
use chatio_wire::agent::AgentDisconnectReason;
use chatio_wire::{ChatId, RoutingStatus};

use super::server::{CUSTOMER, ME, OTHER};
use super::sim::AgentSim;

fn logged_in() -> AgentSim {
    let mut sim = AgentSim::new(AgentConfig::new(5));
    sim.connect();
    sim
}

fn new_customer_chat(sim: &mut AgentSim) -> ChatId {
    let frames = sim.server.customer_starts_chat();
    sim.inject(frames);
    sim.settle();
    sim.server.chats.last().expect("a chat").id.clone()
}

#[test]
fn a_chat_waits_is_taken_answered_and_closed() {
    let mut sim = logged_in();
    assert!(matches!(sim.events.first(), Some(AgentEvent::Connected { me, .. }) if me.id == ME));
    let chat = new_customer_chat(&mut sim);
    assert_eq!(sim.s.waiting_chats().iter().map(|c| &c.id).collect::<Vec<_>>(), [&chat]);
    assert_eq!(sim.s.chat(&chat).map(|c| c.unread), Some(1), "the customer's first message is unread");

    let take = sim.s.take_chat(&chat, sim.now);
    sim.issued(take, "take");
    sim.settle();
    assert!(sim.s.waiting_chats().is_empty());
    assert_eq!(sim.s.my_chats().len(), 1);
    assert!(sim.events.iter().any(|e| matches!(e, AgentEvent::UserJoined { user, .. } if user.id == ME)));

    let reply = sim.s.send_message(&chat, "how can I help?", sim.now);
    let reply = sim.issued(reply, "message").expect("accepted");
    sim.settle();
    let (_, outcome) = &sim.finished[&reply.to_string()];
    assert!(matches!(outcome, Ok(AgentReply::Event(e)) if e.text() == Some("how can I help?")));
    // The requester's copy of `incoming_event` is not a second event.
    assert!(
        !sim.events
            .iter()
            .any(|e| matches!(e, AgentEvent::NewEvent(ev) if ev.author.as_ref().is_some_and(|a| a == ME)))
    );
    assert_eq!(sim.s.chat(&chat).and_then(|c| c.last_event.as_ref()).and_then(|e| e.text()), Some("how can I help?"));

    let frames = sim.server.customer_message(0);
    sim.inject(frames);
    sim.settle();
    assert_eq!(sim.s.chat(&chat).map(|c| c.unread), Some(2));
    let seen = sim.s.update_last_seen_timestamp(&chat, None, sim.now);
    sim.issued(seen, "seen");
    sim.settle();
    assert_eq!(sim.s.chat(&chat).map(|c| c.unread), Some(0), "seeing the chat clears its unread count");

    let close = sim.s.close_thread(&chat, sim.now);
    sim.issued(close, "close");
    sim.settle();
    assert!(sim.s.my_chats().is_empty(), "a closed chat is no longer an active one");
    assert_eq!(sim.s.chat(&chat).map(|c| c.is_active()), Some(false));
}

#[test]
fn a_reconnect_logs_in_again_with_reconnect_true_and_keeps_the_status() {
    let mut sim = logged_in();
    let r = sim.s.set_routing_status(RoutingStatus::NotAcceptingChats, sim.now);
    sim.issued(r, "status");
    sim.settle();
    assert_eq!(sim.s.routing_status(), Some(&RoutingStatus::NotAcceptingChats));
    assert_eq!(sim.server.reconnect_logins, 0, "the first login is not a reconnect");

    sim.drop_connection();
    assert!(sim.events.iter().any(|e| matches!(e, AgentEvent::Reconnecting { attempt: 1, .. })));
    sim.settle();
    assert_eq!(sim.server.reconnect_logins, 1);
    assert!(matches!(sim.events.last(), Some(AgentEvent::ConnectionRestored { .. })), "{:?}", sim.events.last());
    assert_eq!(sim.s.routing_status(), Some(&RoutingStatus::NotAcceptingChats), "kept across the reconnect");
}

#[test]
fn a_request_in_flight_when_the_socket_drops_fails_and_a_queued_one_waits_for_the_login() {
    let mut sim = logged_in();
    let chat = new_customer_chat(&mut sim);
    let sent = sim.s.take_chat(&chat, sim.now);
    let sent = sim.issued(sent, "take").expect("accepted");
    sim.drop_connection();
    assert!(matches!(sim.finished[&sent.to_string()].1, Err(Error::ConnectionLost)));
    let queued = sim.s.take_chat(&chat, sim.now);
    let queued = sim.issued(queued, "take again").expect("accepted while reconnecting");
    sim.settle();
    assert!(matches!(sim.finished[&queued.to_string()].1, Ok(AgentReply::Done)));
    assert_eq!(sim.s.my_chats().len(), 1);
}

#[test]
fn an_unanswered_request_times_out() {
    let mut sim = logged_in();
    let r = sim.s.get_filtered_chats(None, sim.now);
    let id = sim.issued(r, "filtered").expect("accepted");
    sim.to_server.clear(); // the server never sees it
    sim.advance(Duration::from_secs(15));
    assert!(matches!(sim.finished[&id.to_string()].1, Err(Error::Timeout)));
}

#[test]
fn a_refused_token_is_replaced_once() {
    let mut sim = AgentSim::new(AgentConfig::new(9));
    sim.cached_token = Some("agent-tok-stale".into());
    sim.connect();
    assert!(sim.s.is_ready(), "logged in with a fresh token after the stale one was refused");
    assert!(!sim.events.iter().any(|e| matches!(e, AgentEvent::Error(_))), "one refusal is not reported");
}

#[test]
fn a_final_disconnect_stops_the_session() {
    let mut sim = logged_in();
    let chat = new_customer_chat(&mut sim);
    let pending = sim.s.take_chat(&chat, sim.now);
    let pending = sim.issued(pending, "take").expect("accepted");
    sim.inject(vec![
        r#"{"action":"agent_disconnected","type":"push","payload":{"reason":"access_token_revoked"}}"#.into(),
    ]);
    sim.deliver_to_client(usize::MAX);
    assert_eq!(sim.s.status(), AgentStatus::Stopped(AgentDisconnectReason::AccessTokenRevoked));
    assert!(
        matches!(&sim.finished[&pending.to_string()].1, Err(Error::Disconnected { reason }) if reason.as_str() == "access_token_revoked")
    );
    assert!(matches!(sim.s.send_message(&chat, "x", sim.now), Err(Error::Disconnected { .. })));
    sim.perform_actions();
    assert!(!sim.open, "the session closed the socket");
    assert!(sim.actions.is_empty() && !sim.s.poll_timeout().is_some_and(|_| sim.s.is_ready()), "no reconnect");
}

#[test]
fn other_agents_and_the_router_update_the_chats() {
    let mut sim = logged_in();
    let chat = new_customer_chat(&mut sim);
    let frames = sim.server.other_agent_joins(0);
    sim.inject(frames);
    sim.settle();
    let view = sim.s.chat(&chat).expect("known");
    assert!(view.has_user(&OTHER.into()) && view.has_user(&CUSTOMER.into()));
    let frames = sim.server.router_closes(0);
    sim.inject(frames);
    sim.settle();
    assert!(sim.events.iter().any(|e| matches!(e, AgentEvent::ThreadClosed { user: None, .. })));
    assert!(sim.s.waiting_chats().is_empty());
}

#[test]
fn silence_is_reported_then_the_connection_is_replaced() {
    let mut sim = logged_in();
    sim.advance(Duration::from_secs(20));
    assert!(matches!(sim.events.last(), Some(AgentEvent::ConnectionUnstable)));
    sim.to_server.clear(); // the probe goes nowhere
    sim.advance(Duration::from_secs(15));
    sim.perform_actions();
    assert!(sim.events.iter().any(|e| matches!(e, AgentEvent::ConnectionLost)));
    sim.settle();
    assert!(sim.s.is_ready());
}
