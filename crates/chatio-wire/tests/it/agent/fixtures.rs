//! Every agent fixture frame (`fixtures/agent-frames/`) decodes; its typed summary and
//! canonical re-encoding are snapshotted; the canonical form decodes to the same value; any
//! order of its keys decodes alike. The corpus covers every action, push, error type,
//! disconnect reason, event type and tolerant rule.

use std::path::Path;
use std::sync::OnceLock;

use chatio_wire::agent::{
    Action, AgentDisconnectReason, ClientFrame, Push, PushKind, Request, ResponseData, ServerFrame,
};
use chatio_wire::{ErrorType, EventKind};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::fixtures::minify;
use crate::tolerance::{Encode, XorShift, meaning, shuffled};

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agent-frames")
}

fn is_client(name: &str) -> bool {
    name.starts_with("request.") || name.starts_with("tolerant.client.")
}

fn push_detail(p: &Push) -> Value {
    match p {
        Push::IncomingEvent(e) => json!({
            "event_type": e.event.event_type(),
            "kind": format!("{}", e.event.kind),
            "recipients": e.event.recipients.as_ref().map(|r| r.as_str()),
        }),
        Push::IncomingChatThread(c) => json!({
            "thread": c.chat.thread.as_ref().map(|t| t.id.to_string()),
            "users": c.chat.users.iter().map(|u| u.kind.as_str()).collect::<Vec<_>>(),
        }),
        Push::ChatUsersUpdated(u) => json!({
            "customers_added": u.updated_users.customers.added.len(),
            "agents_added": u.updated_users.agents.added.len(),
            "agents_removed": u.updated_users.agents.removed_ids.len(),
        }),
        Push::IncomingTypingIndicator(t) => json!({"is_typing": t.typing_indicator.is_typing}),
        Push::AgentDisconnected(d) => json!({"reason": d.reason.as_str(), "final": d.reason.is_final()}),
        Push::AgentUpdated(a) => json!({"routing_status": a.routing_status.as_ref().map(|s| s.as_str())}),
        Push::CustomerUpdated(c) => json!({
            "banned": c.customer.banned,
            "pages": c.customer.monitoring.as_ref().and_then(|m| m.current_visit.as_ref()).map(|v| v.pages.len()),
        }),
        _ => Value::Null,
    }
}

fn response_detail(d: &ResponseData) -> Value {
    match d {
        ResponseData::Login(l) => json!({
            "license": l.license.id.0,
            "permission": l.my_profile.permission.as_ref().map(|p| p.as_str()),
            "chats": l.chats_summary.len(),
            "last_event": l.chats_summary.first().and_then(|s| s.last_event()).map(|e| e.event.id.to_string()),
        }),
        ResponseData::GetFilteredChats(f) => json!({
            "chats": f.chats_summary.len(),
            "last_event": f.chats_summary.first().and_then(|s| s.last_event()).map(|e| e.event.id.to_string()),
        }),
        ResponseData::GetChatThreads(t) => json!({
            "threads_summary": t.chat.threads_summary.as_ref().map(Vec::len),
            "has_properties": t.chat.properties.is_some(),
        }),
        ResponseData::GetArchives(a) => json!({"threads": a.chats.len(), "total": a.pagination.total}),
        _ => Value::Null,
    }
}

fn describe(name: &str, text: &str) -> Value {
    if is_client(name) {
        let f = ClientFrame::decode(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let canonical = f.encode();
        assert_eq!(ClientFrame::decode(&canonical).expect("canonical decodes"), f, "{name}");
        let variant = match &f.request {
            Request::Unknown { action, .. } => format!("Request::Unknown({action})"),
            other => format!("Request::{}", other.action()),
        };
        json!({
            "frame": "agent::ClientFrame",
            "request_id": f.request_id.as_ref().map(|r| r.to_string()),
            "author_id": f.author_id.as_ref().map(|a| a.to_string()),
            "variant": variant,
            "canonical": serde_json::from_str::<Value>(&canonical).expect("json"),
            "encoded": canonical,
        })
    } else {
        let f = ServerFrame::decode(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let canonical = f.encode();
        assert_eq!(ServerFrame::decode(&canonical).expect("canonical decodes"), f, "{name}");
        let (variant, detail) = match &f {
            ServerFrame::Response(r) => match &r.result {
                Ok(ResponseData::Unknown { action, .. }) => (format!("Response::Ok(Unknown({action}))"), Value::Null),
                Ok(d) => (format!("Response::Ok({})", d.action()), response_detail(d)),
                Err(e) => (
                    format!("Response::Err({})", e.action),
                    json!({"error_type": e.error.kind.as_str(), "known": !matches!(e.error.kind, ErrorType::Other(_))}),
                ),
            },
            ServerFrame::Push(p) => match &p.push {
                Push::Unknown { action, .. } => (format!("Push::Unknown({action})"), Value::Null),
                other => (format!("Push::{}", other.action()), push_detail(other)),
            },
            _ => ("other".into(), Value::Null),
        };
        json!({
            "frame": "agent::ServerFrame",
            "request_id": f.request_id().map(|r| r.to_string()),
            "variant": variant,
            "detail": detail,
            "canonical": serde_json::from_str::<Value>(&canonical).expect("json"),
            "encoded": canonical,
        })
    }
}

#[test]
fn every_agent_fixture_frame() {
    insta::glob!("../../fixtures", "agent-frames/*.json", |path| {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let text = std::fs::read_to_string(path).expect("fixture readable");
        // Fixtures are pretty-printed; the wire has one line: both must decode alike.
        let compact = minify(&text);
        let mut pretty = describe(name, &text);
        let a = describe(name, &compact);
        let squeeze = |v: &Value| serde_json::from_str::<Value>(v["encoded"].as_str().expect("text")).expect("json");
        assert_eq!(squeeze(&pretty), squeeze(&a), "{name}");
        pretty["encoded"] = a["encoded"].clone();
        assert_eq!(pretty, a, "{name}");
        insta::with_settings!({ sort_maps => true, omit_expression => true }, {
            insta::assert_json_snapshot!(a);
        });
    });
}

fn names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("fixtures dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

#[test]
fn the_corpus_covers_every_action_push_error_reason_and_event_type() {
    let names = names();
    let has = |prefix: &str| names.iter().any(|n| n.starts_with(prefix));
    for a in Action::ALL {
        let a = a.as_str();
        // `upload_image` is a multipart form, never a JSON frame.
        if a != "upload_image" {
            assert!(has(&format!("request.{a}.")), "no request fixture for {a}");
        }
        assert!(has(&format!("response.{a}.")), "no response fixture for {a}");
    }
    for p in PushKind::ALL {
        assert!(has(&format!("push.{}.", p.as_str())), "no push fixture for {p}");
    }
    for e in [
        ErrorType::Internal,
        ErrorType::Validation,
        ErrorType::Authorization,
        ErrorType::Authentication,
        ErrorType::RequestTimeout,
        ErrorType::LicenseExpired,
        ErrorType::UnsupportedVersion,
    ] {
        assert!(names.contains(&format!("error.{}.json", e.as_str())), "no error fixture for {e}");
    }
    for r in AgentDisconnectReason::KNOWN {
        assert!(names.contains(&format!("push.agent_disconnected.{}.json", r.as_str())), "no fixture for {r}");
    }
    for t in EventKind::TYPES {
        assert!(has(&format!("push.incoming_event.{t}")), "no event fixture for {t}");
    }
    // The tolerant forms of section 10 the decoder accepts.
    for rule in [
        "a3_", "a5_", "a6_", "a7_", "a8_", "a10_", "a12_", "a14_", "a15_", "a17_", "a18_", "a19_", "a20_", "a21_",
        "a22_", "a23_", "a24_", "a25_", "a26_", "a27_", "a28_", "a30_", "h2_",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with("tolerant.") && n.contains(&format!(".{rule}"))),
            "no fixture for {rule}"
        );
    }
    for unknown in [
        "request.unknown_action.json",
        "response.unknown_action.json",
        "push.unknown_push.json",
        "error.unknown_type.json",
    ] {
        assert!(names.iter().any(|n| n == unknown), "no {unknown}");
    }
}

/// Every fixture frame: (is a client frame, parsed JSON).
fn fixtures() -> &'static [(bool, Value)] {
    static ALL: OnceLock<Vec<(bool, Value)>> = OnceLock::new();
    ALL.get_or_init(|| {
        names()
            .into_iter()
            .filter(|n| n.ends_with(".json"))
            .map(|n| {
                let text = std::fs::read_to_string(dir().join(&n)).expect("readable");
                (is_client(&n), serde_json::from_str(&text).expect("JSON"))
            })
            .collect()
    })
}

impl Encode for ClientFrame {
    fn encode(&self) -> String {
        ClientFrame::encode(self)
    }
}

impl Encode for ServerFrame {
    fn encode(&self) -> String {
        ServerFrame::encode(self)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// Any order of the keys, at every level, decodes to the value of the sorted order.
    #[test]
    fn key_order_never_matters(i in any::<usize>(), seed in 1u64..) {
        let all = fixtures();
        let (client, v) = &all[i % all.len()];
        let sorted = v.to_string();
        let mut text = String::new();
        shuffled(v, &mut XorShift(seed), &mut text);
        if *client {
            prop_assert_eq!(meaning(ClientFrame::decode(&text)), meaning(ClientFrame::decode(&sorted)), "{}", text);
        } else {
            prop_assert_eq!(meaning(ServerFrame::decode(&text)), meaning(ServerFrame::decode(&sorted)), "{}", text);
        }
    }
}
