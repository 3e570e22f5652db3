//! Every fixture frame decodes; its typed summary and canonical re-encoding are snapshotted;
//! the canonical form decodes to the same value.

use std::path::Path;

use chatio_wire::{ClientFrame, Push, Request, ResponseData, ServerFrame};
use serde_json::{Value, json};

fn is_client(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name.starts_with("request.") || name.starts_with("tolerant.client.")
}

fn request_variant(r: &Request) -> String {
    match r {
        Request::Unknown { action, .. } => format!("Request::Unknown({action})"),
        other => format!("Request::{}", other.action()),
    }
}

fn push_detail(p: &Push) -> Value {
    match p {
        Push::IncomingEvent(e) => json!({"event_type": e.event.event_type(), "kind": format!("{}", e.event.kind)}),
        Push::IncomingChatThread(c) => json!({"thread": c.chat.thread.as_ref().map(|t| t.id.to_string())}),
        Push::CustomerDisconnected(d) => json!({"reason": d.reason.as_str(), "final": d.reason.is_final()}),
        Push::ChatUsersUpdated(u) => {
            json!({"added": u.updated_users.added.len(), "removed": u.updated_users.removed_ids.len()})
        }
        Push::IncomingTypingIndicator(t) => json!({"is_typing": t.typing_indicator.is_typing}),
        _ => Value::Null,
    }
}

fn describe(path: &Path, text: &str) -> Value {
    if is_client(path) {
        let f = ClientFrame::decode(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let canonical = f.encode();
        assert_eq!(ClientFrame::decode(&canonical).expect("canonical decodes"), f, "{}", path.display());
        json!({
            "frame": "ClientFrame",
            "request_id": f.request_id.as_ref().map(|r| r.to_string()),
            "variant": request_variant(&f.request),
            "canonical": serde_json::from_str::<Value>(&canonical).expect("json"),
            "encoded": canonical,
        })
    } else {
        let f = ServerFrame::decode(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let canonical = f.encode();
        assert_eq!(ServerFrame::decode(&canonical).expect("canonical decodes"), f, "{}", path.display());
        let (variant, detail) = match &f {
            ServerFrame::Response(r) => match &r.result {
                Ok(ResponseData::Unknown { action, .. }) => (format!("Response::Ok(Unknown({action}))"), Value::Null),
                Ok(d) => (format!("Response::Ok({})", d.action()), Value::Null),
                Err(e) => (
                    format!("Response::Err({})", e.action),
                    json!({"error_type": e.error.kind.as_str(), "known": !matches!(e.error.kind, chatio_wire::ErrorType::Other(_))}),
                ),
            },
            ServerFrame::Push(p) => match &p.push {
                Push::Unknown { action, .. } => (format!("Push::Unknown({action})"), Value::Null),
                other => (format!("Push::{}", other.action()), push_detail(other)),
            },
            _ => ("other".into(), Value::Null),
        };
        json!({
            "frame": "ServerFrame",
            "request_id": f.request_id().map(|r| r.to_string()),
            "variant": variant,
            "detail": detail,
            "canonical": serde_json::from_str::<Value>(&canonical).expect("json"),
            "encoded": canonical,
        })
    }
}

/// The text without whitespace between tokens, keys in the order written.
pub(crate) fn minify(pretty: &str) -> String {
    let mut out = String::with_capacity(pretty.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in pretty.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[test]
fn every_fixture_frame() {
    insta::glob!("../fixtures", "frames/*.json", |path| {
        let text = std::fs::read_to_string(path).expect("fixture readable");
        // Fixtures are pretty-printed; the wire has one line: both must decode alike.
        let compact = minify(&text);
        assert_eq!(serde_json::from_str::<Value>(&compact).ok(), serde_json::from_str::<Value>(&text).ok());
        let mut pretty = describe(path, &text);
        let a = describe(path, &compact);
        // Raw JSON (unknown payloads) keeps the input's whitespace, so only the encodings of
        // the two may differ, and only in whitespace.
        let squeeze = |v: &Value| serde_json::from_str::<Value>(v["encoded"].as_str().expect("text")).expect("json");
        assert_eq!(squeeze(&pretty), squeeze(&a), "{}", path.display());
        pretty["encoded"] = a["encoded"].clone();
        assert_eq!(pretty, a, "{}", path.display());
        insta::with_settings!({ sort_maps => true, omit_expression => true }, {
            insta::assert_json_snapshot!(a);
        });
    });
}

#[test]
fn the_corpus_covers_every_action_push_error_and_event_type() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/frames");
    let names: Vec<String> =
        std::fs::read_dir(&dir).expect("fixtures dir").filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    for a in chatio_wire::Action::ALL {
        let a = a.as_str();
        if a != "send_file" {
            assert!(names.iter().any(|n| n.starts_with(&format!("request.{a}"))), "no request fixture for {a}");
        }
        assert!(names.iter().any(|n| n.starts_with(&format!("response.{a}"))), "no response fixture for {a}");
    }
    for p in chatio_wire::PushKind::ALL {
        assert!(names.iter().any(|n| n.starts_with(&format!("push.{}", p.as_str()))), "no push fixture for {p}");
    }
    for e in chatio_wire::ErrorType::KNOWN {
        assert!(names.iter().any(|n| n == &format!("error.{}.json", e.as_str())), "no error fixture for {e}");
    }
    for r in chatio_wire::DisconnectReason::KNOWN {
        assert!(
            names.iter().any(|n| n == &format!("push.customer_disconnected.{}.json", r.as_str())),
            "no fixture for {r}"
        );
    }
    for t in chatio_wire::EventKind::TYPES {
        assert!(names.iter().any(|n| n.starts_with(&format!("push.incoming_event.{t}"))), "no event fixture for {t}");
    }
    // The tolerant forms of section 7 the decoder accepts.
    for rule in ["d1_", "d2_", "d6_", "d7_", "d14_", "d17_", "d23_", "d24_", "d27_", "d28_"] {
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
