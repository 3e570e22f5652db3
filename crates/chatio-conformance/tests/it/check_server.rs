//! `chatio conformance server` against reference servers started without a seed (ids
//! differ from the recording: the pairing is exercised), and against servers with a
//! deliberate fault.

use std::path::Path;

use chatio_conformance::check_server::{ServerTarget, check};
use chatio_conformance::report::{Report, Status, load};
use chatio_conformance::transcript::Transcript;
use chatio_server::{ConformanceFault, Server, ServerBuilder};

fn transcripts(only: Option<&str>) -> Vec<(String, Transcript)> {
    load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/recorded"), only).expect("transcripts")
}

fn against(builder: ServerBuilder, agent: bool, admin: bool, only: Option<&str>) -> Report {
    async_std::task::block_on(async {
        let server = builder.ephemeral().agent(agent).admin(admin).start().await.expect("server");
        let mut target = ServerTarget::new(url::Url::parse(&server.http_url()).expect("url"));
        target.agent = agent;
        target.admin = admin;
        target.admin_secret = server.admin_secret().map(str::to_owned);
        let report = check(&target, &transcripts(only)).await;
        server.shutdown().await;
        report
    })
}

fn status(r: &Report, name: &str) -> Status {
    r.transcripts.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no {name}")).status
}

#[test]
fn passes_against_unseeded_reference_servers() {
    // One server with the scripted agent, one without: every transcript runs on one of them.
    let with_agent = against(Server::builder(), true, true, None);
    let without = against(Server::builder(), false, true, None);
    for r in [&with_agent, &without] {
        assert!(r.passed(), "{}", r.text());
    }
    for (name, t) in transcripts(None) {
        let (_, _, _, _, agent) = t.header().expect("header");
        let (runs, other) = if agent { (&with_agent, &without) } else { (&without, &with_agent) };
        assert_eq!(status(runs, &name), Status::Pass, "{}", runs.text());
        assert_eq!(status(other, &name), Status::Skipped, "{}", other.text());
        let frames = runs.transcripts.iter().find(|x| x.name == name).map_or(0, |x| x.frames_compared);
        assert!(frames > 0, "{name}: no frame compared");
    }
}

#[test]
fn faults_are_skipped_without_the_admin_routes_saying_which() {
    let r = against(Server::builder(), true, false, None);
    assert!(r.passed(), "{}", r.text());
    let reconnect = r.transcripts.iter().find(|t| t.name == "reconnect").expect("reconnect");
    assert_eq!(reconnect.status, Status::Skipped);
    let reason = reconnect.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("drop_connections") && reason.contains("--admin"), "{reason}");
    assert_eq!(status(&r, "methods"), Status::Pass);
}

#[test]
fn fails_on_timestamps_in_milliseconds_naming_the_frame_and_path() {
    let r = against(Server::builder().conformance_fault(ConformanceFault::TimestampsMs), true, true, Some("methods"));
    assert!(!r.passed());
    let t = &r.transcripts[0];
    assert_eq!(t.status, Status::Fail, "{}", r.text());
    let f = &t.failures[0];
    assert_eq!(f.line, 9, "{}", r.text());
    assert_eq!(f.frame, "the `start_chat` response");
    let d = &f.diffs[0];
    assert_eq!(d.path, "payload.chat.thread.events[0].timestamp", "{}", r.text());
    assert!(d.what.starts_with("expected seconds, got milliseconds"), "{}", r.text());
    assert!(r.text().contains("payload.chat.thread.events[0].timestamp: expected seconds, got milliseconds"));
}

#[test]
fn fails_on_a_dropped_push_naming_the_missing_frame() {
    let r = against(Server::builder().conformance_fault(ConformanceFault::DropPush), true, true, Some("methods"));
    let t = &r.transcripts[0];
    assert_eq!(t.status, Status::Fail, "{}", r.text());
    let f = &t.failures[0];
    // Line 19: the `incoming_event` push echoing the customer's first `send_event`.
    assert_eq!((f.line, f.frame.as_str()), (19, "the `incoming_event` push"), "{}", r.text());
    assert!(f.message.starts_with("missing"), "{}", r.text());
    let json: serde_json::Value = serde_json::from_str(&r.json()).expect("json report");
    assert_eq!(json["summary"]["failed"], 1);
    assert_eq!(json["transcripts"][0]["failures"][0]["line"], 19);
}
