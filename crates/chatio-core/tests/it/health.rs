//! Connection health on the simulated world: a half-open connection (the network is gone,
//! no FIN: frames vanish both ways and nothing is reported) is detected within the bound,
//! reported (`ConnectionUnstable`), closed and reconnected; a connection that answers again
//! is reported `ConnectionRecovered` and kept.

use std::time::Duration;

use chatio_core::{DriverAction, SdkEvent};

use crate::sim::Sim;

/// One simulated second at a time; the half-open network eats every frame.
fn step_half_open(sim: &mut Sim) {
    sim.advance(Duration::from_secs(1));
    sim.to_server.clear();
    sim.to_client.clear();
}

fn position(sim: &Sim, f: impl Fn(&SdkEvent) -> bool) -> Option<usize> {
    sim.events.iter().position(f)
}

#[test]
fn a_half_open_connection_is_detected_within_the_bound_then_replaced() {
    let mut sim = Sim::new(Sim::config(7));
    sim.connect();
    let cfg = sim.s.config().clone();
    let silent_since = sim.now;
    let before = sim.events.len();
    let mut unstable_at = None;
    let mut closed_at = None;
    for _ in 0..60 {
        step_half_open(&mut sim);
        if unstable_at.is_none() && sim.events[before..].iter().any(|e| matches!(e, SdkEvent::ConnectionUnstable)) {
            unstable_at = Some(sim.now - silent_since);
        }
        if sim.actions.contains(&DriverAction::Close) {
            closed_at = Some(sim.now - silent_since);
            break;
        }
    }
    let unstable_at = unstable_at.expect("reported unstable");
    let closed_at = closed_at.expect("closed");
    // The clock moves in 1 s steps: detection happens within a step of each bound.
    assert!(unstable_at >= cfg.unstable_after && unstable_at <= cfg.unstable_after + Duration::from_secs(1));
    assert!(closed_at >= cfg.dead_after && closed_at <= cfg.dead_after + Duration::from_secs(1), "{closed_at:?}");
    assert!(!sim.events[before..].iter().any(|e| matches!(e, SdkEvent::ConnectionRecovered)));
    // The driver closes the socket; the session reconnects on a working network.
    sim.perform_actions();
    let lost = position(&sim, |e| matches!(e, SdkEvent::ConnectionLost)).expect("connection_lost");
    assert!(lost >= before);
    sim.settle();
    assert!(sim.s.is_ready());
    assert!(sim.events[before..].iter().any(|e| matches!(e, SdkEvent::ConnectionRestored { .. })));
}

#[test]
fn a_connection_that_answers_again_is_recovered_not_replaced() {
    let mut sim = Sim::new(Sim::config(8));
    sim.connect();
    let before = sim.events.len();
    // Silent until the session reports the connection unstable...
    for _ in 0..30 {
        step_half_open(&mut sim);
        if sim.events[before..].iter().any(|e| matches!(e, SdkEvent::ConnectionUnstable)) {
            break;
        }
    }
    assert!(sim.events[before..].iter().any(|e| matches!(e, SdkEvent::ConnectionUnstable)));
    // ...then the network works again: the next ping is answered before the dead bound.
    for _ in 0..15 {
        sim.advance(Duration::from_secs(1));
        sim.deliver_to_server(usize::MAX, false);
        sim.deliver_to_client(usize::MAX);
        if sim.events[before..].iter().any(|e| matches!(e, SdkEvent::ConnectionRecovered)) {
            break;
        }
    }
    assert!(matches!(sim.events.last(), Some(SdkEvent::ConnectionRecovered)), "{:?}", &sim.events[before..]);
    assert!(!sim.actions.contains(&DriverAction::Close));
    // And it stays up with the ordinary pings answered.
    for _ in 0..120 {
        sim.advance(Duration::from_secs(1));
        sim.deliver_to_server(usize::MAX, false);
        sim.deliver_to_client(usize::MAX);
    }
    let unstable = sim.events[before..].iter().filter(|e| matches!(e, SdkEvent::ConnectionUnstable)).count();
    assert_eq!(unstable, 1, "a healthy connection is never reported unstable");
    assert!(!sim.events[before..].iter().any(|e| matches!(e, SdkEvent::ConnectionLost)));
}
