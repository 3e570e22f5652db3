//! Behaviour scenarios on the simulated world ([`Sim`]) or on a bare session: the rules
//! that transcripts show only once, checked over many steps (backoff bounds, paging through
//! many threads, the outbox check across pages of threads, secrets).

use std::time::{Duration, UNIX_EPOCH};

use chatio_core::{
    AccessToken, Backoff, Config, Disconnect, DriverAction, Error, FileSpec, Operation, OutboxPolicy, Output, Reply,
    SdkEvent, Session, TransportError,
};
use chatio_wire::{ChatId, DisconnectReason, ErrorType, LicenseId, NewEvent, RequestId, StartChat};
use serde_json::Value;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use crate::server::CUSTOMER;
use crate::sim::{Issued, Sim};

fn frame(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON frame")
}

fn reconnect_delays(sim: &Sim) -> Vec<(u32, Duration)> {
    sim.events
        .iter()
        .filter_map(|e| match e {
            SdkEvent::Reconnecting { attempt, delay } => Some((*attempt, *delay)),
            _ => None,
        })
        .collect()
}

/// Connects a fresh simulated session.
fn ready(seed: u64) -> Sim {
    let mut sim = Sim::new(Sim::config(seed));
    sim.connect();
    sim
}

fn start_chat(sim: &mut Sim) -> ChatId {
    let id = sim.s.start_chat(StartChat::new(), sim.now).expect("start_chat");
    sim.issued(id.clone(), Issued::Other);
    sim.settle();
    match &sim.finished[&id.to_string()].1 {
        Ok(Reply::Chat(c)) => c.id.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn reconnect_delays_grow_and_stay_in_their_bounds() {
    for seed in 0..40 {
        let mut sim = ready(seed);
        let policy = sim.s.config().reconnect;
        // The server is unreachable: every connection attempt fails at once.
        sim.drop_connection();
        for _ in 0..12 {
            assert!(sim.advance_to_deadline());
            assert_eq!(sim.actions.pop_front(), Some(DriverAction::Connect));
            sim.s.handle_disconnected(Disconnect::Failed(TransportError::msg(Operation::Connect, "refused")), sim.now);
            sim.pump(false);
        }
        let delays = reconnect_delays(&sim);
        assert_eq!(delays.len(), 13);
        for (attempt, delay) in delays {
            let (lo, hi) = policy.bounds(attempt - 1);
            assert!(delay >= lo && delay <= hi, "seed {seed}: attempt {attempt}: {delay:?} not in [{lo:?}, {hi:?}]");
            assert!(delay >= Duration::from_millis(500) && delay <= Duration::from_secs(5));
        }
        // A successful login starts the series again.
        sim.settle();
        sim.drop_connection();
        assert_eq!(reconnect_delays(&sim).last().map(|(a, _)| *a), Some(1));
    }
}

#[test]
fn repeated_login_failures_back_off_with_the_login_policy() {
    for seed in 0..20 {
        let mut sim = Sim::new(Sim::config(seed));
        let policy = Backoff::login();
        for round in 0..8u32 {
            // Every token is refused: the fresh one too.
            sim.perform_actions();
            for _ in 0..4 {
                sim.server.revoke_tokens();
                sim.deliver_to_server(usize::MAX, false);
                sim.deliver_to_client(usize::MAX);
                sim.perform_actions();
            }
            let auth_errors =
                sim.events.iter().filter(|e| matches!(e, SdkEvent::Error(Error::Authentication { .. }))).count();
            assert_eq!(auth_errors, round as usize + 1, "seed {seed}: one clear error per failed connect sequence");
            let (_, delay) = *reconnect_delays(&sim).last().expect("a reconnect is scheduled");
            let (lo, hi) = policy.bounds(round);
            assert!(delay >= lo && delay <= hi, "seed {seed}, round {round}: {delay:?} not in [{lo:?}, {hi:?}]");
            assert!(sim.advance_to_deadline());
            // After a failed login the next connection asks a fresh token first.
            assert!(sim.actions.contains(&DriverAction::FetchToken { fresh: true }), "{:?}", sim.actions);
        }
    }
}

#[test]
fn an_authentication_error_gets_one_retry_with_a_fresh_token() {
    let mut sim = ready(3);
    sim.drop_connection();
    sim.server.revoke_tokens();
    sim.settle();
    assert!(sim.s.is_ready());
    // The old token was refused once; a fresh one was asked and worked.
    assert!(matches!(sim.events.last(), Some(SdkEvent::ConnectionRestored { .. })));
    assert!(!sim.events.iter().any(|e| matches!(e, SdkEvent::Error(_))));
}

#[test]
fn an_expired_token_is_replaced_before_login() {
    let t0 = chatio_core::Instant::now();
    let mut s = Session::new(Config::new(LicenseId(1), 1), t0);
    assert_eq!(s.poll_action(), Some(DriverAction::FetchToken { fresh: false }));
    assert_eq!(s.poll_action(), Some(DriverAction::Connect));
    s.handle_token(AccessToken::bearer("a").with_expires_in(Duration::from_secs(60)), t0);
    s.handle_connected(t0);
    assert!(s.poll_transmit().is_some_and(|f| f.contains("Bearer a")));
    s.handle_disconnected(
        Disconnect::Failed(TransportError::msg(Operation::Socket, "x")),
        t0 + Duration::from_secs(61),
    );
    // The refresh timer (half the 60 s lifetime) and the reconnect timer both fire.
    let mut actions = Vec::new();
    let mut deadline = t0;
    while !actions.contains(&DriverAction::Connect) {
        deadline = s.poll_timeout().expect("a timer");
        s.handle_timeout(deadline);
        actions.extend(std::iter::from_fn(|| s.poll_action()));
    }
    assert_eq!(actions, [DriverAction::FetchToken { fresh: true }, DriverAction::Connect]);
    s.handle_connected(deadline);
    assert_eq!(s.poll_transmit(), None, "no login with the expired token");
    s.handle_token(AccessToken::bearer("b"), deadline);
    assert!(s.poll_transmit().is_some_and(|f| f.contains("Bearer b")));
}

#[test]
fn too_many_connections_reconnects_only_with_the_maximum_delay() {
    let mut sim = ready(5);
    let push = r#"{"action":"customer_disconnected","type":"push","payload":{"reason":"too_many_connections"}}"#;
    sim.inject(push);
    sim.deliver_to_client(1);
    assert!(matches!(sim.events.last(), Some(SdkEvent::Disconnected { reason: DisconnectReason::TooManyConnections })));
    sim.open = false;
    let how = Disconnect::Closed { code: Some(4000), reason: "too_many_connections".into() };
    sim.s.handle_disconnected(how, sim.now);
    sim.pump(false);
    assert_eq!(reconnect_delays(&sim).last(), Some(&(1, Duration::from_secs(5))));
    assert!(!sim.s.is_closed());
    // Still too many: the maximum again, not a growing series from 1 s.
    assert!(sim.advance_to_deadline());
    sim.perform_actions();
    let how = Disconnect::Closed { code: Some(4000), reason: "too_many_connections".into() };
    sim.open = false;
    sim.s.handle_disconnected(how, sim.now);
    sim.pump(false);
    assert_eq!(reconnect_delays(&sim).last(), Some(&(2, Duration::from_secs(5))));
    sim.settle();
    assert!(sim.s.is_ready());
}

#[test]
fn final_reasons_stop_the_session() {
    for reason in ["customer_banned", "license_not_found", "unsupported_version"] {
        // By the push, then the close.
        let mut sim = ready(7);
        let c = start_chat(&mut sim);
        let id = sim.s.send_message(&c, "hi", sim.now).expect("send");
        sim.issued(id.clone(), Issued::Other);
        let push = format!(r#"{{"action":"customer_disconnected","type":"push","payload":{{"reason":"{reason}"}}}}"#);
        sim.to_server.clear();
        sim.inject(&push);
        sim.deliver_to_client(1);
        let r = DisconnectReason::parse(reason);
        assert!(sim.s.is_closed() && sim.s.stopped_reason() == Some(&r));
        assert!(matches!(&sim.finished[&id.to_string()].1, Err(Error::Disconnected { reason }) if *reason == r));
        assert_eq!(sim.actions.pop_front(), Some(DriverAction::Close));
        sim.open = false;
        let how = Disconnect::Closed { code: Some(4000), reason: reason.into() };
        sim.s.handle_disconnected(how, sim.now);
        sim.pump(false);
        assert_eq!(sim.s.poll_timeout(), None, "nothing scheduled: no reconnect");
        assert!(matches!(sim.s.close_thread(&c, sim.now), Err(Error::Disconnected { .. })));
        assert_eq!(sim.events.iter().filter(|e| matches!(e, SdkEvent::Disconnected { .. })).count(), 1);

        // By the close code alone.
        let mut sim = ready(8);
        sim.open = false;
        sim.s.handle_disconnected(Disconnect::Closed { code: Some(4000), reason: reason.into() }, sim.now);
        sim.pump(false);
        assert_eq!(sim.s.stopped_reason(), Some(&r));
        assert!(sim.actions.is_empty() && sim.s.poll_timeout().is_none());
        // `connect` starts again.
        sim.s.connect(sim.now);
        sim.pump(false);
        sim.settle();
        assert!(sim.s.is_ready());
    }
}

#[test]
fn a_ban_at_login_stops_the_session() {
    let t0 = chatio_core::Instant::now();
    let mut s = Session::new(Config::new(LicenseId(1), 1), t0);
    let _ = (s.poll_action(), s.poll_action());
    s.handle_token(AccessToken::bearer("a"), t0);
    s.handle_connected(t0);
    let login = frame(&s.poll_transmit().expect("login"));
    let reply = format!(
        r#"{{"request_id":{},"action":"login","type":"response","success":false,"payload":{{"error":{{"type":"customer_banned","message":"banned"}}}}}}"#,
        login["request_id"]
    );
    s.handle_frame(&reply, t0);
    assert_eq!(s.stopped_reason(), Some(&DisconnectReason::CustomerBanned));
    assert_eq!(s.poll_action(), Some(DriverAction::Close));
}

#[test]
fn requests_time_out_and_late_answers_are_ignored() {
    let mut sim = ready(9);
    let id = sim.s.get_chats_summary(0, 10, sim.now).expect("request");
    sim.issued(id.clone(), Issued::Other);
    let deadline = sim.s.poll_timeout().expect("deadline");
    assert!(deadline <= sim.now + Duration::from_secs(15));
    sim.advance(Duration::from_millis(14_999));
    assert!(sim.outstanding.contains_key(&id));
    sim.advance(Duration::from_millis(1));
    assert!(matches!(sim.finished[&id.to_string()].1, Err(Error::Timeout)));
    // The answer comes after all: ignored.
    sim.deliver_to_server(usize::MAX, false);
    sim.deliver_to_client(usize::MAX);
    assert!(sim.s.is_ready());
}

#[test]
fn pings_go_every_interval_once_logged_in() {
    let mut sim = Sim::new(Sim::config(11));
    sim.perform_actions();
    // Logging in takes long: no ping may precede the login response.
    sim.advance(Duration::from_secs(15));
    assert!(sim.to_server.iter().all(|f| !f.contains(r#""ping""#)), "{:?}", sim.to_server);
    sim.settle();
    for _ in 0..3 {
        sim.to_server.clear();
        let before = sim.now;
        assert!(sim.advance_to_deadline());
        assert_eq!(sim.now - before, Duration::from_secs(15));
        assert_eq!(sim.to_server.iter().map(String::as_str).collect::<Vec<_>>(), vec![r#"{"action":"ping"}"#]);
        sim.deliver_to_server(1, false);
        sim.deliver_to_client(1);
        assert!(sim.events.iter().all(|e| !matches!(e, SdkEvent::Error(_))), "ping answers are ignored");
    }
}

#[test]
fn commands_before_login_are_written_after_it_in_order() {
    let mut sim = Sim::new(Sim::config(12));
    let a = sim.s.get_chats_summary(0, 5, sim.now).expect("a");
    sim.issued(a, Issued::Other);
    let b = sim.s.start_chat(StartChat::new(), sim.now).expect("b");
    sim.issued(b, Issued::Other);
    sim.perform_actions();
    let actions: Vec<String> =
        sim.to_server.iter().map(|f| frame(f)["action"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(actions, vec!["login"]);
    sim.deliver_to_server(1, false);
    sim.deliver_to_client(usize::MAX);
    sim.deliver_to_server(1, false);
    sim.deliver_to_client(usize::MAX);
    let actions: Vec<String> =
        sim.to_server.iter().map(|f| frame(f)["action"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(actions, vec!["get_chats_summary", "start_chat"]);
    sim.settle();
}

#[test]
fn history_pages_through_many_threads() {
    let mut sim = ready(13);
    let c = start_chat(&mut sim);
    for i in 0..30 {
        let id = sim.s.send_message(&c, &format!("m{i}"), sim.now).expect("send");
        sim.issued(id, Issued::Event { chat_exists: true });
        let id = sim.s.close_thread(&c, sim.now).expect("close");
        sim.issued(id, Issued::Other);
        sim.settle();
    }
    let h = sim.s.chat_history(&c).expect("cursor");
    // Three calls at once: answered in order.
    let ids: Vec<RequestId> = (0..3).map(|_| sim.s.history_next(h, sim.now).expect("next")).collect();
    for id in &ids {
        sim.issued(id.clone(), Issued::Other);
    }
    sim.settle();
    let mut texts = Vec::new();
    let mut dones = Vec::new();
    for id in &ids {
        match &sim.finished[&id.to_string()].1 {
            Ok(Reply::History { events, done }) => {
                let mut page: Vec<String> = events.iter().filter_map(|e| e.text().map(str::to_owned)).collect();
                // Each page is ascending; pages go back in time.
                page.reverse();
                texts.extend(page);
                dones.push(*done);
            }
            other => panic!("{other:?}"),
        }
    }
    // 31 threads of one event each, about 50 events a page: the first batch of 25 threads,
    // then the remaining 6 (found with a `Total` step and an offset), then nothing.
    assert_eq!(dones, vec![false, true, true]);
    let want: Vec<String> = (0..30).rev().map(|i| format!("m{i}")).collect();
    assert_eq!(texts, want);
    let summaries = sim.events.iter().filter(|e| matches!(e, SdkEvent::ThreadSummary(t) if t.chat == c)).count();
    assert!(summaries >= 31, "a thread_summary per loaded thread");
}

#[test]
fn the_outbox_check_looks_back_past_newer_threads() {
    let mut sim = ready(14);
    let c = start_chat(&mut sim);
    // The event goes out; its answer is lost, then the connection drops.
    let id = sim.s.send_message(&c, "did it arrive?", sim.now).expect("send");
    sim.issued(id.clone(), Issued::Event { chat_exists: true });
    sim.deliver_to_server(1, true);
    sim.to_client.clear();
    sim.drop_connection();
    // Meanwhile three newer threads appear (closed by the agent, reopened by its messages).
    for _ in 0..3 {
        sim.server.close_active(0);
        let _ = sim.server.agent_message(0);
    }
    sim.settle();
    match &sim.finished[&id.to_string()].1 {
        Ok(Reply::Event(e)) => assert_eq!(e.text(), Some("did it arrive?")),
        other => panic!("{other:?}"),
    }
    let custom = sim.server.stored.iter().filter(|(k, _)| k.starts_with("chatio-")).map(|(_, n)| *n).sum::<u32>();
    assert_eq!(custom, 1, "stored once, never resent");
}

#[test]
fn the_outbox_resends_only_what_did_not_arrive() {
    let mut sim = ready(15);
    let c = start_chat(&mut sim);
    let arrived = sim.s.send_message(&c, "arrived", sim.now).expect("send");
    sim.issued(arrived.clone(), Issued::Event { chat_exists: true });
    let lost = sim.s.send_message(&c, "lost", sim.now).expect("send");
    sim.issued(lost.clone(), Issued::Event { chat_exists: true });
    // The server reads the first frame only; its answer is lost with the connection.
    sim.deliver_to_server(1, false);
    sim.drop_connection();
    let queued = sim.s.send_message(&c, "queued", sim.now).expect("send");
    sim.issued(queued.clone(), Issued::Event { chat_exists: true });
    sim.settle();
    let texts: Vec<Option<String>> = [&arrived, &lost, &queued]
        .iter()
        .map(|id| match &sim.finished[&id.to_string()].1 {
            Ok(Reply::Event(e)) => e.text().map(str::to_owned),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, vec![Some("arrived".into()), Some("lost".into()), Some("queued".into())]);
    assert!(sim.server.stored.values().all(|n| *n == 1));
    let orders: Vec<u64> = [&arrived, &lost, &queued]
        .iter()
        .map(|id| match &sim.finished[&id.to_string()].1 {
            Ok(Reply::Event(e)) => e.order,
            _ => 0,
        })
        .collect();
    assert!(orders.windows(2).all(|w| w[0] < w[1]), "the order of the chat is kept: {orders:?}");
}

#[test]
fn a_check_whose_answer_is_too_large_fails_its_events_and_frees_the_chat() {
    let mut config = Sim::config(17);
    config.max_frame_len = 4096;
    let mut sim = Sim::new(config);
    sim.connect();
    let c = start_chat(&mut sim);
    // The thread grows past what one frame may carry.
    for i in 0..30 {
        let id = sim.s.send_message(&c, &format!("message number {i}"), sim.now).expect("send");
        sim.issued(id, Issued::Event { chat_exists: true });
    }
    sim.settle();
    // Stored by the server, but its answer is lost with the connection.
    let id = sim.s.send_message(&c, "did it arrive?", sim.now).expect("send");
    sim.issued(id.clone(), Issued::Event { chat_exists: true });
    sim.deliver_to_server(1, true);
    sim.to_client.clear();
    sim.drop_connection();
    let later = sim.s.send_message(&c, "later", sim.now).expect("send");
    sim.issued(later.clone(), Issued::Event { chat_exists: true });
    // Each check's `get_chat_threads` answer is refused; after the last one the session gives
    // up on the unconfirmed event, and the chat's next event goes out.
    sim.settle();
    assert_eq!(sim.finished[&id.to_string()].1, Err(Error::DeliveryUnknown { attempts: 3 }));
    assert!(matches!(&sim.finished[&later.to_string()].1, Ok(Reply::Event(e)) if e.text() == Some("later")));
    assert!(sim.server.stored.values().all(|n| *n == 1), "nothing sent twice: {:?}", sim.server.stored);
    let too_large = sim
        .events
        .iter()
        .filter(|e| matches!(e, SdkEvent::Error(e @ Error::Protocol(_)) if chatio_core::chain(e).contains("4096")))
        .count();
    assert_eq!(too_large, 3, "each refused frame is reported once");
    assert!(sim.s.is_ready());
}

#[test]
fn with_the_js_policy_in_flight_events_fail() {
    let mut config = Sim::config(16);
    config.outbox = OutboxPolicy::FailOnDisconnect;
    let mut sim = Sim::new(config);
    sim.connect();
    let c = start_chat(&mut sim);
    let id = sim.s.send_message(&c, "x", sim.now).expect("send");
    sim.issued(id.clone(), Issued::Other);
    sim.drop_connection();
    assert!(matches!(sim.finished[&id.to_string()].1, Err(Error::ConnectionLost)));
    assert!(sim.events.contains(&SdkEvent::ConnectionLost));
}

#[test]
fn sneak_peeks_are_throttled_per_chat_and_only_for_active_chats() {
    let mut sim = ready(17);
    let a = start_chat(&mut sim);
    let b = start_chat(&mut sim);
    let peeks = |sim: &mut Sim| -> Vec<(String, String)> {
        let out = sim
            .to_server
            .iter()
            .map(|f| frame(f))
            .filter(|f| f["action"] == "send_sneak_peek")
            .map(|f| {
                (
                    f["payload"]["chat_id"].as_str().unwrap_or_default().to_owned(),
                    f["payload"]["sneak_peek_text"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        sim.to_server.clear();
        out
    };
    sim.to_server.clear();
    for (i, t) in ["h", "he", "hel"].iter().enumerate() {
        sim.s.set_sneak_peek(&a, t, sim.now).expect("peek");
        sim.s.set_sneak_peek(&b, &format!("b{i}"), sim.now).expect("peek");
        sim.pump(false);
        sim.advance(Duration::from_millis(400));
    }
    assert_eq!(peeks(&mut sim), vec![(a.to_string(), "h".into()), (b.to_string(), "b0".into())]);
    sim.advance(Duration::from_millis(1200));
    let mut trailing = peeks(&mut sim);
    trailing.sort();
    assert_eq!(trailing, vec![(a.to_string(), "hel".into()), (b.to_string(), "b2".into())]);
    // Chat a's thread closes: its peeks stop.
    let id = sim.s.close_thread(&a, sim.now).expect("close");
    sim.issued(id, Issued::Other);
    sim.settle();
    sim.to_server.clear();
    sim.advance(Duration::from_secs(3));
    sim.to_server.clear();
    sim.s.set_sneak_peek(&a, "ignored", sim.now).expect("peek");
    sim.s.set_sneak_peek(&b, "sent", sim.now).expect("peek");
    sim.pump(false);
    assert_eq!(peeks(&mut sim), vec![(b.to_string(), "sent".into())]);
    assert!(matches!(sim.s.set_sneak_peek(&ChatId::new(""), "x", sim.now), Err(Error::InvalidArgs { .. })));
}

#[test]
fn uploads_wait_for_a_token_and_can_be_cancelled() {
    let t0 = chatio_core::Instant::now();
    let mut s = Session::new(Config::new(LicenseId(1), 1), t0);
    let _ = (s.poll_action(), s.poll_action());
    let chat = ChatId::new("C1");
    let up = s.send_file(&chat, FileSpec::new("a.png", 3, "image/png"), t0).expect("upload");
    assert_eq!(s.poll_action(), None, "no token yet: the upload waits");
    s.handle_token(AccessToken::bearer("the-secret"), t0);
    match s.poll_action() {
        Some(DriverAction::Upload(u)) => {
            assert_eq!(u.id, up);
            assert_eq!(u.access_token, "the-secret");
            assert_eq!(u.fields.chat_id, chat);
            assert!(u.fields.custom_id.as_deref().is_some_and(|c| !c.is_empty()), "a custom id is generated (D10)");
            assert!(!format!("{u:?}").contains("the-secret"));
        }
        other => panic!("{other:?}"),
    }
    assert!(s.cancel(&up, t0));
    assert_eq!(s.poll_action(), Some(DriverAction::CancelUpload { id: up.clone() }));
    assert_eq!(s.poll_event(), Some(Output::Completed { id: up.clone(), result: Err(Error::Cancelled) }));
    // Its result arrives anyway: ignored, as is a result for an unknown id.
    s.handle_upload_result(&up, Ok(chatio_wire::SendFileResponse::new("u")), t0);
    s.handle_upload_result(&RequestId::new("nobody"), Ok(chatio_wire::SendFileResponse::new("u")), t0);
    assert_eq!(s.poll_event(), None);
    assert!(!s.cancel(&up, t0), "cancelled already");
    let too_big = s.send_file(&chat, FileSpec::new("big", 10 * 1024 * 1024 + 1, "x/y"), t0);
    assert!(matches!(too_big, Err(Error::InvalidArgs { .. })));
    assert!(s.send_file(&chat, FileSpec::new("max", 10 * 1024 * 1024, "x/y"), t0).is_ok());
}

#[test]
fn a_failed_token_fetch_fails_waiting_uploads_and_retries_later() {
    let t0 = chatio_core::Instant::now();
    let mut s = Session::new(Config::new(LicenseId(1), 1), t0);
    let _ = (s.poll_action(), s.poll_action());
    let up = s.send_file(&ChatId::new("C1"), FileSpec::new("a", 1, ""), t0).expect("upload");
    s.handle_token_error(Error::authentication("the endpoint refused"), t0);
    let outs: Vec<Output> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(matches!(&outs[0], Output::Event(SdkEvent::Error(Error::Authentication { .. }))));
    assert!(matches!(&outs[1], Output::Completed { id, result: Err(Error::Authentication { .. }) } if *id == up));
    let retry = s.poll_timeout().expect("a retry");
    let (lo, hi) = Backoff::login().bounds(0);
    assert!(retry >= t0 + lo && retry <= t0 + hi);
    s.handle_timeout(retry);
    assert_eq!(s.poll_action(), Some(DriverAction::FetchToken { fresh: true }));
}

#[test]
fn disconnect_fails_everything_and_connect_starts_again() {
    let mut sim = ready(18);
    let c = start_chat(&mut sim);
    let a = sim.s.send_message(&c, "a", sim.now).expect("send");
    sim.issued(a.clone(), Issued::Other);
    let b = sim.s.get_chats_summary(0, 1, sim.now).expect("summary");
    sim.issued(b.clone(), Issued::Other);
    sim.s.disconnect(sim.now);
    sim.pump(false);
    assert!(matches!(sim.finished[&a.to_string()].1, Err(Error::Closed)));
    assert!(matches!(sim.finished[&b.to_string()].1, Err(Error::Closed)));
    assert_eq!(sim.actions.pop_front(), Some(DriverAction::Close));
    assert!(matches!(sim.s.send_message(&c, "x", sim.now), Err(Error::Closed)));
    assert_eq!(sim.s.poll_timeout(), None);
    sim.open = false;
    sim.s.handle_disconnected(Disconnect::Closed { code: Some(1000), reason: String::new() }, sim.now);
    sim.pump(false);
    // As the JS SDK: one `connection_lost` for the user's disconnect, none for the close.
    let lost = sim.events.iter().filter(|e| matches!(e, SdkEvent::ConnectionLost)).count();
    assert_eq!(lost, 1, "{:?}", sim.events);
    sim.s.connect(sim.now);
    sim.pump(false);
    sim.settle();
    assert!(matches!(sim.events.last(), Some(SdkEvent::ConnectionRestored { .. })));
    sim.s.destroy(sim.now);
    sim.pump(false);
    sim.s.connect(sim.now);
    sim.pump(false);
    assert!(!sim.actions.contains(&DriverAction::Connect), "destroyed for good");
}

#[test]
fn pushes_for_nobody_are_events_and_own_copies_are_not() {
    let mut sim = ready(19);
    let c = start_chat(&mut sim);
    let before = sim.events.len();
    let id = sim.s.send_message(&c, "mine", sim.now).expect("send");
    sim.issued(id, Issued::Other);
    sim.settle();
    assert!(
        !sim.events[before..].iter().any(|e| matches!(e, SdkEvent::NewEvent { .. })),
        "the requester's copy is not a new event: {:?}",
        &sim.events[before..]
    );
    let push = format!(
        r#"{{"request_id":"stranger","action":"incoming_event","type":"push","payload":{{"chat_id":"{c}","thread_id":"T9","event":{{"id":"x","order":99,"type":"message","author_id":"{CUSTOMER}","timestamp":1600000000,"text":"from another tab"}}}}}}"#
    );
    sim.inject(&push);
    sim.deliver_to_client(1);
    match sim.events.last() {
        Some(SdkEvent::NewEvent { event, .. }) => {
            assert_eq!(event.text(), Some("from another tab"));
            assert_eq!(event.timestamp, UNIX_EPOCH + Duration::from_secs(1_600_000_000), "seconds, converted once");
        }
        other => panic!("{other:?}"),
    }
}

/// Regression test for the `core_session` fuzzer's find: a timestamp past what `SystemTime`
/// holds (here `u64::MAX` seconds) panicked while converting. Every wire time is now read,
/// saturating at 9999-12-31T23:59:59Z.
#[test]
fn timestamps_too_large_for_system_time_are_read_not_a_panic() {
    let mut sim = ready(21);
    let c = start_chat(&mut sim);
    let max = chatio_wire::Timestamp::MAX.to_system_time();
    for push in [
        format!(
            r#"{{"action":"incoming_event","type":"push","payload":{{"chat_id":"{c}","thread_id":"T9","event":{{"id":"x","order":99,"type":"message","author_id":"agent","timestamp":18446744073709551615,"text":"from the far future"}}}}}}"#
        ),
        format!(
            r#"{{"action":"incoming_typing_indicator","type":"push","payload":{{"chat_id":"{c}","typing_indicator":{{"author_id":"agent","timestamp":18446744073709551615,"is_typing":true}}}}}}"#
        ),
        format!(
            r#"{{"action":"last_seen_timestamp_updated","type":"push","payload":{{"chat_id":"{c}","user_id":"agent","timestamp":9223372036854775808}}}}"#
        ),
    ] {
        let before = sim.events.len();
        sim.inject(&push);
        sim.deliver_to_client(1);
        assert!(sim.events.len() > before, "no event for {push}");
    }
    let times: Vec<_> = sim
        .events
        .iter()
        .filter_map(|e| match e {
            SdkEvent::NewEvent { event, .. } => Some(event.timestamp),
            SdkEvent::LastSeenTimestampUpdated { timestamp, .. } => Some(*timestamp),
            _ => None,
        })
        .collect();
    assert_eq!(times, [max, max], "{:?}", sim.events);
    assert!(sim.s.is_ready());
}

/// The accounts service's `expires_in` is network input too: one too large to add to the
/// clock means no known expiry, not a panic.
#[test]
fn a_token_lifetime_too_large_to_add_is_no_expiry() {
    let t0 = chatio_core::Instant::now();
    let mut s = Session::new(Config::new(LicenseId(1), 1), t0);
    assert_eq!(s.poll_action(), Some(DriverAction::FetchToken { fresh: false }));
    s.handle_token(AccessToken::bearer("a").with_expires_in(Duration::MAX), t0);
    s.handle_connected(t0);
    assert!(s.poll_transmit().is_some_and(|f| f.contains("Bearer a")));
}

#[test]
fn a_response_for_another_action_is_a_protocol_error() {
    let mut sim = ready(20);
    let id = sim.s.get_chats_summary(0, 1, sim.now).expect("summary");
    sim.issued(id.clone(), Issued::Other);
    sim.to_server.clear();
    let wrong =
        format!(r#"{{"request_id":"{id}","action":"close_thread","type":"response","success":true,"payload":{{}}}}"#);
    sim.inject(&wrong);
    sim.deliver_to_client(1);
    assert!(matches!(&sim.finished[&id.to_string()].1, Err(Error::Protocol(_))));
    let id = sim.s.get_chats_summary(0, 1, sim.now).expect("summary");
    sim.issued(id.clone(), Issued::Other);
    sim.to_server.clear();
    let broken = format!(
        r#"{{"request_id":"{id}","action":"get_chats_summary","type":"response","success":true,"payload":{{"chats_summary":7}}}}"#
    );
    sim.inject(&broken);
    sim.deliver_to_client(1);
    assert!(matches!(&sim.finished[&id.to_string()].1, Err(Error::Protocol(_))), "answered, not left to time out");
}

#[test]
fn server_errors_keep_their_type_message_and_data() {
    let mut sim = ready(21);
    let id = sim.s.close_thread(&ChatId::new("nope"), sim.now).expect("close");
    sim.issued(id.clone(), Issued::Other);
    sim.settle();
    match &sim.finished[&id.to_string()].1 {
        Err(Error::Server { kind: ErrorType::Authorization, message, data }) => {
            assert_eq!(message, "not your chat");
            assert_eq!(*data, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn secrets_stay_out_of_debug_output() {
    // The login frame waits in the session until polled: Debug must not show it.
    let t = chatio_core::Instant::now();
    let mut s = Session::new(Config::new(LicenseId(1), 1), t);
    s.handle_token(AccessToken::bearer("top-secret-token"), t);
    s.handle_connected(t);
    let debug = format!("{s:?}");
    assert!(!debug.contains("top-secret-token"), "{debug}");
    assert!(!format!("{:?}", AccessToken::bearer("top-secret-token")).contains("top-secret-token"));
    let login = s.poll_transmit().expect("login");
    assert!(login.contains("Bearer top-secret-token"));
}

#[test]
fn new_events_get_custom_ids_and_custom_ids_are_kept() {
    let mut sim = ready(23);
    let c = start_chat(&mut sim);
    sim.to_server.clear();
    let id = sim.s.send_event(&c, NewEvent::message("a").with_custom_id("mine-1"), sim.now).expect("send");
    sim.issued(id, Issued::Other);
    let id = sim.s.send_message(&c, "b", sim.now).expect("send");
    sim.issued(id, Issued::Other);
    let customs: Vec<String> = sim
        .to_server
        .iter()
        .map(|f| frame(f)["payload"]["event"]["custom_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(customs[0], "mine-1");
    assert!(customs[1].starts_with("chatio-") && customs[1].len() > 10, "{customs:?}");
    sim.settle();
}

#[test]
fn the_same_seed_gives_the_same_session() {
    let run = |seed| {
        let mut sim = ready(seed);
        let c = start_chat(&mut sim);
        let id = sim.s.send_message(&c, "x", sim.now).expect("send");
        sim.drop_connection();
        (id, reconnect_delays(&sim))
    };
    assert_eq!(run(77), run(77));
    assert_ne!(run(77).0, run(78).0);
}

#[test]
fn a_binary_frame_is_reported_not_fatal() {
    let mut sim = ready(3);
    let now = sim.now;
    sim.s.handle_binary_frame(12, now);
    let mut reported = false;
    while let Some(o) = sim.s.poll_event() {
        if let Output::Event(SdkEvent::Error(e @ Error::Protocol(_))) = &o {
            let message = chatio_core::chain(e);
            reported = message.contains("binary frame of 12 bytes");
        }
    }
    assert!(reported);
    assert!(sim.s.is_ready(), "the session goes on");
}

#[test]
fn a_token_is_refreshed_an_hour_before_it_expires_without_reconnecting() {
    let mut sim = ready(21);
    let issued = sim.now;
    let token =
        AccessToken::bearer("short-lived").with_customer_id(CUSTOMER).with_expires_in(Duration::from_secs(7200));
    sim.s.handle_token(token, sim.now);
    sim.pump(false);
    let before = sim.events.len();
    let mut asked_at = None;
    for _ in 0..400 {
        sim.advance(Duration::from_secs(10));
        if sim.actions.contains(&DriverAction::FetchToken { fresh: true }) {
            asked_at = Some(sim.now - issued);
            break;
        }
        // A healthy network: pings answered.
        sim.deliver_to_server(usize::MAX, false);
        sim.deliver_to_client(usize::MAX);
        sim.perform_actions();
    }
    let asked_at = asked_at.expect("a fresh token is asked before the expiry");
    assert!(asked_at >= Duration::from_secs(3600) && asked_at < Duration::from_secs(3610), "{asked_at:?}");
    sim.perform_actions();
    assert!(sim.s.is_ready(), "the refresh does not disturb the connection");
    assert!(!sim.events[before..].iter().any(|e| matches!(e, SdkEvent::ConnectionLost)));
    // A token shorter than two hours is refreshed at half its life.
    let t = sim.now;
    sim.s.handle_token(AccessToken::bearer("x").with_expires_in(Duration::from_secs(600)), t);
    sim.pump(false);
    assert_eq!(sim.s.poll_timeout().map(|d| d <= t + Duration::from_secs(300)), Some(true));
}

#[test]
fn disconnect_emits_connection_lost_as_the_js_sdk_does_but_destroy_does_not() {
    let mut sim = ready(22);
    let n = sim.events.len();
    sim.s.disconnect(sim.now);
    sim.pump(false);
    assert!(matches!(sim.events[n..], [SdkEvent::ConnectionLost]), "{:?}", &sim.events[n..]);
    let mut sim = ready(23);
    let n = sim.events.len();
    sim.s.destroy(sim.now);
    sim.pump(false);
    assert!(!sim.events[n..].iter().any(|e| matches!(e, SdkEvent::ConnectionLost)), "{:?}", &sim.events[n..]);
}

#[test]
fn duration_max_settings_never_panic() {
    let mut c = Sim::config(31);
    c.reconnect = Backoff::new(Duration::MAX, Duration::MAX, 0.5);
    c.login_backoff = Backoff::new(Duration::MAX, Duration::MAX, 0.3);
    c.request_timeout = Duration::MAX;
    c.ping_interval = Duration::MAX;
    c.unstable_after = Duration::MAX;
    c.dead_after = Duration::MAX;
    let mut sim = Sim::new(c);
    sim.connect();
    let chat = start_chat(&mut sim);
    let id = sim.s.send_message(&chat, "x", sim.now).expect("send");
    sim.issued(id, Issued::Other);
    sim.drop_connection();
    sim.s.handle_token_error(Error::authentication("no"), sim.now);
    sim.pump(false);
    assert!(sim.s.poll_timeout().is_some(), "a reconnect, a century away");
}
