//! Decode errors say what is wrong and where.

use chatio_wire::{ClientFrame, DecodeErrorKind, Limits, RequestId, ServerFrame};

#[test]
fn too_large_frames_are_refused_before_parsing() {
    let big = format!(r#"{{"action":"ping","pad":"{}"}}"#, "x".repeat(100));
    let e = ClientFrame::decode_with(&big, &Limits::with_max_frame_len(64)).expect_err("too large");
    assert_eq!(e.kind(), DecodeErrorKind::TooLarge);
    assert!(e.to_string().contains("exceeds the 64-byte limit"), "{e}");
    let just_over = "x".repeat(chatio_wire::MAX_FRAME_LEN + 1);
    assert_eq!(ServerFrame::decode(&just_over).expect_err("too large").kind(), DecodeErrorKind::TooLarge);
}

#[test]
fn bytes_must_be_utf8() {
    let e = ClientFrame::decode_bytes(b"{\"action\":\"p\xffng\"}").expect_err("not utf-8");
    assert_eq!(e.kind(), DecodeErrorKind::NotUtf8);
    assert!(e.to_string().contains("offset 12"), "{e}");
}

#[test]
fn syntax_errors_have_a_position() {
    let e = ClientFrame::decode(r#"{"action": "ping",}"#).expect_err("syntax");
    assert_eq!(e.kind(), DecodeErrorKind::Syntax);
    assert_eq!(e.position(), Some((1, 19)));
    assert_eq!(ServerFrame::decode("").expect_err("empty").kind(), DecodeErrorKind::Syntax);
}

#[test]
fn non_objects_are_named() {
    for s in ["[1,2]", "42", "\"ping\"", "null"] {
        let e = ClientFrame::decode(s).expect_err("not an object");
        assert_eq!(e.kind(), DecodeErrorKind::NotAnObject, "{s}: {e}");
        assert_eq!(e.request_id(), None);
    }
}

#[test]
fn a_missing_action_keeps_the_request_id() {
    let e = ClientFrame::decode(r#"{"request_id":"r1","payload":{}}"#).expect_err("no action");
    assert_eq!(e.kind(), DecodeErrorKind::MissingAction);
    assert_eq!(e.request_id(), Some(&RequestId::new("r1")));
    assert_eq!(e.to_string(), "frame has no `action` (line 1, column 32)");
}

#[test]
fn payload_errors_name_the_action_and_the_field() {
    let e = ClientFrame::decode(
        r#"{"request_id":7,"action":"send_event","payload":{"chat_id":"C","event":{"type":"message","text":5}}}"#,
    )
    .expect_err("bad text");
    assert_eq!(e.kind(), DecodeErrorKind::InvalidPayload);
    assert_eq!(e.action(), Some("send_event"));
    assert_eq!(e.path(), Some("payload.event.text"));
    assert_eq!(e.field(), Some("text"));
    assert_eq!(e.request_id(), Some(&RequestId::from_number(7)));
    assert!(
        e.to_string().starts_with("invalid `send_event` frame at `payload.event.text`: invalid type: integer `5`"),
        "{e}"
    );

    let e = ClientFrame::decode(r#"{"action":"send_event","payload":{"chat_id":"C"}}"#).expect_err("missing event");
    assert_eq!(e.field(), Some("event"));
    assert!(e.to_string().contains("missing field `event`"), "{e}");

    let e = ClientFrame::decode(r#"{"action":"send_event","payload":{"chat_id":"C","event":{"type":"message"}}}"#)
        .expect_err("missing text");
    assert_eq!(e.field(), Some("text"));

    let e = ServerFrame::decode(r#"{"action":"get_chats_summary","type":"response","success":true,"payload":{"chats_summary":[],"total_chats":-1}}"#)
        .expect_err("negative total");
    assert_eq!(e.path(), Some("payload.total_chats"));
}

#[test]
fn frame_field_errors() {
    let e = ServerFrame::decode(r#"{"action":"close_thread","type":"event","success":true}"#).expect_err("bad type");
    assert_eq!(e.kind(), DecodeErrorKind::InvalidFrame);
    assert_eq!(e.path(), Some("type"));
    let e =
        ServerFrame::decode(r#"{"action":"close_thread","type":"response","success":"yes"}"#).expect_err("bad success");
    assert_eq!(e.path(), Some("success"));
    let e = ServerFrame::decode(r#"{"action":"zz_unknown","payload":{}}"#).expect_err("cannot tell");
    assert!(e.to_string().contains("missing field `type`"), "{e}");
}

/// Bug: a payload that is an array was reported as a frame-level problem (`InvalidFrame` at
/// `payload[0]`) instead of a payload problem.
#[test]
fn an_array_payload_is_a_payload_error() {
    let e =
        ClientFrame::decode(r#"{"request_id":"x","action":"send_event","payload":[1]}"#).expect_err("array payload");
    assert_eq!(e.kind(), DecodeErrorKind::InvalidPayload);
    assert_eq!(e.path(), Some("payload[0]"));
    assert_eq!(e.action(), Some("send_event"));
    assert_eq!(e.request_id(), Some(&RequestId::new("x")));
    let e = ServerFrame::decode(r#"{"action":"thread_closed","type":"push","payload":"closed"}"#)
        .expect_err("string payload");
    assert_eq!(e.kind(), DecodeErrorKind::InvalidPayload);
    assert_eq!(e.path(), Some("payload"));
}

/// A frame nested too deep still names its request id and action, so a server can answer it
/// (G7); before, both were lost.
#[test]
fn too_deep_frames_keep_their_request_id_and_action() {
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let frame = format!(
        r#"{{"request_id":"r9","action":"send_event","payload":{{"chat_id":"C","event":{{"type":"custom","content":{deep}}}}}}}"#
    );
    let e = ClientFrame::decode(&frame).expect_err("too deep");
    assert_eq!(e.kind(), DecodeErrorKind::TooDeep);
    assert_eq!(e.request_id(), Some(&RequestId::new("r9")));
    assert_eq!(e.action(), Some("send_event"));
    assert!(e.to_string().starts_with("malformed JSON: recursion limit exceeded"), "{e}");
    // The same for a frame whose deep part the decoder skips, and with a legacy numeric `id`.
    let frame = format!(r#"{{"id":12,"action":[{deep}],"extra":{deep}}}"#);
    let e = ClientFrame::decode(&frame).expect_err("too deep");
    assert_eq!(e.kind(), DecodeErrorKind::TooDeep, "{e}");
    assert_eq!(e.request_id(), Some(&RequestId::from_number(12)));
    assert_eq!(e.action(), None);
}

/// One representative bad frame per error kind, for both directions: kind, request id, action,
/// path and field, and a message that names action and field.
#[test]
fn every_kind_is_reported_with_its_context() {
    struct Case {
        client: bool,
        input: &'static str,
        kind: DecodeErrorKind,
        request_id: Option<&'static str>,
        action: Option<&'static str>,
        path: Option<&'static str>,
        field: Option<&'static str>,
    }
    let cases = [
        Case {
            client: true,
            input: r#"{"action":"ping""#,
            kind: DecodeErrorKind::Syntax,
            request_id: None,
            action: None,
            path: None,
            field: None,
        },
        Case {
            client: false,
            input: "[]",
            kind: DecodeErrorKind::NotAnObject,
            request_id: None,
            action: None,
            path: None,
            field: None,
        },
        Case {
            client: false,
            input: r#"{"request_id":"a","type":"push","payload":{}}"#,
            kind: DecodeErrorKind::MissingAction,
            request_id: Some("a"),
            action: None,
            path: Some("."),
            field: Some("action"),
        },
        Case {
            client: false,
            input: r#"{"request_id":"b","action":"thread_closed","type":"push","payload":{"chat_id":"C"}}"#,
            kind: DecodeErrorKind::InvalidPayload,
            request_id: Some("b"),
            action: Some("thread_closed"),
            path: Some("payload"),
            field: Some("thread_id"),
        },
        Case {
            client: false,
            input: r#"{"request_id":"c","action":"send_event","type":"response","success":false,"payload":{"error":{"message":"m"}}}"#,
            kind: DecodeErrorKind::InvalidPayload,
            request_id: Some("c"),
            action: Some("send_event"),
            path: Some("payload.error"),
            field: Some("type"),
        },
        Case {
            client: false,
            input: r#"{"request_id":"d","action":"incoming_event","type":"push","payload":{"chat_id":"C","event":{"id":"E","order":"1","type":"message","timestamp":1,"text":"x"}}}"#,
            kind: DecodeErrorKind::InvalidPayload,
            request_id: Some("d"),
            action: Some("incoming_event"),
            path: Some("payload.event.order"),
            field: Some("order"),
        },
        Case {
            client: true,
            input: r#"{"request_id":"e","action":"start_chat","payload":{"chat":{"thread":{"events":[{"type":"file","name":"n"}]}}}}"#,
            kind: DecodeErrorKind::InvalidPayload,
            request_id: Some("e"),
            action: Some("start_chat"),
            path: Some("payload.chat.thread.events[0]"),
            field: Some("url"),
        },
        Case {
            client: true,
            input: r#"{"request_id":["x"],"action":"ping"}"#,
            kind: DecodeErrorKind::InvalidFrame,
            request_id: None,
            action: Some("ping"),
            path: Some("request_id"),
            field: Some("request_id"),
        },
    ];
    for c in cases {
        let e =
            if c.client { ClientFrame::decode(c.input).map(|_| ()) } else { ServerFrame::decode(c.input).map(|_| ()) }
                .expect_err(c.input);
        assert_eq!(e.kind(), c.kind, "{}: {e}", c.input);
        assert_eq!(e.request_id().and_then(RequestId::as_str), c.request_id, "{}", c.input);
        assert_eq!(e.action(), c.action, "{}", c.input);
        assert_eq!(e.path(), c.path, "{}", c.input);
        assert_eq!(e.field(), c.field, "{}", c.input);
        let text = e.to_string();
        assert!(e.position().is_some(), "{}: {text}", c.input);
        if let Some(a) =
            c.action.filter(|_| matches!(c.kind, DecodeErrorKind::InvalidPayload | DecodeErrorKind::InvalidFrame))
        {
            assert!(text.contains(&format!("`{a}`")), "{text}");
        }
        if let Some(f) = c.field {
            assert!(text.contains(f), "{text}");
        }
        // The error type is a std error with the same text.
        let boxed: Box<dyn std::error::Error> = Box::new(e.clone());
        assert_eq!(boxed.to_string(), text);
    }
}

#[test]
fn server_bytes_must_be_utf8_too() {
    let e =
        ServerFrame::decode_bytes(b"{\"action\":\"ping\",\"type\":\"response\",\"success\":true,\"x\":\"\xc3\x28\"}")
            .expect_err("bad utf-8");
    assert_eq!(e.kind(), DecodeErrorKind::NotUtf8);
    assert!(e.to_string().contains("offset 55"), "{e}");
    assert_eq!(e.position(), None);
    // The size check comes first, before the UTF-8 check.
    let e = ServerFrame::decode_bytes(&vec![0xff; chatio_wire::MAX_FRAME_LEN + 1]).expect_err("too large");
    assert_eq!(e.kind(), DecodeErrorKind::TooLarge);
    assert!(ServerFrame::decode_with("{}", &Limits::with_max_frame_len(1)).is_err());
    assert_eq!(
        ServerFrame::decode_with("{}", &Limits::with_max_frame_len(2)).expect_err("no action").kind(),
        DecodeErrorKind::MissingAction
    );
}

/// A frame failing on a number out of range (`1e400`) still names its request id and action
/// (G7); before, both were lost.
#[test]
fn out_of_range_numbers_keep_the_request_id_and_action() {
    for frame in [
        r#"{"request_id":"r7","action":"get_chats_summary","payload":{"limit":1e400}}"#,
        r#"{"action":"get_chats_summary","payload":{"offset":-1e999},"request_id":"r7"}"#,
    ] {
        let e = ClientFrame::decode(frame).expect_err("out of range");
        assert_eq!(e.request_id(), Some(&RequestId::new("r7")), "{frame}: {e}");
        assert_eq!(e.action(), Some("get_chats_summary"), "{frame}: {e}");
        assert!(e.to_string().contains("number out of range"), "{e}");
    }
}
